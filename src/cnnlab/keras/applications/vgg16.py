"""``keras.applications.vgg16``: ``VGG16``; ``preprocess_input`` is Keras's 'caffe' mode
(RGB -> BGR, minus the ImageNet channel means)."""

from typing import Any

from cnnlab.zoo.applications import VGG16
from cnnlab.zoo.imagenet import decode_predictions
from cnnlab.zoo.imagenet import preprocess_input as _preprocess


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """``imagenet_utils.preprocess_input(x, data_format, mode='caffe')``."""
    return _preprocess(x, data_format=data_format, mode="caffe")


__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
