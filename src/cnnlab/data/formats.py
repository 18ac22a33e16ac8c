"""Readers for the official dataset file formats: IDX (MNIST family) and CIFAR python batches.

Both readers validate everything they read and raise ``ValueError`` naming the file for a
truncated, corrupted or malformed file: they never return silently short data.

The CIFAR batches are Python pickles. They are *parsed*, never unpickled: a small stack machine
walks the opcodes (``pickletools.genops``, which executes nothing) and builds only plain
containers, numbers, strings and numpy arrays. No module is ever imported and no callable is
ever called, so a pickle carrying a malicious ``__reduce__`` (``os.system``, ...) is rejected
with an error and its payload never runs.
"""

from __future__ import annotations

import math
import pickletools
import struct
import tarfile
import zlib
from collections.abc import Iterable
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["cifar_batch", "parse_pickle", "read_cifar_archive", "read_idx"]

# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_MAX_DIMS = 16  # MNIST files have 1 or 3
_IDX_MAX_BYTES = 4 << 30  # MNIST's largest file is 47 MB
_GZIP_MAX_RATIO = 200  # uncompressed / compressed above 1 MiB (MNIST's images: 5)
_GZIP_RATIO_FLOOR = 1 << 20


def _gunzip_idx(path: Path, raw: bytes) -> bytes:
    """The gunzipped content of an IDX ``.gz`` file, decompressed only as far as its header
    says the data goes (plus one byte, to see trailing data): a small file whose header lies
    (a gzip bomb) is refused before the memory is taken."""
    stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:  # zlib checks the gzip CRC-32 and length trailer: truncation or corruption raises
        head = stream.decompress(raw, 4 + 4 * 255)
        size = _idx_size(path, head) if len(head) >= 4 else len(head)
        if size > _IDX_MAX_BYTES or size > max(_GZIP_RATIO_FLOOR, _GZIP_MAX_RATIO * len(raw)):
            raise ValueError(f"{path}: the IDX header {_idx_shape(head)} declares {size} "
                             f"bytes from {len(raw)} compressed, more than {_IDX_MAX_BYTES} "
                             f"or {_GZIP_MAX_RATIO} times; refused (possible gzip bomb)")
        parts, total = [head], len(head)
        while True:
            chunk = stream.decompress(stream.unconsumed_tail, max(size + 1 - total, 1))
            parts.append(chunk)
            total += len(chunk)
            if total > size or stream.eof or not (chunk or stream.unconsumed_tail):
                break
        if total <= size and not stream.eof:
            raise zlib.error("incomplete or truncated stream")
    except zlib.error as err:
        raise ValueError(f"{path}: corrupted or truncated gzip data ({err})") from err
    return b"".join(parts)  # more data than declared (size + 1 bytes) fails in read_idx


def _idx_shape(head: bytes) -> tuple[int, ...]:
    ndim = head[3] if len(head) > 3 else 0
    count = min(ndim, (len(head) - 4) // 4)
    return tuple(int(d) for d in np.frombuffer(head, ">u4", count=count, offset=4))


def _idx_size(path: Path, head: bytes) -> int:
    """Total bytes (header and data) an IDX file declares; checks the magic number."""
    if head[0] != 0 or head[1] != 0:
        raise ValueError(f"{path}: not an IDX file (magic number {head[:4].hex()!r})")
    code, ndim = head[2], head[3]
    if code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: unknown IDX type code 0x{code:02x}; "
            f"expected one of {[hex(c) for c in _IDX_DTYPES]}"
        )
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares 0 dimensions")
    if ndim > _IDX_MAX_DIMS:
        raise ValueError(f"{path}: IDX header declares {ndim} dimensions (at most "
                         f"{_IDX_MAX_DIMS})")
    header = 4 + 4 * ndim
    if len(head) < header:
        raise ValueError(f"{path}: IDX header truncated ({len(head)} bytes, need {header})")
    return header + math.prod(_idx_shape(head)) * np.dtype(_IDX_DTYPES[code]).itemsize


def _read_maybe_gzip(path: Path) -> bytes:
    """Whole content of ``path``, gunzipped when it starts with the gzip magic bytes."""
    raw = path.read_bytes()
    return _gunzip_idx(path, raw) if raw[:2] == b"\x1f\x8b" else raw


