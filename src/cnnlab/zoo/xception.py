"""Xception (Chollet, 2017) as ``keras.applications.Xception`` builds it, with Keras's layer
names: the builder :func:`xception` and the application constructor :data:`Xception`
(``keras.applications.xception`` re-exports it, with ``preprocess_input`` in 'tf' mode).

Keras's architecture exactly (entry flow with 1x1 strided projections, 8 middle blocks, exit
flow; every convolution without bias, followed by batch normalization): 22,910,480 parameters
with the top at 299x299x3, 20,861,480 without. ``weights`` as for every application
(:mod:`cnnlab.zoo.applications`): ``None`` or a weights file; ``'imagenet'`` cannot be
downloaded and raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cnnlab.layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    MaxPooling2D,
    SeparableConv2D,
    add,
)
from cnnlab.models import Model
from cnnlab.zoo.applications import _application


def _sep_bn(x: Any, filters: int, name: str) -> Any:
    """3x3 separable convolution (no bias, ``'same'``) to ``filters`` channels, then BN."""
    x = SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return BatchNormalization(name=name + "_bn")(x)


def _projection(x: Any, filters: int) -> Any:
    """The residual branch of a downsampling block: 1x1 convolution, stride 2, then BN."""
    residual = Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    return BatchNormalization()(residual)


def _entry_block(x: Any, filters: int, block: str, first_relu: bool = True) -> Any:
    """``(relu, sepconv-BN) x 2, maxpool 3x3/2`` plus the projected residual: halves the size."""
    residual = _projection(x, filters)
    if first_relu:
        x = Activation("relu", name=f"{block}_sepconv1_act")(x)
    x = _sep_bn(x, filters, f"{block}_sepconv1")
    x = Activation("relu", name=f"{block}_sepconv2_act")(x)
    x = _sep_bn(x, filters, f"{block}_sepconv2")
    x = MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"{block}_pool")(x)
    return add([x, residual])


def xception(include_top: bool = True, input_shape: Sequence[int | None] | None = None,
             classes: int = 1000, pooling: str | None = None,
             classifier_activation: str | None = "softmax") -> Model:
    """The Xception graph (``input_shape`` defaults to 299x299x3, or (None, None, 3) without
    the top). Output ``(batch, classes)`` with the top; without it ``(batch, h, w, 2048)`` at
    1/32 of the input size, or ``(batch, 2048)`` with ``pooling='avg'``/``'max'``."""
    if input_shape is None:
        input_shape = (299, 299, 3) if include_top else (None, None, 3)
    inputs = Input(shape=tuple(input_shape))
    x = Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(inputs)
    x = BatchNormalization(name="block1_conv1_bn")(x)
    x = Activation("relu", name="block1_conv1_act")(x)
    x = Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = BatchNormalization(name="block1_conv2_bn")(x)
    x = Activation("relu", name="block1_conv2_act")(x)
    x = _entry_block(x, 128, "block2", first_relu=False)
    x = _entry_block(x, 256, "block3")
    x = _entry_block(x, 728, "block4")
    for i in range(5, 13):
        residual = x
        for j in (1, 2, 3):
            x = Activation("relu", name=f"block{i}_sepconv{j}_act")(x)
            x = _sep_bn(x, 728, f"block{i}_sepconv{j}")
        x = add([x, residual])
    residual = _projection(x, 1024)
    x = Activation("relu", name="block13_sepconv1_act")(x)
    x = _sep_bn(x, 728, "block13_sepconv1")
    x = Activation("relu", name="block13_sepconv2_act")(x)
    x = _sep_bn(x, 1024, "block13_sepconv2")
    x = MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block13_pool")(x)
    x = add([x, residual])
    x = _sep_bn(x, 1536, "block14_sepconv1")
    x = Activation("relu", name="block14_sepconv1_act")(x)
    x = _sep_bn(x, 2048, "block14_sepconv2")
    x = Activation("relu", name="block14_sepconv2_act")(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = GlobalMaxPooling2D()(x)
    return Model(inputs, x, name="xception")


Xception = _application("Xception", xception)
Xception.__doc__ = """``keras.applications.Xception`` / ``keras.applications.xception.Xception``
with Keras's signature and ``weights`` handling (see the module docstring)."""

__all__ = ["Xception", "xception"]
