"""``cnnlab serve``: the dashboard of every run in a run store.

    cnnlab serve                          # runs under $CNNLAB_HOME (or .), http://127.0.0.1:8000/
    cnnlab serve --store DIR --port 0     # another store, any free port
    cnnlab serve --host 0.0.0.0           # reachable from other machines: prints an access token
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_PORT = 8000


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``cnnlab serve``."""
    parser.add_argument("--store", metavar="DIR", default=None,
                        help="folder holding runs/cnnlab.db (default: $CNNLAB_HOME or .)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only; any "
                             "other address requires the printed access token)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0: any free port)")


def cmd_serve(args: argparse.Namespace) -> None:
    """Serve the store's runs until Ctrl-C (read only)."""
    from cnnlab.dashboard.server import (
        DashboardServer,
        bind,
        is_loopback,
        make_token,
        require_web,
        url_of,
    )
    from cnnlab.runs.store import home

    require_web()
    from cnnlab.dashboard.app import create_app
    from cnnlab.dashboard.sources import StoreSource

    source = StoreSource(args.store if args.store is not None else home())
    loopback = is_loopback(args.host)
    token = None if loopback else make_token()
    sock = bind(args.host, args.port)
    server = DashboardServer(create_app(source, token=token, loopback=loopback), sock)
    if not loopback:
        print(f"warning: serving on {args.host}, reachable from other machines; every request "
              f"needs the access token in this URL", file=sys.stderr, flush=True)
    print(f"cnnlab dashboard ({source.title}): {url_of(sock, token)}", flush=True)
    print("read only; Ctrl-C to stop", flush=True)
    server.run()
