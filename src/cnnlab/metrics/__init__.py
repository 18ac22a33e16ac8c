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

Modules, one family each: ``metric`` (``Metric``, ``Mean``, ``MeanMetricWrapper``),
``accuracy_metrics``, ``confusion_metrics`` (``Precision``, ``Recall``), ``regression_metrics``
(``MeanSquaredError``, ``MeanAbsoluteError``), ``registry`` (``get``).
"""

from cnnlab.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from cnnlab.metrics.confusion_metrics import Precision, Recall
from cnnlab.metrics.metric import Mean, MeanMetricWrapper, Metric
from cnnlab.metrics.registry import get
from cnnlab.metrics.regression_metrics import MeanAbsoluteError, MeanSquaredError

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
