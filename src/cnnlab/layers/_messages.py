"""How layers check their construction arguments and word their errors (internal).

``format_shape`` prints a shape as Keras does, ``channel_axis_hint`` explains the commonest
shape mistake (images without their channel axis), ``declared_shape`` checks an
``input_shape=`` argument and ``get_argument`` prefixes a resolver's error with the layer and
the argument. Modules outside ``cnnlab.layers`` import the first two from
:mod:`cnnlab.layers.base`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Shape = tuple  # a Keras shape: batch first, None for unknown sizes


def _is_size(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def declared_shape(owner: str, argument: str, given: Any, batch_size: Any = None,
                   with_batch: bool = False) -> Shape:
    """The batch shape declared by ``input_shape=`` (per sample, an int for one axis),
    ``input_dim=`` or ``batch_input_shape=`` (``with_batch``), checked: every size a positive
    int or ``None`` (unknown), the batch size a non-negative int or ``None``."""
    expected = "a tuple of positive ints or None (unknown sizes)"
    if _is_size(given):
        sizes: tuple = (given,)
    else:
        try:
            sizes = tuple(given)
        except TypeError:
            raise TypeError(f"{owner}: `{argument}` must be {expected}, got {given!r}") from None
    shape = sizes if with_batch else (batch_size, *sizes)
    if not all(d is None or (_is_size(d) and d > 0) for d in shape[1:]) or not shape:
        raise ValueError(f"{owner}: `{argument}` must be {expected}, got {given!r}")
    if not (shape[0] is None or (_is_size(shape[0]) and shape[0] >= 0)):
        what = argument if with_batch else "batch_size"
        raise ValueError(f"{owner}: the batch size in `{what}` must be a non-negative int or "
                         f"None, got {shape[0]!r}")
    return tuple(None if d is None else int(d) for d in shape)


def check_positive_int(owner: str, argument: str, value: Any) -> None:
    """``value`` must be an int ``> 0`` (not a bool): else ``ValueError`` naming ``argument``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{owner}: `{argument}` must be a positive int, got {value!r}")


def get_argument(owner: str, argument: str, getter: Callable[[Any], Any], identifier: Any) -> Any:
    """``getter(identifier)`` (e.g. ``activations.get('relu')``), its errors prefixed with the
    layer and the argument: ``Dense 'dense': `activation`: Unknown activation 'relux' ...``."""
    try:
        return getter(identifier)
    except (ValueError, TypeError) as err:
        raise type(err)(f"{owner}: `{argument}`: {err}") from None


def format_shape(shape: Sequence) -> str:
    """``(None, 28, 28)`` with ``None`` spelled as Keras prints it."""
    inner = ", ".join("None" if d is None else str(int(d)) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def channel_axis_hint(expected: Sequence, given: Sequence) -> str:
    """A hint when ``given`` (batch first) is ``expected`` without its last, channel, axis:
    grayscale images loaded as ``(N, 28, 28)`` for a model that takes ``(N, 28, 28, 1)``."""
    if len(given) != len(expected) - 1 or expected[-1] not in (1, None):
        return ""
    if not all(e is None or g is None or e == g
               for e, g in zip(expected[1:-1], given[1:], strict=True)):
        return ""
    return ("; the data has no channel axis: add one with `x[..., None]` (or "
            "`x.reshape(-1, *x.shape[1:], 1)`)")
