"""``keras.activations``: re-exports :mod:`cnnlab.activations`."""

from cnnlab.activations import *  # noqa: F403
from cnnlab.activations import __all__  # noqa: F401
