"""``python -m cnnlab.dashboard serve [--store DIR] [--host H] [--port N]`` (= ``cnnlab serve``)."""

import argparse
import sys

from cnnlab.dashboard.cli import add_serve_arguments, cmd_serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.dashboard")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_arguments(sub.add_parser("serve", help="serve the runs of a run store"))
    args = parser.parse_args(argv)
    try:
        cmd_serve(args)
    except (ValueError, RuntimeError, FileNotFoundError, ImportError) as err:
        print(f"cnnlab: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
