"""Weight constraints, applied after each optimizer step (Keras's ``kernel_constraint=``).

Each works on the weight in **Keras layout** (a conv kernel is ``(kh, kw, in, out)``), so the
``axis`` arguments mean what they mean in Keras: ``MaxNorm(3, axis=[0, 1, 2])`` bounds the norm
of each filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def _norms(w: torch.Tensor, axis: int | Sequence[int]) -> torch.Tensor:
    dims = [axis] if isinstance(axis, int) else list(axis)
    return torch.sqrt(torch.sum(w * w, dim=dims, keepdim=True))


class Constraint:
    """Base: ``constraint(w) -> projected w``."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict:
        return {}


class MaxNorm(Constraint):
    """Scale each slice along ``axis`` so its L2 norm is at most ``max_value``:
    ``w · clip(n, 0, m) / (ε + n)`` with ``ε = 1e-7``."""

    def __init__(self, max_value: float = 2.0, axis: int | Sequence[int] = 0):
        self.max_value, self.axis = float(max_value), axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = _norms(w, self.axis)
        return w * (norms.clamp(0, self.max_value) / (1e-7 + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Norms moved towards ``[min_value, max_value]`` at ``rate`` (1 = hard projection)."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: int | Sequence[int] = 0):
        self.min_value, self.max_value = float(min_value), float(max_value)
        self.rate, self.axis = float(rate), axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) \
            + (1 - self.rate) * norms
        return w * (desired / (1e-7 + norms))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class NonNeg(Constraint):
    """Negative weights become 0."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w.clamp_min(0)


class UnitNorm(Constraint):
    """Each slice along ``axis`` scaled to L2 norm 1: ``w / (ε + n)``."""

    def __init__(self, axis: int | Sequence[int] = 0):
        self.axis = axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w / (1e-7 + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


_CLASSES = {cls.__name__: cls for cls in (MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
_NAMES = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg,
          "unit_norm": UnitNorm}
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm
maxnorm, nonneg, unitnorm = MaxNorm, NonNeg, UnitNorm  # Keras 1 spellings


def get(identifier: Any) -> Constraint | None:
    """A constraint from a name (``'max_norm'``), class name, config dict or instance."""
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown constraint {identifier!r}; known: "
                             f"{sorted(_NAMES) + sorted(_CLASSES)}")
        return cls()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"constraint must be a name, config dict or callable, got {identifier!r}")


def serialize(constraint: Constraint | None) -> dict | None:
    """A constraint as Keras's ``{"class_name", "config"}`` (``None`` stays ``None``)."""
    if constraint is None:
        return None
    name = type(constraint).__name__
    if name not in _CLASSES:
        raise ValueError(f"cannot serialize the custom constraint {constraint!r}")
    return {"class_name": name, "config": constraint.get_config()}


__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "get",
    "max_norm",
    "maxnorm",
    "nonneg",
    "unitnorm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]
