"""HDF5 files are walked in a child process before cnnlab reads them.

h5py and the HDF5 C library parse HDF5, and a damaged file can crash them: fuzzing found a
mutated attribute header that segfaults h5py 3.12 / HDF5 1.14.4 (and h5py 3.16 / HDF5 2.0.0),
which no ``try`` can catch. HDF5 can also make a reader open other files (external links,
external raw storage, virtual datasets) or read gigabytes from a few bytes (a dataset that is
never written reads as its fill value; a compressed one can expand without bound).

So before a loader opens an HDF5 file, :func:`check_hdf5` runs this module as a script in a
child Python (``python -I``: no environment variables, no script folder on the path; only
numpy and h5py are imported). The child opens the file and walks all of it, doing what the
loaders do and more: every group and link, every attribute's value, every dataset's data (in
slices). The loader reads the file itself only when the child ended cleanly; a crash (a
signal), a hang (:data:`TIMEOUT` seconds plus one per 50 MB) or a refused structure is a
``ValueError`` naming the file. Refused, for every object in the file:

- soft and external links, objects linked twice (hard-link cycles);
- datasets with external raw storage or virtual sources, and datasets whose type is not a
  number (``b``/``i``/``u``/``f``);
- datasets declaring more than :data:`MAX_DATASET_BYTES`, and datasets above
  :data:`RATIO_FLOOR` bytes whose stored size is more than :data:`MAX_RATIO` times smaller
  (the same rule as for zip members);
- more than :data:`MAX_OBJECTS` objects.

This turns crashes into clean errors; it is not a sandbox (the child runs as the same user).
It costs about 0.1 s per file, plus the time to read it once more; the outcome is remembered
by the SHA-256 of the content (the last 64 files).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MAX_DATASET_BYTES = 2 << 30
MAX_RATIO = 200
RATIO_FLOOR = 1 << 20
MAX_OBJECTS = 100_000
TIMEOUT = 60.0  # seconds, plus one per 50 MB of file
_SLICE_BYTES = 64 << 20
_REMEMBERED = 64
_outcomes: dict[bytes, tuple[str, str]] = {}  # SHA-256 of a file's content -> _run_child's


def check_hdf5(source: str | os.PathLike | bytes, name: str) -> None:
    """Walk the HDF5 file at ``source`` (a path, or the file's bytes) in a child process;
    ``ValueError`` naming ``name`` if the child crashes, hangs or refuses the file."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, size, target = bytes(source), len(source), "-"
        digest = hashlib.sha256(data).digest()
    else:
        target = os.path.abspath(os.fspath(source))
        data, size = None, os.stat(target).st_size
        with open(target, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").digest() if hasattr(
                hashlib, "file_digest") else hashlib.sha256(f.read()).digest()
    outcome = _outcomes.get(digest)
    if outcome is None:
        outcome = _run_child(data, size, target)
        if len(_outcomes) >= _REMEMBERED:
            _outcomes.pop(next(iter(_outcomes)))
        _outcomes[digest] = outcome
    message, separator = outcome
    if message:
        raise ValueError(f"{name}{separator}{message}")


@contextmanager
def hdf5_errors(name: str) -> Iterator[None]:
    """Turn what h5py raises for a damaged file it could open (``RuntimeError: bad local heap
    signature``, ``KeyError: unable to open object``, ...) into a ``ValueError`` naming it."""
    try:
        yield
    except (RuntimeError, KeyError, OSError, TypeError, IndexError) as exc:
        raise ValueError(f"{name} is a damaged HDF5 file: {type(exc).__name__}: "
                         f"{str(exc)[:300]}") from None


def _run_child(data: bytes | None, size: int, target: str) -> tuple[str, str]:
    """``("", "")`` when the file passed, else the reason and how it follows the file name."""
    import h5py
    import numpy

    paths = sorted({os.path.dirname(os.path.dirname(m.__file__)) for m in (h5py, numpy)})
    command = [sys.executable, "-I", os.path.abspath(__file__), target, *paths]
    timeout = TIMEOUT + size / 50e6
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        return (f"reading it as HDF5 did not finish in {timeout:.0f} s; refused (a damaged "
                f"file can make the HDF5 library loop)", ": ")
    if done.returncode < 0:
        return (f"the HDF5 library crashed reading it (signal {-done.returncode}, in a child "
                f"process); refused", " is a damaged HDF5 file: ")
    try:
        report = json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])
    except (IndexError, UnicodeDecodeError, json.JSONDecodeError):
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        return f"checking it as HDF5 failed (exit {done.returncode}: {tail[0][:200]})", ": "
    if report.get("unreadable"):
        return report["unreadable"], " is not a readable HDF5 file: "
    if report.get("refused"):
        return report["refused"], ": "
    return "", ""


