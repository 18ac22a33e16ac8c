"""Keras 2 path ``keras.utils.np_utils``."""

from cnnlab.utils import normalize, to_categorical

__all__ = ["normalize", "to_categorical"]
