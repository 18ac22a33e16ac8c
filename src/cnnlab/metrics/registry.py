"""Metric lookup by Keras identifier (``get``), including how ``'accuracy'`` is resolved."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from cnnlab import losses
from cnnlab.losses import TensorLike
from cnnlab.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)
from cnnlab.metrics.confusion_metrics import Precision, Recall
from cnnlab.metrics.metric import Mean, MeanMetricWrapper, Metric
from cnnlab.metrics.regression_metrics import MeanAbsoluteError, MeanSquaredError


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
