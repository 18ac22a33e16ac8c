"""Shared figure plumbing: Agg figures of a known pixel size, atomic PNG files, image cells.

Figures are ``matplotlib.figure.Figure`` objects drawn by the Agg backend directly (no
``pyplot``, no global state, safe in threads and on machines without a display). A figure of
``w x h`` inches is saved at ``DPI`` dots per inch, so the PNG is ``w·DPI x h·DPI`` pixels.
"""

from __future__ import annotations

import io
import math
import os
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cnnlab.files.atomic import atomic_write

DPI = 100
CELL = 1.6  # inches per image cell of a grid (160 pixels)


def new_figure(width: float, height: float) -> Figure:
    """A ``width x height``-inch figure on an Agg canvas, with constrained layout."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: str | os.PathLike) -> str:
    """Render ``fig`` as PNG and write it to ``path`` atomically; returns the path."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    with atomic_write(path) as f:
        f.write(buffer.getvalue())
    return os.fspath(path)


def grid_shape(n: int, cols: int | None = None) -> tuple[int, int]:
    """``(rows, cols)`` for ``n`` cells: ``cols = ceil(sqrt(n))`` unless given."""
    cols = max(1, min(n, cols or math.ceil(math.sqrt(n))))
    return math.ceil(n / cols), cols


def grid_figure(n: int, cols: int | None = None, cell: float = CELL) -> tuple[Figure, list[Axes]]:
    """A figure of ``n`` image cells (``cell`` inches square), axes switched off."""
    rows, cols = grid_shape(max(n, 1), cols)
    fig = new_figure(cols * cell, rows * cell)
    axes = list(np.ravel(fig.subplots(rows, cols, squeeze=False)))
    for ax in axes:
        ax.set_axis_off()
    return fig, axes[:max(n, 1)]


def to_display(image: Any) -> np.ndarray:
    """An image as floats in [0, 1] for ``imshow``: ``(H, W)`` or ``(H, W, 3|4)``.

    ``uint8`` is divided by 255; floats already in [0, 1] stay; non-negative floats up to 255
    are read as pixel values (/255, e.g. augmented ``uint8`` images); anything else is
    min-max scaled. A single channel ``(H, W, 1)`` becomes ``(H, W)``.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(f"expected an image (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got "
                         f"shape {np.shape(image)}")
    if array.dtype == np.uint8:
        return array / 255.0
    array = array.astype(np.float64)
    low, high = float(np.min(array)), float(np.max(array))
    if low >= 0.0 and high <= 1.0:
        return array
    if low >= 0.0 and high <= 255.0:
        return array / 255.0
    return (array - low) / (high - low) if high > low else np.zeros_like(array)


def draw_image(ax: Axes, image: Any, title: str | None = None, color: str = "black") -> Axes:
    """Show an image (grayscale for one channel) in ``ax`` with an optional title."""
    ax.imshow(to_display(image), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=8, color=color)
    return ax
