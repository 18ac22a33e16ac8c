"""Keras-compatible datasets: ``from cnnlab.datasets import mnist; mnist.load_data()``.

``mnist``, ``fashion_mnist``, ``cifar10`` and ``cifar100`` read the official files (found on
this machine or downloaded once, see :mod:`cnnlab.data.download`); ``digits`` is scikit-learn's
bundled 8x8 digits and never downloads.
"""

from . import cifar10, cifar100, digits, fashion_mnist, mnist

__all__ = ["cifar10", "cifar100", "digits", "fashion_mnist", "mnist"]
