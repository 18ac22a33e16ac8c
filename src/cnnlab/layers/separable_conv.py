"""``SeparableConv2D``: a depthwise convolution followed by a 1x1 pointwise convolution.

``y = activation(pointwise(depthwise(x)) + bias)``: the depthwise step filters each of the D
input channels with ``m`` filters (``DepthwiseConv2D``), the pointwise step mixes the ``D·m``
results into ``M`` channels. Sizes per spatial axis as for ``Conv2D``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab import constraints, initializers, regularizers
from cnnlab.layers import conv_utils as cu
from cnnlab.layers._messages import check_positive_int
from cnnlab.layers.conv import BaseConv, kernel_layout, make_weight
from cnnlab.layers.depthwise_conv import depthwise_layout
from cnnlab.layers.registry import register
from cnnlab.layers.weight_layout import SAME_LAYOUT

__all__ = ["SeparableConv2D"]


@register("SeparableConvolution2D")
class SeparableConv2D(BaseConv):
    """Depthwise convolution (m filters per channel) followed by a 1x1 pointwise convolution.

    Parameters: ``Fh·Fw·D·m + D·m·M + M``. Args as ``Conv2D`` plus ``depth_multiplier=1``,
    ``depthwise_initializer``, ``pointwise_initializer`` (both ``'glorot_uniform'``) and their
    regularizers. Keras weights: ``depthwise_kernel`` ``(kh, kw, D, m)``, ``pointwise_kernel``
    ``(1, 1, D·m, M)``, ``bias`` ``(M,)``.

    Input shape: ``(N, H, W, D)``. Output shape: ``(N, Oh, Ow, M)``, sizes as for ``Conv2D``.

    Example: ``SeparableConv2D(64, 3)`` on ``(None, 32, 32, 32)`` gives ``(None, 30, 30, 64)``
    with ``3·3·32 + 32·64 + 64 = 2400`` parameters (``Conv2D(64, 3)``: 18496).
    """

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = 1, depth_multiplier: int = 1, activation: Any = None,
                 use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         **kwargs)
        check_positive_int(self.owner, "filters", filters)
        check_positive_int(self.owner, "depth_multiplier", depth_multiplier)
        self.filters, self.depth_multiplier = filters, depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.depthwise_layout = depthwise_layout(depth_multiplier)
        self.pointwise_layout = kernel_layout(2)
        self._build_if_declared()

    def build(self, input_shape: tuple) -> None:
        channels = self.input_channels(input_shape)
        self.output_spatial(input_shape)
        m = self.depth_multiplier
        self.depthwise_kernel = make_weight(self.depthwise_initializer,
                                            (*self.kernel_size, channels, m),
                                            self.depthwise_layout)
        self.pointwise_kernel = make_weight(self.pointwise_initializer,
                                            (1, 1, channels * m, self.filters),
                                            self.pointwise_layout)
        self.bias = (torch.nn.Parameter(self.bias_initializer((self.filters,)))
                     if self.use_bias else None)
        self.trainable = self.trainable

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        x = self.channels_first_input(inputs)
        symmetric, extra = self.conv_padding(x)
        depthwise = F.conv2d(cu.pad_extra(x, extra), self.depthwise_kernel, None, self.strides,
                             symmetric, self.dilation_rate, groups=x.shape[1])
        return self.finish(F.conv2d(depthwise, self.pointwise_kernel, self.bias), training)

    def keras_weights(self) -> list:
        weights = [("depthwise_kernel", self.depthwise_kernel, self.depthwise_layout),
                   ("pointwise_kernel", self.pointwise_kernel, self.pointwise_layout)]
        if self.use_bias:
            weights.append(("bias", self.bias, SAME_LAYOUT))
        return weights

    def regularized_weights(self) -> list:
        return [(self.depthwise_regularizer, self.depthwise_kernel),
                (self.pointwise_regularizer, self.pointwise_kernel),
                *super().regularized_weights()]

    def weight_constraints(self) -> dict:
        return {"depthwise_kernel": self.depthwise_constraint,
                "pointwise_kernel": self.pointwise_constraint, "bias": self.bias_constraint}

    def get_config(self) -> dict:
        config = self.base_config()
        config.update(filters=self.filters, depth_multiplier=self.depth_multiplier,
                      depthwise_initializer=initializers.serialize(self.depthwise_initializer),
                      pointwise_initializer=initializers.serialize(self.pointwise_initializer),
                      depthwise_regularizer=regularizers.serialize(self.depthwise_regularizer),
                      pointwise_regularizer=regularizers.serialize(self.pointwise_regularizer),
                      depthwise_constraint=constraints.serialize(self.depthwise_constraint),
                      pointwise_constraint=constraints.serialize(self.pointwise_constraint),
                      bias_constraint=constraints.serialize(self.bias_constraint))
        return config
