"""AlexNet (Krizhevsky, Sutskever & Hinton 2012) as the lectures tabulate it, 227x227x3."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cnnlab.layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Input,
    Layer,
    MaxPooling2D,
)
from cnnlab.models import Sequential
from cnnlab.zoo.common import building, check_classes, check_input_shape


def alexnet(input_shape: Sequence[int | None] = (227, 227, 3), classes: int = 1000,
            batch_norm: bool = False, dropout: float = 0.5) -> Sequential:
    """AlexNet, one-tower version (CS231n's table; "ImageNet Classification with Deep
    Convolutional Neural Networks", NIPS 2012).

    =========  =================================  ============  ==========
    layer      operation                          output        parameters
    =========  =================================  ============  ==========
    input                                         227x227x3
    ``conv1``  96@11x11, stride 4, valid, ReLU    55x55x96      34,944
    ``pool1``  max 3x3, stride 2                  27x27x96      0
    ``conv2``  256@5x5, 'same', ReLU              27x27x256     614,656
    ``pool2``  max 3x3, stride 2                  13x13x256     0
    ``conv3``  384@3x3, 'same', ReLU              13x13x384     885,120
    ``conv4``  384@3x3, 'same', ReLU              13x13x384     1,327,488
    ``conv5``  256@3x3, 'same', ReLU              13x13x256     884,992
    ``pool5``  max 3x3, stride 2                  6x6x256       0
    ``fc6``    dense 4096, ReLU, dropout          4096          37,752,832
    ``fc7``    dense 4096, ReLU, dropout          4096          16,781,312
    ``fc8``    dense ``classes``, softmax         1000          4,097,000
    =========  =================================  ============  ==========

    62,378,344 parameters. ``dropout`` is the rate after ``fc6`` and ``fc7`` (0.5 as in the
    paper; 0 removes the layers). ``batch_norm=True`` (off by default; not in the paper)
    puts ``BatchNormalization`` between each convolution/dense layer and its ReLU, and drops
    their biases. Any input of at least 67x67 builds.

    Deviations from the paper: no local response normalization (later work found it does not
    help, and Keras has no such layer); one tower instead of two GPU halves (the paper's
    grouped conv2/conv4/conv5 see half the channels: 60,965,224 parameters); the 227x227
    input makes the arithmetic work (the paper's 224 does not).
    """
    input_shape = check_input_shape(input_shape, "alexnet")
    classes = check_classes(classes, "alexnet")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
            or not 0 <= dropout < 1:
        raise ValueError(f"alexnet: `dropout` must be a rate in [0, 1), got {dropout!r}")
    layers: list[Layer] = [Input(input_shape)]

    def unit(layer_cls: type, *args: Any, name: str, **kwargs: Any) -> None:
        """``layer -> ReLU`` or ``layer (no bias) -> BN -> ReLU``."""
        if batch_norm:
            layers.extend([layer_cls(*args, use_bias=False, name=name, **kwargs),
                           BatchNormalization(name=f"{name}_bn"),
                           Activation("relu", name=f"{name}_relu")])
        else:
            layers.append(layer_cls(*args, activation="relu", name=name, **kwargs))

    unit(Conv2D, 96, 11, strides=4, name="conv1")
    layers.append(MaxPooling2D(3, strides=2, name="pool1"))
    unit(Conv2D, 256, 5, padding="same", name="conv2")
    layers.append(MaxPooling2D(3, strides=2, name="pool2"))
    unit(Conv2D, 384, 3, padding="same", name="conv3")
    unit(Conv2D, 384, 3, padding="same", name="conv4")
    unit(Conv2D, 256, 3, padding="same", name="conv5")
    layers += [MaxPooling2D(3, strides=2, name="pool5"), Flatten(name="flatten")]
    for name in ("fc6", "fc7"):
        unit(Dense, 4096, name=name)
        if dropout:
            layers.append(Dropout(dropout, name=f"{name}_dropout"))
    layers.append(Dense(classes, activation="softmax", name="fc8"))
    with building("alexnet", input_shape):
        return Sequential(layers, name="alexnet")
