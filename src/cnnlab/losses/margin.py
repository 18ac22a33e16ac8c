"""Maximum-margin (hinge) loss for classification with labels in ``{-1, 1}`` (or ``{0, 1}``)."""

from __future__ import annotations

import torch

from cnnlab.losses._utils import TensorLike, align
from cnnlab.losses.loss import LossFunctionWrapper


def hinge(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; labels in ``{0, 1}`` become ``{-1, 1}``."""
    y_true, y_pred = align(y_true, y_pred)
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    y_true = torch.where(is_binary, 2.0 * y_true - 1.0, y_true)
    return (1.0 - y_true * y_pred).clamp(min=0.0).mean(dim=-1)


class Hinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0))`` for labels in ``{-1, 1}`` (or ``{0, 1}``)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "hinge"):
        super().__init__(hinge, name, reduction)
