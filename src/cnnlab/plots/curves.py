"""Training curves: loss and accuracy per epoch, training vs validation, with the epoch where
the validation loss turns up marked "overfitting starts"."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from cnnlab.plots._figure import new_figure, save_png

ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
                 "binary_accuracy")
PANEL = (5.0, 4.0)  # inches per panel (500 x 400 pixels)


def overfitting_epoch(val_loss: Sequence[float], patience: int | None = None) -> int | None:
    """The epoch (1-based, as Keras prints ``Epoch 3/10``) after which overfitting starts.

    Rule: the first epoch ``e`` whose validation loss is beaten by none of the next
    ``patience`` epochs — each of them is strictly higher. With ``patience=None`` every later
    epoch must be higher: ``e`` is the (last) minimum of the validation loss, provided at least
    one epoch follows it. Returns ``None`` when the loss never turns up that way.

    Example: ``[0.9, 0.7, 0.6, 0.65, 0.8]`` gives 3 (for ``patience`` None, 1 or 2).
    """
    values = np.asarray(val_loss, dtype=np.float64).reshape(-1)
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int)
                                 or patience < 1):
        raise ValueError(f"`patience` must be a positive int or None, got {patience!r}")
    for epoch in range(len(values) - 1):
        later = values[epoch + 1:] if patience is None else values[epoch + 1:epoch + 1 + patience]
        if patience is not None and len(later) < patience:
            return None
        if np.all(later > values[epoch]):
            return epoch + 1
    return None


def history_dict(history: Any) -> dict[str, list[float]]:
    """``History`` objects, objects with ``.history`` and plain dicts, as ``{name: values}``."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or "loss" not in logs:
        raise ValueError("`history` must be a History (returned by fit) or a dict with at least "
                         f"a 'loss' list, got {type(history).__name__}")
    return {key: [float(v) for v in values] for key, values in logs.items()}


def draw_metric(ax: Axes, logs: Mapping[str, Sequence[float]], name: str,
                overfit: int | None = None) -> Axes:
    """Plot ``name`` and ``val_<name>`` against the epoch (1-based) in ``ax``; mark ``overfit``
    with a dashed line labelled "overfitting starts"."""
    for key, style in ((name, "o-"), (f"val_{name}", "s--")):
        if key in logs:
            values = logs[key]
            ax.plot(range(1, len(values) + 1), values, style, markersize=3,
                    label="validation" if key.startswith("val_") else "training")
    if overfit is not None:
        ax.axvline(overfit, color="tab:red", linestyle=":",
                   label=f"overfitting starts (epoch {overfit})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(name)
    ax.set_title(name)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def training_curves(history: Any, path: str | os.PathLike,
                    patience: int | None = None) -> str:
    """Write loss (and accuracy, when recorded) curves as a PNG; returns the path.

    One 500x400-pixel panel per metric. The overfitting epoch comes from
    :func:`overfitting_epoch` on ``val_loss`` with ``patience``.
    """
    logs = history_dict(history)
    metrics = ["loss"] + [key for key in ACCURACY_KEYS if key in logs][:1]
    overfit = overfitting_epoch(logs["val_loss"], patience) if "val_loss" in logs else None
    fig = new_figure(PANEL[0] * len(metrics), PANEL[1])
    for ax, name in zip(fig.subplots(1, len(metrics), squeeze=False)[0], metrics, strict=True):
        draw_metric(ax, logs, name, overfit)
    return save_png(fig, path)


def accuracy_key(logs: Mapping[str, Any]) -> str | None:
    """The first accuracy name of :data:`ACCURACY_KEYS` recorded in ``logs`` (or its
    ``val_`` twin), ``None`` when there is none."""
    return next((key for key in ACCURACY_KEYS if key in logs or f"val_{key}" in logs), None)


def overlaid_curves(histories: Mapping[str, Any], path: str | os.PathLike) -> str:
    """Loss and accuracy of several runs in one PNG; returns the path.

    ``histories`` maps a label (the run) to a ``History`` or a ``{name: values}`` dict (``None``
    values are gaps). One colour per run; training dashed, validation solid. One panel per
    metric (accuracy only when some run recorded one), 500x400 pixels each.
    """
    if not histories:
        raise ValueError("`histories` must name at least one run, got none")
    runs = {label: history_dict(_gaps_as_nan(history)) for label, history in histories.items()}
    metrics = ["loss"] + (["accuracy"] if any(accuracy_key(h) for h in runs.values()) else [])
    fig = new_figure(PANEL[0] * len(metrics), PANEL[1])
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics, strict=True):
        for index, logs in enumerate(runs.values()):
            name = metric if metric == "loss" else accuracy_key(logs)
            for key, style in ((name, "--"), (f"val_{name}", "-")):
                if name is not None and key in logs:
                    values = logs[key]
                    ax.plot(range(1, len(values) + 1), values, style, color=f"C{index % 10}",
                            marker="o", markersize=2)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=f"C{i % 10}", label=label) for i, label in enumerate(runs)]
    handles += [Line2D([], [], color="gray", linestyle="--", label="training"),
                Line2D([], [], color="gray", linestyle="-", label="validation")]
    axes[0].legend(handles=handles, fontsize=8)
    return save_png(fig, path)


def _gaps_as_nan(history: Any) -> Any:
    """A dict history with ``None`` values (a run store's NaN) as ``nan``; others unchanged."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        return history
    return {key: [np.nan if v is None else v for v in values] for key, values in logs.items()}
