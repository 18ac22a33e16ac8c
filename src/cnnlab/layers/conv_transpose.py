"""Transposed convolutions ``Conv1DTranspose/Conv2DTranspose/Conv3DTranspose``.

A transposed convolution is the gradient of a convolution with respect to its input — the
operation backpropagation applies — used to upsample. Keras's output size per axis (with
``F' = D·(F − 1) + 1``)::

    'valid': O = I·S + max(F' − S, 0)        'same': O = I·S
    with output_padding p: O = (I − 1)·S + F' − 2·pad + p,  pad = F'//2 ('same') or 0

The values are TensorFlow's: the full transposed result is cropped by the 'same' padding of
the forward convolution that maps O back to I (``before`` at the start, the rest at the end).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab import constraints, initializers, regularizers, shapes
from cnnlab.layers import conv_utils as cu
from cnnlab.layers._messages import check_positive_int, format_shape
from cnnlab.layers.conv import KernelConv, kernel_layout, make_weight
from cnnlab.layers.registry import register

TRANSPOSE_OPS = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


class ConvTranspose(KernelConv):
    """N-D transposed convolution on channels-last inputs.

    Args: filters, kernel_size, strides=1, padding='valid', output_padding=None,
    data_format=None, dilation_rate=1, activation=None, use_bias=True,
    kernel_initializer='glorot_uniform', bias_initializer='zeros', regularizers, constraints.

    Keras weight ``kernel`` is ``(*F, filters, in_channels)`` (note: out before in); PyTorch
    stores ``(in_channels, filters, *F)``. Parameters ``(D·prod(F) + 1)·M`` as for a conv.
    """

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: Any = 1,
                 padding: str = "valid", output_padding: Any = None,
                 data_format: str | None = None, dilation_rate: Any = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         **kwargs)
        check_positive_int(self.owner, "filters", filters)
        self.filters = filters
        self.output_padding = None if output_padding is None else shapes.normalize_tuple(
            output_padding, self.rank, "output_padding", allow_zero=True, owner=self.owner)
        if self.output_padding is not None:
            for p, s in zip(self.output_padding, self.strides, strict=True):
                if p >= s:  # Keras's rule (PyTorch would take p < dilation too)
                    raise ValueError(f"{self.owner}: each `output_padding` must be smaller "
                                     f"than the stride, got output_padding="
                                     f"{self.output_padding}, strides={self.strides}")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.layout = kernel_layout(self.rank)
        self._build_if_declared()

    def build(self, input_shape: tuple) -> None:
        channels = self.input_channels(input_shape)
        self.output_spatial(input_shape)
        keras_shape = (*self.kernel_size, self.filters, channels)
        self.kernel = make_weight(self.kernel_initializer, keras_shape, self.layout)
        self.bias = (torch.nn.Parameter(self.bias_initializer((self.filters,)))
                     if self.use_bias else None)
        self.trainable = self.trainable

    def output_spatial(self, input_shape: tuple) -> tuple:
        spatial = cu.spatial_shape(input_shape, self.data_format)
        pads = self.output_padding or (None,) * self.rank
        out = tuple(shapes.deconv_output_length(i, k, self.padding, s, p, d) for i, k, s, p, d
                    in zip(spatial, self.kernel_size, self.strides, pads, self.dilation_rate,
                           strict=True))
        for axis, size in enumerate(out):
            if size is not None and size < 1:  # 'same' with an even kernel and a 1-pixel input
                raise ValueError(
                    f"{self.owner}: padding='same' with `output_padding`={self.output_padding} "
                    f"and `kernel_size`={self.kernel_size} gives an output of size {size} "
                    f"along spatial axis {axis} for input shape {format_shape(input_shape)}; "
                    f"output sizes must be at least 1 (use a larger output_padding)")
        return out

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return cu.with_spatial(input_shape, self.output_spatial(input_shape), self.filters,
                               self.data_format)

    def crops(self, x: torch.Tensor) -> list[tuple[int, int]]:
        """``(start, end)`` to cut from the full transposed output of the channels-first ``x``
        per axis (negative end = zeros to add at the end)."""
        spatial = tuple(x.shape[2:])
        out = self.output_spatial(cu.api_shape(tuple(x.shape), self.data_format))
        result = []
        for i, o, k, s, d in zip(spatial, out, self.kernel_size, self.strides,
                                 self.dilation_rate, strict=True):
            full = (i - 1) * s + shapes.effective_kernel(k, d)
            if self.padding == "same":
                total = max((i - 1) * s + shapes.effective_kernel(k, d) - o, 0)
                start = total // 2
            else:
                start = 0
            result.append((start, full - o - start))
        return result

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        x = self.channels_first_input(inputs)
        crops = self.crops(x)
        symmetric = tuple(max(0, min(a, b)) for a, b in crops)
        extra = tuple(max(0, -(b - p)) for (a, b), p in zip(crops, symmetric, strict=True))
        y = TRANSPOSE_OPS[self.rank](x, self.kernel, self.bias, self.strides, symmetric, extra,
                                     1, self.dilation_rate)
        index = [slice(None), slice(None)]
        for (a, b), p in zip(crops, symmetric, strict=True):
            end = b - p
            index.append(slice(a - p, None if end <= 0 else -end))
        return self.finish(y[tuple(index)], training)

    def get_config(self) -> dict:
        config = self.base_config()
        config.update(filters=self.filters,
                      output_padding=None if self.output_padding is None
                      else list(self.output_padding),
                      kernel_initializer=initializers.serialize(self.kernel_initializer),
                      kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
                      kernel_constraint=constraints.serialize(self.kernel_constraint),
                      bias_constraint=constraints.serialize(self.bias_constraint))
        return config


@register("Convolution1DTranspose")
class Conv1DTranspose(ConvTranspose):
    """1-D transposed convolution over ``(N, steps, channels)``.

    Example: ``Conv1DTranspose(4, 3, strides=2, padding='same')`` maps ``(None, 10, 8)`` to
    ``(None, 20, 4)``.
    """

    rank = 1


@register("Convolution2DTranspose", "Deconvolution2D")
class Conv2DTranspose(ConvTranspose):
    """2-D transposed convolution over ``(N, H, W, C)``.

    Example: ``Conv2DTranspose(8, 3, strides=2, padding='same')`` maps ``(7, 7, 16)`` to
    ``(14, 14, 8)``.
    """

    rank = 2


@register("Convolution3DTranspose")
class Conv3DTranspose(ConvTranspose):
    """3-D transposed convolution over ``(N, D, H, W, C)``.

    Example: ``Conv3DTranspose(4, 2, strides=2)`` maps ``(None, 4, 8, 8, 16)`` to
    ``(None, 8, 16, 16, 4)``.
    """

    rank = 3
