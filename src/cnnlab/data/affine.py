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
    def column(value: torch.Tensor | None, degrees: bool = False) -> torch.Tensor | None:
        if value is None:
            return None
        value = value.to(device, torch.float32)
        return torch.deg2rad(value) if degrees else value

    angle, slant = column(theta, degrees=True), column(shear, degrees=True)
    sheared = slant if angle is None else angle if slant is None else angle + slant
    cos, sin = (1.0, 0.0) if angle is None else (torch.cos(angle), torch.sin(angle))
    cos_s, sin_s = (1.0, 0.0) if sheared is None else (torch.cos(sheared), torch.sin(sheared))
    scale_x, scale_y = _signed(column(zx), flip_x, device), _signed(column(zy), flip_y, device)
    shift_x, shift_y = column(tx), column(ty)
    shift_x, shift_y = (0.0 if shift_x is None else shift_x), (0.0 if shift_y is None else shift_y)
    entries = [scale_x * cos, -scale_y * sin_s, shift_x * cos - shift_y * sin,
               scale_x * sin, scale_y * cos_s, shift_x * sin + shift_y * cos]
    columns = [torch.as_tensor(e, dtype=torch.float32, device=device).expand(batch)
               for e in entries]  # absent parameters leave plain numbers
    return torch.stack(columns, dim=1).view(batch, 2, 3)


def _signed(scale: torch.Tensor | None, flip: torch.Tensor | None,
            device: torch.device | str | None) -> torch.Tensor | float:
    """``scale`` (1 when None), negated where ``flip`` is True."""
    if flip is None:
        return 1.0 if scale is None else scale
    sign = 1.0 - 2.0 * flip.to(device, torch.float32)
    return sign if scale is None else sign * scale


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
    base = _base_grid(height, width, images.device, images.dtype)
    grid = (base @ theta.transpose(1, 2)).view(batch, height, width, 2)  # = F.affine_grid
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
