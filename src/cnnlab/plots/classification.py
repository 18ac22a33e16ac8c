"""How a classifier errs: the confusion matrix and a grid of misclassified images."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnlab.plots._figure import draw_image, grid_figure, new_figure, save_png


def as_labels(y: Any, name: str) -> np.ndarray:
    """Integer labels from ``(N,)``/``(N, 1)`` labels or ``(N, K)`` one-hot/probabilities."""
    array = np.asarray(y)
    if array.ndim == 2 and array.shape[1] > 1:
        return array.argmax(axis=1)
    array = array.reshape(-1)
    if array.size and (not np.all(np.equal(np.mod(array, 1), 0)) or array.min() < 0):
        raise ValueError(f"`{name}` must hold non-negative integer labels or one-hot rows, got "
                         f"values such as {array[:5].tolist()}")
    return array.astype(np.int64)


def confusion_counts(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """``counts[i, j]`` = samples of true class ``i`` predicted as ``j``, shape ``(K, K)``.

    Labels or one-hot/probability rows are accepted for both; ``num_classes`` defaults to the
    largest label + 1 (or the width of one-hot rows).
    """
    true, pred = as_labels(y_true, "y_true"), as_labels(y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(f"`y_true` and `y_pred` must have one label per sample, got "
                         f"{true.size} and {pred.size} labels")
    widths = [np.shape(y)[1] for y in (y_true, y_pred) if np.ndim(y) == 2 and np.shape(y)[1] > 1]
    k = num_classes or max([int(true.max(initial=-1)) + 1, int(pred.max(initial=-1)) + 1,
                            *widths])
    if true.size and max(true.max(), pred.max()) >= k:
        raise ValueError(f"labels must be below num_classes={k}, got "
                         f"{max(true.max(), pred.max())}")
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k)


def draw_confusion_matrix(ax: Axes, counts: np.ndarray, class_names: Sequence[str] | None = None,
                          normalize: bool = False) -> Axes:
    """Heatmap of ``counts`` (rows: true class, columns: predicted) with each cell's number;
    ``normalize`` shows each row as fractions of that class."""
    k = counts.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    values = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    ax.imshow(values, cmap="Blues", vmin=0)
    threshold = values.max() / 2 if values.size else 0
    for i in range(k):
        for j in range(k):
            text = f"{values[i, j]:.2f}" if normalize else str(int(values[i, j]))
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if values[i, j] > threshold else "black")
    ax.set_xticks(range(k), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"accuracy {accuracy:.3f} on {int(counts.sum())} samples")
    return ax


def confusion_matrix(y_true: Any, y_pred: Any, class_names: Sequence[str] | None,
                     path: str | os.PathLike, normalize: bool = False) -> str:
    """Write the confusion matrix as a PNG, ``min(2 + 0.6·K, 20)`` inches square (at 100 dpi);
    returns the path."""
    k = len(class_names) if class_names is not None else None
    counts = confusion_counts(y_true, y_pred, k)
    side = min(2 + 0.6 * counts.shape[0], 20.0)
    fig = new_figure(side, side)
    draw_confusion_matrix(fig.add_subplot(), counts, class_names, normalize)
    return save_png(fig, path)


def misclassified_grid(x: Any, y_true: Any, y_pred: Any, class_names: Sequence[str] | None,
                       path: str | os.PathLike, max_images: int = 25) -> str:
    """Write :func:`misclassified_figure` as a PNG (160x160 pixels per cell); returns the
    path."""
    return save_png(misclassified_figure(x, y_true, y_pred, class_names, max_images), path)


def misclassified_figure(x: Any, y_true: Any, y_pred: Any, class_names: Sequence[str] | None,
                         max_images: int = 25) -> Figure:
    """A grid of the first ``max_images`` misclassified images, titled with their true and
    predicted classes, by name when ``class_names`` are given."""
    true, pred = as_labels(y_true, "y_true"), as_labels(y_pred, "y_pred")
    if len(x) != true.size or true.size != pred.size:
        raise ValueError(f"`x`, `y_true` and `y_pred` must have the same number of samples, got "
                         f"{len(x)}, {true.size} and {pred.size}")
    wrong = np.flatnonzero(true != pred)[:max_images]
    fig, axes = grid_figure(len(wrong))
    if not wrong.size:
        axes[0].text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    for ax, i in zip(axes, wrong, strict=False):
        t, p = class_name(true[i], class_names), class_name(pred[i], class_names)
        draw_image(ax, x[i], f"true: {t}\npred: {p}", color="tab:red")
    return fig


def class_name(label: Any, class_names: Sequence[str] | None) -> str:
    """``class_names[label]`` when the names are given and cover the label, else the number."""
    index = int(label)
    if class_names is not None and 0 <= index < len(class_names):
        return str(class_names[index])
    return str(index)
