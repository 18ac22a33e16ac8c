"""Named datasets ready for training: arrays scaled to [0, 1], channels-last, class names.

``load_dataset('fashion_mnist')`` returns a :class:`Dataset` with ``x_train`` ``(N, 28, 28, 1)``
float32 in [0, 1], integer labels, the test split and human-readable class names. A folder of
class sub-folders (the Dogs-vs-Cats layout) works too: ``load_dataset('path/to/folder')``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from cnnlab.data.datasets import cifar10, cifar100, digits, fashion_mnist, mnist
from cnnlab.data.directory import image_dataset_from_directory

CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "digits": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                "truck"],
}
LOADERS = {"mnist": mnist.load_data, "fashion_mnist": fashion_mnist.load_data,
           "cifar10": cifar10.load_data, "cifar100": cifar100.load_data,
           "digits": digits.load_data}


@dataclass
class Dataset:
    """Train and test arrays (``x`` float32 in [0, 1], ``(N, H, W, C)``; ``y`` int64)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def classes(self) -> int:
        return len(self.class_names)


def _prepare(x: np.ndarray, top: float) -> np.ndarray:
    x = x.astype(np.float32) / np.float32(top)
    return x[..., None] if x.ndim == 3 else x


def load_dataset(name: str, test_split: float = 0.2, seed: int = 113,
                 image_size: tuple[int, int] = (64, 64)) -> Dataset:
    """A dataset by name (``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``,
    ``digits``) or a folder of class sub-folders (split ``test_split`` for testing)."""
    key = name.lower().replace("-", "_")
    if key in LOADERS:
        (x_train, y_train), (x_test, y_test) = LOADERS[key]()
        top = 16.0 if key == "digits" else 255.0
        classes = CLASS_NAMES.get(key) or [str(i) for i in range(int(y_train.max()) + 1)]
        return Dataset(key, _prepare(x_train, top), y_train.reshape(-1).astype(np.int64),
                       _prepare(x_test, top), y_test.reshape(-1).astype(np.int64), classes)
    if os.path.isdir(name):
        return _from_folder(name, test_split, seed, image_size)
    raise ValueError(f"unknown dataset {name!r}: use one of {sorted(LOADERS)} or a folder of "
                     f"class sub-folders")


def _from_folder(folder: str, test_split: float, seed: int,
                 image_size: tuple[int, int]) -> Dataset:
    train, test = image_dataset_from_directory(
        folder, image_size=image_size, batch_size=256, shuffle=True, seed=seed,
        validation_split=test_split, subset="both")

    def arrays(ds: object) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
        return np.concatenate(xs) / np.float32(255), np.concatenate(ys).astype(np.int64)

    x_train, y_train = arrays(train)
    x_test, y_test = arrays(test)
    return Dataset(os.path.basename(os.path.normpath(folder)), x_train, y_train, x_test, y_test,
                   list(train.class_names))
