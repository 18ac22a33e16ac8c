"""Image grids: any images, a layer's filters and feature maps, Grad-CAM overlays, an image
kernel before and after, randomly augmented examples (each grid cell is 160x160 pixels), and
convolution / pooling step by step (:func:`steps_figure`)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnlab import explain
from cnnlab.explain.activations import as_batch
from cnnlab.explain.stepwise import _num as number_text
from cnnlab.layers.base import Layer
from cnnlab.models.model import Model
from cnnlab.plots._figure import DPI, draw_image, grid_figure, new_figure, save_png
from cnnlab.plots.classification import class_name


def image_grid(images: Any, titles: Sequence[str] | None, path: str | os.PathLike,
               cols: int | None = None) -> str:
    """Write ``images`` (``(N, H, W)`` or ``(N, H, W, C)``) as a grid with optional titles."""
    images = list(images)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"`titles` must have one entry per image ({len(images)}), got "
                         f"{len(titles)}")
    fig, axes = grid_figure(len(images), cols)
    for i, (ax, image) in enumerate(zip(axes, images, strict=False)):
        draw_image(ax, image, titles[i] if titles is not None else None)
    return save_png(fig, path)


def filters_grid(model: Model, layer: str | int | Layer, path: str | os.PathLike,
                 max_filters: int = 64) -> str:
    """Write the filters of a conv layer, one cell per output channel (at most
    ``max_filters``): in colour for 3 input channels, else the mean over input channels."""
    kernel = explain.filters(model, layer)
    if kernel.ndim != 4:
        raise ValueError(f"filters_grid shows 2-D filters (kh, kw, in, out), got a kernel of "
                         f"shape {kernel.shape}")
    count = min(kernel.shape[-1], max_filters)
    fig, axes = grid_figure(count)
    for k, ax in enumerate(axes):
        cell = kernel[..., k] if kernel.shape[2] == 3 else kernel[..., k].mean(axis=2)
        ax.imshow(cell, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(f"filter {k}", fontsize=8)
    return save_png(fig, path)


def feature_maps_grid(model: Model, layer: str | int | Layer, x: Any,
                      path: str | os.PathLike, max_maps: int = 64) -> str:
    """Write the feature maps of ``layer`` for the first image of ``x``, one cell per channel
    (at most ``max_maps``), each with its own colour scale."""
    maps = explain.feature_maps(model, layer, as_batch(model, x)[:1])[0]
    if maps.ndim != 3:
        raise ValueError(f"feature_maps_grid needs a layer with (H, W, C) output, got output "
                         f"of shape {maps.shape}")
    count = min(maps.shape[-1], max_maps)
    fig, axes = grid_figure(count)
    for k, ax in enumerate(axes):
        ax.imshow(maps[..., k], cmap="viridis", interpolation="nearest")
        ax.set_title(f"map {k}", fontsize=8)
    return save_png(fig, path)


def draw_heatmap_overlay(ax: Any, image: Any, heatmap: np.ndarray, alpha: float = 0.45,
                         title: str | None = None) -> Any:
    """Show ``image`` with ``heatmap`` (values in [0, 1], same size) over it in the jet map."""
    draw_image(ax, image, title)
    ax.imshow(heatmap, cmap="jet", alpha=alpha, vmin=0.0, vmax=1.0, interpolation="bilinear")
    return ax


def grad_cam_overlay(model: Model, x: Any, path: str | os.PathLike,
                     class_index: int | Sequence[int] | None = None,
                     layer: str | int | Layer | None = None,
                     class_names: Sequence[str] | None = None, alpha: float = 0.45,
                     y_true: Any = None, method: str = "gradcam") -> str:
    """Write :func:`grad_cam_figure` as a PNG (160x160 pixels per image); returns the path."""
    return save_png(grad_cam_figure(model, x, class_index, layer, class_names, alpha, y_true,
                                    method), path)


def grad_cam_figure(model: Model, x: Any, class_index: int | Sequence[int] | None = None,
                    layer: str | int | Layer | None = None,
                    class_names: Sequence[str] | None = None, alpha: float = 0.45,
                    y_true: Any = None, method: str = "gradcam") -> Figure:
    """Each image of the batch ``x`` with its Grad-CAM heatmap over it, titled with the
    predicted class (the true class when ``y_true`` labels are given, the explained class when
    ``class_index`` is), by name when ``class_names`` are given; a map that is 0 everywhere says
    so in its title. See :func:`cnnlab.explain.grad_cam`."""
    batch = as_batch(model, x)
    heatmaps = explain.grad_cam(model, batch, class_index, layer, method=method)
    with torch.no_grad():
        predicted = model(batch, training=False).argmax(dim=1).cpu().numpy()
    explained = predicted if class_index is None else np.broadcast_to(class_index, len(batch))
    truth = None if y_true is None else np.asarray(y_true).reshape(-1)
    if truth is not None and truth.size != len(batch):
        raise ValueError(f"`y_true` must have one label per image ({len(batch)}), got "
                         f"{truth.size}")

    def name(label: Any) -> str:
        return class_name(label, class_names)

    fig, axes = grid_figure(len(batch))
    for i, ax in enumerate(axes):
        lines = [f"predicted: {name(predicted[i])}"]
        if truth is not None:
            lines.insert(0, f"true: {name(truth[i])}")
        if class_index is not None:
            lines.insert(0, f"class: {name(explained[i])}")
        if not heatmaps[i].any():
            lines.append("(heatmap 0 everywhere)")
        draw_heatmap_overlay(ax, batch[i].cpu().numpy(), heatmaps[i], alpha, "\n".join(lines))
    return fig


def kernel_figure(image: Any, kernel: str | Any) -> Figure:
    """The before / kernel / after figure of :func:`kernel_before_after` (three square panels of
    ``panel_inches(image)`` inches; the images drawn pixel for pixel, nearest-neighbour)."""
    matrix = explain.kernel_matrix(kernel)
    filtered = explain.apply_kernel(image, matrix)
    side = panel_inches(image)
    fig = new_figure(3 * side, side)
    before, kernel_ax, after = fig.subplots(1, 3)
    draw_image(before, image).set_title("before")
    draw_image(after, filtered).set_title("after")
    for ax in (before, after):  # a frame, so white pixels at the border stay visible
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
    limit = max(float(np.abs(matrix).max()), 1e-12)
    kernel_ax.imshow(matrix, cmap="coolwarm", vmin=-limit, vmax=limit)
    if matrix.size <= 15 * 15:
        for (i, j), value in np.ndenumerate(matrix):
            kernel_ax.text(j, i, f"{value:.3g}", ha="center", va="center",
                           fontsize=10 if max(matrix.shape) <= 5 else 7)
    kernel_ax.set_axis_off()
    name = kernel if isinstance(kernel, str) else "custom"
    kernel_ax.set_title(f"kernel: {name}")
    return fig


def panel_inches(image: Any) -> float:
    """Side of a kernel panel: 4 inches (400 px: a 28x28 image is magnified ~13x), growing
    with large images (``max(H, W) / 100 + 0.5``) up to 10 inches so they are not shrunk."""
    return float(min(max(4.0, max(np.shape(image)[:2]) / DPI + 0.5), 10.0))


def kernel_before_after(image: Any, kernel_name: str | Any, path: str | os.PathLike) -> str:
    """Write the image, the kernel with its numbers, and the image filtered by
    :func:`cnnlab.explain.apply_kernel`, side by side: ``3·S x S`` inches at 100 dpi with
    ``S = panel_inches(image)`` (1200x400 pixels for images up to 350 pixels)."""
    return save_png(kernel_figure(image, kernel_name), path)


def augmentation_preview(generator: Any, x: Any, path: str | os.PathLike, n: int = 16,
                         seed: int | None = None) -> str:
    """Write ``n`` randomly augmented versions of the images ``x`` (one image ``(H, W, C)`` or a
    batch, used in turn) made by ``generator.random_transform(image, seed)`` — e.g. an
    ``ImageDataGenerator``. With ``seed`` the cells use seeds ``seed, seed + 1, ...`` and the
    preview is reproducible."""
    if not callable(getattr(generator, "random_transform", None)):
        raise TypeError(f"`generator` must have a random_transform(x, seed) method (like "
                        f"ImageDataGenerator), got {type(generator).__name__}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be a positive int, got {n!r}")
    images = np.asarray(x)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or not len(images):
        raise ValueError(f"`x` must be one image (H, W, C) or a batch (N, H, W, C), got shape "
                         f"{np.shape(x)}")
    fig, axes = grid_figure(n)
    for i, ax in enumerate(axes):
        out = generator.random_transform(images[i % len(images)],
                                         seed=None if seed is None else seed + i)
        out = out.detach().cpu().numpy() if torch.is_tensor(out) else np.asarray(out)
        draw_image(ax, out)
    return save_png(fig, path)



def steps_figure(trace: explain.ConvTrace, max_steps: int = 36) -> Figure:
    """The step-by-step picture of :func:`cnnlab.explain.convolve_steps` / ``pool_steps``.

    A header row shows the (padded) input, the filter (convolution only) and the output; then
    one panel pair per window, in order: the input with the window outlined in red, the output
    filled up to this step with the new cell outlined, and the step's arithmetic under them
    (``1·1 + 1·0 + ... = 4``). At most ``max_steps`` windows are drawn. Several channels are
    drawn as channel 0 (the arithmetic covers all). Size: ``steps_figure_inches``.
    """
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"`max_steps` must be a positive int, got {max_steps!r}")
    windows = trace.windows[:max_steps]
    side, cols, rows, _ = _steps_layout(trace, max_steps)
    width, height = steps_figure_inches(trace, max_steps)
    fig = new_figure(width, height)
    head_h = side + 0.5
    header, body = fig.subfigures(2, 1, height_ratios=[head_h, height - head_h])
    padded, output = trace.padded[..., 0], _first_channel(trace.output)
    shown = "" if len(windows) == len(trace.windows) else \
        f" (first {len(windows)} of {len(trace.windows)} steps)"
    header.suptitle(trace.title + shown, fontsize=9)
    panels = header.subplots(1, 3 if trace.kernel is not None else 2)
    _draw_matrix(panels[0], padded, "input (after padding)")
    if trace.kernel is not None:
        _draw_matrix(panels[1], trace.kernel[..., 0], "filter", cmap="Oranges")
    _draw_matrix(panels[-1], output, f"output {output.shape[0]}x{output.shape[1]}",
                 cmap="Greens")
    cells = np.ravel(body.subfigures(rows, cols, squeeze=False))
    filled = np.full(output.shape, np.nan)
    kh, kw = (trace.kernel.shape[:2] if trace.kernel is not None else windows[0].patch.shape[:2])
    for n, (cell, w) in enumerate(zip(cells, windows, strict=False)):
        filled[w.row, w.col] = output[w.row, w.col]
        left, right = cell.subplots(1, 2)
        _draw_matrix(left, padded, None, box=(w.top, w.left, kh, kw))
        _draw_matrix(right, filled, None, box=(w.row, w.col, 1, 1), cmap="Greens",
                     limits=(np.nanmin(output), np.nanmax(output)))
        cell.suptitle(f"step {n + 1}: output ({w.row}, {w.col})", fontsize=8)
        cell.supxlabel("\n".join(_wrapped(w.lines, side)), fontsize=7, family="monospace")
    for cell in cells[len(windows):]:
        cell.set_visible(False)
    return fig


def steps_figure_inches(trace: explain.ConvTrace, max_steps: int = 36) -> tuple[float, float]:
    """``(width, height)`` of :func:`steps_figure` in inches (x 100 for pixels).

    Panels are ``S = clip(0.32 · max(H', W'), 1.6, 3.2)`` inches square for the padded input
    ``H' x W'``; ``c = min(steps, 3)`` steps per row, ``r = ceil(steps / c)`` rows; each step
    is two panels wide and ``S + 0.35 + 0.13 · L`` high for ``L`` lines of arithmetic (the most
    of any step, wrapped); the header row is ``S + 0.5`` high. Width ``2·c·S`` (at least
    ``3·S + 0.6`` for the header).
    """
    side, cols, rows, lines = _steps_layout(trace, max_steps)
    width = max(2 * cols * side, 3 * side + 0.6)
    return round(width, 2), round(side + 0.5 + rows * (side + 0.35 + 0.13 * lines), 2)


def _steps_layout(trace: explain.ConvTrace, max_steps: int) -> tuple[float, int, int, int]:
    windows = trace.windows[:max_steps]
    side = float(np.clip(0.32 * max(trace.padded.shape[:2]), 1.6, 3.2))
    cols = min(len(windows), 3)
    rows = -(-len(windows) // cols)
    lines = max(len(_wrapped(w.lines, side)) for w in windows)
    return side, cols, rows, lines


def _wrapped(lines: Sequence[str], side: float) -> list[str]:
    """The arithmetic wrapped to the width of a step (two panels, 13 characters an inch)."""
    width = max(int(2 * side * 13), 20)
    return [part for line in lines for part in textwrap.wrap(line, width, break_on_hyphens=False)]


def _first_channel(array: np.ndarray) -> np.ndarray:
    return array if array.ndim == 2 else array[..., 0]


def _draw_matrix(ax: Any, matrix: np.ndarray, title: str | None, box: tuple | None = None,
                 cmap: str = "Blues", limits: tuple[float, float] | None = None) -> Any:
    """A small matrix as coloured cells with its numbers (NaN: padding, drawn as ``·`` when it
    is input padding and left empty in a partly filled output)."""
    values = np.asarray(matrix, dtype=float)
    low, high = limits if limits is not None else (np.nanmin(values), np.nanmax(values)) \
        if np.isfinite(values).any() else (0.0, 1.0)
    ax.imshow(values, cmap=cmap, vmin=low, vmax=high if high > low else low + 1,
              interpolation="nearest", alpha=0.6)
    if max(values.shape) <= 16:
        size = 9 if max(values.shape) <= 6 else 6
        for (i, j), value in np.ndenumerate(values):
            if np.isnan(value) and limits is not None:
                continue
            ax.text(j, i, number_text(value), ha="center", va="center", fontsize=size)
    if box is not None:
        top, left, h, w = box
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor="red",
                               linewidth=2))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)
    return ax


def write_steps(trace: explain.ConvTrace, path: str | os.PathLike, max_steps: int = 36) -> str:
    """Write :func:`steps_figure` as a PNG (``steps_figure_inches`` x 100 pixels)."""
    return save_png(steps_figure(trace, max_steps), path)
