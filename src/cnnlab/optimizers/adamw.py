"""AdamW: Keras 3's ``AdamW`` (Adam with decoupled weight decay)."""

from __future__ import annotations

from typing import Any

from cnnlab.optimizers._utils import LR_0_001
from cnnlab.optimizers.adam import Adam
from cnnlab.optimizers.optimizer import LearningRate


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): before each Adam update
    ``w -= lr_t * weight_decay * w``. Keras default ``weight_decay=0.004`` (torch's is 0.01);
    other defaults as :class:`Adam`."""

    def __init__(self, learning_rate: LearningRate = LR_0_001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float | None = 1e-7,
                 amsgrad: bool = False, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        if weight_decay is None:
            raise ValueError("AdamW: `weight_decay` must be a float; received weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm,
                         clipvalue, global_clipnorm, name, **kwargs)
