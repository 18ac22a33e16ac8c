"""Adagrad: Keras 3's ``Adagrad``."""

from __future__ import annotations

from typing import Any

from cnnlab.optimizers import rules
from cnnlab.optimizers._utils import LR_0_001, check_epsilon, check_range
from cnnlab.optimizers.optimizer import LearningRate, Optimizer


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), Keras 3 rule::

        acc += g**2;  w -= lr * g / sqrt(acc + epsilon)      (acc starts at
                                                              initial_accumulator_value)

    Defaults as Keras: ``learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7``.
    ``torch.optim.Adagrad`` adds epsilon outside the root and starts ``acc`` at 0.
    """

    _rule = rules.KerasAdagrad
    _hyper = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate: LearningRate = LR_0_001,
                 initial_accumulator_value: float = 0.1, epsilon: float | None = 1e-7,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        owner = type(self).__name__
        self.initial_accumulator_value = check_range(owner, "initial_accumulator_value",
                                                      initial_accumulator_value)
        self.epsilon = check_epsilon(owner, epsilon)
