"""Plumbing shared by the image preprocessing layers (``Resizing`` and the augmentation layers;
internal): argument and rank checks, one image or a batch, TensorFlow's resizing.

The layers take a batch ``(N, H, W, C)`` or one image ``(H, W, C)`` (channels-first:
``(N, C, H, W)`` or ``(C, H, W)``) of any numeric dtype and return float images.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from cnnlab.layers._messages import check_positive_int

# Keras name -> torch mode with TensorFlow 2's half-pixel-centre sampling, antialias off:
# bilinear samples at (i + 0.5)·in/out − 0.5 (torch: align_corners=False); nearest takes
# floor((i + 0.5)·in/out) (torch: 'nearest-exact'; torch's plain 'nearest' floors i·in/out).
RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact"}


def check_size(owner: str, height: int, width: int) -> None:
    """``height`` and ``width`` must be positive ints (a target image size)."""
    check_positive_int(owner, "height", height)
    check_positive_int(owner, "width", width)


def check_image_shape(owner: str, input_shape: tuple) -> None:
    """Images ``(N, H, W, C)`` or one image ``(H, W, C)``: at most 4 axes (the layers' ``min_ndim``
    of 3 checks the other end)."""
    if len(input_shape) > 4:
        raise ValueError(f"{owner}: expected images (N, H, W, C) or one image "
                         f"(H, W, C), got input shape {input_shape}")


def on_image_batch(inputs: torch.Tensor,
                   fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """``fn(batch)`` with ``inputs`` as a float batch: an integer dtype becomes float32, one
    image (3 axes) gets a batch axis for ``fn`` and loses it after."""
    images = inputs if inputs.is_floating_point() else inputs.float()
    if images.ndim == 4:
        return fn(images)
    return fn(images.unsqueeze(0))[0]


def resized_shape(input_shape: tuple, height: int, width: int, data_format: str) -> tuple:
    """``input_shape`` with the image size replaced by ``(height, width)``."""
    if data_format == "channels_first":
        return (*input_shape[:-2], height, width)
    return (*input_shape[:-3], height, width, input_shape[-1])


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


def resize(images: torch.Tensor, size: tuple[int, int], interpolation: str) -> torch.Tensor:
    """Channels-first images ``(N, C, H, W)`` resized to ``size`` as
    ``tf.image.resize(..., antialias=False)`` does (``interpolation`` a key of
    ``RESIZE_MODES``)."""
    mode = RESIZE_MODES[interpolation]
    extra = {"align_corners": False, "antialias": False} if mode == "bilinear" else {}
    return F.interpolate(images, size=size, mode=mode, **extra)
