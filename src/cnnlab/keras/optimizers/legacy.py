"""``keras.optimizers.legacy``: the same optimizers (cnnlab has one implementation)."""

from cnnlab.optimizers import *  # noqa: F403
from cnnlab.optimizers import __all__  # noqa: F401
