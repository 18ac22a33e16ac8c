"""Classic image kernels, applied with cnnlab's own convolution layer.

The 3x3 matrices are those of Victor Powell's "Image Kernels explained visually"
(setosa.io/ev/image-kernels), plus the box blur (all ones / 9). As in a CNN (and on that page)
the kernel is laid over the image and multiplied element-wise — a cross-correlation, the kernel
is not flipped — so ``sobel_left`` responds where the left side is brighter than the right.

``apply_kernel(image, 'sharpen')`` runs a ``DepthwiseConv2D`` (the same kernel on every
channel, each channel on its own) with ``'same'`` zero padding, so the output has the input's
size; a ``uint8`` image comes back as ``uint8`` (rounded and clipped to 0..255).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

from cnnlab.layers.depthwise_conv import DepthwiseConv2D

KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32),
    "blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32) / 16,
    "box_blur": np.full((3, 3), 1 / 9, dtype=np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
    "outline": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32),
    "sobel_top": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=np.float32),
    "sobel_bottom": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
    "sobel_left": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float32),
    "sobel_right": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float32),
}
ALIASES = {"edge": "outline", "gaussian_blur": "blur", "top_sobel": "sobel_top",
           "bottom_sobel": "sobel_bottom", "left_sobel": "sobel_left",
           "right_sobel": "sobel_right"}


def kernel_matrix(kernel: str | Any) -> np.ndarray:
    """A kernel by name (``'sobel-left'``, ``'Sobel left'`` and ``'left_sobel'`` all work), a
    JSON matrix in a string (``'[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]'``) or a 2-D matrix of
    numbers (any size), as a float32 array."""
    if isinstance(kernel, str) and kernel.strip().startswith("["):
        try:
            kernel = json.loads(kernel)
        except json.JSONDecodeError as err:
            raise ValueError(f"`kernel` {kernel!r} is not a valid JSON matrix ({err.msg} at "
                             f"character {err.pos}); expected e.g. [[-1,0,1],[-2,0,2],[-1,0,1]]"
                             ) from None
    if isinstance(kernel, str):
        key = kernel.strip().lower().replace("-", "_").replace(" ", "_")
        key = ALIASES.get(key, key)
        if key not in KERNELS:
            raise ValueError(f"unknown kernel {kernel!r}; expected one of "
                             f"{sorted(KERNELS) + sorted(ALIASES)} or a 2-D matrix such as "
                             f"[[-1,0,1],[-2,0,2],[-1,0,1]]")
        return KERNELS[key].copy()
    if isinstance(kernel, (list, tuple)) and not all(
            isinstance(row, (list, tuple)) and all(_is_number(v) for v in row) for row in kernel):
        raise ValueError(f"`kernel` must be a 2-D matrix of numbers (a list of rows), got "
                         f"{kernel!r}")
    try:
        matrix = np.asarray(kernel, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"`kernel` must be a name or a 2-D matrix of numbers with rows of "
                         f"equal length, got {kernel!r}") from None
    if matrix.ndim != 2 or 0 in matrix.shape:
        raise ValueError(f"`kernel` must be a name or a non-empty 2-D matrix, got shape "
                         f"{matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("`kernel` must hold finite numbers, got NaN or infinity")
    return matrix


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def apply_kernel(image: Any, kernel: str | Any) -> np.ndarray:
    """Filter an ``(H, W)`` or ``(H, W, C)`` image with a named kernel or a 2-D matrix.

    Each channel is filtered on its own (zero padding, output the input's size). ``uint8``
    input gives ``uint8`` output, rounded and clipped to 0..255 (``sobel``/``outline`` make
    negative values, which become 0); any other input gives float32, unclipped.
    """
    matrix = kernel_matrix(kernel)
    array = np.asarray(image)
    if array.ndim not in (2, 3) or 0 in array.shape or not (
            np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"apply_kernel: `image` must be an (H, W) or (H, W, C) array of "
                         f"numbers, got shape {array.shape} and dtype {array.dtype}")
    x = array if array.ndim == 3 else array[..., None]
    channels = x.shape[2]
    layer = DepthwiseConv2D(matrix.shape, padding="same", use_bias=False, name="apply_kernel",
                            input_shape=x.shape)
    layer.set_weights([np.repeat(matrix[:, :, None, None], channels, axis=2)])
    with torch.no_grad():
        out = layer(torch.as_tensor(x[None].astype(np.float32)))[0].numpy()
    out = out if array.ndim == 3 else out[..., 0]
    if array.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out
