"""Fashion-MNIST (Zalando), read from the official IDX files.

``load_data()`` returns what ``keras.datasets.fashion_mnist.load_data()`` returns. On Debian and
Ubuntu the files come with the package ``dataset-fashion-mnist`` and are used from
``/usr/share/datasets/fashion-mnist`` without any download.

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
8 Bag, 9 Ankle boot.
"""

from __future__ import annotations

from os import PathLike

from ..download import DataSource, RemoteFile
from .mnist import Split, load_idx_dataset

__all__ = ["load_data"]

_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # the official address
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # Keras's mirror
)
# Accepted SHA-256 per file: first the official archive (recorded identically by Keras's
# fashion_mnist.py and tensorflow-datasets' url_checksums/fashion_mnist.txt), then Debian's copy
# (dataset-fashion-mnist 0.0~git20200523.55506a9-1). Debian's files hold the same compressed
# data but a different gzip header (no stored file name, another timestamp): each is exactly
# len(name) + 1 bytes shorter than the official one.
_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    ),
    "train-labels-idx1-ubyte.gz": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    ),
}

SOURCE = DataSource(
    name="fashion-mnist",
    files=tuple(
        RemoteFile(name, digests, tuple(m + name for m in _MIRRORS))
        for name, digests in _SHA256.items()
    ),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    install_hint="On Debian/Ubuntu: sudo apt install dataset-fashion-mnist",
)


def load_data(path: str | PathLike[str] | None = None) -> tuple[Split, Split]:
    """Load Fashion-MNIST: ``(x_train, y_train), (x_test, y_test)``, exactly as Keras does.

    ``x_train``: uint8 ``(60000, 28, 28)``; ``y_train``: uint8 ``(60000,)``, classes 0..9;
    ``x_test``: uint8 ``(10000, 28, 28)``; ``y_test``: uint8 ``(10000,)``.

    Args:
        path: optional folder holding the four official ``*-ubyte.gz`` files; searched first.
            (Keras's ``load_data`` takes no argument.)
    """
    return load_idx_dataset(SOURCE, path)
