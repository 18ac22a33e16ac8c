"""``keras.datasets``: ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``."""

from cnnlab.keras.datasets import cifar10, cifar100, fashion_mnist, mnist

__all__ = ["cifar10", "cifar100", "fashion_mnist", "mnist"]
