"""``keras.applications.resnet50``: the same names as ``keras.applications.resnet``."""

from cnnlab.keras.applications.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
