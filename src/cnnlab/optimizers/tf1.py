"""TensorFlow 1 optimizer constructors (``tf.train.*Optimizer``) for old lecture code.

Each factory takes TF1's arguments and defaults and returns a cnnlab optimizer that applies
TF1's update rule::

    opt = tf.train.AdamOptimizer(learning_rate=0.001)   # cnnlab.tf.train is this module
    model.compile(optimizer=opt, loss='categorical_crossentropy')

``use_locking`` is accepted and ignored (updates here are never concurrent).
Where TF1's rule is not Keras 3's (Momentum, RMSProp, Adagrad) the docstring says how it differs.
"""

from __future__ import annotations

import torch

from cnnlab.optimizers import rules
from cnnlab.optimizers.adadelta import Adadelta
from cnnlab.optimizers.adagrad import Adagrad
from cnnlab.optimizers.adam import Adam
from cnnlab.optimizers.optimizer import LearningRate
from cnnlab.optimizers.registry import register
from cnnlab.optimizers.rmsprop import RMSprop
from cnnlab.optimizers.sgd import SGD


@register
class TF1Momentum(SGD):
    """TF1's momentum rule ``a = momentum * a + g; w -= lr * a`` (Nesterov:
    ``w -= lr * (g + momentum * a)``), which is ``torch.optim.SGD`` with ``foreach=True``.
    Equal to Keras's :class:`~cnnlab.optimizers.SGD` while the learning rate is constant; after a
    change, TF1 rescales the whole velocity at once."""

    def _make_torch_optimizer(self, params: list[torch.Tensor]) -> torch.optim.Optimizer:
        return torch.optim.SGD(params, lr=self._step_lr(), momentum=self.momentum,
                               nesterov=self.nesterov, foreach=True)


@register
class TF1RMSProp(RMSprop):
    """TF1's RMSProp: Keras's rule, but the mean square ``v`` starts at 1, not 0, so early
    steps are about ``lr * g`` instead of Keras's ``lr * g / sqrt(0.1 * g**2)``."""

    def _make_torch_optimizer(self, params: list[torch.Tensor]) -> torch.optim.Optimizer:
        return rules.KerasRMSprop(params, lr=self._step_lr(), rho=self.rho,
                                  momentum=self.momentum, epsilon=self.epsilon,
                                  centered=self.centered, initial_velocity=1.0)


def GradientDescentOptimizer(learning_rate: LearningRate, use_locking: bool = False,
                             name: str = "GradientDescent") -> SGD:
    """``tf.train.GradientDescentOptimizer``: ``w -= learning_rate * g``."""
    return SGD(learning_rate=learning_rate, name=name)


def MomentumOptimizer(learning_rate: LearningRate, momentum: float, use_locking: bool = False,
                      name: str = "Momentum", use_nesterov: bool = False) -> TF1Momentum:
    """``tf.train.MomentumOptimizer``: ``a = momentum * a + g; w -= learning_rate * a``."""
    return TF1Momentum(learning_rate=learning_rate, momentum=momentum, nesterov=use_nesterov,
                       name=name)


def AdamOptimizer(learning_rate: LearningRate = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                  epsilon: float = 1e-08, use_locking: bool = False, name: str = "Adam") -> Adam:
    """``tf.train.AdamOptimizer``: TF1's rule is Keras 3's "epsilon hat" Adam,
    ``w -= lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) + epsilon)``; only the
    default ``epsilon=1e-8`` differs (Keras: 1e-7)."""
    return Adam(learning_rate=learning_rate, beta_1=beta1, beta_2=beta2, epsilon=epsilon,
                name=name)


def RMSPropOptimizer(learning_rate: LearningRate, decay: float = 0.9, momentum: float = 0.0,
                     epsilon: float = 1e-10, use_locking: bool = False, centered: bool = False,
                     name: str = "RMSProp") -> TF1RMSProp:
    """``tf.train.RMSPropOptimizer``; ``decay`` is the mean-square decay (Keras's ``rho``)::

        v = decay * v + (1 - decay) * g**2      (v starts at 1)
        m = momentum * m + lr * g / sqrt(v + epsilon);  w -= m
    """
    return TF1RMSProp(learning_rate=learning_rate, rho=decay, momentum=momentum,
                      epsilon=epsilon, centered=centered, name=name)


def AdagradOptimizer(learning_rate: LearningRate, initial_accumulator_value: float = 0.1,
                     use_locking: bool = False, name: str = "Adagrad") -> Adagrad:
    """``tf.train.AdagradOptimizer``: ``acc += g**2; w -= lr * g / sqrt(acc)`` — Keras's
    Adagrad with ``epsilon=0`` (TF1 has none)."""
    return Adagrad(learning_rate=learning_rate,
                   initial_accumulator_value=initial_accumulator_value, epsilon=0.0, name=name)


def AdadeltaOptimizer(learning_rate: LearningRate = 0.001, rho: float = 0.95,
                      epsilon: float = 1e-08, use_locking: bool = False,
                      name: str = "Adadelta") -> Adadelta:
    """``tf.train.AdadeltaOptimizer``: the same rule as Keras's Adadelta, TF1 defaults."""
    return Adadelta(learning_rate=learning_rate, rho=rho, epsilon=epsilon, name=name)
