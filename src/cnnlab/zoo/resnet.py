"""Residual networks with basic blocks (He, Zhang, Ren & Sun 2015, "Deep Residual Learning").

A basic block computes ``a[l+2] = g(z[l+2] + a[l])``: two 3x3 convolutions with batch norm
(``z[l+2]``), the block input ``a[l]`` added back through the skip connection, then ReLU
``g``. When the block halves the size and changes the width, the shortcut is a 1x1 convolution
with stride 2 and batch norm (the paper's option B projection). Layer names follow
``keras.applications.ResNet50``: ``conv3_block1_1_conv``, ``..._0_conv`` (projection),
``..._add``, ``..._out``.

Convolutions have no bias (batch norm's ``beta`` plays that role) and He-normal weights; the
batch norms use PyTorch's ``epsilon=1e-5`` and ``momentum=0.9`` (PyTorch's 0.1) so that
torchvision weights transfer. Stride-2 3x3 convolutions pad one pixel on every side (a
``ZeroPadding2D``) like the paper and torchvision; Keras's ``'same'`` would pad only
bottom/right and shift the sampling grid.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cnnlab.layers import (
    Activation,
    Add,
    Dense,
    GlobalAveragePooling2D,
    Input,
    KerasTensor,
    MaxPooling2D,
    ZeroPadding2D,
)
from cnnlab.models import Model
from cnnlab.zoo.common import building, check_classes, check_input_shape, conv_bn, load_pretrained

BN = {"epsilon": 1e-5, "momentum": 0.9}


def basic_block(x: KerasTensor, filters: int, strides: int, name: str) -> KerasTensor:
    """``relu(BN(conv3x3(relu(BN(conv3x3_s(x))))) + shortcut(x))``.

    ``shortcut`` is ``x`` itself, or ``BN(conv1x1_s(x))`` when the stride is not 1 or the
    channel count changes.
    """
    if strides == 1 and x.shape[-1] == filters:
        shortcut = x
    else:
        shortcut = conv_bn(x, filters, 1, f"{name}_0", strides=strides, padding="valid", **BN)
    y = x
    if strides != 1:
        y = ZeroPadding2D(1, name=f"{name}_1_pad")(y)
    y = conv_bn(y, filters, 3, f"{name}_1", strides=strides,
                padding="valid" if strides != 1 else "same", **BN)
    y = Activation("relu", name=f"{name}_1_relu")(y)
    y = conv_bn(y, filters, 3, f"{name}_2", **BN)
    y = Add(name=f"{name}_add")([shortcut, y])
    return Activation("relu", name=f"{name}_out")(y)


def _stages(x: KerasTensor, widths: Sequence[int], blocks: int, first: int) -> KerasTensor:
    """Stages of ``blocks`` basic blocks; every stage but the first starts with stride 2.
    Stage ``i`` is named ``conv{first + i}``."""
    for i, filters in enumerate(widths):
        for b in range(blocks):
            strides = 2 if i > 0 and b == 0 else 1
            x = basic_block(x, filters, strides, f"conv{first + i}_block{b + 1}")
    return x


def _head(x: KerasTensor, classes: int) -> KerasTensor:
    x = GlobalAveragePooling2D(name="avg_pool")(x)
    return Dense(classes, activation="softmax", name="predictions")(x)


def resnet18(input_shape: Sequence[int | None] = (224, 224, 3), classes: int = 1000,
             weights: str | os.PathLike | None = None) -> Model:
    """ResNet-18 (He et al. 2015, Table 1; torchvision's ``resnet18``).

    ===========  ==========================================  ==========
    stage        operation                                   output
    ===========  ==========================================  ==========
    ``conv1``    7x7, 64, stride 2 (pad 3), BN, ReLU         112x112x64
    ``pool1``    max 3x3, stride 2 (pad 1)                   56x56x64
    ``conv2_x``  2 basic blocks [3x3, 64; 3x3, 64]           56x56x64
    ``conv3_x``  2 basic blocks, 128, first with stride 2    28x28x128
    ``conv4_x``  2 basic blocks, 256, first with stride 2    14x14x256
    ``conv5_x``  2 basic blocks, 512, first with stride 2    7x7x512
    head         global average pool, dense ``classes``      1000
    ===========  ==========================================  ==========

    At 224x224x3 with 1000 classes: 11,689,512 trainable parameters, exactly torchvision's
    count (convolution kernels, BN ``gamma``/``beta``, the dense layer), plus 9,600 BN moving
    statistics that cnnlab, like Keras, lists as non-trainable weights: 11,699,112 in all.
    Global pooling makes any input size work. ``weights``: ``None`` or a weights file, e.g. a
    torchvision ``resnet18`` state dict (:func:`cnnlab.zoo.common.load_pretrained`).
    """
    input_shape = check_input_shape(input_shape, "resnet18")
    classes = check_classes(classes, "resnet18")
    with building("resnet18", input_shape):
        inputs = Input(input_shape)
        x = ZeroPadding2D(3, name="conv1_pad")(inputs)
        x = conv_bn(x, 64, 7, "conv1", strides=2, padding="valid", **BN)
        x = Activation("relu", name="conv1_relu")(x)
        x = ZeroPadding2D(1, name="pool1_pad")(x)  # zeros never win: the input is >= 0
        x = MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        x = _stages(x, (64, 128, 256, 512), blocks=2, first=2)
        model = Model(inputs, _head(x, classes), name="resnet18")
    return load_pretrained(model, weights, "resnet18")


def resnet20(input_shape: Sequence[int | None] = (32, 32, 3), classes: int = 10) -> Model:
    """ResNet-20 for CIFAR-10 (He et al. 2015, §4.2, n = 3).

    ===========  ==========================================  ==========
    stage        operation                                   output
    ===========  ==========================================  ==========
    ``conv1``    3x3, 16, BN, ReLU                           32x32x16
    ``conv2_x``  3 basic blocks [3x3, 16; 3x3, 16]           32x32x16
    ``conv3_x``  3 basic blocks, 32, first with stride 2     16x16x32
    ``conv4_x``  3 basic blocks, 64, first with stride 2     8x8x64
    head         global average pool, dense ``classes``      10
    ===========  ==========================================  ==========

    6n + 2 = 20 weighted layers. The paper uses option A shortcuts on CIFAR (identity with
    zero-padded channels, 0.27 M parameters); this model uses option B (1x1 projection + BN
    where the shape changes, §3.3), which adds 2,560 convolution weights and 96 BN channels:
    272,474 trainable parameters, 274,042 with the BN moving statistics.
    """
    input_shape = check_input_shape(input_shape, "resnet20")
    classes = check_classes(classes, "resnet20")
    with building("resnet20", input_shape):
        inputs = Input(input_shape)
        x = conv_bn(inputs, 16, 3, "conv1", **BN)
        x = Activation("relu", name="conv1_relu")(x)
        x = _stages(x, (16, 32, 64), blocks=3, first=2)
        return Model(inputs, _head(x, classes), name="resnet20")
