"""The small networks of the lectures: ShallowNet, (Mini/Shallow) VGGNet, the Keras examples.

Layers keep Keras's default names (``conv2d``, ``dense_1``, ...) so that ``summary()`` reads
like the lecture's printout. Parameter counts below are for the default input shape and 10
classes.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def _sequential(name: str, input_shape: Sequence[int | None], classes: int,
                body: list[Layer]) -> Sequential:
    """``Input -> body -> Dense(classes, softmax)`` after checking the arguments."""
    input_shape = check_input_shape(input_shape, name)
    classes = check_classes(classes, name)
    with building(name, input_shape):
        return Sequential([Input(input_shape), *body, Dense(classes, activation="softmax")],
                          name=name)


def shallownet(input_shape: Sequence[int | None] = (32, 32, 3), classes: int = 10,
               filters: int = 64) -> Sequential:
    """ShallowNet: one convolution and a classifier (SPEC §7: 657,162 parameters).

    ``Conv2D(64, 3, 'same', relu)`` -> 32x32x64 (1,792) -> ``Flatten`` -> 65,536 ->
    ``Dense(classes, softmax)`` (655,370). PyImageSearch's ShallowNet (Rosebrock, *Deep
    Learning for Computer Vision with Python*, ch. 12) uses ``filters=32``.
    """
    return _sequential("shallownet", input_shape, classes, [
        Conv2D(filters, 3, padding="same", activation="relu"),
        Flatten(),
    ])


def _vgg_blocks(filters: Sequence[int], dropout: bool) -> list[Layer]:
    """Per block ``(Conv2D(f, 3, 'same', relu) -> BN) x 2 -> MaxPool 2 -> Dropout(0.25)``,
    then ``Flatten -> Dense(512, relu) -> BN -> Dropout(0.5)``."""
    layers: list[Layer] = []
    for f in filters:
        for _ in range(2):
            layers += [Conv2D(f, 3, padding="same", activation="relu"), BatchNormalization()]
        layers.append(MaxPooling2D(2))
        if dropout:
            layers.append(Dropout(0.25))
    layers += [Flatten(), Dense(512, activation="relu"), BatchNormalization()]
    if dropout:
        layers.append(Dropout(0.5))
    return layers


def shallow_vggnet(input_shape: Sequence[int | None] = (32, 32, 3), classes: int = 10,
                   dropout: bool = True) -> Sequential:
    """The shallow VGG of the lecture: PyImageSearch's MiniVGGNet (Rosebrock, ch. 15).

    ``((CONV 3x3 'same' => RELU => BN) x 2 => POOL 2 => DROPOUT 0.25)`` with 32 then 64
    filters, then ``FC 512 => RELU => BN => DROPOUT 0.5 => FC classes => SOFTMAX``.
    At 32x32x3: 32x32x32 -> 16x16x32 -> 16x16x64 -> 8x8x64 -> 4096 -> 512 -> 10;
    2,171,178 parameters, of which 1,408 are BN moving statistics (non-trainable), so
    2,169,770 trainable. ``dropout=False`` removes the three ``Dropout`` layers (the
    lecture's comparison of training curves with and without dropout).
    """
    return _sequential("shallow_vggnet", input_shape, classes, _vgg_blocks((32, 64), dropout))


def deeper_vggnet(input_shape: Sequence[int | None] = (32, 32, 3), classes: int = 10,
                  dropout: bool = True) -> Sequential:
    """The deeper, 3-block VGG: ``shallow_vggnet`` with a third block of 128 filters.

    Blocks of two 3x3 'same' convolutions (ReLU, BN) with 32, 64 and 128 filters, each
    followed by 2x2 max pooling and dropout 0.25, then ``FC 512 -> BN -> dropout 0.5 ->
    softmax``. At 32x32x3: 32 -> 16 -> 8 -> 4, so 4x4x128 = 2048 features; 1,345,066
    parameters, 1,343,146 trainable (1,920 are BN moving statistics). Choice: the lecture's
    "deeper VGG" adds a block to the shallow one; keeping every other layer identical
    isolates the effect of depth.
    """
    return _sequential("deeper_vggnet", input_shape, classes,
                       _vgg_blocks((32, 64, 128), dropout))


def keras_mnist_example(input_shape: Sequence[int | None] = (28, 28, 1),
                        classes: int = 10) -> Sequential:
    """The Keras MNIST example as the lecture gives it (SPEC §7): 305,194 parameters.

    ``Conv2D(32, 3, relu)`` -> 26x26x32 (320) -> ``Conv2D(32, 3, relu)`` -> 24x24x32 (9,248)
    -> ``MaxPooling2D(2)`` -> 12x12x32 -> ``Flatten`` -> 4608 -> ``Dense(64, relu)``
    (294,976) -> ``Dense(classes, softmax)`` (650). Keras's own ``mnist_cnn.py`` differs
    (64 filters in the second convolution, dropout, ``Dense(128)``).
    """
    return _sequential("keras_mnist_example", input_shape, classes, [
        Conv2D(32, 3, activation="relu"),
        Conv2D(32, 3, activation="relu"),
        MaxPooling2D(2),
        Flatten(),
        Dense(64, activation="relu"),
    ])


def keras_cifar10_example(input_shape: Sequence[int | None] = (32, 32, 3), classes: int = 10,
                          activation: str = "elu", batch_norm: bool = True) -> Sequential:
    """Keras's ``cifar10_cnn.py`` example in the lecture's version with ELU and batch norm.

    ========================================  ==========  ==========
    layer                                     output      parameters
    ========================================  ==========  ==========
    Conv2D(32, 3, 'same') -> ELU -> BN        32x32x32    896 + 128
    Conv2D(32, 3) -> ELU -> BN                30x30x32    9,248 + 128
    MaxPooling2D(2) -> Dropout(0.25)          15x15x32    0
    Conv2D(64, 3, 'same') -> ELU -> BN        15x15x64    18,496 + 256
    Conv2D(64, 3) -> ELU -> BN                13x13x64    36,928 + 256
    MaxPooling2D(2) -> Dropout(0.25)          6x6x64      0
    Flatten -> Dense(512) -> ELU -> BN        512         1,180,160 + 2,048
    Dropout(0.5) -> Dense(classes, softmax)   10          5,130
    ========================================  ==========  ==========

    1,253,674 parameters (1,408 of them BN moving statistics). The layout (the 'same' then
    'valid' convolution pairs, dropout rates, 512 units) is Keras's example; the lecture
    replaces ReLU by ELU and adds ``BatchNormalization`` after each activation (the order
    CONV => ACT => BN of the lecture's VGG nets). ``activation='relu', batch_norm=False``
    gives Keras's original example (1,250,858 parameters).
    """
    body: list[Layer] = []

    def unit(layer: Layer) -> None:
        body.append(layer)
        body.append(Activation(activation))
        if batch_norm:
            body.append(BatchNormalization())

    for filters in (32, 64):
        unit(Conv2D(filters, 3, padding="same"))
        unit(Conv2D(filters, 3))
        body += [MaxPooling2D(2), Dropout(0.25)]
    body.append(Flatten())
    unit(Dense(512))
    body.append(Dropout(0.5))
    return _sequential("keras_cifar10_example", input_shape, classes, body)