def read_idx(path: str | PathLike[str]) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw), the format of MNIST and Fashion-MNIST.

    Layout: magic ``00 00 TT NN`` (``TT`` type code, ``NN`` number of dimensions), then ``NN``
    big-endian uint32 sizes, then the data, big-endian, C order. The data length must equal
    ``prod(sizes) * itemsize`` exactly.

    Returns a writable array in native byte order, shape ``sizes``, e.g. ``(60000, 28, 28)``
    uint8 for ``train-images-idx3-ubyte.gz``. A gzipped file is decompressed only up to the
    size its header declares, which must be at most 4 GiB and (above 1 MiB) at most 200 times
    the compressed size: a gzip bomb is refused before its memory is taken. At most 16
    dimensions.
    """
    path = Path(path)
    raw = _read_maybe_gzip(path)
    if len(raw) < 4:
        raise ValueError(f"{path}: not an IDX file (magic number {raw[:4].hex()!r})")
    _idx_size(path, raw)  # checks magic, type code and dimensions
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = _idx_shape(raw)
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{path}: IDX data has {len(raw) - header} bytes but the header {shape} "
            f"of {dtype.name} needs {expected}: the file is truncated or corrupted"
        )
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # copy: writable, native byte order


# ---------------------------------------------------------------------------------------------
# Pickle parsing (no unpickling).

# The only globals a data pickle may name, mapped to what the parser does with them.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): "_reconstruct",
    ("numpy._core.multiarray", "_reconstruct"): "_reconstruct",
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
}
_NUMERIC_KINDS = "biufc"  # bool, signed, unsigned, float, complex: no object or void dtypes

_PUSH_ARG = frozenset(
    "BININT BININT1 BININT2 LONG1 LONG4 BINFLOAT SHORT_BINSTRING BINSTRING BINBYTES "
    "SHORT_BINBYTES BINBYTES8 BINUNICODE SHORT_BINUNICODE BINUNICODE8".split()
)
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False, "EMPTY_TUPLE": ()}
_TUPLE_N = {"TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}
_IGNORED = frozenset({"PROTO", "FRAME", "STOP"})


class _Global:
    """A name from the allow-list; it is never imported."""

    def __init__(self, role: str) -> None:
        self.role = role


class _Slot:
    """A numpy array or dtype under construction (REDUCE creates it, BUILD completes it)."""

    def __init__(self, role: str, value: Any = None) -> None:
        self.role, self.value = role, value


_MARK = object()  # pushed by the MARK opcode


def _as_bytes(value: Any) -> bytes:
    # pickletools decodes Python 2 strings (SHORT_BINSTRING, BINSTRING) as latin-1 text.
    return value.encode("latin-1") if isinstance(value, str) else value


def _reduce(func: Any, args: Any) -> _Slot:
    role = func.role if isinstance(func, _Global) else None
    if role == "_reconstruct" and isinstance(args, tuple) and len(args) == 3:
        if isinstance(args[0], _Global) and args[0].role == "ndarray":
            return _Slot("array")
    if role == "dtype" and isinstance(args, tuple) and args and isinstance(args[0], str):
        dtype = np.dtype(args[0])
        if dtype.kind in _NUMERIC_KINDS and dtype.fields is None:
            return _Slot("dtype", dtype)
    raise ValueError(f"call of {role or type(func).__name__} with {args!r:.80} is not allowed")


def _build(target: Any, state: Any) -> None:
    if isinstance(target, _Slot) and target.role == "dtype" and isinstance(state, tuple):
        if len(state) > 1 and state[1] in ("<", ">"):
            target.value = target.value.newbyteorder(state[1])
        return
    if isinstance(target, _Slot) and target.role == "array" and isinstance(state, tuple):
        _, shape, dtype, fortran, raw = state if len(state) == 5 else (0, *state)
        sizes_ok = isinstance(shape, tuple) and all(type(d) is int and d >= 0 for d in shape)
        if isinstance(dtype, _Slot) and dtype.role == "dtype" and sizes_ok:
            raw, dtype = _as_bytes(raw), dtype.value
            needed = math.prod(shape) * dtype.itemsize
            if len(raw) != needed:
                raise ValueError(f"array data has {len(raw)} bytes, shape {shape} needs {needed}")
            order = "F" if fortran else "C"
            target.value = np.frombuffer(raw, dtype).reshape(shape, order=order).copy()
            return
    raise ValueError(f"BUILD of {type(target).__name__} with this state is not allowed")


_SCALARS = (int, float, str, bytes, bool, type(None))


def _resolve(obj: Any, done: dict[int, Any] | None = None) -> Any:
    """Replace finished array slots by their arrays; reject anything else that is not data.

    A container reached twice (the memo lets a pickle refer to one object many times) is
    resolved once and shared, as ``pickle.loads`` shares it: a pickle of a few hundred bytes
    nesting ``[x, x]`` 40 levels deep stays 40 lists, not 2**40 (a "billion laughs").
    """
    done = {} if done is None else done
    if isinstance(obj, _Slot) and obj.role == "array" and obj.value is not None:
        return obj.value
    if isinstance(obj, (_Slot, _Global)):
        raise ValueError("a numpy type or unfinished array is not data")
    if not isinstance(obj, (dict, list, tuple)):
        return obj
    if id(obj) in done:
        return done[id(obj)]
    if isinstance(obj, dict):
        out: Any = {_resolve(k, done): _resolve(v, done) for k, v in obj.items()}
    else:  # label and file-name lists: skip the scalars fast
        items = [v if type(v) in _SCALARS else _resolve(v, done) for v in obj]
        out = items if isinstance(obj, list) else tuple(items)
    done[id(obj)] = out
    return out


def _pop_mark(stack: list[Any]) -> list[Any]:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is _MARK:
            items = stack[i + 1 :]
            del stack[i:]
            return items
    raise ValueError("MARK missing")


def _run(data: bytes) -> Any:
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    for op, arg, _ in pickletools.genops(data):
        name = op.name
        if name in _PUSH_ARG:
            stack.append(arg)
        elif name in _CONSTANTS:
            stack.append(_CONSTANTS[name])
        elif name in _TUPLE_N:
            n = _TUPLE_N[name]
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif name == "MARK":
            stack.append(_MARK)
        elif name == "TUPLE":
            stack.append(tuple(_pop_mark(stack)))
        elif name in ("EMPTY_LIST", "LIST"):
            stack.append([] if name == "EMPTY_LIST" else _pop_mark(stack))
        elif name == "APPEND":
            value = stack.pop()
            stack[-1].append(value)
        elif name == "APPENDS":
            items = _pop_mark(stack)
            stack[-1].extend(items)
        elif name in ("EMPTY_DICT", "DICT"):
            items = [] if name == "EMPTY_DICT" else _pop_mark(stack)
            stack.append(dict(zip(items[::2], items[1::2], strict=True)))
        elif name == "SETITEM":
            value = stack.pop()
            key = stack.pop()
            stack[-1][key] = value
        elif name == "SETITEMS":
            items = _pop_mark(stack)
            stack[-1].update(zip(items[::2], items[1::2], strict=True))
        elif name in ("BINPUT", "LONG_BINPUT", "PUT", "MEMOIZE"):
            memo[len(memo) if name == "MEMOIZE" else arg] = stack[-1]
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            stack.append(memo[arg])
        elif name in ("GLOBAL", "STACK_GLOBAL"):
            module, qualname = arg.split(" ", 1) if name == "GLOBAL" else stack[-2:]
            if name == "STACK_GLOBAL":
                del stack[-2:]
            role = _ALLOWED_GLOBALS.get((module, qualname))
            if role is None:
                raise ValueError(
                    f"it names the global {module}.{qualname}; only numpy arrays and plain "
                    "containers are allowed, so it was not loaded (nothing was executed)"
                )
            stack.append(_Global(role))
        elif name == "REDUCE":
            args = stack.pop()
            stack[-1] = _reduce(stack[-1], args)
        elif name == "BUILD":
            state = stack.pop()
            _build(stack[-1], state)
        elif name == "POP":
            stack.pop()
        elif name not in _IGNORED:
            raise ValueError(f"pickle opcode {name} is not supported in a data file")
    if len(stack) != 1:
        raise ValueError("pickle stream ended without a single result")
    return _resolve(stack[0])


def parse_pickle(data: bytes, source: str = "<pickle>") -> Any:
    """Parse a data pickle (protocols 2-4) into containers, numbers, strings and numpy arrays.

    Accepted: dicts, lists, tuples, ints, floats, bools, None, bytes/str, and numpy arrays of
    numeric dtype pickled the usual way (``numpy.core.multiarray._reconstruct``). Anything else
    -- any other global, ``INST``/``OBJ``/``NEWOBJ``, persistent ids, extensions -- raises
    ``ValueError`` naming ``source``; nothing from the file is ever imported or called.
    Python 2 strings come back as ``str`` decoded as latin-1 (``encoding='latin1'`` in
    ``pickle.load``); Python 3 ``bytes`` stay ``bytes``.
    """
    try:
        result = _run(data)
    except ValueError as err:
        raise ValueError(f"{source}: unsafe or malformed pickle: {err}") from None
    except (IndexError, KeyError, TypeError, AttributeError, RecursionError) as err:
        raise ValueError(f"{source}: malformed pickle ({type(err).__name__}: {err})") from None
    return result


# ---------------------------------------------------------------------------------------------
# CIFAR python batches.


def _key(k: Any) -> str:
    return k.decode("latin-1") if isinstance(k, bytes) else str(k)


def cifar_batch(batch: Any, label_key: str, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 3, 32, 32)`` uint8 (channels first, as stored) and labels ``(N,)`` int64.

    ``batch`` is a parsed CIFAR batch dict: ``data`` is ``(N, 3072)`` uint8 with the 1024 red,
    then 1024 green, then 1024 blue values of each image, rows in order; ``label_key`` names the
    list of ``N`` integer labels (``'labels'``, ``'fine_labels'`` or ``'coarse_labels'``).
    """
    if not isinstance(batch, dict):
        raise ValueError(f"{source}: a CIFAR batch is a dict, found {type(batch).__name__}")
    batch = {_key(k): v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get(label_key)
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.shape[1:] == (3072,)):
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else repr(data)[:40]
        raise ValueError(f"{source}: 'data' must be a uint8 array (N, 3072), found {got}")
    if not isinstance(labels, list) or not all(isinstance(v, int) for v in labels):
        raise ValueError(f"{source}: {label_key!r} must be a list of integers")
    if len(labels) != len(data):
        raise ValueError(f"{source}: {len(data)} images but {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), np.asarray(labels, dtype=np.int64)


CIFAR_MAX_MEMBER_BYTES = 512 << 20
CIFAR_MAX_MEMBERS = 1000
CIFAR_MAX_ARCHIVE_BYTES = 2 << 30


def read_cifar_archive(path: str | PathLike[str], members: Iterable[str]) -> dict[str, Any]:
    """Parse the named members of a CIFAR ``*-python.tar.gz`` archive, in one streaming pass.

    Members are read into memory (nothing is extracted to disk) and parsed with
    :func:`parse_pickle`. Returns ``{member name: parsed object}``; a missing member, a
    truncated or corrupted archive raises ``ValueError`` naming the archive. Limits (a tar.gz
    bomb is refused before its memory is taken): a member read is at most
    :data:`CIFAR_MAX_MEMBER_BYTES` (CIFAR-100's ``train``: 155 MB), the archive at most
    :data:`CIFAR_MAX_MEMBERS` members and :data:`CIFAR_MAX_ARCHIVE_BYTES` uncompressed.
    """
    path, wanted = Path(path), set(members)
    found: dict[str, Any] = {}
    try:
        with tarfile.open(path, mode="r|gz") as tar:
            for count, info in enumerate(tar, 1):
                if count > CIFAR_MAX_MEMBERS or info.offset_data + info.size > \
                        CIFAR_MAX_ARCHIVE_BYTES:
                    raise ValueError(f"{path}: more than {CIFAR_MAX_MEMBERS} members or "
                                     f"{CIFAR_MAX_ARCHIVE_BYTES} bytes uncompressed; refused "
                                     f"(a CIFAR archive has 8 members, 180 MB)")
                if info.name in wanted and info.isfile():
                    if info.size > CIFAR_MAX_MEMBER_BYTES:
                        raise ValueError(f"{path}:{info.name} declares {info.size} bytes, "
                                         f"more than {CIFAR_MAX_MEMBER_BYTES}; refused")
                    member = tar.extractfile(info)
                    assert member is not None  # isfile() guarantees a file object
                    data = member.read(info.size)
                    found[info.name] = parse_pickle(data, f"{path}:{info.name}")
    except (tarfile.TarError, OSError, EOFError, zlib.error, TypeError, IndexError, KeyError,
            struct.error) as err:  # tarfile's stream reader lets some of these through
        raise ValueError(f"{path}: corrupted or truncated archive ({type(err).__name__}: "
                         f"{err})") from err
    missing = sorted(wanted - found.keys())
    if missing:
        raise ValueError(f"{path}: archive has no member(s) {missing}")
    return found