# ------------------------------------------------------------------ the child's walk
def _walk(f: Any) -> None:
    import h5py

    seen: set[int] = set()
    groups, strings = [], set(_NAMES)
    stack = [("/", f)]
    while stack:
        path, obj = stack.pop()
        ident = hash(obj.id)
        if ident in seen:
            raise _Refused(f"{path} is a second link to an object already seen (a hard-link "
                           f"cycle or alias); refused")
        seen.add(ident)
        if len(seen) > MAX_OBJECTS:
            raise _Refused(f"more than {MAX_OBJECTS} objects; refused")
        for key in obj.attrs:
            strings.update(_strings(obj.attrs[key]))  # reading the value is the check
        if isinstance(obj, h5py.Group):
            groups.append(obj)
            for key in obj:
                link = obj.get(key, getlink=True)
                where = f"{path.rstrip('/')}/{key}"
                if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
                    raise _Refused(f"{where} is a {type(link).__name__} (to "
                                   f"{getattr(link, 'filename', '') or ''}{link.path}); links "
                                   f"are refused")
                stack.append((where, obj[key]))
        elif isinstance(obj, h5py.Dataset):
            _dataset(obj, path)
    # The loaders also ask whether a group has a member named in an attribute ("layer_names",
    # "weight_names") or a layout name: HDF5 then searches the group's heap, which can be
    # damaged where iterating it was not.
    strings = sorted(strings)[:_MAX_NAMES]
    for group in groups:
        for name in strings:
            name in group  # noqa: B015


def _dataset(ds: Any, path: str) -> None:
    if ds.is_virtual or ds.external:
        raise _Refused(f"dataset {path} reads its data from other files (virtual or external "
                       f"storage); refused")
    if ds.dtype.kind not in "biuf" or ds.dtype.fields is not None or ds.dtype.subdtype:
        raise _Refused(f"dataset {path} holds {ds.dtype}, not numbers; refused")
    nbytes = ds.size * ds.dtype.itemsize
    if nbytes > MAX_DATASET_BYTES:
        raise _Refused(f"dataset {path} declares {nbytes} bytes (shape {ds.shape}), more than "
                       f"{MAX_DATASET_BYTES}; refused")
    stored = ds.id.get_storage_size()
    if nbytes > RATIO_FLOOR and nbytes > MAX_RATIO * max(stored, 1):
        raise _Refused(f"dataset {path} declares {nbytes} bytes but stores {stored}: it "
                       f"expands more than {MAX_RATIO} times; refused")
    if ds.shape == () or ds.size == 0:
        ds[()]  # noqa: B018
        return
    row = max(nbytes // ds.shape[0], 1)
    step = max(_SLICE_BYTES // row, 1)
    for start in range(0, ds.shape[0], step):
        ds[start:start + step]  # noqa: B018


_NAMES = ("layers", "vars", "model_weights", "_layer_checkpoint_dependencies", "optimizer",
          "layer_names", "weight_names")
_MAX_NAMES = 2000


def _strings(value: Any) -> list[str]:
    """The strings in an attribute value (a string, bytes, or an array of them)."""
    import numpy as np

    items = value.ravel().tolist() if isinstance(value, np.ndarray) else [value]
    out = []
    for item in items:
        if isinstance(item, bytes):
            item = item.decode("utf-8", "replace")
        if isinstance(item, str) and item:
            out.append(item)
    return out


class _Refused(Exception):
    pass


def _main(argv: list[str]) -> int:
    target, paths = argv[0], argv[1:]
    sys.path[:0] = paths
    import io

    import h5py

    report = {}
    try:
        source = io.BytesIO(sys.stdin.buffer.read()) if target == "-" else target
        with h5py.File(source, "r") as f:
            _walk(f)
    except _Refused as exc:
        report["refused"] = str(exc)
    except Exception as exc:  # noqa: BLE001  (h5py raises many types for damaged files)
        report["unreadable"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
