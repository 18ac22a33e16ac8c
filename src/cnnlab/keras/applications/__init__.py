"""``keras.applications``: ``VGG16``, ``ResNet50``, ``Xception`` (and cnnlab's ``ResNet18``)
with Keras's signature, plus the modules ``vgg16``, ``resnet``, ``resnet50``, ``xception``,
``imagenet_utils``
(``preprocess_input``, ``decode_predictions``). See :mod:`cnnlab.zoo.applications`."""

from cnnlab.keras.applications import imagenet_utils, resnet, resnet50, vgg16, xception
from cnnlab.keras.applications.xception import Xception
from cnnlab.zoo.applications import VGG16, ResNet18, ResNet50

__all__ = ["ResNet18", "ResNet50", "VGG16", "Xception", "imagenet_utils", "resnet", "resnet50",
           "vgg16", "xception"]
