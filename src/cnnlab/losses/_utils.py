"""Tensor helpers shared by the losses and the metrics: dtype, device and rank alignment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

EPSILON = 1e-7  # keras.backend.epsilon()

TensorLike = torch.Tensor | np.ndarray | Sequence[Any] | float


def to_float(y_pred: TensorLike) -> torch.Tensor:
    """``y_pred`` as a floating tensor; half precision is computed in float32, as Keras does."""
    y_pred = torch.as_tensor(y_pred)
    if not y_pred.is_floating_point() or y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.float()
    return y_pred


def match_rank(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Equalize ranks differing by one trailing axis of size 1: ``(N,)`` vs ``(N, 1)``.

    The rank-1 side is expanded; otherwise the size-1 axis is squeezed (Keras's
    ``squeeze_or_expand_to_same_rank``). Prevents ``(N,) - (N, 1)`` broadcasting to ``(N, N)``.
    """
    if a.dim() == b.dim() + 1 and a.shape[-1] == 1:
        return (a, b.unsqueeze(-1)) if b.dim() == 1 else (a.squeeze(-1), b)
    if b.dim() == a.dim() + 1 and b.shape[-1] == 1:
        return (a.unsqueeze(-1), b) if a.dim() == 1 else (a, b.squeeze(-1))
    return a, b


def align(y_true: TensorLike, y_pred: TensorLike) -> tuple[torch.Tensor, torch.Tensor]:
    """``(y_true, y_pred)`` as float tensors of ``y_pred``'s dtype and device, ranks matched."""
    y_pred = to_float(y_pred)
    y_true = torch.as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return match_rank(y_true, y_pred)
