"""``keras.regularizers``: re-exports :mod:`cnnlab.regularizers`."""

from cnnlab.regularizers import *  # noqa: F403
from cnnlab.regularizers import __all__  # noqa: F401
