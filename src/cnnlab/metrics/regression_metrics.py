"""Regression metrics: the sample mean of a per-sample regression loss."""

from __future__ import annotations

from cnnlab.losses import mean_absolute_error, mean_squared_error
from cnnlab.metrics.metric import MeanMetricWrapper


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``mean((y_true - y_pred) ** 2, axis=-1)`` over samples."""

    def __init__(self, name: str = "mean_squared_error"):
        super().__init__(mean_squared_error, name)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``mean(|y_true - y_pred|, axis=-1)`` over samples."""

    def __init__(self, name: str = "mean_absolute_error"):
        super().__init__(mean_absolute_error, name)
