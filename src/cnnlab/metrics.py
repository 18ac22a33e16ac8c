"""Stateful metrics with Keras 3 names and semantics.

A metric accumulates over batches and reports one number:

    >>> m = get("accuracy", loss="sparse_categorical_crossentropy")
    >>> for x, y in batches:
    ...     m.update_state(y, model(x))
    >>> m.result()        # fraction of samples whose argmax equals the label
    >>> m.reset_state()   # start the next epoch

Most metrics are a weighted mean of a per-sample value (``MeanMetricWrapper``):
``result = sum(value_i * w_i) / sum(w_i)``, with ``w_i = 1`` when no ``sample_weight`` is given.
Values are summed on the device as torch tensors; only ``result()`` reads them back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from cnnlab import losses
from cnnlab.losses import TensorLike, match_rank


class Metric:
    """Base class: ``update_state(y_true, y_pred, sample_weight=None)``, ``result() -> float``,
    ``reset_state()``; calling the metric updates it and returns the result, as in Keras."""

    _STATE: tuple[str, ...] = ()

    def __init__(self, name: str | None = None):
        self.name = name or type(self).__name__
        self._device = torch.device("cpu")
        self.reset_state()

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> float:
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
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _ratio(numerator: torch.Tensor, denominator: torch.Tensor) -> float:
    """``numerator / denominator``, or 0.0 when the denominator is 0 (Keras's divide_no_nan)."""
    denominator = float(denominator)
    return float(numerator) / denominator if denominator else 0.0


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
        values = losses.to_float(values)
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
        return _ratio(self.total, self.count)


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
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.fn_kwargs}


# --- per-sample accuracy functions (1.0 = hit, 0.0 = miss) ----------------------------------


def _labels(y_true: TensorLike, y_pred: torch.Tensor) -> torch.Tensor:
    """Integer labels of shape ``y_pred.shape[:-1]`` (a trailing axis of size 1 is dropped)."""
    labels = torch.as_tensor(y_true, device=y_pred.device)
    if labels.dim() == y_pred.dim() and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    return labels


