"""``keras.layers``: every cnnlab layer under its Keras name."""

from cnnlab.layers import *  # noqa: F403
from cnnlab.layers import __all__  # noqa: F401
