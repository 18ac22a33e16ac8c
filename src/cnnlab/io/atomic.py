"""Atomic file writes: a file is either fully written or not changed at all.

    with atomic_write("model.cnnlab", overwrite=True) as f:
        f.write(data)          # goes to a hidden temporary file in the same folder

On success the temporary file is flushed, ``fsync``-ed and renamed over the target with
``os.replace`` (atomic on POSIX and Windows, since both are in one folder); on an exception it is
deleted and the target keeps its old content. A crash mid-write can leave a ``.<name>.*.tmp``
file behind, never a half-written target.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO


def check_target(path: str | os.PathLike, overwrite: bool) -> str:
    """The path as a string, after checking it may be written.

    Raises ``FileExistsError`` when it exists and ``overwrite`` is False, and
    ``IsADirectoryError`` when it is a folder.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path!r}: it is a directory")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} already exists and overwrite=False")
    return path


@contextmanager
def atomic_write(path: str | os.PathLike, overwrite: bool = True) -> Iterator[BinaryIO]:
    """A binary file object whose content replaces ``path`` only if the block succeeds.

    Creates missing parent folders (as Keras's ``model.save`` does). The new file gets the
    usual permissions (``0o666`` minus the umask), not a temporary file's ``0o600``.
    """
    path = check_target(path, overwrite)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