def accuracy(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``y_true == y_pred``, element by element."""
    y_true, y_pred = losses.align(y_true, y_pred)
    return (y_true == y_pred).float()


def binary_accuracy(y_true: TensorLike, y_pred: TensorLike, threshold: float = 0.5) -> torch.Tensor:
    """``y_true == (y_pred > threshold)``, element by element."""
    y_true, y_pred = losses.align(y_true, y_pred)
    return (y_true == (y_pred > threshold).to(y_true.dtype)).float()


def categorical_accuracy(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``argmax(y_true) == argmax(y_pred)`` along the last axis (one-hot labels)."""
    y_pred = torch.as_tensor(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    return (y_true.argmax(-1) == y_pred.argmax(-1)).float()


def sparse_categorical_accuracy(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``y_true == argmax(y_pred)`` for integer labels of shape ``(N,)`` or ``(N, 1)``."""
    y_pred = torch.as_tensor(y_pred)
    return (_labels(y_true, y_pred) == y_pred.argmax(-1)).float()


def _in_top_k(labels: torch.Tensor, y_pred: torch.Tensor, k: int) -> torch.Tensor:
    """1.0 where the label's score is at least the k-th largest score (ties count as hits)."""
    kth = y_pred.topk(min(k, y_pred.shape[-1]), dim=-1).values[..., -1:]
    score = y_pred.gather(-1, labels.long().unsqueeze(-1))
    return (score >= kth).squeeze(-1).float()


def top_k_categorical_accuracy(y_true: TensorLike, y_pred: TensorLike, k: int = 5) -> torch.Tensor:
    """Whether the one-hot label's class is among the ``k`` highest scores."""
    y_pred = torch.as_tensor(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    return _in_top_k(y_true.argmax(-1), y_pred, k)


def sparse_top_k_categorical_accuracy(
    y_true: TensorLike, y_pred: TensorLike, k: int = 5
) -> torch.Tensor:
    """Whether the integer label is among the ``k`` highest scores."""
    y_pred = torch.as_tensor(y_pred)
    return _in_top_k(_labels(y_true, y_pred), y_pred, k)


# --- metric classes -------------------------------------------------------------------------


class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly (for already-decoded predictions)."""

    def __init__(self, name: str = "accuracy"):
        super().__init__(accuracy, name)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 label."""

    def __init__(self, threshold: float = 0.5, name: str = "binary_accuracy"):
        super().__init__(binary_accuracy, name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches ``argmax`` of the one-hot label."""

    def __init__(self, name: str = "categorical_accuracy"):
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches the integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy"):
        super().__init__(sparse_categorical_accuracy, name)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the ``k`` top-scored classes."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy"):
        super().__init__(top_k_categorical_accuracy, name, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` top-scored classes."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy"):
        super().__init__(sparse_top_k_categorical_accuracy, name, k=k)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``mean((y_true - y_pred) ** 2, axis=-1)`` over samples."""

    def __init__(self, name: str = "mean_squared_error"):
        super().__init__(losses.mean_squared_error, name)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``mean(|y_true - y_pred|, axis=-1)`` over samples."""

    def __init__(self, name: str = "mean_absolute_error"):
        super().__init__(losses.mean_absolute_error, name)


class _ConfusionCounts(Metric):
    """Weighted true-positive / false-positive / false-negative counts at one threshold.

    An entry is predicted positive when ``y_pred > thresholds`` (default 0.5); a label is
    positive when nonzero. ``top_k`` keeps only each sample's ``k`` highest scores (threshold
    then defaults to -inf); ``class_id`` looks at one class column only.
    """

    _STATE = ("tp", "fp", "fn")

    def __init__(
        self,
        thresholds: float | None = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
    ):
        if thresholds is not None and not isinstance(thresholds, (int, float)):
            raise TypeError(f"thresholds must be a single number or None; got {thresholds!r}.")
        super().__init__(name)
        self.thresholds, self.top_k, self.class_id = thresholds, top_k, class_id

    @torch.no_grad()
    def update_state(
        self, y_true: TensorLike, y_pred: TensorLike, sample_weight: TensorLike | None = None
    ) -> None:
        y_true, y_pred = losses.align(y_true, y_pred)
        threshold = self.thresholds
        if self.top_k is not None:
            top = y_pred.topk(self.top_k, dim=-1).indices
            keep = torch.zeros_like(y_pred, dtype=torch.bool).scatter_(-1, top, True)
            y_pred = y_pred.masked_fill(~keep, float("-inf"))
            threshold = float("-inf") if threshold is None else threshold
        threshold = 0.5 if threshold is None else threshold
        predicted, actual = y_pred > threshold, y_true != 0
        weight = torch.ones_like(y_pred)
        if sample_weight is not None:
            sw = torch.as_tensor(sample_weight, dtype=y_pred.dtype, device=y_pred.device)
            sw = sw.reshape(sw.shape + (1,) * (y_pred.dim() - sw.dim()))
            weight = weight * sw
        if self.class_id is not None:
            predicted, actual = predicted[..., self.class_id], actual[..., self.class_id]
            weight = weight[..., self.class_id]
        self._add(
            tp=(weight * (predicted & actual)).sum(),
            fp=(weight * (predicted & ~actual)).sum(),
            fn=(weight * (~predicted & actual)).sum(),
        )

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "thresholds": self.thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ConfusionCounts):
    """``TP / (TP + FP)``: the fraction of predicted positives that are positive."""

    def __init__(self, thresholds: float | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str = "precision"):
        super().__init__(thresholds, top_k, class_id, name)

    def result(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)


class Recall(_ConfusionCounts):
    """``TP / (TP + FN)``: the fraction of positives that are predicted positive."""

    def __init__(self, thresholds: float | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str = "recall"):
        super().__init__(thresholds, top_k, class_id, name)

    def result(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)


# --- 'accuracy' resolution and lookup -------------------------------------------------------


def _accuracy_for_shapes(y_true: torch.Tensor, y_pred: torch.Tensor) -> Callable:
    """Keras 3's rule: binary for a 1-unit output, sparse for index labels, else categorical."""
    if y_pred.shape[-1] == 1:
        return binary_accuracy
    if y_true.dim() < y_pred.dim() or y_true.shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy


class _ShapeResolvedAccuracy(MeanMetricWrapper):
    """``'accuracy'`` whose kind is chosen from the shapes of the first batch it sees."""

    def __init__(self, name: str = "accuracy"):
        super().__init__(None, name)

    @torch.no_grad()
    def update_state(
        self, y_true: TensorLike, y_pred: TensorLike, sample_weight: TensorLike | None = None
    ) -> None:
        if self.fn is None:
            self.fn = _accuracy_for_shapes(torch.as_tensor(y_true), torch.as_tensor(y_pred))
        super().update_state(y_true, y_pred, sample_weight)


def _accuracy(name: str, loss: Any, output_shape: Sequence[int | None] | None) -> Metric:
    loss = losses.get(loss)
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        return SparseCategoricalAccuracy(name=name)
    if isinstance(loss, losses.CategoricalCrossentropy):
        return CategoricalAccuracy(name=name)
    if isinstance(loss, losses.BinaryCrossentropy) or (output_shape and output_shape[-1] == 1):
        return BinaryAccuracy(name=name)
    return _ShapeResolvedAccuracy(name)


_CLASSES: dict[str, type[Metric]] = {
    cls.__name__: cls
    for cls in (
        Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
        TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
        MeanAbsoluteError, Precision, Recall,
    )
}
_NAMES: dict[str, type[Metric]] = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "precision": Precision, "recall": Recall, "mean": Mean,
    **_CLASSES,
}


def get(
    identifier: str | dict | Metric | Callable[..., torch.Tensor],
    loss: Any = None,
    output_shape: Sequence[int | None] | None = None,
) -> Metric:
    """The ``Metric`` for a Keras identifier; a string identifier becomes its ``name``.

    ``'accuracy'``/``'acc'`` resolve as in Keras: sparse categorical accuracy for a
    sparse-categorical-crossentropy ``loss``, categorical accuracy for categorical
    crossentropy, binary accuracy for binary crossentropy or a 1-unit ``output_shape``;
    otherwise from the shapes of the first batch (Keras 3's rule). Other names: metric names
    (``'mse'``, ``'top_k_categorical_accuracy'``, ``'Precision'``, ...) and loss names
    (``'categorical_crossentropy'``: the mean loss). Also a ``Metric`` (returned as is) or class,
    a config dict ``{'class_name': ..., 'config': {...}}``, or a function
    ``fn(y_true, y_pred) -> per-sample values`` (a mean metric named ``fn.__name__``).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, losses.Loss):
        return MeanMetricWrapper(identifier.call, name=identifier.name)
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _accuracy(identifier, loss, output_shape)
        cls = _NAMES.get(identifier, _NAMES.get(identifier.lower()))
        if cls is not None:
            return cls(name=identifier)
        try:
            loss_fn = losses.get(identifier)
        except ValueError:
            raise ValueError(
                f"Unknown metric {identifier!r}; expected 'accuracy', one of {sorted(_NAMES)}, "
                "a loss name, a Metric or a function fn(y_true, y_pred)."
            ) from None
        return MeanMetricWrapper(loss_fn.call, name=identifier)
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(
                f"A metric config dict needs 'class_name' naming one of {sorted(_CLASSES)}; "
                f"got {identifier!r}."
            )
        return cls.from_config(identifier.get("config") or {})
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(
        f"metric must be a name, config dict, Metric or callable; got "
        f"{type(identifier).__name__} {identifier!r}."
    )


__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "Mean",
    "MeanAbsoluteError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "Metric",
    "Precision",
    "Recall",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "get",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]
