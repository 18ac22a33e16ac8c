"""``cnnlab summary``: the summary of a zoo model, built for ``--input-shape`` and
``--classes``."""

from __future__ import annotations

import argparse

from cnnlab.cli._options import zoo_options


def cmd_summary(args: argparse.Namespace) -> None:
    """``cnnlab summary MODEL``: Keras's summary table of a zoo model (``--explain``: with
    the output-size arithmetic, parameters and receptive field of every layer)."""
    from cnnlab import zoo

    model = zoo.get_model(args.model, **zoo_options(args))
    model.summary(explain=args.explain)
