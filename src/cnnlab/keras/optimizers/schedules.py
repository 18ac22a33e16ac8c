"""``keras.optimizers.schedules``: learning-rate schedules."""

from cnnlab.optimizers.schedules import *  # noqa: F403
from cnnlab.optimizers.schedules import __all__  # noqa: F401
