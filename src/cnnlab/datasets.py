"""Keras-compatible datasets: ``from cnnlab.datasets import mnist; mnist.load_data()``."""

from cnnlab.data.datasets import cifar10, cifar100, digits, fashion_mnist, mnist

__all__ = ["cifar10", "cifar100", "digits", "fashion_mnist", "mnist"]
