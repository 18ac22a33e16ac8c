"""Convolution layers ``Conv1D/2D/3D`` and the machinery every convolution shares.

Output size per spatial axis (``shapes.conv_output_length``): ``'valid'`` gives
``floor((I − F') / S) + 1``, ``'same'`` gives ``ceil(I / S)`` with TensorFlow's padding (odd
pixel at the bottom/right), with ``F' = D·(F − 1) + 1`` the dilated kernel size.
Parameters: ``(D·Fh·Fw + 1)·M``.

:class:`BaseConv` (argument checks, padding, data format, activation) and :class:`KernelConv`
(one ``kernel`` and a ``bias``) are also the bases of the transposed
(:mod:`~cnnlab.layers.conv_transpose`), depthwise (:mod:`~cnnlab.layers.depthwise_conv`) and
separable (:mod:`~cnnlab.layers.separable_conv`) convolutions.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab import activations, constraints, initializers, regularizers, shapes
from cnnlab.layers import conv_utils as cu
from cnnlab.layers._messages import check_positive_int, format_shape, get_argument
from cnnlab.layers.base import Layer
from cnnlab.layers.registry import register
from cnnlab.layers.weight_layout import SAME_LAYOUT, WeightLayout, permuted_layout

CONV_OPS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def kernel_layout(rank: int) -> WeightLayout:
    """PyTorch ``(out, in, *k)`` <-> Keras ``(*k, in, out)``."""
    return permuted_layout((*range(2, rank + 2), 1, 0))


CHANNELS_LAST = {4: torch.channels_last, 5: torch.channels_last_3d}


def make_weight(initializer: Any, keras_shape: tuple, layout: WeightLayout) -> torch.nn.Parameter:
    """Initialize in Keras layout (Keras's fans), store in PyTorch layout.

    2-D/3-D kernels are stored channels-last in memory: oneDNN then keeps activations in
    channels_last even when the input has one channel (where PyTorch cannot tell the layouts
    apart and would otherwise fall back to NCHW kernels, ~2x slower pooling and convolution).
    """
    value = layout.from_keras(initializers.get(initializer)(keras_shape, dtype=torch.float32))
    memory_format = CHANNELS_LAST.get(value.ndim, torch.contiguous_format)
    return torch.nn.Parameter(value.contiguous(memory_format=memory_format))


class BaseConv(Layer):
    """Shared machinery of the convolution layers (argument checks, padding, activation)."""

    rank = 2

    def __init__(self, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: int | Sequence[int] = 1, activation: Any = None,
                 use_bias: bool = True, bias_initializer: Any = "zeros",
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 allowed_paddings: Sequence[str] = shapes.PADDINGS, **kwargs: Any):
        super().__init__(**kwargs)
        n, owner = self.rank, self.owner
        self.kernel_size = shapes.normalize_tuple(kernel_size, n, "kernel_size", owner=owner)
        self.strides = shapes.normalize_tuple(strides, n, "strides", owner=owner)
        self.dilation_rate = shapes.normalize_tuple(dilation_rate, n, "dilation_rate", owner=owner)
        self.padding = shapes.normalize_padding(padding, owner, allowed_paddings)
        self.data_format = cu.normalize_data_format(data_format, owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner}: strides > 1 together with dilation_rate > 1 is not "
                             f"supported (as in Keras), got strides={self.strides}, "
                             f"dilation_rate={self.dilation_rate}")
        self.activation = get_argument(owner, "activation", activations.get, activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.input_ndim = n + 2
        self.dims_hint = cu.dims_hint(n, self.data_format)
        self._pad_cache: dict[tuple, tuple] = {}
        self._activity_penalty: torch.Tensor | None = None

    def fixed_axes(self) -> Sequence[int]:
        return (cu.channel_axis(self.data_format),)

    def input_channels(self, input_shape: tuple) -> int:
        channels = input_shape[cu.channel_axis(self.data_format)]
        if channels is None:
            raise ValueError(f"{self.owner}: the channel dimension of the input must be known, "
                             f"got input shape {input_shape}")
        return int(channels)

    def output_spatial(self, input_shape: tuple) -> tuple:
        spatial = cu.spatial_shape(input_shape, self.data_format)
        self.check_window_fits(spatial, format_shape(input_shape))
        return tuple(shapes.conv_output_length(i, k, self.padding, s, d) for i, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True))

    def check_window_fits(self, spatial: tuple, shown: str) -> None:
        """With ``'valid'`` padding the (dilated) kernel must fit inside the input."""
        dilation = (f", `dilation_rate`={self.dilation_rate}"
                    if max(self.dilation_rate) > 1 else "")
        detail = f"`kernel_size`={self.kernel_size}{dilation}, input shape {shown}"
        for axis, (size, k, d) in enumerate(
                zip(spatial, self.kernel_size, self.dilation_rate, strict=True)):
            shapes.check_window_fits(size, k, self.padding, d, self.owner, f"spatial axis {axis}",
                                     detail)

    def conv_padding(self, x: torch.Tensor) -> tuple[tuple[int, ...], list[int] | None]:
        """Padding for the op on the channels-first ``x``, cached per input size: (symmetric
        part, asymmetric remainder)."""
        spatial = tuple(x.shape[2:])
        cached = self._pad_cache.get(spatial)
        if cached is None:  # a new input size (it may have been unknown at build): check it
            self.check_window_fits(spatial, cu.shown_shape(tuple(x.shape), self.data_format))
            if self.padding == "same":
                pads = cu.same_pads(spatial, self.kernel_size, self.strides, self.dilation_rate)
            elif self.padding == "causal":
                pads = [(shapes.effective_kernel(self.kernel_size[0], self.dilation_rate[0]) - 1,
                         0)]
            else:
                pads = [(0, 0)] * self.rank
            cached = self._pad_cache[spatial] = cu.split_pads(pads)
        return cached

    def channels_first_input(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != self.kernel_dtype():
            x = x.to(self.kernel_dtype())
        return cu.to_channels_first(x) if self.data_format == "channels_last" else x

    def kernel_dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def finish(self, y: torch.Tensor, training: bool) -> torch.Tensor:
        """Back to the API's data format, then the activation (and its penalty)."""
        if self.data_format == "channels_last":
            y = cu.to_channels_last(y)
        y = activations.apply_to_fresh(self.activation, y)
        if self.activity_regularizer is not None and training:
            self._activity_penalty = self.activity_regularizer(y) / y.shape[0]
        return y

    def regularization_losses(self) -> list[torch.Tensor]:
        penalties = [reg(w) for reg, w in self.regularized_weights() if reg is not None]
        if self._activity_penalty is not None:
            penalties.append(self._activity_penalty)
            self._activity_penalty = None
        return penalties

    def regularized_weights(self) -> list[tuple[Any, torch.Tensor]]:
        return [(self.bias_regularizer, self.bias)] if self.use_bias else []

    def output_channels(self, input_shape: tuple) -> int:
        """Channels of the output: ``filters`` (a depthwise convolution overrides it)."""
        return self.filters

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The input shape with the output's spatial sizes and :meth:`output_channels`."""
        return cu.with_spatial(input_shape, self.output_spatial(input_shape),
                               self.output_channels(input_shape), self.data_format)

    def base_config(self) -> dict:
        config = super().get_config()
        config.update(
            kernel_size=list(self.kernel_size), strides=list(self.strides),
            padding=self.padding, data_format=self.data_format,
            dilation_rate=list(self.dilation_rate),
            activation=activations.serialize(self.activation), use_bias=self.use_bias,
            bias_initializer=initializers.serialize(self.bias_initializer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
        )
        return config


class KernelConv(BaseConv):
    """A convolution with one ``kernel`` (and ``bias``): the weights Keras lists, penalizes
    and constrains for ``Conv*D`` and ``Conv*DTranspose``."""

    def keras_weights(self) -> list:
        weights = [("kernel", self.kernel, self.layout)]
        if self.use_bias:
            weights.append(("bias", self.bias, SAME_LAYOUT))
        return weights

    def regularized_weights(self) -> list:
        return [(self.kernel_regularizer, self.kernel), *super().regularized_weights()]

    def weight_constraints(self) -> dict:
        return {"kernel": self.kernel_constraint, "bias": self.bias_constraint}


def _legacy_conv_args(rank: int, args: tuple, kwargs: dict, owner: str) -> tuple[tuple, dict]:
    """Keras 1/2 spellings: ``Conv2D(32, 3, 3)``, ``nb_filter``, ``border_mode``, ``subsample``.

    Keras 2 read ``Conv2D(filters, nb_row, nb_col)`` (three positional ints) as a 3x3 kernel and
    warned; cnnlab does the same.
    """
    renames = {"nb_filter": "filters", "border_mode": "padding", "subsample": "strides",
               "subsample_length": "strides", "init": "kernel_initializer",
               "W_regularizer": "kernel_regularizer", "b_regularizer": "bias_regularizer",
               "bias": "use_bias", "filter_length": "kernel_size",
               "atrous_rate": "dilation_rate", "W_constraint": "kernel_constraint"}
    for old, new in renames.items():
        if old in kwargs:
            kwargs[new] = kwargs.pop(old)
    if "dim_ordering" in kwargs:
        ordering = kwargs.pop("dim_ordering")
        kwargs["data_format"] = {"tf": "channels_last", "th": "channels_first"}.get(ordering,
                                                                                    ordering)
    sizes = [kwargs.pop(k) for k in ("nb_row", "nb_col", "kernel_dim1", "kernel_dim2",
                                     "kernel_dim3") if k in kwargs]
    if sizes:
        kwargs["kernel_size"] = tuple(sizes)
    if rank > 1 and len(args) == 1 + rank and all(isinstance(a, int) for a in args):
        if "strides" in kwargs:
            raise TypeError(f"{owner}: got {len(args)} positional ints and `strides=`; write "
                            f"{owner.split()[0]}(filters, kernel_size, strides=...)")
        warnings.warn(f"{owner}: update your call to the Keras 2 API: "
                      f"{owner.split()[0]}({args[0]}, {tuple(args[1:])})", stacklevel=4)
        args = (args[0], tuple(args[1:]))
    return args, kwargs


class Conv(KernelConv):
    """N-D convolution ``y = activation(x ⋆ kernel + bias)`` on channels-last inputs.

    Args (Keras's names and defaults):
        filters: number of output channels M.
        kernel_size: int or tuple, the filter size F.
        strides: int or tuple, default 1.
        padding: ``'valid'`` (no padding) or ``'same'`` (TensorFlow's rule), case-insensitive;
            Conv1D also takes ``'causal'``.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        dilation_rate: int or tuple, default 1.
        groups: split input channels into groups (each convolved with ``filters/groups``).
        activation: name or callable; default linear.
        use_bias, kernel_initializer (``'glorot_uniform'``), bias_initializer (``'zeros'``),
        kernel_regularizer, bias_regularizer, activity_regularizer.

    Weights: ``kernel`` stored as PyTorch ``(M, D/groups, *F)``; ``get_weights()`` returns it in
    Keras layout ``(*F, D/groups, M)``, then ``bias`` ``(M,)``.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        owner = f"{type(self).__name__} {kwargs.get('name') or ''!r}"
        args, kwargs = _legacy_conv_args(self.rank, args, kwargs, owner)
        self._init(*args, **kwargs)

    def _init(self, filters: int, kernel_size: int | Sequence[int], strides: Any = 1,
              padding: str = "valid", data_format: str | None = None, dilation_rate: Any = 1,
              groups: int = 1, activation: Any = None, use_bias: bool = True,
              kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
              kernel_regularizer: Any = None, bias_regularizer: Any = None,
              activity_regularizer: Any = None, kernel_constraint: Any = None,
              bias_constraint: Any = None, **kwargs: Any):
        allowed = ("valid", "same", "causal") if self.rank == 1 else shapes.PADDINGS
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, activity_regularizer,
                         allowed_paddings=allowed, **kwargs)
        check_positive_int(self.owner, "filters", filters)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0 \
                or filters % groups:
            raise ValueError(f"{self.owner}: `groups` must be a positive int dividing "
                             f"filters={filters}, got {groups!r}")
        self.filters, self.groups = filters, groups
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.layout = kernel_layout(self.rank)
        self._build_if_declared()

    def build(self, input_shape: tuple) -> None:
        channels = self.input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"{self.owner}: input channels ({channels}) must be divisible by "
                             f"groups ({self.groups})")
        self.output_spatial(input_shape)
        keras_shape = (*self.kernel_size, channels // self.groups, self.filters)
        self.kernel = make_weight(self.kernel_initializer, keras_shape, self.layout)
        self.bias = (torch.nn.Parameter(self.bias_initializer((self.filters,)))
                     if self.use_bias else None)
        self.trainable = self.trainable

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        x = self.channels_first_input(inputs)
        symmetric, extra = self.conv_padding(x)
        x = cu.pad_extra(x, extra)
        y = CONV_OPS[self.rank](x, self.kernel, self.bias, self.strides, symmetric,
                                self.dilation_rate, self.groups)
        return self.finish(y, training)

    def macs(self) -> int:
        """Multiply-accumulates per sample: ``prod(O)·prod(F)·(D/groups)·M``."""
        spatial = cu.spatial_shape(self.output_shape, self.data_format)
        return shapes.conv_macs(spatial, self.kernel_size, self.input_channels(self.input_shape),
                                self.filters, self.groups)

    def get_config(self) -> dict:
        config = self.base_config()
        config.update(filters=self.filters, groups=self.groups,
                      kernel_initializer=initializers.serialize(self.kernel_initializer),
                      kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
                      kernel_constraint=constraints.serialize(self.kernel_constraint),
                      bias_constraint=constraints.serialize(self.bias_constraint))
        return config


@register("Convolution1D")
class Conv1D(Conv):
    """1-D convolution over ``(N, steps, channels)``; ``padding='causal'`` pads on the left.

    Example: ``Conv1D(16, 5)`` on ``(None, 100, 8)`` gives ``(None, 96, 16)`` with
    ``(8·5 + 1)·16 = 656`` parameters.
    """

    rank = 1


@register("Convolution2D")
class Conv2D(Conv):
    """2-D convolution over ``(N, H, W, C)``.

    Example: ``Conv2D(32, 3, activation='relu')`` on ``(28, 28, 1)`` gives ``(26, 26, 32)``
    (``(28 − 3)/1 + 1 = 26``) with ``(1·3·3 + 1)·32 = 320`` parameters.
    """

    rank = 2


@register("Convolution3D")
class Conv3D(Conv):
    """3-D convolution over ``(N, D, H, W, C)``.

    Example: ``Conv3D(8, 3)`` on ``(None, 16, 32, 32, 1)`` gives ``(None, 14, 30, 30, 8)``
    with ``(1·3·3·3 + 1)·8 = 224`` parameters.
    """

    rank = 3
