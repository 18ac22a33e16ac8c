"""Helpers shared by the metric modules."""

from __future__ import annotations

import torch


def ratio(numerator: torch.Tensor, denominator: torch.Tensor) -> float:
    """``numerator / denominator``, or 0.0 when the denominator is 0 (Keras's divide_no_nan)."""
    denominator = float(denominator)
    return float(numerator) / denominator if denominator else 0.0
