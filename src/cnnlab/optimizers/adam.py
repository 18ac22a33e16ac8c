"""Adam: Keras 3's ``Adam`` (with AMSGrad)."""

from __future__ import annotations

from typing import Any

from cnnlab.optimizers import rules
from cnnlab.optimizers._moments import MomentEstimates
from cnnlab.optimizers._utils import LR_0_001
from cnnlab.optimizers.optimizer import LearningRate


class Adam(MomentEstimates):
    """Adam (Kingma & Ba), Keras 3 rule with "epsilon hat"::

        m = beta_1 * m + (1 - beta_1) * g;   v = beta_2 * v + (1 - beta_2) * g**2
        lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w -= lr_t * m / (sqrt(v) + epsilon)          (amsgrad: v -> running max of v)

    Defaults as Keras: ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
    amsgrad=False``. ``torch.optim.Adam`` adds ``eps=1e-8`` to ``sqrt(v / (1 - beta_2**t))``
    instead, i.e. a smaller effective epsilon early in training.
    """

    _rule = rules.KerasAdam
    _hyper = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, learning_rate: LearningRate = LR_0_001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float | None = 1e-7, amsgrad: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, clipnorm,
                         clipvalue, global_clipnorm, name, **kwargs)
        self.amsgrad = bool(amsgrad)
