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

import torch
import torch.nn.functional as F

__all__ = ["FILL_MODES", "INTERPOLATIONS", "affine_matrices", "flip_where", "warp"]

FILL_MODES = ("constant", "grid-constant", "nearest", "reflect", "grid-wrap")
INTERPOLATIONS = ("bilinear", "nearest")
_EDGE_TOLERANCE = 1e-3  # pixels: points this close outside the image count as inside


def affine_matrices(
    batch: int,
    *,
    theta: torch.Tensor | None = None,
    tx: torch.Tensor | None = None,
    ty: torch.Tensor | None = None,
    shear: torch.Tensor | None = None,
    zx: torch.Tensor | None = None,
    zy: torch.Tensor | None = None,
    flip_x: torch.Tensor | None = None,
    flip_y: torch.Tensor | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``(batch, 2, 3)`` pull matrices ``R(theta) @ [Sh(shear) @ Z(zx, zy) @ F | (tx, ty)]``.

    Each argument is a ``(batch,)`` tensor or ``None`` (identity): ``theta`` and ``shear`` in
    degrees, ``tx``/``ty`` in pixels, ``zx``/``zy`` scale factors, ``flip_x``/``flip_y`` bools.
    Multiplied out, with ``sx = ±zx`` and ``sy = ±zy`` (minus when flipped)::

        [[sx cos(theta), -sy sin(theta + shear), tx cos(theta) - ty sin(theta)],
         [sx sin(theta),  sy cos(theta + shear), tx sin(theta) + ty cos(theta)]]
    """
    def values(given: torch.Tensor | None, default: float) -> torch.Tensor:
        if given is None:
            return torch.full((batch,), default, device=device)
        return given.to(device, torch.float32)

    angle = torch.deg2rad(values(theta, 0.0))
    sheared = angle + torch.deg2rad(values(shear, 0.0))
    scale_x, scale_y = values(zx, 1.0), values(zy, 1.0)
    if flip_x is not None:
        scale_x = torch.where(flip_x.to(device), -scale_x, scale_x)
    if flip_y is not None:
        scale_y = torch.where(flip_y.to(device), -scale_y, scale_y)
    cos, sin = torch.cos(angle), torch.sin(angle)
    shift_x, shift_y = values(tx, 0.0), values(ty, 0.0)
    entries = [scale_x * cos, -scale_y * torch.sin(sheared), shift_x * cos - shift_y * sin,
               scale_x * sin, scale_y * torch.cos(sheared), shift_x * sin + shift_y * cos]
    return torch.stack(entries, dim=1).view(batch, 2, 3)


def flip_where(images: torch.Tensor, mask: torch.Tensor, axis: int) -> torch.Tensor:
    """Flip the images of ``images`` (``(B, ...)``) selected by the bool ``mask`` (``(B,)``)
    along ``axis``; the others pass unchanged."""
    shape = (-1,) + (1,) * (images.ndim - 1)
    return torch.where(mask.to(images.device).view(shape), images.flip(axis), images)


def warp(
    images: torch.Tensor,
    matrices: torch.Tensor,
    fill_mode: str = "nearest",
    fill_value: float = 0.0,
    interpolation: str = "bilinear",
) -> torch.Tensor:
    """Warp float images ``(B, H, W, C)`` by pull matrices ``(B, 2, 3)`` (centred pixels).

    One ``F.affine_grid`` and one ``F.grid_sample`` for the whole batch, on the images'
    device; returns a contiguous ``(B, H, W, C)`` tensor.
    """
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    batch, height, width, channels = images.shape
    nchw = images.permute(0, 3, 1, 2).contiguous()  # grid_sample is slow on channels-last
    grid = F.affine_grid(_normalized(matrices.to(images.device, images.dtype), height, width),
                         [batch, channels, height, width], align_corners=False)
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
    return out.permute(0, 2, 3, 1).contiguous()


def _normalized(matrices: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Centred-pixel matrices -> ``affine_grid``'s normalized ones (``align_corners=False``).

    A centred pixel coordinate is ``p = S g`` with ``S = diag(W/2, H/2)``, hence
    ``theta = [S^-1 A S | S^-1 b]``: an elementwise scaling of the entries.
    """
    scale = torch.tensor([[1.0, height / width, 2.0 / width], [width / height, 1.0, 2.0 / height]],
                         dtype=matrices.dtype, device=matrices.device)
    return matrices * scale


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
