"""``keras.initializers``: re-exports :mod:`cnnlab.initializers`."""

from cnnlab.initializers import *  # noqa: F403
from cnnlab.initializers import __all__  # noqa: F401
