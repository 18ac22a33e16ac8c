"""VGG16 (Simonyan & Zisserman 2015, configuration D) with Keras's layer names."""

from __future__ import annotations

import os
from collections.abc import Sequence

from cnnlab.layers import (
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    Layer,
    MaxPooling2D,
)
from cnnlab.models import Sequential
from cnnlab.zoo.common import building, check_classes, check_input_shape, load_pretrained

BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, convolutions)
POOLINGS = {None: None, "avg": GlobalAveragePooling2D, "max": GlobalMaxPooling2D}


def vgg16(include_top: bool = True, input_shape: Sequence[int | None] | None = None,
          classes: int = 1000, pooling: str | None = None,
          classifier_activation: str | None = "softmax",
          weights: str | os.PathLike | None = None) -> Sequential:
    """VGG16 as ``keras.applications.VGG16`` builds it (without pretrained weights).

    ===============  ======================================  ==========  ===========
    layers           operation                               output      parameters
    ===============  ======================================  ==========  ===========
    ``block1_*``     2 x conv 64@3x3 'same' ReLU, max 2x2    112x112x64  38,720
    ``block2_*``     2 x conv 128@3x3, max 2x2               56x56x128   221,440
    ``block3_*``     3 x conv 256@3x3, max 2x2               28x28x256   1,475,328
    ``block4_*``     3 x conv 512@3x3, max 2x2               14x14x512   5,899,776
    ``block5_*``     3 x conv 512@3x3, max 2x2               7x7x512     7,079,424
    ``flatten``                                              25088       0
    ``fc1``          dense 4096, ReLU                        4096        102,764,544
    ``fc2``          dense 4096, ReLU                        4096        16,781,312
    ``predictions``  dense ``classes``, softmax              1000        4,097,000
    ===============  ======================================  ==========  ===========

    Outputs for a 224x224x3 input. The convolutional base has 14,714,688 parameters for any
    input size; with the top at 224x224x3 and 1000 classes, 138,357,544.

    Args (Keras's): ``include_top`` adds ``flatten``/``fc1``/``fc2``/``predictions``;
    ``input_shape`` defaults to ``(224, 224, 3)`` with the top and ``(None, None, 3)``
    without (any size of at least 32x32); ``pooling`` (only without the top): ``None`` keeps
    the 4D feature maps, ``'avg'``/``'max'`` adds global pooling; ``classifier_activation``
    of ``predictions`` (``None`` gives logits). ``weights``: ``None`` (random
    initialization) or a weights file (:func:`cnnlab.zoo.common.load_pretrained`: Keras's
    ``vgg16_weights_tf_dim_ordering_tf_kernels[_notop].h5``, a torchvision ``vgg16`` state
    dict, a Keras 3 or cnnlab file); Keras's ``weights='imagenet'`` download is not offered.
    """
    if input_shape is None:
        input_shape = (224, 224, 3) if include_top else (None, None, 3)
    input_shape = check_input_shape(input_shape, "vgg16")
    classes = check_classes(classes, "vgg16")
    if pooling not in POOLINGS:
        raise ValueError(f"vgg16: `pooling` must be None, 'avg' or 'max', got {pooling!r}")
    layers: list[Layer] = [Input(input_shape)]
    for block, (filters, convs) in enumerate(BLOCKS, start=1):
        layers += [Conv2D(filters, 3, padding="same", activation="relu",
                          name=f"block{block}_conv{i}") for i in range(1, convs + 1)]
        layers.append(MaxPooling2D(2, strides=2, name=f"block{block}_pool"))
    if include_top:
        layers += [Flatten(name="flatten"),
                   Dense(4096, activation="relu", name="fc1"),
                   Dense(4096, activation="relu", name="fc2"),
                   Dense(classes, activation=classifier_activation, name="predictions")]
    elif pooling is not None:
        layers.append(POOLINGS[pooling]())
    with building("vgg16", input_shape):
        return load_pretrained(Sequential(layers, name="vgg16"), weights, "vgg16")
