"""Gradient descent with optional (Nesterov) momentum: Keras 3's ``SGD``."""

from __future__ import annotations

from typing import Any

from cnnlab.optimizers import rules
from cnnlab.optimizers._utils import LR_0_01, check_range
from cnnlab.optimizers.optimizer import LearningRate, Optimizer


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, Keras 3 rule::

        m = momentum * m - lr * g;  w += m        (nesterov: w += momentum * m - lr * g)

    Defaults as Keras: ``learning_rate=0.01, momentum=0.0, nesterov=False``.
    ``torch.optim.SGD`` steps ``lr * b`` with ``b = momentum * b + g``: the same while ``lr`` is
    constant, but after a learning-rate change Keras's velocity still carries the old rates.
    Example: ``SGD(learning_rate=0.01, momentum=0.9, nesterov=True)``.
    """

    _rule = rules.KerasSGD
    _hyper = ("momentum", "nesterov")

    def __init__(self, learning_rate: LearningRate = LR_0_01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        self.momentum = check_range(type(self).__name__, "momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)
