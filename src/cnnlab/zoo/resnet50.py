"""ResNet-50 with bottleneck blocks, as ``keras.applications.ResNet50`` builds it (He et al.
2015, Table 1, 50-layer column).

A bottleneck block computes ``relu(BN(conv1x1_4f(relu(BN(conv3x3_f(relu(BN(conv1x1_f,s(x))))))))
+ shortcut(x))``: a 1x1 convolution narrows to ``f`` channels, a 3x3 works at that width, a
1x1 widens to ``4f``. The first block of a stage projects the shortcut (1x1 convolution to
``4f`` with the stage's stride, + BN). As in Keras (and the original Caffe model), the stride
sits on the first 1x1 convolution, convolutions have biases, and batch norms use
``epsilon=1.001e-5`` with Keras's ``momentum=0.99``. Layer names are Keras's
(``conv2_block1_0_conv``, ``conv3_block2_2_bn``, ``conv5_block3_out``, ``avg_pool``,
``predictions``), so Keras's HDF5 weight files load by name.
"""

from __future__ import annotations

from collections.abc import Sequence

from cnnlab.layers import (
    Activation,
    Add,
    BatchNormalization,
    Conv2D,
    Dense,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    KerasTensor,
    MaxPooling2D,
    ZeroPadding2D,
)
from cnnlab.models import Model
from cnnlab.zoo.common import building, check_classes, check_input_shape

EPSILON = 1.001e-5
STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))  # (filters, blocks, stride)


def _conv_bn(x: KerasTensor, filters: int, kernel_size: int, name: str, strides: int = 1,
             padding: str = "valid") -> KerasTensor:
    x = Conv2D(filters, kernel_size, strides=strides, padding=padding, name=f"{name}_conv")(x)
    return BatchNormalization(epsilon=EPSILON, name=f"{name}_bn")(x)


def bottleneck_block(x: KerasTensor, filters: int, strides: int, project: bool,
                     name: str) -> KerasTensor:
    """One bottleneck block; ``project`` gives the shortcut a 1x1 convolution + BN."""
    shortcut = _conv_bn(x, 4 * filters, 1, f"{name}_0", strides) if project else x
    y = Activation("relu", name=f"{name}_1_relu")(_conv_bn(x, filters, 1, f"{name}_1", strides))
    y = Activation("relu", name=f"{name}_2_relu")(_conv_bn(y, filters, 3, f"{name}_2",
                                                           padding="same"))
    y = _conv_bn(y, 4 * filters, 1, f"{name}_3")
    y = Add(name=f"{name}_add")([shortcut, y])
    return Activation("relu", name=f"{name}_out")(y)


def resnet50(include_top: bool = True, input_shape: Sequence[int | None] | None = None,
             classes: int = 1000, pooling: str | None = None,
             classifier_activation: str | None = "softmax") -> Model:
    """ResNet-50 as ``keras.applications.ResNet50`` builds it (without pretrained weights).

    ===========  ==========================================  ==========
    stage        operation                                   output
    ===========  ==========================================  ==========
    ``conv1``    7x7, 64, stride 2 (pad 3), BN, ReLU         112x112x64
    ``pool1``    max 3x3, stride 2 (pad 1)                   56x56x64
    ``conv2_x``  3 bottlenecks [1x1, 64; 3x3, 64; 1x1, 256]  56x56x256
    ``conv3_x``  4 bottlenecks, 128 -> 512, stride 2         28x28x512
    ``conv4_x``  6 bottlenecks, 256 -> 1024, stride 2        14x14x1024
    ``conv5_x``  3 bottlenecks, 512 -> 2048, stride 2        7x7x2048
    head         global average pool, dense ``classes``      1000
    ===========  ==========================================  ==========

    Parameters, as Keras counts them (BN moving statistics included, non-trainable): the
    convolutional base 23,587,712 (53,120 non-trainable), with the 1000-class top 25,636,712.

    Args (Keras's): ``include_top`` adds ``avg_pool`` + ``predictions``; ``input_shape``
    defaults to ``(224, 224, 3)`` with the top and ``(None, None, 3)`` without; ``pooling``
    (without the top): ``None`` keeps the 4D feature maps, ``'avg'``/``'max'`` adds global
    pooling; ``classifier_activation`` of ``predictions``.
    """
    if input_shape is None:
        input_shape = (224, 224, 3) if include_top else (None, None, 3)
    input_shape = check_input_shape(input_shape, "resnet50")
    classes = check_classes(classes, "resnet50")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"resnet50: `pooling` must be None, 'avg' or 'max', got {pooling!r}")
    with building("resnet50", input_shape):
        inputs = Input(input_shape)
        x = ZeroPadding2D(3, name="conv1_pad")(inputs)
        x = Activation("relu", name="conv1_relu")(_conv_bn(x, 64, 7, "conv1", strides=2))
        x = ZeroPadding2D(1, name="pool1_pad")(x)
        x = MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        for stage, (filters, blocks, stride) in enumerate(STAGES, start=2):
            for block in range(1, blocks + 1):
                x = bottleneck_block(x, filters, stride if block == 1 else 1, block == 1,
                                     f"conv{stage}_block{block}")
        if include_top:
            x = GlobalAveragePooling2D(name="avg_pool")(x)
            x = Dense(classes, activation=classifier_activation, name="predictions")(x)
        elif pooling == "avg":
            x = GlobalAveragePooling2D(name="avg_pool")(x)
        elif pooling == "max":
            x = GlobalMaxPooling2D(name="max_pool")(x)
        return Model(inputs, x, name="resnet50")
