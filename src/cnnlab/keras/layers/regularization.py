"""Keras 2 module path ``keras.layers.regularization``: all of ``keras.layers``."""

from cnnlab.layers import *  # noqa: F403
from cnnlab.layers import __all__  # noqa: F401
