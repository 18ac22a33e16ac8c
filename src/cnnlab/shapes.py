"""The lecture's shape arithmetic, in one place.

Every other module (layers, summary, explain, zoo) calls these functions, so each fact lives
here once. Sizes are ints; ``None`` means "unknown" (a variable spatial size) and propagates.

Output size of a convolution or pooling window (lecture notation: input I, filter F, padding P,
stride S, dilation D; effective filter ``F' = D·(F − 1) + 1``)::

    'valid':  O = floor((I − F') / S) + 1          (P = 0)
    'same':   O = ceil(I / S)                      (TensorFlow/Keras rule)
    explicit: O = floor((I + 2P − F') / S) + 1

For ``'same'`` the total padding is ``max((O − 1)·S + F' − I, 0)``; when it is odd the extra
pixel goes to the bottom/right, exactly as TensorFlow does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction

PADDINGS = ("valid", "same")


def normalize_tuple(value: int | Iterable[int], n: int, name: str, *, allow_zero: bool = False,
                    owner: str = "") -> tuple[int, ...]:
    """Return ``value`` as an ``n``-tuple of positive ints (``3`` -> ``(3, 3)`` for ``n=2``).

    Raises ``ValueError`` naming ``owner`` and ``name`` for wrong lengths or non-positive sizes.
    """
    prefix = f"{owner}: " if owner else ""
    if isinstance(value, bool):
        raise TypeError(f"{prefix}`{name}` must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, int):
        values: tuple = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise TypeError(
                f"{prefix}`{name}` must be an int or a tuple of {n} ints, got {value!r}"
            ) from None
        if len(values) != n:
            raise ValueError(f"{prefix}`{name}` must have {n} elements, got {value!r}")
    lowest = 0 if allow_zero else 1
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < lowest:
            kind = "non-negative" if allow_zero else "positive"
            raise ValueError(f"{prefix}`{name}` must contain {kind} ints, got {value!r}")
    return tuple(int(v) for v in values)


def normalize_padding(padding: str, owner: str = "", allowed: Sequence[str] = PADDINGS) -> str:
    """Lower-case and check a Keras padding name (``'valid'``, ``'same'``, case-insensitive)."""
    if isinstance(padding, str) and padding.lower() in allowed:
        return padding.lower()
    prefix = f"{owner}: " if owner else ""
    expected = " or ".join(repr(p) for p in allowed)
    raise ValueError(f"{prefix}`padding` must be {expected}, got {padding!r}")


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Size covered by a dilated kernel: ``F' = D·(F − 1) + 1``."""
    return dilation * (kernel - 1) + 1


def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's ``'same'`` padding ``(before, after)`` for one axis.

    ``total = max((ceil(I/S) − 1)·S + F' − I, 0)``, ``before = total // 2``,
    ``after = total − before`` (the odd pixel goes after: bottom/right).
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def conv_output_length(size: int | None, kernel: int, padding: str = "valid", stride: int = 1,
                       dilation: int = 1) -> int | None:
    """Output length of a convolution/pooling along one axis (see module docstring).

    ``'causal'`` (Conv1D) pads ``F' − 1`` on the left only; like ``'same'``, ``O = ceil(I / S)``.
    """
    if size is None:
        return None
    if padding in ("same", "causal"):
        return -(-size // stride)
    return (size - effective_kernel(kernel, dilation)) // stride + 1


def explicit_output_length(size: int, kernel: int, pad: int, stride: int = 1,
                           dilation: int = 1) -> int:
    """The lecture formula with explicit padding: ``O = floor((I + 2P − F') / S) + 1``."""
    return (size + 2 * pad - effective_kernel(kernel, dilation)) // stride + 1


def deconv_output_length(size: int | None, kernel: int, padding: str = "valid", stride: int = 1,
                         output_padding: int | None = None, dilation: int = 1) -> int | None:
    """Output length of a transposed convolution (Keras rule).

    Without ``output_padding``: ``'valid'`` gives ``I·S + max(F' − S, 0)``, ``'same'`` gives
    ``I·S``. With it: ``(I − 1)·S + F' − 2·pad + output_padding`` where ``pad`` is ``F'//2``
    for ``'same'`` and 0 for ``'valid'``.
    """
    if size is None:
        return None
    k = effective_kernel(kernel, dilation)
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(k - stride, 0)
        return size * stride
    pad = k // 2 if padding == "same" else 0
    return (size - 1) * stride + k - 2 * pad + output_padding


def conv_params(in_channels: int, kernel_size: Sequence[int], filters: int,
                use_bias: bool = True) -> int:
    """Parameters of a convolution: ``(D·Fh·Fw + 1)·M`` (no ``+1`` without bias)."""
    return (in_channels * math.prod(kernel_size) + int(use_bias)) * filters


def dense_params(in_units: int, units: int, use_bias: bool = True) -> int:
    """Parameters of a dense layer: ``(n_in + 1)·n_out``."""
    return (in_units + int(use_bias)) * units


def conv_macs(output_spatial: Sequence[int], kernel_size: Sequence[int], in_channels: int,
              filters: int, groups: int = 1) -> int:
    """Multiply-accumulates of a convolution: ``prod(O)·prod(F)·(D / groups)·M``."""
    return math.prod(output_spatial) * math.prod(kernel_size) * (in_channels // groups) * filters


def receptive_field(prev_field: int, prev_jump: int, kernel: int, stride: int = 1,
                    dilation: int = 1) -> tuple[int, int]:
    """Receptive field and jump (distance in input pixels between adjacent outputs).

    ``r_out = r_in + (F' − 1)·j_in`` and ``j_out = j_in·S``; the input has ``r = 1, j = 1``.
    """
    return prev_field + (effective_kernel(kernel, dilation) - 1) * prev_jump, prev_jump * stride


def transposed_receptive_field(prev_field: int | Fraction, prev_jump: int | Fraction,
                               kernel: int, stride: int = 1,
                               dilation: int = 1) -> tuple[int | Fraction, Fraction]:
    """Receptive field and jump after a transposed convolution (or an upsampling).

    Each output reads at most ``ceil(F' / S)`` adjacent inputs, so
    ``r_out = r_in + (ceil(F' / S) − 1)·j_in`` and ``j_out = j_in / S`` (a fraction of an input
    pixel). Nearest upsampling by ``s`` is ``F = S = s``; bilinear reads two inputs
    (``F = 2s``, ``S = s``). With a fractional jump later fields may be fractional too; an
    output then sees at most ``ceil(r)`` input pixels (an upper bound: neighbouring outputs
    can share input pixels).
    """
    taps = -(-effective_kernel(kernel, dilation) // stride)
    return prev_field + (taps - 1) * prev_jump, Fraction(prev_jump) / stride


def check_window_fits(size: int | None, kernel: int, padding: str, dilation: int = 1,
                      owner: str = "", axis: str = "", detail: str = "") -> None:
    """Raise if a ``'valid'`` window is larger than the input along one axis.

    ``detail`` names the arguments and the input shape in the message (``"`kernel_size`=(5, 5),
    input shape (None, 3, 3, 1)"``).
    """
    if size is None or padding != "valid":
        return
    k = effective_kernel(kernel, dilation)
    if k > size:
        where = f" along {axis}" if axis else ""
        detail = f" ({detail})" if detail else ""
        raise ValueError(
            f"{owner}: window of size {k} is larger than the input ({size}){where} with "
            f"padding='valid'{detail}; use a smaller kernel/pool size or padding='same'"
        )
