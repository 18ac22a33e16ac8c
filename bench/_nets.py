"""The benchmark networks, written once against the Keras API (``Sequential`` for the lecture
nets, functional for ResNet-20).

``build(net, api)`` builds a network with ``api`` = the ``cnnlab`` package or the ``keras``
package (both have ``Input``, ``Sequential``, ``Model``, ``layers``): the same source gives
the cnnlab and the Keras models, so they are the same network by construction. Every
weighted layer has an explicit name; the initial weights travel between implementations as
``{layer name: Keras arrays}``. The PyTorch versions live in ``_torch_nets.py``. This module
imports no framework.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# (layers module) -> list of layers for a Sequential model, or for a functional model
# (layers module, input tensor) -> output tensor.
Sequential = Callable[[Any], list[Any]]
Functional = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Net:
    """One benchmark: a network, its data and its training hyper-parameters.

    ``epoch_samples`` is the size of the real training set (Fashion-MNIST 60,000, CIFAR-10
    50,000): seconds per epoch = seconds per step x ceil(epoch_samples / batch_size).
    ``optimizer`` is ``'sgd'`` or ``'adam'`` with Keras's meaning of ``options``.
    ``functional``: ``body`` builds a functional model (else a ``Sequential`` one, as the
    lecture programs do). ``zoo``: a ``cnnlab.zoo`` builder that replaces ``body`` for cnnlab
    when it exists.
    """

    name: str
    title: str
    dataset: str  # 'fashion_mnist' (real data) or 'random_cifar' (uniform noise, 10 labels)
    input_shape: tuple[int, int, int]
    batch_size: int
    optimizer: str
    options: dict[str, float]
    body: Sequential | Functional
    epoch_samples: int
    functional: bool = False
    zoo: str | None = None

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.epoch_samples // self.batch_size)

    def optimizer_text(self) -> str:
        opts = ", ".join(f"{k}={v:g}" for k, v in self.options.items())
        return f"{'SGD' if self.optimizer == 'sgd' else 'Adam'}({opts})"


def lenet(L: Any) -> list[Any]:
    """SPEC §7 LeNet: conv 20@5x5 same relu, pool, conv 50@5x5 same relu, pool, 500, 10."""
    return [L.Conv2D(20, 5, padding="same", activation="relu", name="conv1"),
            L.MaxPooling2D(2, name="pool1"),
            L.Conv2D(50, 5, padding="same", activation="relu", name="conv2"),
            L.MaxPooling2D(2, name="pool2"),
            L.Flatten(name="flatten"),
            L.Dense(500, activation="relu", name="fc1"),
            L.Dense(10, activation="softmax", name="predictions")]


def keras_mnist(L: Any) -> list[Any]:
    """SPEC §7 Keras MNIST example: conv 32@3x3 relu x 2, pool, dense 64 relu, 10."""
    return [L.Conv2D(32, 3, activation="relu", name="conv1"),
            L.Conv2D(32, 3, activation="relu", name="conv2"),
            L.MaxPooling2D(2, name="pool1"),
            L.Flatten(name="flatten"),
            L.Dense(64, activation="relu", name="fc1"),
            L.Dense(10, activation="softmax", name="predictions")]


def keras_cifar(L: Any) -> list[Any]:
    """The lecture's Keras CIFAR-10 model: CONV => ELU => BN, (same, valid) pairs of 32 and
    64 filters with pool + dropout 0.25, dense 512 => ELU => BN, dropout 0.5, 10
    (``cnnlab.zoo.lecture.keras_cifar10_example``)."""
    def unit(layer: Any, i: int) -> list[Any]:
        return [layer, L.Activation("elu", name=f"elu{i}"), L.BatchNormalization(name=f"bn{i}")]

    return [*unit(L.Conv2D(32, 3, padding="same", name="conv1"), 1),
            *unit(L.Conv2D(32, 3, name="conv2"), 2),
            L.MaxPooling2D(2, name="pool1"), L.Dropout(0.25, name="drop1"),
            *unit(L.Conv2D(64, 3, padding="same", name="conv3"), 3),
            *unit(L.Conv2D(64, 3, name="conv4"), 4),
            L.MaxPooling2D(2, name="pool2"), L.Dropout(0.25, name="drop2"),
            L.Flatten(name="flatten"), *unit(L.Dense(512, name="fc1"), 5),
            L.Dropout(0.5, name="drop3"),
            L.Dense(10, activation="softmax", name="predictions")]


def vgg(L: Any) -> list[Any]:
    """The lecture's deeper VGG (``cnnlab.zoo.lecture.deeper_vggnet``): blocks of
    (conv 3x3 same relu => BN) x 2 => pool => dropout 0.25 with 32, 64, 128 filters, then
    dense 512 relu => BN => dropout 0.5 => 10."""
    layers = []
    for b, filters in enumerate((32, 64, 128), start=1):
        for c in (1, 2):
            layers += [L.Conv2D(filters, 3, padding="same", activation="relu",
                                name=f"block{b}_conv{c}"),
                       L.BatchNormalization(name=f"block{b}_bn{c}")]
        layers += [L.MaxPooling2D(2, name=f"block{b}_pool"),
                   L.Dropout(0.25, name=f"block{b}_drop")]
    return [*layers, L.Flatten(name="flatten"), L.Dense(512, activation="relu", name="fc1"),
            L.BatchNormalization(name="fc1_bn"), L.Dropout(0.5, name="drop"),
            L.Dense(10, activation="softmax", name="predictions")]


RESNET_BN = {"epsilon": 1e-5, "momentum": 0.9}


def _conv_bn(L: Any, x: Any, filters: int, size: int, name: str, strides: int = 1,
             padding: str = "same") -> Any:
    x = L.Conv2D(filters, size, strides=strides, padding=padding, use_bias=False,
                 kernel_initializer="he_normal", name=f"{name}_conv")(x)
    return L.BatchNormalization(name=f"{name}_bn", **RESNET_BN)(x)


def resnet20(L: Any, x: Any) -> Any:
    """CIFAR ResNet-20 (He et al. 2015, n = 3) with 1x1 projection shortcuts, laid out and
    named as ``cnnlab.zoo.resnet.resnet20`` (stride-2 convs pad one pixel on every side);
    functional: ``x`` is the ``Input`` tensor, the output tensor is returned."""
    x = L.Activation("relu", name="conv1_relu")(_conv_bn(L, x, 16, 3, "conv1"))
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(3):
            name = f"conv{stage + 2}_block{block + 1}"
            strides = 2 if stage > 0 and block == 0 else 1
            shortcut = x
            if strides != 1 or x.shape[-1] != filters:
                shortcut = _conv_bn(L, x, filters, 1, f"{name}_0", strides, "valid")
            y = L.ZeroPadding2D(1, name=f"{name}_1_pad")(x) if strides != 1 else x
            y = _conv_bn(L, y, filters, 3, f"{name}_1", strides,
                         "valid" if strides != 1 else "same")
            y = L.Activation("relu", name=f"{name}_1_relu")(y)
            y = _conv_bn(L, y, filters, 3, f"{name}_2")
            y = L.Add(name=f"{name}_add")([shortcut, y])
            x = L.Activation("relu", name=f"{name}_out")(y)
    x = L.GlobalAveragePooling2D(name="avg_pool")(x)
    return L.Dense(10, activation="softmax", name="predictions")(x)


FASHION, CIFAR = (28, 28, 1), (32, 32, 3)
NETS = {net.name: net for net in (
    Net("lenet", "lecture LeNet (SPEC §7)", "fashion_mnist", FASHION, 128, "sgd",
        {"learning_rate": 0.01}, lenet, 60_000),
    Net("mnist", "Keras MNIST example (SPEC §7)", "fashion_mnist", FASHION, 100, "adam",
        {"learning_rate": 1e-3}, keras_mnist, 60_000),
    Net("cifar", "Keras CIFAR-10 lecture model, BN+ELU+dropout", "random_cifar", CIFAR, 50,
        "adam", {"learning_rate": 1e-3}, keras_cifar, 50_000),
    Net("vgg", "deeper VGG, 3 blocks 32/64/128, BN+dropout", "random_cifar", CIFAR, 64, "sgd",
        {"learning_rate": 0.01, "momentum": 0.9}, vgg, 50_000),
    Net("resnet20", "ResNet-20 (CIFAR)", "random_cifar", CIFAR, 128, "sgd",
        {"learning_rate": 0.1, "momentum": 0.9}, resnet20, 50_000, functional=True,
        zoo="resnet20"),
)}


def build(net: Net, api: Any) -> tuple[Any, str]:
    """``(model, source)``: the network built with ``api`` (the ``cnnlab`` or ``keras``
    package), or with ``cnnlab.zoo.<net.zoo>`` when ``api`` is cnnlab and that exists."""
    if net.zoo is not None and api.__name__ == "cnnlab":
        try:
            from cnnlab import zoo
            return getattr(zoo, net.zoo)(input_shape=net.input_shape), f"cnnlab.zoo.{net.zoo}"
        except (ImportError, AttributeError):
            pass
    inputs = api.Input(net.input_shape)
    if net.functional:
        model = api.Model(inputs, net.body(api.layers, inputs), name=net.name)
    else:
        model = api.Sequential([inputs, *net.body(api.layers)], name=net.name)
    return model, "bench/_nets.py"


def optimizer(net: Net, api: Any) -> Any:
    """The Keras-style optimizer object of ``api`` (Keras's Adam epsilon is 1e-7)."""
    cls = api.optimizers.SGD if net.optimizer == "sgd" else api.optimizers.Adam
    return cls(**net.options)
