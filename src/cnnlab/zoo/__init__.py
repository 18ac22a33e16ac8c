"""The classic architectures, built from cnnlab's own layers (channels-last).

Every builder takes ``input_shape`` (``(height, width, channels)``) and ``classes`` and returns
an untrained ``Sequential``/functional ``Model`` named after the architecture; its docstring
gives the table of output shapes and parameters, the source, and any deviation::

    from cnnlab import zoo
    model = zoo.resnet20(input_shape=(32, 32, 3), classes=10)
    model = zoo.get_model("lenet5_modern", input_shape=(28, 28, 1))
    zoo.available()   # {'lenet5': 'LeNet-5 (1998): ...', ...}
"""

from cnnlab.zoo.alexnet import alexnet
from cnnlab.zoo.inception import inception_mini
from cnnlab.zoo.lecture import (
    deeper_vggnet,
    keras_cifar10_example,
    keras_mnist_example,
    shallow_vggnet,
    shallownet,
)
from cnnlab.zoo.lenet import lenet5, lenet_lecture
from cnnlab.zoo.registry import available, get_model
from cnnlab.zoo.resnet import resnet18, resnet20
from cnnlab.zoo.resnet50 import resnet50
from cnnlab.zoo.vgg import vgg16
from cnnlab.zoo.xception import xception

__all__ = [
    "alexnet", "available", "deeper_vggnet", "get_model", "inception_mini",
    "keras_cifar10_example", "keras_mnist_example", "lenet5", "lenet_lecture", "resnet18",
    "resnet20", "resnet50", "shallow_vggnet", "shallownet", "vgg16", "xception",
]
