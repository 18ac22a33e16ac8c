"""Keras-style optimizers: configured first, built on the model's parameters at ``compile``.

    opt = cnnlab.optimizers.Adam(learning_rate=1e-3)   # or 'adam', or a config dict
    model.compile(optimizer=opt, ...)                  # calls opt.build(model.parameters())
    # each training step:  loss.backward(); opt.step(); opt.zero_grad()

Every class has Keras 3's defaults and update rule (the rules live in ``optimizers.rules`` as
``torch.optim.Optimizer`` subclasses on ``torch._foreach_*`` ops). What one ``step()`` does
(clipping, learning rate, weight decay, rule) is in :mod:`cnnlab.optimizers.optimizer`, the
base class; each algorithm has its own module (``sgd``, ``rmsprop``, ``adagrad``, ``adadelta``,
``adam``, ``adamw``, ``nadam``, ``adamax``, ``torch_optimizer``); ``registry`` has ``get``,
``register``, ``serialize`` and ``deserialize``; ``schedules`` the learning-rate schedules;
``tf1`` TF1's ``tf.train.*Optimizer`` constructors (importing it registers their classes).
"""

from cnnlab.optimizers import rules as rules
from cnnlab.optimizers import schedules
from cnnlab.optimizers import tf1 as tf1  # registers the TF1 optimizer classes
from cnnlab.optimizers.adadelta import Adadelta
from cnnlab.optimizers.adagrad import Adagrad
from cnnlab.optimizers.adam import Adam
from cnnlab.optimizers.adamax import Adamax
from cnnlab.optimizers.adamw import AdamW
from cnnlab.optimizers.nadam import Nadam
from cnnlab.optimizers.optimizer import LearningRate as LearningRate
from cnnlab.optimizers.optimizer import LearningRateValue as LearningRateValue
from cnnlab.optimizers.optimizer import Optimizer
from cnnlab.optimizers.registry import deserialize, get, register, serialize
from cnnlab.optimizers.rmsprop import RMSprop
from cnnlab.optimizers.sgd import SGD
from cnnlab.optimizers.torch_optimizer import TorchOptimizer

# What ``from cnnlab.optimizers import *`` (and so ``keras.optimizers``) exports. Also public
# here, but not star-exported: ``LearningRate``, ``LearningRateValue``, ``rules``, ``tf1``.
__all__ = [
    "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Nadam", "Adamax",
    "Optimizer", "TorchOptimizer", "deserialize", "get", "register", "schedules", "serialize",
]
