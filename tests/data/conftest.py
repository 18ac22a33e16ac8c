"""Writers for the official file formats (independent of cnnlab's readers) and test isolation.

- ``write_idx``: the IDX layout from LeCun's MNIST page, built with ``struct``.
- ``py2_pickle``: the byte stream Python 2's ``cPickle.dump(obj, f, 2)`` writes for the CIFAR
  batches (``str`` as SHORT_BINSTRING/BINSTRING, arrays via ``numpy.core.multiarray``).
- ``cifar_tar``: a ``*-python.tar.gz`` holding such batches.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import struct
import tarfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cnnlab.data.download import DataSource

_IDX_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C,
              "float32": 0x0D, "float64": 0x0E}


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """No real cache, no $CNNLAB_DATA, no network unless a test turns it back on."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("CNNLAB_DATA", raising=False)
    monkeypatch.setenv("CNNLAB_OFFLINE", "1")


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, _IDX_CODES[array.dtype.name], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def py2_pickle(obj) -> bytes:
    """Serialize ``obj`` the way Python 2's cPickle protocol 2 does for CIFAR batches."""
    out = [b"\x80\x02"]
    memo = [0]

    def put() -> None:  # cPickle memoizes every object it writes (BINPUT / LONG_BINPUT)
        index = memo[0]
        out.append(b"q" + bytes([index]) if index < 256 else b"r" + struct.pack("<I", index))
        memo[0] += 1

    def write(o) -> None:
        if o is None:
            out.append(b"N")
        elif isinstance(o, bool):
            out.append(b"\x88" if o else b"\x89")
        elif isinstance(o, int):
            if 0 <= o < 256:
                out.append(b"K" + bytes([o]))
            elif 0 <= o < 65536:
                out.append(b"M" + struct.pack("<H", o))
            else:
                out.append(b"J" + struct.pack("<i", o))
        elif isinstance(o, (str, bytes)):  # Python 2 str
            data = o.encode("latin-1") if isinstance(o, str) else o
            size = bytes([len(data)]) if len(data) < 256 else struct.pack("<I", len(data))
            out.append((b"U" if len(data) < 256 else b"T") + size)
            out.append(data)
            put()
        elif isinstance(o, tuple):
            out.append(b"" if 1 <= len(o) <= 3 else b"(")
            for item in o:
                write(item)
            out.append(b"\x85\x86\x87"[len(o) - 1 : len(o)] if 1 <= len(o) <= 3 else b"t")
            put()
        elif isinstance(o, (list, dict)):
            out.append(b"]" if isinstance(o, list) else b"}")
            put()
            out.append(b"(")
            for item in o.items() if isinstance(o, dict) else o:
                for part in item if isinstance(o, dict) else (item,):
                    write(part)
            out.append(b"e" if isinstance(o, list) else b"u")
        elif isinstance(o, np.ndarray):
            # _reconstruct(ndarray, (0,), 'b'), then BUILD with (1, shape, dtype, False, raw)
            out.append(b"cnumpy.core.multiarray\n_reconstruct\n")
            put()
            out.append(b"cnumpy\nndarray\n")
            put()
            write((0,))
            write("b")
            out.append(b"\x87")
            put()
            out.append(b"R")
            put()
            out.append(b"(K\x01")
            write(tuple(int(s) for s in o.shape))
            out.append(b"cnumpy\ndtype\n")  # dtype('u1', 0, 1) with state (3, '|', ...)
            put()
            write(o.dtype.str[1:])
            out.append(b"K\x00K\x01\x87")
            put()
            out.append(b"R")
            put()
            out.append(b"(K\x03")
            write(o.dtype.str[0])
            out.append(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t")
            put()
            out.append(b"b\x89")  # BUILD; is_fortran False
            write(np.ascontiguousarray(o).tobytes())
            out.append(b"t")
            put()
            out.append(b"b")
        else:
            raise TypeError(type(o))

    write(obj)
    out.append(b".")
    return b"".join(out)


def cifar_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def pinned(source: DataSource, folder: Path) -> DataSource:
    """``source`` with the SHA-256 of the test's own files in ``folder`` as accepted digests."""
    files = tuple(
        dataclasses.replace(f, sha256=(hashlib.sha256((folder / f.name).read_bytes()).hexdigest(),))
        for f in source.files
    )
    return dataclasses.replace(source, files=files)


@pytest.fixture
def formats() -> SimpleNamespace:
    """The writers above, for the test modules (conftest helpers are not importable)."""
    return SimpleNamespace(
        idx_bytes=idx_bytes, write_idx=write_idx, py2_pickle=py2_pickle, cifar_tar=cifar_tar,
        pinned=pinned,
    )
