"""Keras 2.3-2.8 path ``keras.layers.experimental`` (``.preprocessing``)."""

from cnnlab.keras.layers.experimental import preprocessing

__all__ = ["preprocessing"]
