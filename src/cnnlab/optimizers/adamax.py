"""Adamax: Keras 3's ``Adamax`` (Adam on the infinity norm)."""

from __future__ import annotations

from cnnlab.optimizers import rules
from cnnlab.optimizers._moments import MomentEstimates


class Adamax(MomentEstimates):
    """Adam on the infinity norm (Kingma & Ba, section 7), Keras 3 rule::

        m = beta_1 * m + (1 - beta_1) * g;   u = max(beta_2 * u, |g|)
        w -= lr * m / ((1 - beta_1**t) * (u + epsilon))

    Defaults as Keras: ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7``.
    ``torch.optim.Adamax`` adds epsilon to ``|g|`` inside the maximum instead.
    """

    _rule = rules.KerasAdamax
