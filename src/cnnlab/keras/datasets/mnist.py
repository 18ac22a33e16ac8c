"""``keras.datasets.mnist``."""

from cnnlab.data.datasets.mnist import load_data

__all__ = ["load_data"]
