"""Accuracy against wall time: validation accuracy after every epoch of recorded runs, drawn
against the minutes trained so far, with each run's test accuracy at its end.

    # plot runs that `cnnlab train` recorded (ids, names or unique id prefixes):
    .venv/bin/python bench/time_to_accuracy.py --store runs/cnnlab.db fast-... wide-... lenet-...
    # train them first (into the store's folder), then plot:
    .venv/bin/python bench/time_to_accuracy.py --train fast:0 --train lenet:0:10

``--train SPEC`` runs ``cnnlab train`` for ``SPEC`` = ``recipe-or-model:seed[:epochs]`` (a
recipe name trains ``--recipe``, anything else ``--model``) with ``--no-report``, as run
``tta-<what>-s<seed>``. Minutes on the x axis are the sum of the recorded epoch times
(training and validation); the test evaluation after the last epoch adds a second or two.
Runs of the same recipe or model share a colour. The table printed gives, per run, the minutes
to the first epoch whose validation accuracy reaches each ``--targets`` value.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

from matplotlib.ticker import FuncFormatter  # noqa: E402

from cnnlab.plots._figure import new_figure, save_png  # noqa: E402
from cnnlab.runs.store import Run, RunStore  # noqa: E402
from cnnlab.zoo.recipes import RECIPES  # noqa: E402

DEFAULT_OUT = BENCH / "img" / "time_to_accuracy.png"


@dataclass
class Curve:
    """One run as the plot needs it: minutes after each epoch, validation accuracy then."""

    label: str
    group: str
    minutes: list[float]
    val_accuracy: list[float]
    test_accuracy: float | None

    def minutes_to(self, target: float) -> float | None:
        """Minutes to the first epoch with validation accuracy >= ``target`` (None: never)."""
        return next((m for m, a in zip(self.minutes, self.val_accuracy, strict=True)
                     if a >= target), None)


def curve_of(run: Run) -> Curve:
    """The run's validation accuracy against the cumulative minutes of its epochs."""
    if not run.history:
        raise ValueError(f"run {run.id} recorded no epoch")
    accuracy = [logs.get("val_accuracy", logs.get("val_acc")) for logs in run.history]
    if any(value is None for value in accuracy):
        raise ValueError(f"run {run.id} recorded no validation accuracy (train it with a "
                         f"validation split)")
    group = run.config.get("recipe") or run.model or run.id
    seed = run.config.get("seed")
    label = group if seed is None else f"{group} (seed {seed})"
    minutes = [seconds / 60 for seconds in accumulate(run.epoch_seconds)]
    return Curve(label, group, minutes, accuracy, run.test_accuracy)


def plot(curves: list[Curve], path: str | os.PathLike, targets: tuple[float, ...]) -> str:
    """Draw ``curves`` (minutes on x, validation accuracy on y; a star: the test accuracy)
    with dotted lines at ``targets``; writes the PNG atomically and returns its path."""
    fig = new_figure(8.0, 5.0)
    ax = fig.subplots()
    colours: dict[str, str] = {}
    for curve in curves:
        first = curve.group not in colours
        colour = colours.setdefault(curve.group, f"C{len(colours)}")
        ax.plot(curve.minutes, curve.val_accuracy, "o-", color=colour, markersize=3,
                linewidth=1.2, alpha=0.85, label=curve.group if first else None)
        if curve.test_accuracy is not None:
            ax.plot(curve.minutes[-1], curve.test_accuracy, "*", color=colour, markersize=11,
                    markeredgecolor="black", markeredgewidth=0.5)
    for target in targets:
        ax.axhline(target, color="grey", linestyle=":", linewidth=1)
        ax.annotate(f"{target:g}", (0, target), xycoords=("axes fraction", "data"),
                    xytext=(4, 2), textcoords="offset points", fontsize=8, color="grey")
    low = min(min(c.val_accuracy[1:] or c.val_accuracy) for c in curves)
    ax.set_ylim(max(0.0, min(low, *targets) - 0.02), 1.0)
    ax.set_xscale("log")  # minutes-long and hour-long runs side by side
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.set_xlabel("minutes of training (sum of epoch times, log scale)")
    ax.set_ylabel("validation accuracy (star: test accuracy)")
    ax.set_title("Fashion-MNIST: accuracy against time")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    return save_png(fig, path)


def table(curves: list[Curve], targets: tuple[float, ...]) -> str:
    """Markdown: per run, minutes, test accuracy and the minutes to each target."""
    head = "| run | minutes | test accuracy | " + " | ".join(
        f"min to val ≥ {t:g}" for t in targets) + " |"
    lines = [head, "|---|--:|--:|" + "--:|" * len(targets)]
    for c in curves:
        test = "-" if c.test_accuracy is None else f"{c.test_accuracy:.4f}"
        reached = [c.minutes_to(t) for t in targets]
        cells = " | ".join("-" if m is None else f"{m:.1f}" for m in reached)
        lines.append(f"| {c.label} | {c.minutes[-1]:.1f} | {test} | {cells} |")
    return "\n".join(lines)


def train(spec: str, home: Path) -> str:
    """Run ``cnnlab train`` for ``spec`` (``what:seed[:epochs]``) into ``home``; returns the
    run name."""
    what, seed, *rest = spec.split(":")
    name = f"tta-{what}-s{seed}"
    command = [sys.executable, "-m", "cnnlab", "train", "--seed", seed, "--no-report",
               "--name", name, *(["--recipe", what] if what in RECIPES else ["--model", what])]
    if rest:
        command += ["--epochs", rest[0]]
    subprocess.run(command, check=True, env={**os.environ, "CNNLAB_HOME": str(home)})
    return name


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", help="run ids, names or unique id prefixes")
    parser.add_argument("--store", default="runs/cnnlab.db", help="the run store (SQLite)")
    parser.add_argument("--train", action="append", default=[], metavar="SPEC",
                        help="train this first: recipe-or-model:seed[:epochs]")
    parser.add_argument("--targets", default="0.93,0.95")
    parser.add_argument("--out", default=str(DEFAULT_OUT), metavar="FILE.png")
    args = parser.parse_args(argv)
    try:
        targets = tuple(float(t) for t in args.targets.split(","))
    except ValueError:
        parser.error(f"--targets must be comma-separated accuracies such as 0.93,0.95, got "
                     f"{args.targets!r}")
    for spec in args.train:
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts[1:]):
            parser.error(f"--train must be recipe-or-model:seed[:epochs] such as fast:0 or "
                         f"lenet:0:10, got {spec!r}")
    store_path = Path(args.store)
    names = [train(spec, store_path.parent.parent) for spec in args.train] + args.runs
    if not names:
        parser.error("give run ids or --train SPEC")
    store = RunStore(store_path)
    curves = [curve_of(store.get(name)) for name in names]
    print(table(curves, targets))
    print(f"plot: {plot(curves, args.out, targets)}")


if __name__ == "__main__":
    main()
