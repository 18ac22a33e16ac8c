"""Random-transform parameters applied to a whole batch at once, in Keras's order.

Parameters are Keras's keys, each a ``(B,)`` NumPy array or ``None`` (disabled): the affine
warp (:data:`GEOMETRY`, one matrix per image and one ``grid_sample``, :mod:`cnnlab.data.affine`),
then channel shift, flips, brightness.
"""

from __future__ import annotations

from typing import Any

import torch

from cnnlab.data.affine import affine_matrices, flip_where, warp

Params = dict[str, Any]
FILL_MODES = {"constant": "constant", "nearest": "nearest", "reflect": "reflect",
              "wrap": "grid-wrap"}
GEOMETRY = ("theta", "tx", "ty", "shear", "zx", "zy")


def transform_batch(images: torch.Tensor, params: Params, fill_mode: str, cval: float,
                    interpolation: str) -> torch.Tensor:
    """Apply batched parameters to float channels-last images ``(B, H, W, C)``.

    ``fill_mode`` is a key of :data:`FILL_MODES` (``cval`` fills ``'constant'``),
    ``interpolation`` ``'bilinear'`` or ``'nearest'``. Channel shift adds ``c`` clipped to each
    image's range; brightness multiplies by ``b`` clipped to ``[0, 255]`` (to the image's own
    range for images outside it).
    """
    geometry = {k: params.get(k) for k in GEOMETRY if params.get(k) is not None}
    flips = params.get("flip_horizontal"), params.get("flip_vertical")
    if geometry:
        matrices = affine_matrices(len(images), flip_x=flips[0], flip_y=flips[1],
                                   device=images.device, **geometry)
        images = warp(images, matrices, FILL_MODES[fill_mode], cval, interpolation)
    shift = params.get("channel_shift_intensity")
    if shift is not None:
        low, high = _image_range(images)
        images = torch.clamp(images + _per_image(shift, images), low, high)
    if not geometry:  # flips after the warp commute with the pixel-wise steps
        for flip, axis in zip(flips, (2, 1), strict=True):
            if flip is not None:
                images = flip_where(images, flip, axis)
    brightness = params.get("brightness")
    if brightness is not None:
        low, high = _image_range(images)
        outside = (low < 0) | (high > 255)
        low = torch.where(outside, low, torch.zeros_like(low))
        high = torch.where(outside, high, torch.full_like(high, 255.0))
        scaled = (images - low) * _per_image(brightness, images)
        images = low + torch.minimum(scaled.clamp_min(0.0), high - low)
    return images


def _per_image(values: Any, images: torch.Tensor) -> torch.Tensor:
    """A ``(B,)`` array of per-image values, shaped to broadcast against ``(B, H, W, C)``."""
    return torch.as_tensor(values, device=images.device).to(images.dtype).view(-1, 1, 1, 1)


def _image_range(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return images.amin(dim=(1, 2, 3), keepdim=True), images.amax(dim=(1, 2, 3), keepdim=True)
