"""Convolution and pooling on small matrices, written out window by window as in the lectures.

``convolve_steps`` slides a filter over an image: at every window it writes the inner product
of the patch with the filter (``1·1 + 1·0 + 1·1 + ... = 4``), adds the bias and applies the
activation. The result is what cnnlab's ``Conv2D`` computes (a cross-correlation, as in Keras:
the filter is not flipped). ``pool_steps`` does the same for max and average pooling.

Example (SPEC §5)::

    >>> trace = convolve_steps([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1],
    ...                         [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]],
    ...                        [[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    >>> trace.output
    array([[4., 3., 4.], [2., 4., 3.], [2., 3., 4.]])
    >>> print(trace.to_text())
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cnnlab import activations, shapes
from cnnlab.explain import formulas


@dataclass(frozen=True)
class Window:
    """One position of the sliding window.

    ``(row, col)`` is the output position, ``(top, left)`` the window's corner in the padded
    input; ``patch`` is ``(kh, kw, C)`` (NaN marks padding that pooling ignores); ``lines`` is
    the arithmetic; ``value`` the output value (one per channel for pooling).
    """

    row: int
    col: int
    top: int
    left: int
    patch: np.ndarray
    lines: tuple[str, ...]
    value: float | np.ndarray


@dataclass(frozen=True)
class ConvTrace:
    """A sliding-window computation (convolution or pooling) written out step by step.

    ``padded`` is the input after padding, ``(H', W', C)``; ``kernel`` the filter
    ``(kh, kw, C)`` (``None`` for pooling); ``output`` the result, ``(Oh, Ow)`` for a
    convolution or a one-channel pooling, ``(Oh, Ow, C)`` for pooling several channels.
    """

    title: str
    header: tuple[str, ...]
    padded: np.ndarray
    kernel: np.ndarray | None
    windows: tuple[Window, ...]
    output: np.ndarray

    def to_text(self) -> str:
        """The lecture-style walk-through: sizes, input, filter, every window, output."""
        lines = [self.title, *self.header, "", "Input (after padding):",
                 *_matrix_lines(self.padded)]
        if self.kernel is not None:
            lines += ["Filter:", *_matrix_lines(self.kernel)]
        for w in self.windows:
            rows = f"rows {w.top}-{w.top + w.patch.shape[0] - 1}"
            cols = f"columns {w.left}-{w.left + w.patch.shape[1] - 1}"
            lines += ["", f"Output ({w.row}, {w.col}) <- window {rows}, {cols}:",
                      *_matrix_lines(w.patch), *(f"  {line}" for line in w.lines)]
        out = self.output if self.output.ndim == 3 else self.output[..., None]
        lines += ["", f"Output ({out.shape[0]}x{out.shape[1]}):", *_matrix_lines(out)]
        return "\n".join(lines)


def convolve_steps(image: Any, kernel: Any, stride: int | Sequence[int] = 1,
                   padding: int | Sequence[int] | str = 0, bias: float = 0.0,
                   activation: str | Callable | None = None) -> ConvTrace:
    """Convolve ``image`` with one filter, window by window.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` numbers.
        kernel: ``(kh, kw)`` or ``(kh, kw, C)``; a channel's products are summed over channels.
        stride: int or ``(sh, sw)``.
        padding: ``'valid'`` (= 0), ``'same'`` (TensorFlow's rule: ``O = ceil(I/S)``, the odd
            pixel at the bottom/right), or explicit zero padding ``P`` (int or ``(Ph, Pw)``)
            on both sides: ``O = floor((I + 2P − F)/S) + 1``.
        bias: added to every inner product.
        activation: an element-wise activation name or callable (``'relu'``), or ``None``.

    Returns a :class:`ConvTrace` whose ``output`` is ``(Oh, Ow)``.
    """
    x = _as_image(image, "convolve_steps", "image")
    k = _as_image(kernel, "convolve_steps", "kernel")
    if k.shape[2] != x.shape[2]:
        raise ValueError(f"convolve_steps: `kernel` must have the image's {x.shape[2]} "
                         f"channel(s), got kernel of shape {np.shape(kernel)}")
    strides = shapes.normalize_tuple(stride, 2, "stride", owner="convolve_steps")
    pads, size_lines = _padding(padding, x.shape[:2], k.shape[:2], strides, "convolve_steps")
    padded = np.pad(x, (*pads, (0, 0)))
    fn = activations.get(activation)
    name = getattr(fn, "__name__", "activation")
    windows, z = [], []
    for top, left, row, col in _positions(padded.shape, k.shape, strides):
        patch = padded[top:top + k.shape[0], left:left + k.shape[1]]
        lines, total = _inner_product(patch, k)
        z.append(total + bias)
        if bias:
            lines.append(f"{_num(total)} + bias {_num(bias)} = {_num(total + bias)}")
        windows.append((row, col, top, left, patch, lines))
    shape = _output_shape(padded.shape, k.shape, strides)
    pre = torch.tensor(z, dtype=torch.float64).reshape(shape)
    out = pre if activation is None else fn(pre)
    values = out.numpy().reshape(-1)
    steps = []
    for (row, col, top, left, patch, lines), zi, value in zip(windows, z, values, strict=True):
        if activation is not None:
            lines.append(f"{name}({_num(zi)}) = {_num(value)}")
        steps.append(Window(row, col, top, left, patch, tuple(lines), float(value)))
    title = (f"Convolution of a {_dims(x)} input with a {_dims(k)} filter, stride "
             f"{_pair(strides)}, padding {_padding_name(padding)}")
    return ConvTrace(title, tuple(size_lines), padded, k, tuple(steps), out.numpy())


def pool_steps(image: Any, pool_size: int | Sequence[int] = 2,
               stride: int | Sequence[int] | None = None, mode: str = "max",
               padding: str = "valid") -> ConvTrace:
    """Max or average pooling of ``image`` (``(H, W)`` or ``(H, W, C)``), window by window.

    ``stride`` defaults to ``pool_size`` (as Keras); ``padding`` is ``'valid'`` or ``'same'``.
    With ``'same'`` the padded positions never count, as in TensorFlow: max ignores them and
    average divides by the number of real pixels in the window. Channels are pooled separately.
    """
    if mode not in ("max", "average", "avg"):
        raise ValueError(f"pool_steps: `mode` must be 'max' or 'average', got {mode!r}")
    x = _as_image(image, "pool_steps", "image")
    window = shapes.normalize_tuple(pool_size, 2, "pool_size", owner="pool_steps")
    strides = window if stride is None else shapes.normalize_tuple(stride, 2, "stride",
                                                                   owner="pool_steps")
    padding = shapes.normalize_padding(padding, "pool_steps")
    pads, size_lines = _padding(padding, x.shape[:2], window, strides, "pool_steps")
    padded = np.pad(x, (*pads, (0, 0)), constant_values=np.nan)
    reduce = _max_text if mode == "max" else _mean_text
    steps, values = [], []
    for top, left, row, col in _positions(padded.shape, window, strides):
        patch = padded[top:top + window[0], left:left + window[1]]
        texts, value = zip(*(reduce(patch[..., c]) for c in range(x.shape[2])), strict=True)
        lines = texts if x.shape[2] == 1 else [f"channel {c}: {t}" for c, t in enumerate(texts)]
        values.append(value)
        steps.append(Window(row, col, top, left, patch, tuple(lines),
                            value[0] if x.shape[2] == 1 else np.array(value)))
    out = np.array(values).reshape(*_output_shape(padded.shape, window, strides), x.shape[2])
    kind = "Max" if mode == "max" else "Average"
    title = (f"{kind} pooling of a {_dims(x)} input with a {window[0]}x{window[1]} window, stride "
             f"{_pair(strides)}, padding {padding!r}")
    return ConvTrace(title, tuple(size_lines), padded, None, tuple(steps),
                     out[..., 0] if np.ndim(image) == 2 else out)


def _as_image(value: Any, owner: str, name: str) -> np.ndarray:
    """``(H, W)`` or ``(H, W, C)`` numbers as float64 ``(H, W, C)``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: `{name}` must be a 2-D or 3-D array of numbers, got "
                        f"{type(value).__name__}") from None
    if array.ndim not in (2, 3) or 0 in array.shape:
        raise ValueError(f"{owner}: `{name}` must be a non-empty (H, W) or (H, W, C) array, got "
                         f"shape {array.shape}")
    return array if array.ndim == 3 else array[..., None]


def _padding(padding: Any, size: tuple, window: tuple, strides: tuple,
             owner: str) -> tuple[list[tuple[int, int]], list[str]]:
    """Per-axis ``(before, after)`` zero padding and the output-size arithmetic."""
    if isinstance(padding, str):
        mode = shapes.normalize_padding(padding, owner)
        if mode == "same":
            pads = [shapes.same_padding(i, k, s) for i, k, s in zip(size, window, strides,
                                                                      strict=True)]
        else:
            pads = [(0, 0), (0, 0)]
        explicit = [mode, mode]
    else:
        explicit = list(shapes.normalize_tuple(padding, 2, "padding", allow_zero=True,
                                               owner=owner))
        pads = [(p, p) for p in explicit]
    for axis, (i, k, (a, b)) in enumerate(zip(size, window, pads, strict=True)):
        if i + a + b < k:
            raise ValueError(f"{owner}: the {k}-wide window does not fit the padded input "
                             f"({i} + {a} + {b}) along axis {axis}; use a smaller window or "
                             f"more padding")
    keys = list(zip(size, window, strides, explicit, strict=True))
    lines = formulas.axis_lines(2, keys, lambda i, sides: formulas.window_size_text(
        size[i], window[i], strides[i], explicit[i], 1, sides))
    return pads, [f"Output size {line}" for line in lines]


def _positions(shape: tuple, window: tuple, strides: tuple) -> list[tuple[int, int, int, int]]:
    rows, cols = _output_shape(shape, window, strides)
    return [(r * strides[0], c * strides[1], r, c) for r in range(rows) for c in range(cols)]


def _output_shape(shape: tuple, window: tuple, strides: tuple) -> tuple[int, int]:
    return tuple(shapes.explicit_output_length(i, k, 0, s)
                 for i, k, s in zip(shape[:2], window[:2], strides, strict=True))


def _inner_product(patch: np.ndarray, kernel: np.ndarray) -> tuple[list[str], float]:
    """``1·1 + 1·0 + ... = 4`` per channel, and the sum over channels."""
    sums, lines = [], []
    for c in range(kernel.shape[2]):
        terms = " + ".join(f"{_num(a)}·{_factor(b)}"
                           for a, b in zip(patch[..., c].ravel(), kernel[..., c].ravel(),
                                           strict=True))
        total = float(np.sum(patch[..., c] * kernel[..., c]))
        sums.append(total)
        prefix = f"channel {c}: " if kernel.shape[2] > 1 else ""
        lines.append(f"{prefix}{terms} = {_num(total)}")
    total = float(sum(sums))
    if len(sums) > 1:
        lines.append(f"sum over channels: {' + '.join(_num(s) for s in sums)} = {_num(total)}")
    return lines, total


def _max_text(values: np.ndarray) -> tuple[str, float]:
    real = values[~np.isnan(values)]
    value = float(real.max())
    return f"max({', '.join(_num(v) for v in real)}) = {_num(value)}", value


def _mean_text(values: np.ndarray) -> tuple[str, float]:
    real = values[~np.isnan(values)]
    value = float(real.mean())
    total = " + ".join(_num(v) for v in real)
    return f"({total})/{real.size} = {_num(value)}", value


def _num(value: float) -> str:
    """``4.0`` -> ``'4'``, ``0.25`` -> ``'0.25'``, ``-0.0`` -> ``'0'``."""
    if np.isnan(value):
        return "·"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def _factor(value: float) -> str:
    """A negative second factor in parentheses: ``1·(-1)``."""
    return f"({_num(value)})" if value < 0 else _num(value)


def _matrix_lines(array: np.ndarray) -> list[str]:
    """Rows of a ``(H, W, C)`` array, right-aligned, one block per channel (NaN as ``·``)."""
    lines = []
    for c in range(array.shape[2]):
        cells = [[_num(v) for v in row] for row in array[..., c]]
        width = max(len(cell) for row in cells for cell in row)
        if array.shape[2] > 1:
            lines.append(f"  channel {c}:")
        lines += ["  " + " ".join(cell.rjust(width) for cell in row) for row in cells]
    return lines


def _dims(array: np.ndarray) -> str:
    h, w, c = array.shape
    return f"{h}x{w}" if c == 1 else f"{h}x{w}x{c}"


def _pair(values: tuple[int, int]) -> str:
    return str(values[0]) if values[0] == values[1] else f"{values[0]}x{values[1]}"


def _padding_name(padding: Any) -> str:
    return repr(padding.lower()) if isinstance(padding, str) else f"P = {padding}"
