"""Regression losses: mean squared / absolute / absolute percentage error and Huber.

Each function maps ``y_true``, ``y_pred`` of shape ``(N, ..., D)`` to per-sample losses of shape
``(N, ...)`` (the mean over the last axis); labels of shape ``(N,)`` fit predictions of shape
``(N, 1)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlab.losses._utils import EPSILON, TensorLike, align
from cnnlab.losses.loss import LossFunctionWrapper


def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean((y_true - y_pred) ** 2, axis=-1)``."""
    y_true, y_pred = align(y_true, y_pred)
    return (y_true - y_pred).square().mean(dim=-1)


def mean_absolute_error(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(|y_true - y_pred|, axis=-1)``."""
    y_true, y_pred = align(y_true, y_pred)
    return (y_true - y_pred).abs().mean(dim=-1)


def mean_absolute_percentage_error(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)``."""
    y_true, y_pred = align(y_true, y_pred)
    return 100.0 * ((y_true - y_pred).abs() / y_true.abs().clamp(min=EPSILON)).mean(dim=-1)


def huber(y_true: TensorLike, y_pred: TensorLike, delta: float = 1.0) -> torch.Tensor:
    """``mean(0.5 e^2 if |e| <= delta else delta * (|e| - 0.5 delta), axis=-1)``, ``e = y - p``."""
    y_true, y_pred = align(y_true, y_pred)
    return F.huber_loss(y_pred, y_true, reduction="none", delta=delta).mean(dim=-1)


class MeanSquaredError(LossFunctionWrapper):
    """``mean((y_true - y_pred) ** 2)`` (L2 loss)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_squared_error"):
        super().__init__(mean_squared_error, name, reduction)


class MeanAbsoluteError(LossFunctionWrapper):
    """``mean(|y_true - y_pred|)`` (L1 loss)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_error"):
        super().__init__(mean_absolute_error, name, reduction)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 * mean(|y_true - y_pred| / |y_true|)``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_percentage_error"):
        super().__init__(mean_absolute_percentage_error, name, reduction)


class Huber(LossFunctionWrapper):
    """Quadratic for errors up to ``delta``, linear beyond; see ``huber``."""

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "huber_loss"):
        super().__init__(huber, name, reduction, delta=delta)
