"""``keras.datasets.cifar100``."""

from cnnlab.data.datasets.cifar100 import load_data

__all__ = ["load_data"]
