"""A small GoogLeNet (Szegedy et al. 2015, "Going Deeper with Convolutions") for 32x32 images.

An inception module runs four branches on the same input and concatenates them on the
channel axis: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1. The 1x1 "reduce"
convolutions shrink the channels before the expensive 3x3 and 5x5 filters (the network in
network idea), so width grows without the cost exploding.
"""

from __future__ import annotations

from collections.abc import Sequence

from cnnlab.layers import (
    Activation,
    Concatenate,
    Dense,
    Dropout,
    GlobalAveragePooling2D,
    Input,
    KerasTensor,
    MaxPooling2D,
)
from cnnlab.models import Model
from cnnlab.zoo.common import building, check_classes, check_input_shape, conv_bn

# name: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj), half of GoogLeNet's Table 1 widths
MODULES = {
    "3a": (32, 48, 64, 8, 16, 16),
    "3b": (64, 64, 96, 16, 48, 32),
    "4a": (96, 48, 104, 8, 24, 32),
    "4b": (80, 56, 112, 12, 32, 32),
}


def conv_unit(x: KerasTensor, filters: int, kernel_size: int, name: str) -> KerasTensor:
    """``Conv2D('same', no bias) -> BatchNormalization -> ReLU``."""
    return Activation("relu", name=f"{name}_relu")(conv_bn(x, filters, kernel_size, name))


def inception_module(x: KerasTensor, widths: Sequence[int], name: str) -> KerasTensor:
    """Four branches concatenated: ``widths = (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5,
    pool proj)``; the output has ``1x1 + 3x3 + 5x5 + pool proj`` channels, same height and
    width as the input."""
    n1, r3, n3, r5, n5, pool_proj = widths
    b1 = conv_unit(x, n1, 1, f"{name}_1x1")
    b3 = conv_unit(conv_unit(x, r3, 1, f"{name}_3x3_reduce"), n3, 3, f"{name}_3x3")
    b5 = conv_unit(conv_unit(x, r5, 1, f"{name}_5x5_reduce"), n5, 5, f"{name}_5x5")
    bp = MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    bp = conv_unit(bp, pool_proj, 1, f"{name}_pool_proj")
    return Concatenate(name=name)([b1, b3, b5, bp])


def inception_mini(input_shape: Sequence[int | None] = (32, 32, 3),
                   classes: int = 10) -> Model:
    """A GoogLeNet-style network sized for CIFAR-10.

    ==================  ==========================================  ==========  ==========
    layer               operation                                   output      parameters
    ==================  ==========================================  ==========  ==========
    ``stem``            conv 64@3x3 'same', BN, ReLU                32x32x64    1,984
    ``inception_3a``    32 | 48->64 | 8->16 | pool->16              32x32x128   38,240
    ``inception_3b``    64 | 64->96 | 16->48 | pool->32             32x32x240   98,304
    ``pool3``           max 3x3, stride 2, 'same'                   16x16x240   0
    ``inception_4a``    96 | 48->104 | 8->24 | pool->32             16x16x256   95,136
    ``inception_4b``    80 | 56->112 | 12->32 | pool->32            16x16x256   113,424
    ``avg_pool``        global average pooling, dropout 0.4         256         0
    ``predictions``     dense ``classes``, softmax                  10          2,570
    ==================  ==========================================  ==========  ==========

    Module widths are half of GoogLeNet's 3a, 3b, 4a and 4b (Table 1). Counts include BN
    moving statistics: 349,658 parameters in all, 347,250 trainable. Differences from
    GoogLeNet: a one-convolution stem instead of the 7x7/stride-2 stem and local response
    normalization (32x32 images are already small); no auxiliary classifiers; every
    convolution is followed by batch norm (from Inception-v2) before its ReLU, and has no
    bias. Any input size builds (global pooling).
    """
    input_shape = check_input_shape(input_shape, "inception_mini")
    classes = check_classes(classes, "inception_mini")
    with building("inception_mini", input_shape):
        inputs = Input(input_shape)
        x = conv_unit(inputs, 64, 3, "stem")
        x = inception_module(x, MODULES["3a"], "inception_3a")
        x = inception_module(x, MODULES["3b"], "inception_3b")
        x = MaxPooling2D(3, strides=2, padding="same", name="pool3")(x)
        x = inception_module(x, MODULES["4a"], "inception_4a")
        x = inception_module(x, MODULES["4b"], "inception_4b")
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = Dropout(0.4, name="dropout")(x)
        outputs = Dense(classes, activation="softmax", name="predictions")(x)
        return Model(inputs, outputs, name="inception_mini")
