"""The ``cnnlab`` program: parse the command line, run the command, turn what happened into an
exit code and (for an error) one line on stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cnnlab.cli._errors import one_line, silence_stdout
from cnnlab.cli.evaluate import cmd_evaluate, cmd_predict
from cnnlab.cli.explain import cmd_explain, cmd_kernel
from cnnlab.cli.model_files import cmd_export, cmd_import_weights
from cnnlab.cli.parser import parse_args
from cnnlab.cli.runs import cmd_report, cmd_runs
from cnnlab.cli.serve import serve
from cnnlab.cli.summary import cmd_summary
from cnnlab.cli.train import cmd_train

# command name -> function of the parsed arguments
COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "summary": cmd_summary, "explain": cmd_explain, "kernel": cmd_kernel,
            "runs": cmd_runs, "report": cmd_report, "export": cmd_export, "serve": serve,
            "import-weights": cmd_import_weights}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cnnlab ARGV``; returns the exit code (0, 1 for an error, 2 for a usage error,
    130 for Ctrl-C). Every error is one line on stderr unless ``--debug`` is given."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
    except SystemExit as done:  # --help, or a usage error (printed already)
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
    args.argv = argv
    try:
        COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe fails here, not in Python's exit flush
    except KeyboardInterrupt:
        print("cnnlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cnnlab runs | head`: the reader left, nothing to report
        silence_stdout()
        return 1
    except Exception as err:
        if args.debug:
            raise
        print(f"cnnlab: error: {one_line(err)}", file=sys.stderr)
        return 1
    return 0
