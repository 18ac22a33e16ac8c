"""LeNet-5 (LeCun et al. 1998) and the lecture's larger LeNet variant."""

from __future__ import annotations

from collections.abc import Sequence

from cnnlab.layers import AveragePooling2D, Conv2D, Dense, Flatten, Input, MaxPooling2D
from cnnlab.models import Sequential
from cnnlab.zoo.common import building, check_classes, check_input_shape


def lenet5(input_shape: Sequence[int | None] = (32, 32, 1), classes: int = 10,
           classic: bool = True) -> Sequential:
    """LeNet-5, the table of LeCun, Bottou, Bengio & Haffner (1998), Fig. 2.

    ===========  ===========================  ============  ==========
    layer        operation                    output        parameters
    ===========  ===========================  ============  ==========
    input                                     32x32x1
    ``c1``       conv 6@5x5, valid            28x28x6       156
    ``s2``       pool 2x2, stride 2           14x14x6       0
    ``c3``       conv 16@5x5, valid           10x10x16      2,416
    ``s4``       pool 2x2, stride 2           5x5x16        0
    ``flatten``                               400           0
    ``f5``       dense 120                    120           48,120
    ``f6``       dense 84                     84            10,164
    ``output``   dense ``classes``, softmax   10            850
    ===========  ===========================  ============  ==========

    61,706 parameters at 32x32x1 with 10 classes. ``classic=True``: tanh and average pooling
    (model ``lenet5``); ``classic=False``: the modern variant with ReLU and max pooling
    (``lenet5_modern``). Any input of at least 16x16 builds (MNIST's 28x28 gives 4x4x16).

    Simplifications of the 1998 network, as in every Keras re-implementation: C3 connects
    to all 6 maps (the paper wires each map to a subset: 1,516 parameters, not 2,416); the
    pooling layers have no trainable coefficient and bias; tanh is plain ``tanh`` instead of
    ``1.7159·tanh(2a/3)``; C5 is ``Dense(120)`` on the flattened 5x5x16 maps (the same
    48,120 weights as the paper's 5x5 convolution at 32x32); the output is softmax instead of
    the Euclidean RBF units.
    """
    name = "lenet5" if classic else "lenet5_modern"
    input_shape = check_input_shape(input_shape, name)
    classes = check_classes(classes, name)
    act, pool = ("tanh", AveragePooling2D) if classic else ("relu", MaxPooling2D)
    with building(name, input_shape):
        return Sequential([
            Input(input_shape),
            Conv2D(6, 5, activation=act, name="c1"),
            pool(2, name="s2"),
            Conv2D(16, 5, activation=act, name="c3"),
            pool(2, name="s4"),
            Flatten(name="flatten"),
            Dense(120, activation=act, name="f5"),
            Dense(84, activation=act, name="f6"),
            Dense(classes, activation="softmax", name="output"),
        ], name=name)


def lenet_lecture(input_shape: Sequence[int | None] = (28, 28, 1),
                  classes: int = 10) -> Sequential:
    """The lecture's LeNet (SPEC §7; PyImageSearch's ``LeNet``): 1,256,080 parameters.

    ====================================  ==========  ==========
    layer                                 output      parameters
    ====================================  ==========  ==========
    Conv2D(20, 5, 'same', relu)           28x28x20    520
    MaxPooling2D(2)                       14x14x20    0
    Conv2D(50, 5, 'same', relu)           14x14x50    25,050
    MaxPooling2D(2)                       7x7x50      0
    Flatten                               2450        0
    Dense(500, relu)                      500         1,225,500
    Dense(``classes``, softmax)           10          5,010
    ====================================  ==========  ==========

    Layers keep Keras's default names, so ``summary()`` reads like the lecture's.
    """
    input_shape = check_input_shape(input_shape, "lenet")
    classes = check_classes(classes, "lenet")
    with building("lenet", input_shape):
        return Sequential([
            Input(input_shape),
            Conv2D(20, 5, padding="same", activation="relu"),
            MaxPooling2D(2),
            Conv2D(50, 5, padding="same", activation="relu"),
            MaxPooling2D(2),
            Flatten(),
            Dense(500, activation="relu"),
            Dense(classes, activation="softmax"),
        ], name="lenet")
