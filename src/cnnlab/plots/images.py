"""Image grids: any images, a layer's filters and feature maps, Grad-CAM overlays, an image
kernel before and after, and randomly augmented examples. Each cell is 160x160 pixels."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cnnlab import explain
from cnnlab.explain.activations import as_batch
from cnnlab.layers.base import Layer
from cnnlab.models.model import Model
from cnnlab.plots._figure import draw_image, grid_figure, new_figure, save_png


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
                     class_names: Sequence[str] | None = None, alpha: float = 0.45) -> str:
    """Write each image of the batch ``x`` with its Grad-CAM heatmap over it, titled with the
    predicted class (and the explained class when ``class_index`` is given); see
    :func:`cnnlab.explain.grad_cam`."""
    batch = as_batch(model, x)
    heatmaps = explain.grad_cam(model, batch, class_index, layer)
    with torch.no_grad():
        predicted = model(batch, training=False).argmax(dim=1).cpu().numpy()
    explained = predicted if class_index is None else np.broadcast_to(class_index, len(batch))

    def name(label: int) -> str:
        return class_names[label] if class_names is not None else str(label)

    fig, axes = grid_figure(len(batch))
    for i, ax in enumerate(axes):
        title = f"predicted: {name(predicted[i])}"
        if class_index is not None:
            title = f"class: {name(explained[i])}\n{title}"
        draw_heatmap_overlay(ax, batch[i].cpu().numpy(), heatmaps[i], alpha, title)
    return save_png(fig, path)


def kernel_before_after(image: Any, kernel_name: str | Any, path: str | os.PathLike) -> str:
    """Write three 400x400-pixel panels: the image, the kernel with its numbers, and the image
    filtered by :func:`cnnlab.explain.apply_kernel`."""
    matrix = explain.kernel_matrix(kernel_name)
    filtered = explain.apply_kernel(image, matrix)
    fig = new_figure(12.0, 4.0)
    before, kernel_ax, after = fig.subplots(1, 3)
    draw_image(before, image).set_title("before")
    limit = max(float(np.abs(matrix).max()), 1e-12)
    kernel_ax.imshow(matrix, cmap="coolwarm", vmin=-limit, vmax=limit)
    for (i, j), value in np.ndenumerate(matrix):
        kernel_ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=10)
    kernel_ax.set_axis_off()
    name = kernel_name if isinstance(kernel_name, str) else "custom"
    kernel_ax.set_title(f"kernel: {name}")
    draw_image(after, filtered).set_title("after")
    return save_png(fig, path)


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

