"""Nadam: Keras 3's ``Nadam`` (Adam with Nesterov momentum)."""

from __future__ import annotations

from cnnlab.optimizers import rules
from cnnlab.optimizers._moments import MomentEstimates


class Nadam(MomentEstimates):
    """Adam with Nesterov momentum (Dozat 2016), Keras 3 rule with
    ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` and ``P_t = u_1 * ... * u_t``::

        m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)
        w -= lr * m_hat / (sqrt(v / (1 - beta_2**t)) + epsilon)      (m, v as in Adam)

    Defaults as Keras: ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7``.
    ``torch.optim.NAdam`` uses ``0.96**(0.004 * t)`` and torch's epsilon placement.
    """

    _rule = rules.KerasNadam
