"""ImageNet input preprocessing as a formula and as a layer (what ``preprocess_input`` of
``keras.applications`` does; per pixel ``x`` and channel ``c``, channels-last)::

    'caffe' (VGG16, ResNet50):  RGB -> BGR, then x[..., c] -= [103.939, 116.779, 123.68][c]
    'tf'    (MobileNet, ...):   x / 127.5 - 1                 (pixels [0, 255] -> [-1, 1])
    'torch' (DenseNet, ...):    (x / 255 - [0.485, 0.456, 0.406][c]) / [0.229, 0.224, 0.225][c]

:func:`preprocess` works on NumPy arrays and torch tensors; :class:`ImageNetPreprocessing` is
the same formula as a (weightless, saveable) layer, which is what
``keras.applications.vgg16.preprocess_input(inputs)`` puts in a functional model when
``inputs`` is symbolic (Keras records the operations as graph nodes instead).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnlab.layers.base import Layer
from cnnlab.layers.conv_utils import normalize_data_format
from cnnlab.layers.registry import register

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN, TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
MODES = ("caffe", "tf", "torch")


def check_arguments(owner: str, mode: str, data_format: str | None) -> str:
    """Validate ``mode``/``data_format``; return the data format (default channels-last)."""
    if mode not in MODES:
        raise ValueError(f"{owner}: `mode` must be one of 'caffe', 'tf' or 'torch', "
                         f"got {mode!r}")
    return normalize_data_format(data_format, owner)


def channel_axis(owner: str, shape: tuple, data_format: str) -> int:
    """The colour axis of an image or batch of ``shape``; it must hold 3 channels."""
    if data_format == "channels_first":
        axis = 0 if len(shape) == 3 else 1
    else:
        axis = len(shape) - 1
    if len(shape) < 3 or shape[axis] not in (3, None):
        raise ValueError(f"{owner}: expected 3 colour channels on axis {axis} "
                         f"({data_format}), got an input of shape {tuple(shape)}")
    return axis


def preprocess(x: Any, mode: str, axis: int) -> Any:
    """The ``mode`` formula on a float array or tensor whose colour axis is ``axis``."""
    if mode == "tf":
        return x / 127.5 - 1.0
    shape = [1] * x.ndim
    shape[axis] = 3
    if mode == "torch":
        mean, std = np.reshape(TORCH_MEAN, shape), np.reshape(TORCH_STD, shape)
        return (x / 255.0 - _like(mean, x)) / _like(std, x)
    bgr = x.flip(axis) if isinstance(x, torch.Tensor) else np.flip(x, axis)
    return bgr - _like(np.reshape(CAFFE_MEAN_BGR, shape), x)


def _like(constant: np.ndarray, x: Any) -> Any:
    """``constant`` in the dtype (and device) of ``x``."""
    if isinstance(x, torch.Tensor):
        return torch.as_tensor(constant, dtype=x.dtype, device=x.device)
    return constant.astype(x.dtype)


@register()
class ImageNetPreprocessing(Layer):
    """``preprocess_input`` of an ImageNet model as a layer (module docstring for the modes).

    Input ``(batch, H, W, 3)`` pixels in [0, 255] (``data_format='channels_first'``:
    ``(batch, 3, H, W)``); output the same shape, float. No weights. cnnlab-only: Keras has
    no such layer (it records ``preprocess_input``'s operations in the graph).

    Example: ``ImageNetPreprocessing('tf')`` maps pixels ``[0, 255]`` to ``[-1, 1]``.
    """

    def __init__(self, mode: str = "caffe", data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.mode = mode
        self.data_format = check_arguments(self.owner, mode, data_format)
        self._build_if_declared()

    def build(self, input_shape: Any) -> None:
        channel_axis(self.owner, tuple(input_shape), self.data_format)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not inputs.is_floating_point():
            inputs = inputs.float()
        return preprocess(inputs, self.mode, channel_axis(self.owner, tuple(inputs.shape),
                                                          self.data_format))

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode, "data_format": self.data_format}
