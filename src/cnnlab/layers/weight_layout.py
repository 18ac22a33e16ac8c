"""How a layer's weight stored in PyTorch layout maps to Keras layout and back.

A ``Conv2D`` kernel is ``(out, in, kh, kw)`` in PyTorch and ``(kh, kw, in, out)`` in Keras;
``get_weights``/``set_weights``, constraints and the Keras weight files all work in Keras layout
through the ``WeightLayout`` each layer lists in ``keras_weights()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["SAME_LAYOUT", "WeightLayout", "permuted_layout"]


@dataclass(frozen=True)
class WeightLayout:
    """How a weight stored in PyTorch layout maps to Keras layout and back:
    ``to_keras(torch_weight)`` and its inverse ``from_keras(keras_weight)``."""

    to_keras: Callable[[torch.Tensor], torch.Tensor]
    from_keras: Callable[[torch.Tensor], torch.Tensor]


SAME_LAYOUT = WeightLayout(lambda t: t, lambda t: t)


def permuted_layout(perm: Sequence[int]) -> WeightLayout:
    """Layout whose Keras form is ``torch_weight.permute(perm)``.

    Example: ``permuted_layout((1, 0))`` maps a ``Dense`` kernel ``(units, n_in)`` to Keras's
    ``(n_in, units)``.
    """
    inverse = tuple(int(i) for i in np.argsort(perm))
    return WeightLayout(lambda t: t.permute(*perm), lambda t: t.permute(*inverse))
