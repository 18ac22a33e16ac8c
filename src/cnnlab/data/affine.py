"""Batched 2-D affine warps of channels-last images: one grid and one ``grid_sample`` per batch.

Coordinates are pixels ``(x, y) = (column, row)`` measured from the image centre
``((W - 1) / 2, (H - 1) / 2)``. A matrix ``[A | b]`` (one per image, shape ``(B, 2, 3)``) maps
each *output* pixel ``p`` to the *input* point it samples: ``p_in = A @ p + b`` (the "pull"
convention of ``scipy.ndimage.affine_transform`` and Keras).

:func:`affine_matrices` composes them as Keras's ``ImageDataGenerator`` does::

    A = R(theta) @ Sh(shear) @ Z(zx, zy) @ F(flips)      b = R(theta) @ (tx, ty)
    R = [[cos, -sin], [sin, cos]]   Sh = [[1, -sin s], [0, cos s]]   Z = diag(zx, zy)

so ``theta = 90`` equals ``np.rot90`` (counter-clockwise on screen), ``tx = k`` samples ``k``
pixels to the right (the picture moves left by ``k``) and ``zx = 2`` shows twice the width
(zoom out). A flip mirrors the output about the centre, which equals flipping the warped image.

Fill modes use :mod:`scipy.ndimage`'s names and definitions (``'abcd'`` is one image row):

======================  ===========================  ======================================
mode                    outside the image            how
======================  ===========================  ======================================
``'constant'``          ``k k | a b c d | k k``      sample, then ``fill_value`` where the
                        (no blending at the edge)    point lies outside ``[0, n-1]``
``'grid-constant'``     same, but the edge pixels    ``sample_zeros(x - k) + k``
                        blend towards ``k``
``'nearest'``           ``a a | a b c d | d d``      PyTorch ``padding_mode='border'``
``'reflect'``           ``b a | a b c d | d c``      ``'reflection'`` with
                                                     ``align_corners=False`` (edge of pixel)
``'grid-wrap'``         ``c d | a b c d | a b``      coordinates modulo ``n`` on an image
                                                     padded by one wrapped column/row
======================  ===========================  ======================================
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["FILL_MODES", "INTERPOLATIONS", "affine_matrices", "flip_where", "warp"]

FILL_MODES = ("constant", "grid-constant", "nearest", "reflect", "grid-wrap")
INTERPOLATIONS = ("bilinear", "nearest")
_EDGE_TOLERANCE = 1e-3  # pixels: points this close outside the image count as inside


def affine_matrices(
    batch: int,
    *,
    theta: torch.Tensor | np.ndarray | None = None,
    tx: torch.Tensor | np.ndarray | None = None,
    ty: torch.Tensor | np.ndarray | None = None,
    shear: torch.Tensor | np.ndarray | None = None,
    zx: torch.Tensor | np.ndarray | None = None,
    zy: torch.Tensor | np.ndarray | None = None,
    flip_x: torch.Tensor | np.ndarray | None = None,
    flip_y: torch.Tensor | np.ndarray | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``(batch, 2, 3)`` float32 pull matrices ``R(theta) @ [Sh(shear) @ Z(zx, zy) @ F | t]``
    on ``device``.

    Each argument is a ``(batch,)`` array or ``None`` (identity): ``theta`` and ``shear`` in
    degrees, ``tx``/``ty`` in pixels, ``zx``/``zy`` scale factors, ``flip_x``/``flip_y`` bools.
    Tensors are composed on their device; NumPy arrays in float64 on the CPU (cheaper for a
    batch of parameters). Multiplied out, with ``sx = ±zx`` and ``sy = ±zy`` (minus when
    flipped)::

        [[sx cos(theta), -sy sin(theta + shear), tx cos(theta) - ty sin(theta)],
         [sx sin(theta),  sy cos(theta + shear), tx sin(theta) + ty cos(theta)]]
    """
    given = (theta, tx, ty, shear, zx, zy, flip_x, flip_y)
    if any(isinstance(value, torch.Tensor) for value in given):
        xp: Any = torch
        zeros = torch.zeros(batch, device=device)
        given = tuple(None if v is None else torch.as_tensor(v, device=device) for v in given)
    else:
        xp, zeros = np, np.zeros(batch)
        given = tuple(None if v is None else np.asarray(v) for v in given)
    theta, tx, ty, shear, zx, zy, flip_x, flip_y = given
    angle = None if theta is None else xp.deg2rad(theta * 1.0)
    slant = None if shear is None else xp.deg2rad(shear * 1.0)
    sheared = slant if angle is None else angle if slant is None else angle + slant
    cos, sin = (1.0, 0.0) if angle is None else (xp.cos(angle), xp.sin(angle))
    cos_s, sin_s = (1.0, 0.0) if sheared is None else (xp.cos(sheared), xp.sin(sheared))
    scale_x = _signed(1.0 if zx is None else zx, flip_x)
    scale_y = _signed(1.0 if zy is None else zy, flip_y)
    shift_x, shift_y = (0.0 if tx is None else tx), (0.0 if ty is None else ty)
    entries = [scale_x * cos, -scale_y * sin_s, shift_x * cos - shift_y * sin,
               scale_x * sin, scale_y * cos_s, shift_x * sin + shift_y * cos]
    matrices = xp.stack([zeros + entry for entry in entries], axis=1).reshape(batch, 2, 3)
    if xp is np:
        matrices = torch.from_numpy(matrices)
    return matrices.to(device, torch.float32)


