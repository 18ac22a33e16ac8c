"""``keras.applications.imagenet_utils``: ``preprocess_input(x, data_format, mode)`` and
``decode_predictions(preds, top)``."""

from cnnlab.zoo.imagenet import decode_predictions, preprocess_input

__all__ = ["decode_predictions", "preprocess_input"]
