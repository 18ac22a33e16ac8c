"""``keras.optimizers.schedules``: learning-rate schedules."""

from cnnlab.optimizer_schedules import *  # noqa: F403
from cnnlab.optimizer_schedules import __all__  # noqa: F401
