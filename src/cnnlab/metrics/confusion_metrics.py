"""Confusion-matrix metrics at one threshold: ``Precision`` and ``Recall``.

Scores ``y_pred`` and labels ``y_true`` have the same shape ``(N, ...)`` (a trailing axis of size 1
may be missing on one side); ``sample_weight`` has shape ``(N,)`` or a prefix of ``y_pred``'s shape.
"""

from __future__ import annotations

from typing import Any

import torch

from cnnlab.losses import TensorLike, align
from cnnlab.metrics._utils import ratio
from cnnlab.metrics.metric import Metric


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
        """Add this batch's weighted TP, FP and FN counts."""
        y_true, y_pred = align(y_true, y_pred)
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
        """``name``, ``thresholds``, ``top_k`` and ``class_id``."""
        return {"name": self.name, "thresholds": self.thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ConfusionCounts):
    """``TP / (TP + FP)``: the fraction of predicted positives that are positive."""

    def __init__(self, thresholds: float | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str = "precision"):
        super().__init__(thresholds, top_k, class_id, name)

    def result(self) -> float:
        """``TP / (TP + FP)``, 0.0 when nothing was predicted positive."""
        return ratio(self.tp, self.tp + self.fp)


class Recall(_ConfusionCounts):
    """``TP / (TP + FN)``: the fraction of positives that are predicted positive."""

    def __init__(self, thresholds: float | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str = "recall"):
        super().__init__(thresholds, top_k, class_id, name)

    def result(self) -> float:
        """``TP / (TP + FN)``, 0.0 when there were no positives."""
        return ratio(self.tp, self.tp + self.fn)
