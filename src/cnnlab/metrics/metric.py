"""The ``Metric`` base class and the weighted means ``Mean`` and ``MeanMetricWrapper``.

A metric accumulates over batches and reports one number. Accumulators are torch tensors summed
on the device of the values; only ``result()`` reads them back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from cnnlab.losses import TensorLike, match_rank, to_float
from cnnlab.metrics._utils import ratio


class Metric:
    """Base class: ``update_state(y_true, y_pred, sample_weight=None)``, ``result() -> float``,
    ``reset_state()``; calling the metric updates it and returns the result, as in Keras."""

    _STATE: tuple[str, ...] = ()

    def __init__(self, name: str | None = None):
        self.name = name or type(self).__name__
        self._device = torch.device("cpu")
        self.reset_state()

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Accumulate one batch."""
        raise NotImplementedError

    def result(self) -> float:
        """The metric over everything accumulated since the last ``reset_state``."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Set every accumulator to zero (keeping it on its device)."""
        for key in self._STATE:
            setattr(self, key, torch.zeros((), device=self._device))

    def _add(self, **increments: torch.Tensor | float) -> None:
        """Add to the accumulators, on the device of the first tensor increment."""
        device = next(v.device for v in increments.values() if isinstance(v, torch.Tensor))
        if device != self._device:
            self._device = device
            for key in self._STATE:
                setattr(self, key, getattr(self, key).to(device))
        for key, value in increments.items():
            if isinstance(value, torch.Tensor):
                value = value.to(torch.float32)
            getattr(self, key).add_(value)

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, ``{'name': ..., ...}``."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """``cls(**config)``, the inverse of ``get_config``."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class Mean(Metric):
    """Weighted mean of ``values`` over all updates: ``sum(v * w) / sum(w)``.

    Values with more axes than ``sample_weight`` are first averaged over the extra axes, so each
    sample counts once (weighted). For loss tracking call ``update_state(loss, batch_size)``.
    """

    _STATE = ("total", "count")

    def __init__(self, name: str = "mean"):
        super().__init__(name)

    @torch.no_grad()
    def update_state(self, values: TensorLike, sample_weight: TensorLike | None = None) -> None:
        """Add ``values`` of shape ``(N, ...)``, weighted by ``sample_weight`` (default 1 each)."""
        values = to_float(values)
        if sample_weight is None:
            values = _per_sample(values)
            self._add(total=values.sum(), count=values.numel())
            return
        weight = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
        values, weight = match_rank(values, weight)
        if values.dim() > weight.dim():
            values = values.mean(dim=tuple(range(weight.dim(), values.dim())))
        weight = weight.broadcast_to(values.shape)
        self._add(total=_per_sample(values * weight).sum(), count=_per_sample(weight).sum())

    def result(self) -> float:
        """``total / count`` (0.0 before any update)."""
        return ratio(self.total, self.count)


def _per_sample(x: torch.Tensor) -> torch.Tensor:
    """One value per sample: the mean over every axis after the first."""
    return x.reshape(x.shape[0], -1).mean(1) if x.dim() > 1 else x


class MeanMetricWrapper(Mean):
    """Weighted mean of a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(
        self, fn: Callable[..., torch.Tensor] | None, name: str | None = None, **kwargs: Any
    ):
        super().__init__(name or getattr(fn, "__name__", "mean_metric"))
        self.fn = fn
        self.fn_kwargs = kwargs

    @torch.no_grad()
    def update_state(
        self, y_true: TensorLike, y_pred: TensorLike, sample_weight: TensorLike | None = None
    ) -> None:
        """Add ``fn(y_true, y_pred, **kwargs)``, weighted by ``sample_weight``."""
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)

    def get_config(self) -> dict[str, Any]:
        """``name`` and the keyword arguments passed on to ``fn``."""
        return {"name": self.name, **self.fn_kwargs}
