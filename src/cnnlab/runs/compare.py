"""Several runs side by side (``cnnlab runs compare A B ...``).

:func:`comparison` gives the table, one column per run: what was trained (model, data, epochs
done of planned), how it went (best validation accuracy, test accuracy, time, status) and the
settings (optimizer, learning rate, batch size, and every other recorded setting on which the
runs disagree). A setting row whose values differ is marked ``*``. :func:`write_curves` draws
the runs' loss and accuracy curves overlaid in one PNG.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnlab.plots.curves import overlaid_curves
from cnnlab.runs.store import Run, home

SETTINGS = ("optimizer", "lr", "batch_size")  # always shown
HIDDEN = {"model", "data", "dataset", "epochs", "class_names", "input_shape"}  # shown elsewhere
BOLD, RESET = "\033[1m", "\033[0m"


@dataclass
class Row:
    """One line of the table: ``differs`` marks a setting on which the runs disagree."""

    label: str
    values: list[str]
    differs: bool = False


def _value(value: Any, none: str = "-") -> str:
    if value is None:
        return none
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    return str(value)


def _accuracy(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _seconds(value: float) -> str:
    return f"{value:.1f}s" if value < 10 else f"{value:.0f}s"


def _epochs(run: Run) -> str:
    planned = run.config.get("epochs")
    return str(run.epochs) if planned is None else f"{run.epochs}/{planned}"


def comparison(runs: Sequence[Run]) -> list[Row]:
    """The rows of the table for ``runs`` (the header row first: the run ids)."""
    def setting(label: str, values: list[str]) -> Row:
        return Row(label, values, differs=len(set(values)) > 1)

    rows = [Row("run", [run.id for run in runs]),
            setting("model", [_value(run.model) for run in runs]),
            setting("data", [_value(run.dataset or run.config.get("data")) for run in runs]),
            setting("epochs", [_epochs(run) for run in runs]),
            Row("best val acc", [_accuracy(run.best_val_accuracy) for run in runs]),
            Row("test acc", [_accuracy(run.test_accuracy) for run in runs]),
            Row("time", [_seconds(run.seconds) for run in runs]),
            Row("status", [run.status for run in runs])]
    rows += [setting(key.replace("_", " "),
                     [_value(run.config.get(key), "default" if key == "lr" else "-")
                      for run in runs]) for key in SETTINGS]
    others = sorted({key for run in runs for key in run.config} - HIDDEN - set(SETTINGS))
    for key in others:
        row = setting(key.replace("_", " "), [_value(run.config.get(key)) for run in runs])
        if row.differs:
            rows.append(row)
    return rows


def format_table(rows: list[Row], bold: bool = False) -> str:
    """The rows as aligned text; differing settings start with ``*`` (and are bold when
    ``bold``, for a terminal), followed by a one-line legend when there are any."""
    labels = [("* " if row.differs else "  ") + row.label for row in rows]
    cells = [[label, *row.values] for label, row in zip(labels, rows, strict=True)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    lines = []
    for row, line in zip(rows, cells, strict=True):
        text = "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
        lines.append(f"{BOLD}{text}{RESET}" if bold and row.differs else text)
    if any(row.differs for row in rows):
        lines.append("* differs between the runs")
    return "\n".join(lines)


def history_of(run: Run) -> dict[str, list[float | None]]:
    """The run's per-epoch logs as ``{name: values}`` (``None`` where a value was NaN)."""
    keys = list(dict.fromkeys(key for logs in run.history for key in logs))
    return {key: [logs.get(key) for logs in run.history] for key in keys}


def default_curves_path(runs: Sequence[Run]) -> Path:
    """``runs/compare/<id>--<id>....png`` under the run store's home (hashed when long)."""
    name = "--".join(run.id for run in runs)
    if len(name) > 120:
        name = f"{runs[0].id}-and-{len(runs) - 1}-more-" + \
            hashlib.sha1(name.encode()).hexdigest()[:8]
    return home() / "runs" / "compare" / f"{name}.png"


def write_curves(runs: Sequence[Run], path: str | os.PathLike | None = None) -> str | None:
    """Overlaid curves of the runs that recorded epochs, at ``path`` (default:
    :func:`default_curves_path`); ``None`` when no run recorded any epoch."""
    histories = {run.id: history_of(run) for run in runs if run.history}
    histories = {label: logs for label, logs in histories.items() if "loss" in logs}
    if not histories:
        return None
    return overlaid_curves(histories, path if path is not None else default_curves_path(runs))
