"""Weight regularizers (weight decay as a loss term), with Keras 3 names and defaults.

A regularizer maps a weight tensor to a scalar penalty that the model adds to the loss:

    L1(l1)(w)       = l1 * sum(|w|)
    L2(l2)(w)       = l2 * sum(w ** 2)
    L1L2(l1, l2)(w) = l1 * sum(|w|) + l2 * sum(w ** 2)

``Dense(64, kernel_regularizer=l2(0.01))`` adds ``0.01 * sum(W ** 2)`` to the training loss. The
penalty does not depend on the weight layout. As in Keras, the lowercase ``l1``, ``l2``, ``l1_l2``
are the classes themselves, so ``l2(0.01)`` returns an ``L2`` object.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any

import torch

RegularizerLike = Callable[[torch.Tensor], torch.Tensor]


def _factor(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < math.inf:
        raise ValueError(f"{name} must be a finite number >= 0; got {name}={value!r}.")
    return float(value)


class Regularizer:
    """Base class: ``reg(weight) -> scalar tensor`` and ``get_config()``."""

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``; both factors default to 0, as in Keras."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _factor("l1", l1)
        self.l2 = _factor("l2", l2)

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        penalty = weight.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * weight.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * weight.square().sum()
        return penalty

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|w|)`` (lasso); pushes weights to exactly zero."""

    def __init__(self, l1: float = 0.01):
        self.l1 = _factor("l1", l1)

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        return self.l1 * weight.abs().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(w ** 2)`` (weight decay); the gradient adds ``2 * l2 * w``."""

    def __init__(self, l2: float = 0.01):
        self.l2 = _factor("l2", l2)

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        return self.l2 * weight.square().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


l1 = L1
l2 = L2
l1_l2 = L1L2

_CLASSES: dict[str, type[Regularizer]] = {"L1": L1, "L2": L2, "L1L2": L1L2}
_LOOKUP = {**_CLASSES, "l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier: str | dict | RegularizerLike | None) -> RegularizerLike | None:
    """The regularizer for a Keras identifier, or ``None`` for ``None``.

    Accepts ``'l1'``, ``'l2'``, ``'l1_l2'`` (or the class names; default factors), a config dict
    ``{'class_name': 'L2', 'config': {'l2': 0.001}}``, a ``Regularizer`` or a callable
    ``fn(weight) -> scalar``.
    """
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                "A regularizer config dict needs a 'class_name' key (and optionally "
                f"'config'); got keys {sorted(identifier)}."
            )
        return _lookup(identifier["class_name"]).from_config(identifier.get("config") or {})
    if callable(identifier):
        return identifier
    raise TypeError(
        "regularizer must be a name, config dict, Regularizer, callable or None; got "
        f"{type(identifier).__name__} {identifier!r}."
    )


def _lookup(name: str) -> type[Regularizer]:
    cls = _LOOKUP.get(name)
    if cls is None:
        raise ValueError(f"Unknown regularizer {name!r}; expected one of {sorted(_LOOKUP)}.")
    return cls


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    """``{'class_name': ..., 'config': ...}``, the form ``get`` reads back; ``None`` stays."""
    if regularizer is None:
        return None
    if type(regularizer).__name__ not in _CLASSES:
        raise ValueError(
            f"Cannot serialize {regularizer!r}: only the built-in regularizers "
            f"{sorted(_CLASSES)} have a name to save."
        )
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


__all__ = [
    "L1",
    "L1L2",
    "L2",
    "Regularizer",
    "RegularizerLike",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "serialize",
]
