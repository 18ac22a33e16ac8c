"""Adadelta: Keras 3's ``Adadelta``."""

from __future__ import annotations

from typing import Any

import torch

from cnnlab.optimizers._utils import LR_0_001, check_epsilon, check_range
from cnnlab.optimizers.optimizer import LearningRate, Optimizer


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012), Keras 3 rule::

        E[g2] = rho * E[g2] + (1 - rho) * g**2
        d = -sqrt(E[dx2] + epsilon) / sqrt(E[g2] + epsilon) * g
        E[dx2] = rho * E[dx2] + (1 - rho) * d**2;   w += lr * d

    Defaults as Keras 3: ``learning_rate=0.001, rho=0.95, epsilon=1e-7`` (Keras 2 used
    ``lr=1.0``). This is exactly ``torch.optim.Adadelta(lr, rho, eps=epsilon)``, which runs
    here with ``foreach=True``; only torch's defaults differ (``lr=1.0, rho=0.9, eps=1e-6``).
    """

    _hyper = ("rho", "epsilon")

    def __init__(self, learning_rate: LearningRate = LR_0_001, rho: float = 0.95,
                 epsilon: float | None = 1e-7, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        owner = type(self).__name__
        self.rho = check_range(owner, "rho", rho, 0.0, 1.0)
        self.epsilon = check_epsilon(owner, epsilon)

    def _make_torch_optimizer(self, params: list[torch.Tensor]) -> torch.optim.Optimizer:
        return torch.optim.Adadelta(params, lr=self._step_lr(), rho=self.rho, eps=self.epsilon,
                                    foreach=True)
