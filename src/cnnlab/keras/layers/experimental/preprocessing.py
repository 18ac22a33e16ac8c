"""Keras 2.3-2.8 path ``keras.layers.experimental.preprocessing``: the preprocessing and
augmentation layers before they moved to ``keras.layers``."""

from cnnlab.layers import (
    Normalization,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
)

__all__ = ["Normalization", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation",
           "RandomTranslation", "RandomZoom", "Rescaling", "Resizing"]
