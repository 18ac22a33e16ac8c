"""The lecture's formulas with a layer's numbers filled in, as text.

Each function returns the value (computed with :mod:`cnnlab.shapes`) and the arithmetic that
gives it, e.g. ``(28 + 2·0 − 3)/1 + 1 = 26`` or ``(1·3·3 + 1)·32 = 320``. Numbers inside a
formula are written plainly; results get thousands separators.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from cnnlab import shapes
from cnnlab.layers.base import Layer
from cnnlab.layers.conv import BaseConv, Conv
from cnnlab.layers.conv_transpose import ConvTranspose
from cnnlab.layers.conv_utils import spatial_shape
from cnnlab.layers.core import Dense
from cnnlab.layers.depthwise_conv import DepthwiseConv2D
from cnnlab.layers.normalization import BatchNormalization
from cnnlab.layers.pooling import Pooling
from cnnlab.layers.separable_conv import SeparableConv2D

AXIS_NAMES = {1: ("steps",), 2: ("H", "W"), 3: ("D", "H", "W")}
PAD_SIDES = {"steps": ("left", "right"), "D": ("front", "back"), "H": ("top", "bottom"),
             "W": ("left", "right")}
UNKNOWN_SIZE = "? (input size unknown)"


def dot(values: Sequence[int]) -> str:
    """``(26, 26, 32)`` -> ``'26·26·32'``."""
    return "·".join(str(v) for v in values)


def window_size_text(size: int | None, kernel: int, stride: int = 1,
                     padding: str | int = "valid", dilation: int = 1,
                     sides: Sequence[tuple[str, str]] = (("before", "after"),)) -> str:
    """One axis of a convolution/pooling output size with the numbers filled in.

    ``padding`` is ``'valid'``, ``'same'`` (TensorFlow's rule; the padding is shown for each
    ``(before, after)`` pair of side names in ``sides``), ``'causal'`` or an explicit symmetric
    padding ``P``::

        (28 + 2·0 − 3)/1 + 1 = 26
        floor((27 + 2·0 − 3)/2) + 1 = 13
        ceil(28/2) = 14, pad 0 top / 1 bottom
    """
    if size is None:
        return UNKNOWN_SIZE
    k = shapes.effective_kernel(kernel, dilation)
    note = f"  [F' = {dilation}·({kernel} − 1) + 1 = {k}]" if dilation > 1 else ""
    if padding in ("same", "causal"):
        out = shapes.conv_output_length(size, kernel, padding, stride, dilation)
        if padding == "causal":
            before, after = k - 1, 0
        else:
            before, after = shapes.same_padding(size, kernel, stride, dilation)
        pads = ", ".join(f"{before} {first} / {after} {last}" for first, last in sides)
        pads = f"pad {pads}"
        return f"ceil({size}/{stride}) = {out}, {pads}{note}"
    pad = 0 if padding == "valid" else int(padding)
    out = shapes.explicit_output_length(size, kernel, pad, stride, dilation)
    fraction = f"({size} + 2·{pad} − {k})/{stride}"
    if (size + 2 * pad - k) % stride:
        fraction = f"floor({fraction})"
    return f"{fraction} + 1 = {out}{note}"


def transposed_size_text(size: int | None, kernel: int, stride: int, padding: str,
                         output_padding: int | None, dilation: int = 1) -> str:
    """One axis of a transposed convolution's output size (Keras's rule)::

        'valid': I·S + max(F' − S, 0)      'same': I·S
        with output_padding p: (I − 1)·S + F' − 2·pad + p
    """
    if size is None:
        return UNKNOWN_SIZE
    k = shapes.effective_kernel(kernel, dilation)
    out = shapes.deconv_output_length(size, kernel, padding, stride, output_padding, dilation)
    if output_padding is not None:
        pad = k // 2 if padding == "same" else 0
        return f"({size} − 1)·{stride} + {k} − 2·{pad} + {output_padding} = {out}"
    if padding == "same":
        return f"{size}·{stride} = {out}"
    return f"{size}·{stride} + max({k} − {stride}, 0) = {out}"


def axis_lines(rank: int, keys: Sequence[tuple],
               text: Callable[[int, list[tuple[str, str]]], str]) -> list[str]:
    """``'H, W: ...'`` when every axis has the same numbers, else one line per axis.

    ``keys[i]`` are the numbers of axis ``i``; ``text(i, sides)`` writes axis ``i`` (``sides``:
    the names of the padded sides of the axes the line stands for).
    """
    names = AXIS_NAMES[rank]
    if rank > 1 and all(key == keys[0] for key in keys):
        return [f"{', '.join(names)}: {text(0, [PAD_SIDES[n] for n in names])}"]
    return [f"{name}: {text(i, [PAD_SIDES[name]])}" for i, name in enumerate(names)]


def conv_size_lines(layer: BaseConv | Pooling, input_shape: tuple) -> list[str]:
    """Output size of a convolution, pooling or transposed convolution, axis by axis."""
    spatial = spatial_shape(input_shape, layer.data_format)
    if isinstance(layer, Pooling):
        kernel, dilation = layer.pool_size, (1,) * len(spatial)
    else:
        kernel, dilation = layer.kernel_size, layer.dilation_rate
    if isinstance(layer, ConvTranspose):
        pads = layer.output_padding or (None,) * len(spatial)
        keys = list(zip(spatial, kernel, layer.strides, pads, dilation, strict=True))
        return axis_lines(len(spatial), keys, lambda i, sides: transposed_size_text(
            spatial[i], kernel[i], layer.strides[i], layer.padding, pads[i], dilation[i]))
    keys = list(zip(spatial, kernel, layer.strides, dilation, strict=True))
    return axis_lines(len(spatial), keys, lambda i, sides: window_size_text(
        spatial[i], kernel[i], layer.strides[i], layer.padding, dilation[i], sides))


def param_formula(layer: Layer, input_shape: tuple) -> tuple[int, str]:
    """The number of weights of ``layer`` and the formula that counts them."""
    if isinstance(layer, SeparableConv2D):
        d, m, f, k = layer.input_channels(input_shape), layer.depth_multiplier, \
            layer.filters, layer.kernel_size
        total = math.prod(k) * d * m + d * m * f + f * layer.use_bias
        bias = f" + {f}" if layer.use_bias else ""
        return total, f"{dot(k)}·{d}·{m} + {d}·{m}·{f}{bias} = {total:,}"
    if isinstance(layer, DepthwiseConv2D):
        d, m, k = layer.input_channels(input_shape), layer.depth_multiplier, layer.kernel_size
        total = shapes.conv_params(1, k, d * m, layer.use_bias)
        window = f"({dot(k)} + 1)" if layer.use_bias else dot(k)
        return total, f"{window}·{d}·{m} = {total:,}"
    if isinstance(layer, (Conv, ConvTranspose)):
        groups = getattr(layer, "groups", 1)
        d = layer.input_channels(input_shape) // groups
        total = shapes.conv_params(d, layer.kernel_size, layer.filters, layer.use_bias)
        product = f"{d}·{dot(layer.kernel_size)}"
        product = f"({product} + 1)" if layer.use_bias else product
        return total, f"{product}·{layer.filters} = {total:,}"
    if isinstance(layer, Dense):
        n_in = input_shape[-1]
        total = shapes.dense_params(n_in, layer.units, layer.use_bias)
        product = f"({n_in} + 1)" if layer.use_bias else str(n_in)
        return total, f"{product}·{layer.units} = {total:,}"
    if isinstance(layer, BatchNormalization):
        c = input_shape[layer.axis_index]
        learned = int(layer.scale) + int(layer.center)
        total = (learned + 2) * c
        return total, f"{learned + 2}·{c} = {total:,} (2·{c} = {2 * c:,} non-trainable)"
    sizes = [(name, tuple(t.shape)) for name, t, _ in layer._all_keras_weights()]
    if not sizes:
        return 0, "0 (no weights)"
    total = sum(math.prod(shape) for _, shape in sizes)
    terms = " + ".join(f"{name} {dot(shape)}" for name, shape in sizes)
    return total, f"{terms} = {total:,}"


def mac_formula(layer: Layer, input_shape: tuple, output_shape: tuple) -> tuple[int | None, str]:
    """Multiply-accumulates per sample and their product (``None`` if a size is unknown).

    Convolution ``prod(O)·prod(F)·(D/groups)·M``; transposed convolution
    ``prod(I)·prod(F)·D·M`` (every input pixel meets every weight); depthwise
    ``prod(O)·prod(F)·D·m``; separable = depthwise + ``prod(O)·D·m·M``; dense
    ``n_in·units`` per position. Other layers count 0 (pooling compares, it does not multiply).
    """
    if not isinstance(layer, (BaseConv, Dense)):
        return 0, ""
    if isinstance(layer, Dense):
        positions = output_shape[1:-1]
        if None in positions:
            return None, UNKNOWN_SIZE
        total = math.prod(positions) * input_shape[-1] * layer.units
        lead = f"{dot(positions)} · " if positions else ""
        return total, f"{lead}{input_shape[-1]}·{layer.units} = {total:,}"
    d = layer.input_channels(input_shape)
    k = layer.kernel_size
    grid = spatial_shape(input_shape if isinstance(layer, ConvTranspose) else output_shape,
                         layer.data_format)
    if None in grid:
        return None, UNKNOWN_SIZE
    if isinstance(layer, (DepthwiseConv2D, SeparableConv2D)):
        m = layer.depth_multiplier
        total = shapes.conv_macs(grid, k, d, d * m, groups=d)
        text = f"{dot(grid)} · {dot(k)} · {d}·{m}"
        if isinstance(layer, SeparableConv2D):
            pointwise = shapes.conv_macs(grid, (1, 1), d * m, layer.filters)
            total += pointwise
            text += f" + {dot(grid)} · {d * m}·{layer.filters}"
        return total, f"{text} = {total:,}"
    groups = getattr(layer, "groups", 1)
    total = shapes.conv_macs(grid, k, d, layer.filters, groups)
    return total, f"{dot(grid)} · {dot(k)} · {d // groups}·{layer.filters} = {total:,}"


def memory_formula(output_shape: tuple | list) -> tuple[int | None, str]:
    """Bytes of one sample's output in float32: ``elements × 4 B``."""
    outputs = output_shape if isinstance(output_shape, list) else [output_shape]
    dims = [tuple(s[1:]) for s in outputs]
    if any(None in d for d in dims):
        return None, UNKNOWN_SIZE
    elements = sum(math.prod(d) for d in dims)
    product = " + ".join(dot(d) for d in dims)
    return elements * 4, f"{product} × 4 B = {human_bytes(elements * 4)}"


def human_bytes(n: int) -> str:
    """``86528`` -> ``'86,528 B (84.5 KiB)'``."""
    for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= scale:
            return f"{n:,} B ({n / scale:.1f} {unit})"
    return f"{n:,} B"


