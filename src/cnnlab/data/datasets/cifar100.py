"""CIFAR-100 (Krizhevsky, 2009), read from the official ``cifar-100-python.tar.gz``.

100 fine classes grouped into 20 coarse superclasses. The pickled ``train`` and ``test`` files
are parsed safely (nothing is unpickled) and transposed to channels last, as Keras does.
"""

from __future__ import annotations

from os import PathLike

from ..download import DataSource, RemoteFile, fetch
from ..formats import cifar_batch, read_cifar_archive
from .cifar10 import channels_last
from .mnist import Split

__all__ = ["load_data"]

_ARCHIVE = "cifar-100-python.tar.gz"
_FOLDER = "cifar-100-python"
# SHA-256 as in Keras's cifar100.py (torchvision checks the MD5 eb9058c3a382ffc7106e4002c42a8d85).
SOURCE = DataSource(
    name="cifar100",
    files=(
        RemoteFile(
            _ARCHIVE,
            ("85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",),
            ("https://www.cs.toronto.edu/~kriz/" + _ARCHIVE,),
        ),
    ),
)


def load_data(
    label_mode: str = "fine", path: str | PathLike[str] | None = None
) -> tuple[Split, Split]:
    """Load CIFAR-100: ``(x_train, y_train), (x_test, y_test)``, exactly as Keras returns them.

    ``x_train``: uint8 ``(50000, 32, 32, 3)``; ``y_train``: ``(50000, 1)``; ``x_test``: uint8
    ``(10000, 32, 32, 3)``; ``y_test``: ``(10000, 1)``. The labels are int64, as Keras actually
    returns them (its docstring says uint8, but it reshapes the pickled Python list).

    Args:
        label_mode: ``'fine'`` (100 classes, 0..99) or ``'coarse'`` (20 superclasses, 0..19).
        path: optional folder holding ``cifar-100-python.tar.gz``; searched first.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"label_mode must be 'fine' or 'coarse', got {label_mode!r}")
    archive = fetch(SOURCE, path)[_ARCHIVE]
    names = [f"{_FOLDER}/train", f"{_FOLDER}/test"]
    parsed = read_cifar_archive(archive, names)
    (x_train, y_train), (x_test, y_test) = (
        cifar_batch(parsed[n], f"{label_mode}_labels", f"{archive}:{n}") for n in names
    )
    return (
        (channels_last(x_train), y_train.reshape(-1, 1)),
        (channels_last(x_test), y_test.reshape(-1, 1)),
    )
