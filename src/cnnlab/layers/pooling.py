"""Pooling layers: ``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D`` and the global poolings.

A pooling window of size F slides with stride S (default ``S = F``) over each channel on its own;
the output size per spatial axis comes from ``shapes.conv_output_length``::

    'valid':  O = floor((I − F) / S) + 1
    'same':   O = ceil(I / S)   (TensorFlow's padding; the odd pixel at the bottom/right)

As in TensorFlow, ``'same'`` max pooling never picks a padded position and ``'same'`` average
pooling divides each window by the number of *real* input elements it covers. No weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab import shapes
from cnnlab.layers import conv_utils as cu
from cnnlab.layers._messages import format_shape
from cnnlab.layers.base import Layer
from cnnlab.layers.registry import register

MAX_OPS = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_OPS = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class Pooling(Layer):
    """Shared machinery of the windowed poolings; subclasses set ``rank`` and ``pool``.

    Args (Keras's names and defaults):
        pool_size: int or tuple of ``rank`` ints, the window F; default 2 on every axis.
        strides: int or tuple, or ``None`` for ``strides = pool_size``.
        padding: ``'valid'`` or ``'same'``, case-insensitive.
        data_format: ``'channels_last'`` (default, also for ``None``) or ``'channels_first'``.
    """

    rank = 2

    def __init__(self, pool_size: int | Sequence[int] = 2,
                 strides: int | Sequence[int] | None = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        n, owner = self.rank, self.owner
        self.pool_size = shapes.normalize_tuple(pool_size, n, "pool_size", owner=owner)
        self.strides = (self.pool_size if strides is None
                        else shapes.normalize_tuple(strides, n, "strides", owner=owner))
        self.padding = shapes.normalize_padding(padding, owner)
        self.data_format = cu.normalize_data_format(data_format, owner)
        self.input_ndim = n + 2
        self.dims_hint = cu.dims_hint(n, self.data_format)
        self._pad_cache: dict[tuple, tuple] = {}
        self._divisor_cache: dict[tuple, torch.Tensor] = {}  # AveragePooling's 'same' divisors
        self._build_if_declared()

    def check_window_fits(self, spatial: tuple, shown: str) -> None:
        """With ``'valid'`` padding the window must fit inside the input on every axis."""
        detail = f"`pool_size`={self.pool_size}, input shape {shown}"
        for axis, (size, k) in enumerate(zip(spatial, self.pool_size, strict=True)):
            shapes.check_window_fits(size, k, self.padding, owner=self.owner,
                                     axis=f"spatial axis {axis}", detail=detail)

    def output_spatial(self, input_shape: tuple) -> tuple:
        spatial = cu.spatial_shape(input_shape, self.data_format)
        self.check_window_fits(spatial, format_shape(input_shape))
        return tuple(shapes.conv_output_length(i, k, self.padding, s)
                     for i, k, s in zip(spatial, self.pool_size, self.strides, strict=True))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        channels = input_shape[cu.channel_axis(self.data_format)]
        return cu.with_spatial(input_shape, self.output_spatial(input_shape), channels,
                               self.data_format)

    def pool_padding(self, x: torch.Tensor) -> tuple[tuple[int, ...], list[int] | None]:
        """(symmetric pad for the op, ``F.pad`` remainder or ``None``) for the channels-first
        ``x``, cached per input size."""
        spatial = tuple(x.shape[2:])
        cached = self._pad_cache.get(spatial)
        if cached is None:  # a new input size (it may have been unknown at build): check it
            self.check_window_fits(spatial, cu.shown_shape(tuple(x.shape), self.data_format))
            if self.padding == "same":
                pads = cu.same_pads(spatial, self.pool_size, self.strides, (1,) * self.rank)
            else:
                pads = [(0, 0)] * self.rank
            cached = self._pad_cache[spatial] = self.split_pads(spatial, pads)
        return cached

    def split_pads(self, spatial: tuple, pads: list[tuple[int, int]]) -> tuple:
        """The op's symmetric padding and the ``F.pad`` remainder (``cu.split_pads``)."""
        return cu.split_pads(pads)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        channels_last = self.data_format == "channels_last"
        x = cu.to_channels_first(inputs) if channels_last else inputs
        y = self.pool(x)
        return cu.to_channels_last(y) if channels_last else y

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """Pool a channels-first tensor ``(N, C, *spatial)``."""
        raise NotImplementedError

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(pool_size=list(self.pool_size), strides=list(self.strides),
                      padding=self.padding, data_format=self.data_format)
        return config


class MaxPooling(Pooling):
    """Max pooling: ``y = max`` over each window; 'same' pads with −inf (never selected)."""

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        symmetric, extra = self.pool_padding(x)
        x = cu.pad_extra(x, extra, value=-math.inf)
        return MAX_OPS[self.rank](x, self.pool_size, self.strides, symmetric)


class AveragePooling(Pooling):
    """Average pooling: ``y = sum(window ∩ input) / count(window ∩ input)`` (TF excludes pads).

    Symmetric padding uses the op's ``count_include_pad=False``. For an odd total padding the
    extra row/column is zero-padded and the result divided by the pooled ones-mask (the share of
    real elements per window), computed once per input size, dtype and device.
    """

    def split_pads(self, spatial: tuple, pads: list[tuple[int, int]]) -> tuple:
        """As for any pooling, except that an input smaller than the window gets all its
        padding from ``F.pad`` (``avg_pool3d`` refuses such an input before its own padding;
        the divisor then comes from ``_real_share``)."""
        symmetric, extra = cu.split_pads(pads)
        if all(i + b + a - 2 * p >= k for i, (b, a), p, k in zip(
                spatial, pads, symmetric, self.pool_size, strict=True)):
            return symmetric, extra
        full = [side for pair in reversed(pads) for side in pair]
        return (0,) * self.rank, full if any(full) else None

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        spatial = tuple(x.shape[2:])
        symmetric, extra = self.pool_padding(x)
        op = AVG_OPS[self.rank]
        if extra is None:
            return op(x, self.pool_size, self.strides, symmetric, count_include_pad=False)
        pooled = op(cu.pad_extra(x, extra), self.pool_size, self.strides, symmetric)
        return pooled / self._real_share(spatial, x.dtype, x.device)

    def _real_share(self, spatial: tuple, dtype: torch.dtype,
                    device: torch.device) -> torch.Tensor:
        """Fraction of each padded window that lies inside the input, shape ``(1, 1, *O)``."""
        key = (spatial, dtype, device)
        share = self._divisor_cache.get(key)
        if share is None:
            symmetric, extra = self._pad_cache[spatial]  # filled by pool_padding
            ones = torch.ones((1, 1, *spatial), dtype=dtype, device=device)
            share = AVG_OPS[self.rank](cu.pad_extra(ones, extra), self.pool_size, self.strides,
                                       symmetric)
            self._divisor_cache[key] = share
        return share


@register("MaxPool1D")
class MaxPooling1D(MaxPooling):
    """Max pooling over steps: ``y[t, c] = max(x[t·S : t·S + F, c])``.

    Args: ``pool_size=2``, ``strides=None`` (= pool_size), ``padding='valid'``,
    ``data_format=None`` — see :class:`Pooling`.

    Input shape: ``(N, steps, C)`` (``(N, C, steps)`` for channels_first).
    Output shape: ``(N, O, C)`` with ``O = floor((steps − F)/S) + 1``, or ``ceil(steps/S)``
    for ``'same'``.

    Example: ``MaxPooling1D(2)`` on ``(None, 10, 8)`` gives ``(None, 5, 8)``.
    """

    rank = 1


@register("MaxPool2D")
class MaxPooling2D(MaxPooling):
    """Max pooling: each output pixel is the maximum of its ``Fh x Fw`` window, per channel.

    Args: ``pool_size=(2, 2)``, ``strides=None`` (= pool_size), ``padding='valid'``,
    ``data_format=None`` — see :class:`Pooling`.

    Input shape: ``(N, H, W, C)`` (``(N, C, H, W)`` for channels_first).
    Output shape: ``(N, Oh, Ow, C)``, ``O = floor((I − F)/S) + 1`` (``'valid'``) or
    ``ceil(I/S)`` (``'same'``).

    Example: ``MaxPooling2D((2, 2))`` on ``(None, 26, 26, 32)`` gives ``(None, 13, 13, 32)``
    (``(26 − 2)/2 + 1 = 13``); with ``padding='same'`` a 7x7 input gives ``ceil(7/2) = 4``,
    one row/column of padding at the bottom/right.
    """

    rank = 2


@register("MaxPool3D")
class MaxPooling3D(MaxPooling):
    """Max pooling over ``Fd x Fh x Fw`` windows of a volume, per channel.

    Args: ``pool_size=(2, 2, 2)``, ``strides=None`` (= pool_size), ``padding='valid'``,
    ``data_format=None`` — see :class:`Pooling`.

    Input shape: ``(N, D, H, W, C)`` (``(N, C, D, H, W)`` for channels_first).
    Output shape: ``(N, Od, Oh, Ow, C)`` with the sizes of :class:`MaxPooling2D`.

    Example: ``MaxPooling3D()`` on ``(None, 16, 32, 32, 3)`` gives ``(None, 8, 16, 16, 3)``.
    """

    rank = 3


@register("AvgPool1D")
class AveragePooling1D(AveragePooling):
    """Average pooling over steps: ``y[t, c] = mean(x[t·S : t·S + F, c])`` (real elements).

    Args: ``pool_size=2``, ``strides=None`` (= pool_size), ``padding='valid'``,
    ``data_format=None`` — see :class:`Pooling`.

    Input shape: ``(N, steps, C)`` (``(N, C, steps)`` for channels_first).
    Output shape: ``(N, O, C)``, O as in :class:`MaxPooling1D`.

    Example: ``AveragePooling1D(2, padding='same')`` on ``[1, 2, 3]`` gives ``[1.5, 3]``
    (the last window holds one real element).
    """

    rank = 1


@register("AvgPool2D")
class AveragePooling2D(AveragePooling):
    """Average pooling: each output pixel is the mean of the real pixels of its window.

    Args: ``pool_size=(2, 2)``, ``strides=None`` (= pool_size), ``padding='valid'``,
    ``data_format=None`` — see :class:`Pooling`.

    Input shape: ``(N, H, W, C)`` (``(N, C, H, W)`` for channels_first).
    Output shape: ``(N, Oh, Ow, C)``, O as in :class:`MaxPooling2D`.

    Example: ``AveragePooling2D(3, strides=1, padding='same')`` keeps 5x5 -> 5x5; the corner
    output averages the 4 real pixels of its 3x3 window (TensorFlow's rule), not 9.
    """

    rank = 2


@register("AvgPool3D")
class AveragePooling3D(AveragePooling):
    """Average pooling over ``Fd x Fh x Fw`` windows of a volume (real elements only).

    Args: ``pool_size=(2, 2, 2)``, ``strides=None`` (= pool_size), ``padding='valid'``,
    ``data_format=None`` — see :class:`Pooling`.

    Input shape: ``(N, D, H, W, C)`` (``(N, C, D, H, W)`` for channels_first).
    Output shape: ``(N, Od, Oh, Ow, C)`` with the sizes of :class:`MaxPooling2D`.

    Example: ``AveragePooling3D()`` on ``(None, 4, 4, 4, 1)`` gives ``(None, 2, 2, 2, 1)``.
    """

    rank = 3


class GlobalPooling(Layer):
    """Reduce every spatial axis to one value per channel; subclasses set ``rank``, ``reduce``.

    Args: ``data_format=None`` (channels_last) and ``keepdims=False``. Output shape
    ``(N, C)``, or with ``keepdims=True`` ``(N, 1, ..., 1, C)`` (``(N, C, 1, ..., 1)`` for
    channels_first).
    """

    rank = 2

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = cu.normalize_data_format(data_format, self.owner)
        self.keepdims = bool(keepdims)
        self.input_ndim = self.rank + 2
        self.dims_hint = cu.dims_hint(self.rank, self.data_format)
        self._spatial_dims = cu.spatial_axes(self.rank, self.data_format)
        self._build_if_declared()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        channels = input_shape[cu.channel_axis(self.data_format)]
        if not self.keepdims:
            return (input_shape[0], channels)
        return cu.with_spatial(input_shape, (1,) * self.rank, channels, self.data_format)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return self.reduce(inputs, dim=self._spatial_dims, keepdim=self.keepdims)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalMaxPooling(GlobalPooling):
    """``y[n, c] = max`` over all spatial positions of channel ``c``."""

    reduce = staticmethod(torch.amax)


class GlobalAveragePooling(GlobalPooling):
    """``y[n, c] = mean`` over all spatial positions of channel ``c``."""

    reduce = staticmethod(torch.mean)


@register("GlobalMaxPool1D")
class GlobalMaxPooling1D(GlobalMaxPooling):
    """``y[c] = max_t x[t, c]``: the maximum over all steps, per channel.

    Args: ``data_format=None`` (channels_last), ``keepdims=False``.

    Input shape: ``(N, steps, C)``. Output shape: ``(N, C)``; ``(N, 1, C)`` with keepdims.

    Example: on ``(None, 100, 64)`` it gives ``(None, 64)``.
    """

    rank = 1


@register("GlobalMaxPool2D")
class GlobalMaxPooling2D(GlobalMaxPooling):
    """``y[c] = max_{i,j} x[i, j, c]``: the maximum of each feature map.

    Args: ``data_format=None`` (channels_last), ``keepdims=False``.

    Input shape: ``(N, H, W, C)``. Output shape: ``(N, C)``; ``(N, 1, 1, C)`` with keepdims.

    Example: on ``(None, 7, 7, 512)`` it gives ``(None, 512)``.
    """

    rank = 2


@register("GlobalMaxPool3D")
class GlobalMaxPooling3D(GlobalMaxPooling):
    """``y[c] = max`` over all ``D·H·W`` positions of channel ``c``.

    Args: ``data_format=None`` (channels_last), ``keepdims=False``.

    Input shape: ``(N, D, H, W, C)``. Output shape: ``(N, C)``; ``(N, 1, 1, 1, C)`` with
    keepdims.

    Example: on ``(None, 4, 8, 8, 16)`` it gives ``(None, 16)``.
    """

    rank = 3


@register("GlobalAvgPool1D")
class GlobalAveragePooling1D(GlobalAveragePooling):
    """``y[c] = (1/L)·Σ_t x[t, c]``: the mean over all steps, per channel.

    Args: ``data_format=None`` (channels_last), ``keepdims=False``.

    Input shape: ``(N, steps, C)``. Output shape: ``(N, C)``; ``(N, 1, C)`` with keepdims.

    Example: on ``(None, 100, 64)`` it gives ``(None, 64)``.
    """

    rank = 1


@register("GlobalAvgPool2D")
class GlobalAveragePooling2D(GlobalAveragePooling):
    """``y[c] = (1/(H·W))·Σ_{i,j} x[i, j, c]``: the mean of each feature map.

    Args: ``data_format=None`` (channels_last), ``keepdims=False``.

    Input shape: ``(N, H, W, C)``. Output shape: ``(N, C)``; ``(N, 1, 1, C)`` with keepdims.

    Example: on ``(None, 7, 7, 512)`` it gives ``(None, 512)``, the usual replacement for
    ``Flatten`` before the classifier in transfer learning.
    """

    rank = 2


@register("GlobalAvgPool3D")
class GlobalAveragePooling3D(GlobalAveragePooling):
    """``y[c] = mean`` over all ``D·H·W`` positions of channel ``c``.

    Args: ``data_format=None`` (channels_last), ``keepdims=False``.

    Input shape: ``(N, D, H, W, C)``. Output shape: ``(N, C)``; ``(N, 1, 1, 1, C)`` with
    keepdims.

    Example: on ``(None, 4, 8, 8, 16)`` it gives ``(None, 16)``.
    """

    rank = 3

