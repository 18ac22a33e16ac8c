"""MNIST handwritten digits, read from the official IDX files (LeCun, Cortes and Burges).

``load_data()`` returns what ``keras.datasets.mnist.load_data()`` returns. Keras downloads a
repackaged ``mnist.npz``; cnnlab reads the four official ``*-ubyte.gz`` files instead, found or
downloaded as described in :mod:`cnnlab.data.download`.
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from ..download import DataSource, RemoteFile, fetch
from ..formats import read_idx

__all__ = ["load_data"]

_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # tensorflow-datasets' mirror
    "http://yann.lecun.com/exdb/mnist/",  # the original address
)
# SHA-256 of the official files, as recorded by tensorflow-datasets (url_checksums/mnist.txt)
# and by other projects for all three addresses; the same files have the MD5 sums torchvision
# checks (f68b3c2d..., d53e105e..., 9fb629c4..., ec29112d...) and 9912422, 28881, 1648877 and
# 4542 bytes.
_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}

SOURCE = DataSource(
    name="mnist",
    files=tuple(
        RemoteFile(name, digests, tuple(m + name for m in _MIRRORS))
        for name, digests in _SHA256.items()
    ),
    system_dirs=("/usr/share/datasets/mnist",),
)

Split = tuple[np.ndarray, np.ndarray]


def load_idx_dataset(source: DataSource, path: str | PathLike[str] | None) -> tuple[Split, Split]:
    """``(x_train, y_train), (x_test, y_test)`` from the four IDX files of an MNIST-like set.

    Images are uint8 ``(N, H, W)``, labels uint8 ``(N,)``; each pair is checked to hold the
    same number of examples.
    """
    paths = fetch(source, path)

    def pair(prefix: str) -> Split:
        images_path = paths[f"{prefix}-images-idx3-ubyte.gz"]
        labels_path = paths[f"{prefix}-labels-idx1-ubyte.gz"]
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{images_path}: expected uint8 images (N, H, W), got "
                             f"{images.dtype} {images.shape}")
        if labels.shape != images.shape[:1] or labels.dtype != np.uint8:
            raise ValueError(f"{labels_path}: expected {len(images)} uint8 labels, got "
                             f"{labels.dtype} {labels.shape}")
        return images, labels

    return pair("train"), pair("t10k")


def load_data(path: str | PathLike[str] | None = None) -> tuple[Split, Split]:
    """Load MNIST: ``(x_train, y_train), (x_test, y_test)``, exactly as Keras returns them.

    ``x_train``: uint8 ``(60000, 28, 28)``, pixels 0..255; ``y_train``: uint8 ``(60000,)``,
    digits 0..9; ``x_test``: uint8 ``(10000, 28, 28)``; ``y_test``: uint8 ``(10000,)``.

    Args:
        path: optional folder holding the four official ``*-ubyte.gz`` files; searched first.
            (Keras's ``path`` names its cache file instead; cnnlab has no ``mnist.npz``.)

    Example:
        >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
        >>> x_train.shape, y_train.shape
        ((60000, 28, 28), (60000,))
    """
    return load_idx_dataset(SOURCE, path)
