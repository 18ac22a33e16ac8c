"""``keras.optimizers`` (also ``.legacy`` and ``.schedules``)."""

from cnnlab.keras.optimizers import legacy, schedules
from cnnlab.optimizers import *  # noqa: F403
from cnnlab.optimizers import __all__ as _names

__all__ = [*_names, "legacy", "schedules"]
