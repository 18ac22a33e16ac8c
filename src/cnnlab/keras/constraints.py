"""``keras.constraints``: re-exports :mod:`cnnlab.constraints`."""

from cnnlab.constraints import *  # noqa: F403
from cnnlab.constraints import __all__  # noqa: F401
