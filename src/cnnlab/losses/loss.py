"""The ``Loss`` base class, its reductions and ``LossFunctionWrapper``.

A ``Loss`` object maps ``(y_true, y_pred, sample_weight=None)`` to a scalar: its ``call`` gives
per-sample losses (one value per sample, the last axis reduced), which are reduced Keras's
``'sum_over_batch_size'`` way: ``sum(per_sample * sample_weight) / number_of_per_sample_values``
(the weights do *not* change the divisor).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from cnnlab.losses._utils import TensorLike, match_rank

_REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "none", None)


def _reduce(
    values: torch.Tensor,
    sample_weight: TensorLike | None,
    mask: torch.Tensor | None,
    reduction: str | None,
) -> torch.Tensor:
    """Weight per-sample ``values`` by ``sample_weight`` (and ``mask``) and reduce them.

    With a mask and ``'sum_over_batch_size'`` the masked-out values leave the divisor too.
    """
    weight = None
    if mask is not None:
        weight = mask.to(values.dtype)
        if reduction in ("sum_over_batch_size", "mean"):
            weight = weight * (weight.numel() / weight.sum().clamp(min=1.0))
    if sample_weight is not None:
        sw = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
        weight = sw if weight is None else torch.mul(*match_rank(weight, sw))
    if weight is not None:
        values = torch.mul(*match_rank(values, weight))
    if reduction in ("none", None):
        return values
    total = values.sum()
    return total if reduction == "sum" else total / max(values.numel(), 1)


class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None) -> scalar tensor``.

    Subclasses implement ``call(y_true, y_pred) -> per-sample losses``. ``reduction`` is
    ``'sum_over_batch_size'`` (Keras's default; ``'mean'`` is the same), ``'sum'`` or
    ``'none'``.
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}; got {reduction!r}.")
        self.name = name or type(self).__name__
        self.reduction = reduction

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
        """Per-sample losses: ``y_pred`` of shape ``(N, ..., C)`` gives ``(N, ...)``."""
        raise NotImplementedError

    def mask(self, y_true: TensorLike, values: torch.Tensor) -> torch.Tensor | None:
        """Which per-sample values count (``None``: all of them)."""
        return None

    def __call__(
        self, y_true: TensorLike, y_pred: TensorLike, sample_weight: TensorLike | None = None
    ) -> torch.Tensor:
        values = self.call(y_true, y_pred)
        return _reduce(values, sample_weight, self.mask(y_true, values), self.reduction)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, ``{'name': ..., 'reduction': ..., ...}``."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """``cls(**config)``, the inverse of ``get_config``."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(
        self,
        fn: Callable[..., torch.Tensor],
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        **kwargs: Any,
    ):
        super().__init__(name or getattr(fn, "__name__", None), reduction)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
        """``fn(y_true, y_pred, **kwargs)``."""
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        """``name``, ``reduction`` and the keyword arguments passed on to ``fn``."""
        return {**super().get_config(), **self.fn_kwargs}
