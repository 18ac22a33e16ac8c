"""``DepthwiseConv2D``: one set of ``m`` filters per input channel, no mixing of channels.

Output channel ``c·m + j`` is input channel ``c`` convolved with its filter ``j``
(``m = depth_multiplier``); sizes per spatial axis as for ``Conv2D`` (:mod:`cnnlab.layers.conv`).
Parameters: ``Fh·Fw·D·m`` (plus ``D·m`` biases).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab import constraints, initializers, regularizers
from cnnlab.layers import conv_utils as cu
from cnnlab.layers._messages import check_positive_int
from cnnlab.layers.conv import BaseConv, make_weight
from cnnlab.layers.registry import register
from cnnlab.layers.weight_layout import SAME_LAYOUT, WeightLayout

__all__ = ["DepthwiseConv2D", "depthwise_layout"]


def depthwise_layout(multiplier: int) -> WeightLayout:
    """PyTorch ``(C·m, 1, kh, kw)`` <-> Keras ``(kh, kw, C, m)`` (output channel ``c·m + j``)."""
    return WeightLayout(
        lambda t: t.reshape(-1, multiplier, *t.shape[2:]).permute(2, 3, 0, 1),
        lambda k: k.permute(2, 3, 0, 1).reshape(-1, 1, *k.shape[:2]),
    )



@register()
class DepthwiseConv2D(BaseConv):
    """Depthwise 2-D convolution: each of the D input channels gets its own m filters.

    Output has ``D·m`` channels (``m = depth_multiplier``); channel ``c·m + j`` is input
    channel ``c`` convolved with filter ``j``. Parameters: ``(Fh·Fw·m + m)·D`` with bias.

    Args: kernel_size, strides=1, padding='valid', depth_multiplier=1, data_format=None,
    dilation_rate=1, activation=None, use_bias=True, depthwise_initializer='glorot_uniform',
    bias_initializer='zeros', depthwise_regularizer=None, bias_regularizer=None,
    activity_regularizer=None. Keras weight: ``depthwise_kernel`` ``(kh, kw, D, m)``.

    Input shape: ``(N, H, W, D)``. Output shape: ``(N, Oh, Ow, D·m)``, sizes as for ``Conv2D``.

    Example: ``DepthwiseConv2D(3, depth_multiplier=2)`` on ``(None, 32, 32, 16)`` gives
    ``(None, 30, 30, 32)`` with ``(3·3·2 + 2)·16 = 320`` parameters.
    """

    def __init__(self, kernel_size: int | Sequence[int], strides: Any = 1,
                 padding: str = "valid", depth_multiplier: int = 1,
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = None,
                 use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", depthwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         **kwargs)
        check_positive_int(self.owner, "depth_multiplier", depth_multiplier)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.layout = depthwise_layout(depth_multiplier)
        self._build_if_declared()

    def build(self, input_shape: tuple) -> None:
        channels = self.input_channels(input_shape)
        self.output_spatial(input_shape)
        keras_shape = (*self.kernel_size, channels, self.depth_multiplier)
        self.depthwise_kernel = make_weight(self.depthwise_initializer, keras_shape, self.layout)
        out = channels * self.depth_multiplier
        self.bias = torch.nn.Parameter(self.bias_initializer((out,))) if self.use_bias else None
        self.trainable = self.trainable

    def output_channels(self, input_shape: tuple) -> int:
        """Input channels × ``depth_multiplier``."""
        return self.input_channels(input_shape) * self.depth_multiplier

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        x = self.channels_first_input(inputs)
        symmetric, extra = self.conv_padding(x)
        y = F.conv2d(cu.pad_extra(x, extra), self.depthwise_kernel, self.bias, self.strides,
                     symmetric, self.dilation_rate, groups=x.shape[1])
        return self.finish(y, training)

    def keras_weights(self) -> list:
        weights = [("depthwise_kernel", self.depthwise_kernel, self.layout)]
        if self.use_bias:
            weights.append(("bias", self.bias, SAME_LAYOUT))
        return weights

    def regularized_weights(self) -> list:
        return [(self.depthwise_regularizer, self.depthwise_kernel),
                *super().regularized_weights()]

    def weight_constraints(self) -> dict:
        return {"depthwise_kernel": self.depthwise_constraint, "bias": self.bias_constraint}

    def macs(self) -> int:
        spatial = cu.spatial_shape(self.output_shape, self.data_format)
        channels = self.input_channels(self.input_shape)
        return math.prod(spatial) * math.prod(self.kernel_size) * channels * self.depth_multiplier

    def get_config(self) -> dict:
        config = self.base_config()
        config.update(depth_multiplier=self.depth_multiplier,
                      depthwise_initializer=initializers.serialize(self.depthwise_initializer),
                      depthwise_regularizer=regularizers.serialize(self.depthwise_regularizer),
                      depthwise_constraint=constraints.serialize(self.depthwise_constraint),
                      bias_constraint=constraints.serialize(self.bias_constraint))
        return config
