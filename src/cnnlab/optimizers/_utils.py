"""Argument checks and signature defaults shared by the optimizer classes."""

from __future__ import annotations

import math
import numbers
import re
from typing import Any


class DefaultRate(float):
    """A signature default that ``lr=`` may replace (an explicit ``learning_rate`` may not)."""


LR_0_01 = DefaultRate(0.01)
LR_0_001 = DefaultRate(0.001)


def snake_case(name: str) -> str:
    """Keras's default optimizer names: ``'Adam' -> 'adam'``, ``'RMSprop' -> 'rm_sprop'``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def check_range(owner: str, name: str, value: Any, low: float = 0.0,
                high: float = math.inf) -> float:
    """``float(value)`` for a real number in ``[low, high]``; else ``TypeError`` (not a number,
    or a bool) or ``ValueError`` (out of range), naming ``owner`` and the argument ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: `{name}` must be a number; received {name}={value!r}")
    if not low <= value <= high:
        raise ValueError(f"{owner}: `{name}` must be in [{low}, {high}]; received {name}={value!r}")
    return float(value)


def check_epsilon(owner: str, epsilon: float | None) -> float:
    """``epsilon=None`` meant Keras 2's ``K.epsilon()``, 1e-7."""
    return 1e-7 if epsilon is None else check_range(owner, "epsilon", epsilon)
