"""Checks of the arguments of :class:`~cnnlab.data.image_generator.ImageDataGenerator`.

Error messages name ``ImageDataGenerator`` and the argument, as the constructor raises them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def number(value: Any, name: str, low: float | None = 0.0) -> float:
    """``value`` as a float; ``TypeError`` if it is not a number (bools are not), ``ValueError``
    if it is below ``low`` (``None``: no bound)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"ImageDataGenerator: `{name}` must be a number, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"ImageDataGenerator: `{name}` must be >= {low}, got {value!r}")
    return float(value)


def shift_spec(value: Any, name: str) -> Any:
    """A shift range as Keras takes it: a float (fraction if < 1, else pixels), an int ``k``
    (whole pixels from ``{-(k-1), ..., k-1}``) or a list of choices (with random sign)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        values = [number(v, name, low=None) for v in np.asarray(value).reshape(-1)]
        if not values:
            raise ValueError(f"ImageDataGenerator: `{name}` must not be an empty list")
        return values
    number(value, name)
    return value


def pair(value: Any, name: str) -> tuple[float, float]:
    """A ``(low, high)`` range given as a tuple or list of two numbers."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"ImageDataGenerator: `{name}` must be a tuple or list of two floats, "
                         f"got {value!r}")
    return number(value[0], name, None), number(value[1], name, None)

