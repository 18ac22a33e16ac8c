"""``keras.datasets.cifar10``."""

from cnnlab.data.datasets.cifar10 import load_data

__all__ = ["load_data"]
