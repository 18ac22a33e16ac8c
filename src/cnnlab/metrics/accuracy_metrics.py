"""Accuracy metrics: per-sample hit functions (1.0 = hit, 0.0 = miss) and their mean metrics.

Scores ``y_pred`` have shape ``(N, ..., C)`` (class axis last); one-hot labels the same shape,
integer labels ``(N, ...)`` or ``(N, ..., 1)``.
"""

from __future__ import annotations

import torch

from cnnlab.losses import TensorLike, align
from cnnlab.metrics.metric import MeanMetricWrapper


def _labels(y_true: TensorLike, y_pred: torch.Tensor) -> torch.Tensor:
    """Integer labels of shape ``y_pred.shape[:-1]`` (a trailing axis of size 1 is dropped)."""
    labels = torch.as_tensor(y_true, device=y_pred.device)
    if labels.dim() == y_pred.dim() and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    return labels


def accuracy(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``y_true == y_pred``, element by element."""
    y_true, y_pred = align(y_true, y_pred)
    return (y_true == y_pred).float()


def binary_accuracy(y_true: TensorLike, y_pred: TensorLike, threshold: float = 0.5) -> torch.Tensor:
    """``y_true == (y_pred > threshold)``, element by element."""
    y_true, y_pred = align(y_true, y_pred)
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
