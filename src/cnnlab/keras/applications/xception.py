"""``keras.applications.xception``: ``Xception`` (:mod:`cnnlab.zoo.xception`) and
``preprocess_input`` in Keras's 'tf' mode (pixels scaled to [-1, 1])."""

from typing import Any

from cnnlab.zoo.imagenet import decode_predictions
from cnnlab.zoo.imagenet import preprocess_input as _preprocess
from cnnlab.zoo.xception import Xception
from cnnlab.zoo.xception import xception as xception


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """``imagenet_utils.preprocess_input(x, data_format, mode='tf')``: ``x / 127.5 - 1``."""
    return _preprocess(x, data_format=data_format, mode="tf")


__all__ = ["Xception", "decode_predictions", "preprocess_input"]
