"""RMSprop: Keras 3's ``RMSprop``."""

from __future__ import annotations

from typing import Any

from cnnlab.optimizers import rules
from cnnlab.optimizers._utils import LR_0_001, check_epsilon, check_range
from cnnlab.optimizers.optimizer import LearningRate, Optimizer


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton), Keras 3 rule::

        v = rho * v + (1 - rho) * g**2
        delta = lr * g / sqrt(v + epsilon)            (centered: sqrt(v - a**2 + epsilon),
        w -= delta   (momentum: m = momentum * m + delta; w -= m)   a = rho*a + (1-rho)*g)

    Defaults as Keras: ``learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
    centered=False``. ``torch.optim.RMSprop`` adds epsilon outside the root and keeps ``lr``
    outside the momentum buffer.
    """

    _rule = rules.KerasRMSprop
    _hyper = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate: LearningRate = LR_0_001, rho: float = 0.9,
                 momentum: float = 0.0, epsilon: float | None = 1e-7, centered: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        owner = type(self).__name__
        self.rho = check_range(owner, "rho", rho, 0.0, 1.0)
        self.momentum = check_range(owner, "momentum", momentum)
        self.epsilon = check_epsilon(owner, epsilon)
        self.centered = bool(centered)
