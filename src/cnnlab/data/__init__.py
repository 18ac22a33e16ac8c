"""Data: dataset loaders, folders of images, and preprocessing.

- :mod:`cnnlab.data.datasets`: ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``,
  ``digits`` with Keras's ``load_data()``;
- :class:`Dataset` (``tf.data``-style ``from_tensor_slices``/``batch``/``map``/``take``);
- :func:`image_dataset_from_directory` (and :func:`list_image_files`) for class folders;
- :func:`to_categorical`, :func:`normalize`, :func:`scale_to_unit`, :class:`Standardizer`;
- :class:`ImageDataGenerator` (batched augmentation) and :class:`Prefetcher` (background batches).
"""

from . import datasets
from .directory import ImageDataset, image_dataset_from_directory, list_image_files
from .download import DatasetNotFoundError
from .image_generator import ImageDataGenerator
from .image_iterators import DirectoryIterator, NumpyArrayIterator
from .pipeline import AUTOTUNE, Dataset
from .prefetch import Prefetcher
from .preprocessing import Standardizer, normalize, scale_to_unit, to_categorical

__all__ = [
    "AUTOTUNE",
    "Dataset",
    "DatasetNotFoundError",
    "ImageDataset",
    "Standardizer",
    "datasets",
    "image_dataset_from_directory",
    "list_image_files",
    "normalize",
    "scale_to_unit",
    "to_categorical",
    "DirectoryIterator",
    "ImageDataGenerator",
    "NumpyArrayIterator",
    "Prefetcher",
]
