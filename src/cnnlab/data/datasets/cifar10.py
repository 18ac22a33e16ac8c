"""CIFAR-10 (Krizhevsky, 2009), read from the official ``cifar-10-python.tar.gz``.

The archive holds pickled batches ``data_batch_1`` .. ``data_batch_5`` and ``test_batch`` of
10000 images each, stored channels first; they are parsed safely (nothing is unpickled, see
:mod:`cnnlab.data.formats`) and transposed to channels last, as Keras does.

Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck.
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from ..download import DataSource, RemoteFile, fetch
from ..formats import cifar_batch, read_cifar_archive
from .mnist import Split

__all__ = ["load_data"]

_ARCHIVE = "cifar-10-python.tar.gz"
_FOLDER = "cifar-10-batches-py"
# SHA-256 as in Keras's cifar10.py (torchvision checks the MD5 c58f30108f718f92721af3b95e74349a).
SOURCE = DataSource(
    name="cifar10",
    files=(
        RemoteFile(
            _ARCHIVE,
            ("6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",),
            ("https://www.cs.toronto.edu/~kriz/" + _ARCHIVE,),
        ),
    ),
)


def channels_last(images: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` -> contiguous ``(N, H, W, C)``, copied one channel plane at a time
    (several times faster than a general ``transpose`` copy for uint8)."""
    out = np.empty((images.shape[0], *images.shape[2:], images.shape[1]), images.dtype)
    for c in range(images.shape[1]):
        out[..., c] = images[:, c]
    return out


def load_data(path: str | PathLike[str] | None = None) -> tuple[Split, Split]:
    """Load CIFAR-10: ``(x_train, y_train), (x_test, y_test)``, exactly as Keras returns them.

    ``x_train``: uint8 ``(50000, 32, 32, 3)``; ``y_train``: uint8 ``(50000, 1)``, classes 0..9;
    ``x_test``: uint8 ``(10000, 32, 32, 3)``; ``y_test``: uint8 ``(10000, 1)``.
    (Keras returns a transposed, non-contiguous view; cnnlab returns the same values contiguous.)

    Args:
        path: optional folder holding ``cifar-10-python.tar.gz``; searched first.
            (Keras's ``load_data`` takes no argument.)
    """
    archive = fetch(SOURCE, path)[_ARCHIVE]
    names = [f"{_FOLDER}/data_batch_{i}" for i in range(1, 6)] + [f"{_FOLDER}/test_batch"]
    parsed = read_cifar_archive(archive, names)
    batches = [cifar_batch(parsed[n], "labels", f"{archive}:{n}") for n in names]
    x_train = channels_last(np.concatenate([x for x, _ in batches[:5]]))
    y_train = np.concatenate([y for _, y in batches[:5]]).astype(np.uint8).reshape(-1, 1)
    x_test, y_test = batches[5]
    return (x_train, y_train), (channels_last(x_test), y_test.astype(np.uint8).reshape(-1, 1))
