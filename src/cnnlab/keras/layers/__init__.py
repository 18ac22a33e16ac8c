"""``keras.layers``: every cnnlab layer under its Keras name (and ``experimental``)."""

from cnnlab.keras.layers import experimental  # noqa: F401
from cnnlab.layers import *  # noqa: F403
from cnnlab.layers import __all__  # noqa: F401