def _signed(scale: Any, flip: Any) -> Any:
    """``scale``, negated where the bool array ``flip`` is true."""
    return scale if flip is None else scale * (1.0 - 2.0 * flip)


def flip_where(images: torch.Tensor, mask: torch.Tensor | np.ndarray, axis: int) -> torch.Tensor:
    """Flip the images of ``images`` (``(B, ...)``) selected by the bool ``mask`` (``(B,)``)
    along ``axis``; the others pass unchanged."""
    shape = (-1,) + (1,) * (images.ndim - 1)
    mask = torch.as_tensor(mask, device=images.device).view(shape)
    return torch.where(mask, images.flip(axis), images)


def warp(
    images: torch.Tensor,
    matrices: torch.Tensor,
    fill_mode: str = "nearest",
    fill_value: float = 0.0,
    interpolation: str = "bilinear",
) -> torch.Tensor:
    """Warp float images ``(B, H, W, C)`` by pull matrices ``(B, 2, 3)`` (centred pixels).

    One sampling grid (what ``F.affine_grid`` computes) and one ``F.grid_sample`` for the
    whole batch, on the images' device; returns a contiguous ``(B, H, W, C)`` tensor.
    """
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    batch, height, width, channels = images.shape
    nchw = images.permute(0, 3, 1, 2).contiguous()  # grid_sample is slow on channels-last
    theta = _normalized(matrices.to(images.device, images.dtype), height, width)
    grid = _grid(theta, height, width, images.device)  # = F.affine_grid(theta, ...)
    padding = {"nearest": "border", "reflect": "reflection", "constant": "border",
               "grid-constant": "zeros", "grid-wrap": "border"}[fill_mode]
    if fill_mode == "grid-constant" and fill_value:
        nchw = nchw - fill_value  # sample_zeros(x - k) + k: the edge blends towards k
    if fill_mode == "grid-wrap":
        nchw, grid = _wrapped(nchw, grid, height, width)
    out = F.grid_sample(nchw, grid, mode=interpolation, padding_mode=padding,
                        align_corners=False)
    if fill_mode == "grid-constant" and fill_value:
        out = out + fill_value
    if fill_mode == "constant":
        out = torch.where(_inside(grid, height, width).unsqueeze(1), out,
                          torch.as_tensor(fill_value, dtype=out.dtype, device=out.device))
    return torch.stack(out.unbind(1), dim=-1)  # to (B, H, W, C): faster than a permuted copy


def _grid(theta: torch.Tensor, height: int, width: int, device: torch.device) -> torch.Tensor:
    """``(B, H, W, 2)`` sampling points ``theta @ (x, y, 1)`` of every output pixel.

    One ``(H*W, 3) @ (3, 2B)`` product, viewed (not copied) as ``(B, H, W, 2)``: on CPU this
    is 5-15x faster than the batched ``(B, H*W, 3) @ (B, 3, 2)`` product or ``F.affine_grid``,
    and ``grid_sample`` reads the strided view at little extra cost."""
    batch = theta.shape[0]
    base = _base_grid(height, width, device, theta.dtype)
    points = base @ theta.reshape(batch * 2, 3).T  # (H*W, 2B)
    return points.view(height, width, batch, 2).permute(2, 0, 1, 3)


@functools.lru_cache(maxsize=16)
def _base_grid(height: int, width: int, device: torch.device,
               dtype: torch.dtype) -> torch.Tensor:
    """``(H*W, 3)`` rows ``(x, y, 1)``: the normalized pixel centres (``align_corners=False``)
    that ``F.affine_grid`` maps; a cached product with it is twice as fast on CPU."""
    ys = (torch.arange(height, dtype=dtype, device=device) * 2 + 1) / height - 1
    xs = (torch.arange(width, dtype=dtype, device=device) * 2 + 1) / width - 1
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y, torch.ones_like(grid_x)], dim=-1).view(-1, 3)


def _normalized(matrices: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Centred-pixel matrices -> ``affine_grid``'s normalized ones (``align_corners=False``).

    A centred pixel coordinate is ``p = S g`` with ``S = diag(W/2, H/2)``, hence
    ``theta = [S^-1 A S | S^-1 b]``: an elementwise scaling of the entries.
    """
    return matrices * _normalizer(height, width, matrices.device, matrices.dtype)


@functools.lru_cache(maxsize=16)
def _normalizer(height: int, width: int, device: torch.device,
                dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor([[1.0, height / width, 2.0 / width], [width / height, 1.0, 2.0 / height]],
                        dtype=dtype, device=device)


def _inside(grid: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``(B, H, W)`` bool: the sampled point lies in ``[0, n-1]`` on both axes (scipy's rule
    for ``'constant'``), up to a rounding tolerance."""
    half = torch.tensor([width / 2.0, height / 2.0], dtype=grid.dtype, device=grid.device)
    limit = (half - 0.5) + _EDGE_TOLERANCE
    return ((grid * half).abs() <= limit).all(dim=-1)


def _wrapped(nchw: torch.Tensor, grid: torch.Tensor, height: int,
             width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Periodic extension: pixel coordinates modulo ``n`` on the image padded by one wrapped
    column and row, so that points between ``n-1`` and ``n`` blend the last and first pixel."""
    size = torch.tensor([width, height], dtype=grid.dtype, device=grid.device)
    pixels = torch.remainder((grid + 1.0) * size / 2.0 - 0.5, size)
    padded = F.pad(nchw, (0, 1, 0, 1), mode="circular")
    return padded, (2.0 * pixels + 1.0) / (size + 1.0) - 1.0
