"""``Resizing``: resize a batch of images to ``(height, width)``, as ``tf.image.resize`` does."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnlab.layers.base import Layer
from cnnlab.layers.conv_utils import normalize_data_format
from cnnlab.layers.registry import register

# Keras name -> torch mode with TensorFlow 2's half-pixel-centre sampling, antialias off:
# bilinear samples at (i + 0.5)·in/out − 0.5 (torch: align_corners=False); nearest takes
# floor((i + 0.5)·in/out) (torch: 'nearest-exact'; torch's plain 'nearest' floors i·in/out).
_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact"}


def aspect_crop(height: int, width: int, target_height: int,
                target_width: int) -> tuple[int, int, int, int]:
    """``(top, left, crop_height, crop_width)``: the largest centred window of a
    ``height x width`` image with the target's aspect ratio (Keras's ``crop_to_aspect_ratio``)::

        crop_height = min(height, int(width · target_height / target_width))
        crop_width  = min(width,  int(height · target_width / target_height))
        top = int((height − crop_height) / 2),  left = int((width − crop_width) / 2)
    """
    crop_height = max(min(height, int(width * target_height / target_width)), 1)
    crop_width = max(min(width, int(height * target_width / target_height)), 1)
    return (int((height - crop_height) / 2), int((width - crop_width) / 2), crop_height,
            crop_width)


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
        for name, value in (("height", height), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{self.owner}: `{name}` must be a positive int, got {value!r}")
        if interpolation not in _MODES:
            raise ValueError(f"{self.owner}: `interpolation` must be one of "
                             f"{', '.join(map(repr, _MODES))}, got {interpolation!r}")
        self.data_format = normalize_data_format(data_format, self.owner)
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self._build_if_declared()

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) > 4:
            raise ValueError(f"{self.owner}: expected images (N, H, W, C) or one image "
                             f"(H, W, C), got input shape {input_shape}")

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        images = inputs if inputs.is_floating_point() else inputs.float()
        batch = images if images.ndim == 4 else images.unsqueeze(0)
        if self.data_format == "channels_last":
            batch = batch.movedim(-1, 1)  # NCHW view for F.interpolate
        if self.crop_to_aspect_ratio:
            top, left, h, w = aspect_crop(batch.shape[2], batch.shape[3], self.height,
                                          self.width)
            batch = batch[:, :, top:top + h, left:left + w]
        mode = _MODES[self.interpolation]
        extra = {"align_corners": False, "antialias": False} if mode == "bilinear" else {}
        out = F.interpolate(batch, size=(self.height, self.width), mode=mode, **extra)
        if self.data_format == "channels_last":
            out = out.movedim(1, -1)
        return out if images.ndim == 4 else out[0]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = list(input_shape)
        spatial = (-3, -2) if self.data_format == "channels_last" else (-2, -1)
        shape[spatial[0]], shape[spatial[1]] = self.height, self.width
        return tuple(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "data_format": self.data_format}
