"""``keras.backend``: re-exports :mod:`cnnlab.backend`."""

from cnnlab.backend import *  # noqa: F403
from cnnlab.backend import __all__  # noqa: F401
