"""TensorFlow-style entry point: ``import tensorflow as tf`` -> ``from cnnlab import tf``.

``tf.keras`` is :mod:`cnnlab.keras` (also importable as ``cnnlab.tf.keras.layers`` etc.), plus
the few TF names lecture programs touch: ``tf.VERSION``/``tf.__version__``, ``tf.train``'s TF1
optimizers, ``tf.nn`` activations, ``tf.random.set_seed``, ``tf.python.keras``, ``tf.compat.v1``,
``tf.GradientTape`` (:mod:`cnnlab.tf.gradient_tape`), ``tf.data.Dataset``
(:mod:`cnnlab.data.pipeline`), ``tf.function`` and a few more (:mod:`cnnlab.tf.misc`) and the
tensor functions of the Keras
guides on ``torch.Tensor``s (:mod:`cnnlab.tf.ops`: ``tf.constant``, ``tf.reduce_mean``,
``tf.argmax``, ``tf.float32``, ...).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import types

from cnnlab import activations, keras
from cnnlab.data import pipeline
from cnnlab.optimizers import tf1 as train
from cnnlab.tf import misc
from cnnlab.tf.gradient_tape import GradientTape
from cnnlab.tf.misc import function
from cnnlab.tf.ops import *  # noqa: F403
from cnnlab.tf.ops import __all__ as _ops
from cnnlab.tf.ops import bool_ as bool  # noqa: A004 - TensorFlow's name for the dtype
from cnnlab.tf.ops import math as _math
from cnnlab.utils import set_random_seed

__version__ = VERSION = "2.15.0"  # the TensorFlow/Keras API level cnnlab follows


def _alias_package(alias: str, package: types.ModuleType) -> None:
    """Make ``alias`` and its submodules importable as the modules of ``package``."""
    sys.modules[alias] = package
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        sys.modules[alias + info.name[len(package.__name__):]] = module


nn = types.SimpleNamespace(
    relu=activations.relu, relu6=activations.relu6, elu=activations.elu,
    selu=activations.selu, sigmoid=activations.sigmoid, tanh=activations.tanh,
    softmax=activations.softmax, log_softmax=activations.log_softmax,
    softplus=activations.softplus, leaky_relu=activations.leaky_relu,
    silu=activations.silu, swish=activations.swish, gelu=activations.gelu,
)
random = types.SimpleNamespace(set_seed=set_random_seed, uniform=misc.uniform,
                               normal=misc.normal)
math = types.SimpleNamespace(**vars(_math), l2_normalize=misc.l2_normalize)
data = types.SimpleNamespace(Dataset=pipeline.Dataset, AUTOTUNE=pipeline.AUTOTUNE,
                             experimental=types.SimpleNamespace(AUTOTUNE=pipeline.AUTOTUNE))
python = types.ModuleType(__name__ + ".python")
python.keras = keras
compat = types.SimpleNamespace(v1=types.SimpleNamespace(train=train, keras=keras),
                               as_bytes=misc.as_bytes, as_str=misc.as_str)

_alias_package(__name__ + ".keras", keras)
_alias_package(__name__ + ".python.keras", keras)
sys.modules[__name__ + ".python"] = python

__all__ = ["VERSION", "GradientTape", "bool", "compat", "data", "function", "keras", "nn",
           "python", "random", "train", *_ops]
