"""The Adam family's shared arguments (Adam, Nadam, Adamax)."""

from __future__ import annotations

from typing import Any

from cnnlab.optimizers._utils import LR_0_001, check_epsilon, check_range
from cnnlab.optimizers.optimizer import LearningRate, Optimizer


class MomentEstimates(Optimizer):
    """Shared arguments of the Adam family: ``beta_1``, ``beta_2``, ``epsilon``."""

    _hyper = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate: LearningRate = LR_0_001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float | None = 1e-7,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        owner = type(self).__name__
        self.beta_1 = check_range(owner, "beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = check_range(owner, "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = check_epsilon(owner, epsilon)
