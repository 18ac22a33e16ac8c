"""AlexNet (Krizhevsky, Sutskever & Hinton 2012) as the lectures tabulate it, 227x227x3, and
torchvision's variant (64-192-384-256-256 channels, 224x224x3)."""

from __future__ import annotations

import os
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
    ZeroPadding2D,
)
from cnnlab.models import Sequential
from cnnlab.zoo.common import building, check_classes, check_input_shape, load_pretrained


def alexnet(input_shape: Sequence[int | None] | None = None, classes: int = 1000,
            batch_norm: bool = False, dropout: float = 0.5,
            variant: str = "original", weights: str | os.PathLike | None = None) -> Sequential:
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

    ``variant='torchvision'`` builds torchvision's ``alexnet`` instead (the one-GPU net of
    Krizhevsky's 2014 "One weird trick" paper), so that its weights load with
    ``cnnlab.io.torch_weights``: input 224x224x3 by default; ``conv1`` 64@11x11 stride 4
    after a symmetric 2-pixel ``ZeroPadding2D`` (``conv1_pad``), ``conv2`` 192@5x5,
    ``conv3``-``conv5`` 384/256/256@3x3 ('same', i.e. symmetric padding at stride 1), the
    same pools (6x6x256 at 224x224), dropout *before* ``fc6`` and ``fc7``; 61,100,840
    parameters with 1000 classes. ``batch_norm`` is not offered with it.

    ``weights``: ``None`` or a weights file (:func:`cnnlab.zoo.common.load_pretrained`).
    """
    if variant not in ("original", "torchvision"):
        raise ValueError(f"alexnet: `variant` must be 'original' or 'torchvision', got "
                         f"{variant!r}")
    torchvision = variant == "torchvision"
    if torchvision and batch_norm:
        raise ValueError("alexnet: variant='torchvision' has no batch normalization; "
                         "got batch_norm=True")
    if input_shape is None:
        input_shape = (224, 224, 3) if torchvision else (227, 227, 3)
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

    widths = (64, 192, 384, 256, 256) if torchvision else (96, 256, 384, 384, 256)
    if torchvision:
        layers.append(ZeroPadding2D(2, name="conv1_pad"))
    unit(Conv2D, widths[0], 11, strides=4, name="conv1")
    layers.append(MaxPooling2D(3, strides=2, name="pool1"))
    unit(Conv2D, widths[1], 5, padding="same", name="conv2")
    layers.append(MaxPooling2D(3, strides=2, name="pool2"))
    unit(Conv2D, widths[2], 3, padding="same", name="conv3")
    unit(Conv2D, widths[3], 3, padding="same", name="conv4")
    unit(Conv2D, widths[4], 3, padding="same", name="conv5")
    layers += [MaxPooling2D(3, strides=2, name="pool5"), Flatten(name="flatten")]
    for name in ("fc6", "fc7"):
        if dropout and torchvision:
            layers.append(Dropout(dropout, name=f"{name}_dropout"))
        unit(Dense, 4096, name=name)
        if dropout and not torchvision:
            layers.append(Dropout(dropout, name=f"{name}_dropout"))
    layers.append(Dense(classes, activation="softmax", name="fc8"))
    with building("alexnet", input_shape):
        return load_pretrained(Sequential(layers, name="alexnet"), weights, "alexnet")
