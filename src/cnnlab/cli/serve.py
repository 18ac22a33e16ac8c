"""``cnnlab serve``: the dashboard's command (:mod:`cnnlab.dashboard.cli`), its port checked
first."""

from __future__ import annotations

import argparse

from cnnlab.cli._errors import CommandError
from cnnlab.dashboard.cli import cmd_serve


def serve(args: argparse.Namespace) -> None:
    """``cnnlab serve`` (dashboard/cli.py), its port checked before the store is opened."""
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port must be in [0, 65535] (0: any free port), got {args.port}")
    cmd_serve(args)
