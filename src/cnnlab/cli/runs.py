"""``cnnlab runs`` (list, compare) and ``cnnlab report``: the recorded runs as a table, side by
side with their curves, or one run's HTML report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cnnlab.cli._errors import CommandError
from cnnlab.cli._store import get_run, run_model, write_report


def cmd_runs(args: argparse.Namespace) -> None:
    """``cnnlab runs [list]``: the table of recorded runs; ``cnnlab runs compare``: see
    :func:`_compare_runs`."""
    from cnnlab.runs.store import RunStore

    if getattr(args, "runs_action", None) == "compare":
        _compare_runs(args)
        return
    runs = RunStore().list()
    if not runs:
        print("no runs recorded yet (cnnlab train records one)")
        return
    header = ("id", "model", "data", "epochs", "best val acc", "test acc", "time", "status")
    rows = [(r.id, r.model or "", r.dataset or "", str(r.epochs), _fmt(r.best_val_accuracy),
             _fmt(r.test_accuracy), f"{r.seconds:.0f}s", r.status) for r in runs]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _compare_runs(args: argparse.Namespace) -> None:
    """``cnnlab runs compare``: the table on stdout, then the path of the curves PNG."""
    from cnnlab.runs.compare import comparison, format_table, write_curves
    from cnnlab.runs.store import RunStore

    if len(args.run_ids) < 2:
        raise CommandError(f"runs compare needs at least 2 runs, got {len(args.run_ids)}: "
                           f"{args.run_ids[0]}")
    if args.out is not None and Path(args.out).is_dir():
        raise CommandError(f"--out must be a PNG file name, got the folder {args.out!r}")
    store = RunStore()
    records = []
    for run in args.run_ids:
        record = get_run(store, run)
        if any(record.id == seen.id for seen in records):
            raise CommandError(f"run {record.id} is given twice ({run!r})")
        records.append(record)
    print(format_table(comparison(records), bold=sys.stdout.isatty()))
    try:
        path = write_curves(records, args.out)
    except OSError as err:
        raise CommandError(f"cannot write the curves to {err.filename or args.out!r}: "
                           f"{err.strerror or err}") from None
    print(f"curves: {path}" if path else "curves: none (no run recorded an epoch)")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def cmd_report(args: argparse.Namespace) -> None:
    """``cnnlab report RUN``: (re)write the run's HTML report and print its path."""
    from cnnlab.data.catalog import load_dataset

    record, model = run_model(args.run)
    print(f"report: {write_report(record.id, model, load_dataset(record.config['data']))}")
