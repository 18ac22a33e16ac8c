"""``Resizing``: resize a batch of images to ``(height, width)``, as ``tf.image.resize`` does."""

from __future__ import annotations

from typing import Any

import torch

from cnnlab.layers._images import (
    RESIZE_MODES,
    aspect_crop,
    check_image_shape,
    check_size,
    on_image_batch,
    resize,
    resized_shape,
)
from cnnlab.layers.base import Layer
from cnnlab.layers.conv_utils import normalize_data_format
from cnnlab.layers.registry import register


@register()
class Resizing(Layer):
    """Resize images to ``(height, width)`` (a preprocessing layer; no weights).

    ``'bilinear'`` (default) interpolates at half-pixel centres, output pixel ``i`` reading the
    input at ``(i + 0.5)·in/out − 0.5`` (clamped to the image), without antialiasing: exactly
    ``tf.image.resize(..., antialias=False)``, which Keras's layer calls, and PyTorch's
    ``F.interpolate(mode='bilinear', align_corners=False)``. ``'nearest'`` takes input pixel
    ``floor((i + 0.5)·in/out)``, as TensorFlow 2 does (PyTorch's ``'nearest-exact'``).

    Args (Keras's names and defaults):
        height, width: the output size (positive ints).
        interpolation: ``'bilinear'`` or ``'nearest'``. Difference from Keras: the other
            TensorFlow kernels (``'bicubic'``, ``'area'``, ``'lanczos3'``, ...) are refused
            rather than approximated by PyTorch's, whose coefficients differ.
        crop_to_aspect_ratio: False; True first crops the largest centred window with the
            target's aspect ratio (:func:`aspect_crop`), so nothing is distorted.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.

    Input shape: ``(N, H, W, C)`` or one image ``(H, W, C)``, any numeric dtype.
    Output shape: ``(N, height, width, C)`` (or ``(height, width, C)``), float.

    Example: ``Sequential([Input((None, None, 3)), Resizing(224, 224), ...])`` takes images of
    any size.
    """

    min_ndim = 3
    dims_hint = "(H, W, C)"

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, data_format: str | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        check_size(self.owner, height, width)
        if interpolation not in RESIZE_MODES:
            raise ValueError(f"{self.owner}: `interpolation` must be one of "
                             f"{', '.join(map(repr, RESIZE_MODES))}, got {interpolation!r}")
        self.data_format = normalize_data_format(data_format, self.owner)
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self._build_if_declared()

    def build(self, input_shape: tuple) -> None:
        check_image_shape(self.owner, input_shape)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return on_image_batch(inputs, self._resize)

    def _resize(self, batch: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_last":
            batch = batch.movedim(-1, 1)  # NCHW view for F.interpolate
        if self.crop_to_aspect_ratio:
            top, left, h, w = aspect_crop(batch.shape[2], batch.shape[3], self.height,
                                          self.width)
            batch = batch[:, :, top:top + h, left:left + w]
        out = resize(batch, (self.height, self.width), self.interpolation)
        return out.movedim(1, -1) if self.data_format == "channels_last" else out

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "data_format": self.data_format}
