"""``keras.preprocessing``: ``image`` and ``image_dataset_from_directory``."""

from cnnlab.data import image_dataset_from_directory
from cnnlab.keras.preprocessing import image

__all__ = ["image", "image_dataset_from_directory"]
