"""``keras.applications.resnet``: ``ResNet50``; ``preprocess_input`` is Keras's 'caffe' mode."""

from cnnlab.keras.applications.vgg16 import preprocess_input
from cnnlab.zoo.applications import ResNet50
from cnnlab.zoo.imagenet import decode_predictions

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
