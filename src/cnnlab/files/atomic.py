"""Atomic file writes: a file is either fully written or not changed at all.

    with atomic_write("model.cnnlab", overwrite=True) as f:
        f.write(data)          # goes to a hidden temporary file in the same folder

On success the temporary file is flushed, ``fsync``-ed and renamed over the target with
``os.replace`` (atomic on POSIX and Windows, since both are in one folder); on an exception it is
deleted and the target keeps its old content. A failure of the file system (disk full, read-only
folder, I/O error) is raised as an ``OSError`` of the same errno whose message names the target
(not the temporary file) and says that the target is unchanged.

A process killed mid-write (SIGKILL, power loss) cannot delete its temporary file: it stays as
``.<name>.<host>.<pid>.<hex>.tmp``, never as a half-written target.
:func:`remove_stale_temps` deletes such files of ``<name>`` whose writer is dead (model and
checkpoint writes call it, so a resumed training leaves none behind).
"""

from __future__ import annotations

import errno as errnos
import hashlib
import os
import secrets
import socket
import sys
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
    existed = os.path.exists(path)
    folder = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(folder, f".{os.path.basename(path)}.{_host_tag()}.{os.getpid()}."
                                f"{secrets.token_hex(4)}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(temp, flags, 0o666)
    except OSError as err:
        raise _naming(err, path, temp, existed, ours=True) from err
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException as err:
        try:
            os.remove(temp)
        except OSError:
            pass
        named = _naming(err, path, temp, existed) if isinstance(err, OSError) else err
        if named is err:
            raise
        raise named from err
    _fsync_folder(folder)


def _naming(err: OSError, path: str, temp: str, existed: bool, ours: bool = False) -> OSError:
    """``err`` again (same errno, so the same ``OSError`` subclass) with a message naming the
    target. In the caller's block (``ours=False``) an error that names another file (the block
    reading one) stays as it is."""
    if not ours and err.filename not in (None, temp, path):
        return err
    kept = f"{path!r} keeps its previous content" if existed else f"{path!r} was not created"
    reason = err.strerror or str(err)
    hint = {errnos.ENOSPC: " (the disk is full)",
            errnos.EACCES: " (no permission to write in its folder)"}.get(err.errno, "")
    message = f"cannot write {path!r}: {reason}{hint}; {kept}"
    return OSError(err.errno, message) if err.errno is not None else OSError(message)


def remove_stale_temps(path: str | os.PathLike) -> list[str]:
    """Delete the temporary files that killed writers of ``path`` left; returns their paths.

    Only files named as :func:`atomic_write` names them, by this host, whose process no longer
    exists: a write in progress (another process or thread) is never touched.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    prefix, host = f".{os.path.basename(path)}.", _host_tag()
    removed = []
    try:
        entries = [e.name for e in os.scandir(folder) if e.name.startswith(prefix)]
    except OSError:
        return removed
    for name in entries:
        parts = name[len(prefix):].split(".")
        if len(parts) != 4 or parts[0] != host or parts[3] != "tmp" or not parts[1].isdigit():
            continue
        if _alive(int(parts[1])):
            continue
        try:
            os.remove(os.path.join(folder, name))
            removed.append(os.path.join(folder, name))
        except OSError:
            pass
    return removed


def _host_tag() -> str:
    """8 hex digits of this host's name: a pid means something only on its own host."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a zombie does not count); True when unsure."""
    if pid == os.getpid():
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
        return text[text.rfind(")") + 2:][:1] not in ("Z", "X", "x")
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return False
    except OSError:
        return True
    if sys.platform == "win32":  # os.kill there would terminate the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


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
