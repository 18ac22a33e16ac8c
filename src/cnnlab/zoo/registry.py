"""Models by name, for the CLI and configs: ``get_model('resnet20', (32, 32, 3), 10)``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from cnnlab.models import Model
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
from cnnlab.zoo.resnet import resnet18, resnet20
from cnnlab.zoo.vgg import vgg16

MODELS: dict[str, tuple[Callable[..., Model], str]] = {
    "lenet5": (lenet5, "LeNet-5 (1998): tanh, average pooling, 32x32x1, 61,706 parameters"),
    "lenet5_modern": (functools.partial(lenet5, classic=False),
                      "LeNet-5 with ReLU and max pooling"),
    "lenet": (lenet_lecture,
              "lecture LeNet: conv 20/50 5x5 'same', dense 500, 1,256,080 parameters"),
    "shallownet": (shallownet, "ShallowNet: one 3x3 conv and a softmax classifier"),
    "shallow_vggnet": (shallow_vggnet,
                       "MiniVGGNet: two (conv-BN)x2-pool-dropout blocks, dense 512"),
    "deeper_vggnet": (deeper_vggnet, "three-block VGG (32/64/128 filters), dense 512"),
    "keras_mnist": (keras_mnist_example,
                    "Keras MNIST example: conv 32 x2, pool, dense 64 (305,194 parameters)"),
    "keras_cifar10": (keras_cifar10_example, "Keras CIFAR-10 example with ELU and batch norm"),
    "alexnet": (alexnet, "AlexNet (2012), 227x227x3, 62,378,344 parameters"),
    "vgg16": (vgg16, "VGG16 (2014) with Keras's layer names; include_top, pooling"),
    "resnet18": (resnet18, "ResNet-18: basic blocks with skip connections, 11.7 M parameters"),
    "resnet20": (resnet20, "ResNet-20 for 32x32 images (CIFAR), 0.27 M parameters"),
    "inception_mini": (inception_mini,
                       "small GoogLeNet: inception modules, global average pooling"),
}


def available() -> dict[str, str]:
    """Model names with a one-line description each."""
    return {name: description for name, (_, description) in MODELS.items()}


def get_model(name: str, input_shape: Sequence[int | None] | None = None,
              classes: int | None = None, **options: Any) -> Model:
    """Build the zoo model ``name``; ``None`` keeps the builder's default input shape/classes.

    ``options`` go to the builder (``get_model('shallow_vggnet', dropout=False)``).
    Raises ``ValueError`` for an unknown name (listing the known ones) and ``TypeError`` for
    an option the builder does not take (listing its options).
    """
    if name not in MODELS:
        raise ValueError(f"get_model: unknown model {name!r}; available models are "
                         f"{', '.join(MODELS)}")
    builder = MODELS[name][0]
    known = list(inspect.signature(builder).parameters)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise TypeError(f"get_model: model {name!r} has no option(s) {', '.join(unknown)}; its "
                        f"options are {', '.join(known)}")
    if input_shape is not None:
        options["input_shape"] = input_shape
    if classes is not None:
        options["classes"] = classes
    return builder(**options)
