"""Valid files of every format cnnlab reads (the seeds that fuzzing mutates and crafted attacks
start from), byte mutations, and the check of one load attempt.

Every seed is written here with the format's own tools (zipfile, json, safetensors, h5py,
torch.save, pickle, tarfile, gzip, Pillow), not by the loader under test, except the cnnlab
model file, whose writer is ``model.save``.
"""

from __future__ import annotations

import copy
import functools
import gzip
import io
import json
import pickle
import struct
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import tally
import torch
from hypothesis import strategies as st

CLEAN = (ValueError, TypeError, OSError)  # what a loader may raise for a bad file
SLOW = 30.0  # seconds: a load taking longer counts as a hang


# ------------------------------------------------------------------------ checking one load
def attempt(load, names, figure="fuzz cases / unclean"):
    """Run ``load()``: it must succeed, or raise one of :data:`CLEAN` whose message names one
    of ``names`` (the file or member), within :data:`SLOW` seconds. Recorded in the tally;
    any other exception is recorded as unclean and propagates. Returns the exception or None.
    """
    start = time.monotonic()
    try:
        load()
        error = None
    except CLEAN as exc:
        error = exc
    except BaseException:
        tally.record(figure, held=False)
        raise
    elapsed = time.monotonic() - start
    named = error is None or any(name in str(error) for name in names)
    tally.record(figure, held=named and elapsed < SLOW)
    assert named, f"{type(error).__name__} does not name any of {names}: {error}"
    assert elapsed < SLOW, f"the load took {elapsed:.1f} s"
    return error


# ------------------------------------------------------------------------ byte mutations
INTERESTING = (0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 10**9, 2**31)


def mutations(hot: int = 64):
    """A list of 1-5 edits: set a byte (anywhere or in the first ``hot`` bytes, where headers
    are), write a 32-bit boundary value (little or big endian), cut the data, repeat a slice."""
    position = st.integers(0, 1 << 24)
    op = st.one_of(
        st.tuples(st.just("byte"), position, st.integers(0, 255)),
        st.tuples(st.just("hot"), st.integers(0, hot - 1), st.integers(0, 255)),
        st.tuples(st.just("u32le"), position, st.sampled_from(INTERESTING)),
        st.tuples(st.just("u32be"), st.integers(0, hot - 1), st.sampled_from(INTERESTING)),
        st.tuples(st.just("cut"), position, st.just(0)),
        st.tuples(st.just("repeat"), position, st.integers(1, 64)),
    )
    return st.lists(op, min_size=1, max_size=5)


def mutate(data: bytes, ops) -> bytes:
    out = bytearray(data)
    for kind, where, value in ops:
        if not out:
            break
        i = where % len(out)
        if kind in ("byte", "hot"):
            out[i] = value
        elif kind == "u32le":
            out[i:i + 4] = struct.pack("<I", value)
        elif kind == "u32be":
            out[i:i + 4] = struct.pack(">I", value)
        elif kind == "cut":
            del out[i:]
        else:
            out[i:i] = out[i:i + value]
    return bytes(out)


JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.sampled_from([0, -1, 1, 2**31, 10**12, 2**64, 1e308, -0.5]),
    st.text(max_size=8), st.sampled_from(["os.system", "builtins.eval", "Lambda", "__tuple__",
                                          "../../x", "keras.layers", "F8_E4M3", "I64"]),
    st.lists(st.integers(-2, 10**9), max_size=4), st.just({}), st.just([[[[]]]]),
)


def json_edit():
    """``(path index, key choice, new value)``: which node of a JSON tree to replace."""
    return st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), JSON_VALUES)


def edit_json(tree, edit):
    """Replace one value of ``tree`` (the ``index``-th container, its ``key``-th entry)."""
    index, key, value = edit
    value = copy.deepcopy(value)  # hypothesis shares the drawn objects between cases
    containers = []

    def walk(node):
        if isinstance(node, (dict, list)) and node:
            containers.append(node)
            for child in (node.values() if isinstance(node, dict) else node):
                walk(child)

    walk(tree)
    if not containers:
        return value
    node = containers[index % len(containers)]
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    node[keys[key % len(keys)]] = value
    return tree


# ------------------------------------------------------------------------ archives
def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# ------------------------------------------------------------------------ cnnlab model files
def cnnlab_model():
    from cnnlab.layers import BatchNormalization, Conv2D, Dense, Flatten
    from cnnlab.models import Sequential

    return Sequential([Conv2D(2, 3, input_shape=(5, 5, 1)), BatchNormalization(), Flatten(),
                       Dense(3, activation="softmax")])


@functools.lru_cache(maxsize=1)
def cnnlab_file() -> bytes:
    """A compiled and trained model written by ``model.save``: config.json,
    weights.safetensors, optimizer.json and optimizer.safetensors."""
    torch.manual_seed(0)
    model = cnnlab_model()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x = np.random.default_rng(0).normal(size=(4, 5, 5, 1)).astype(np.float32)
    model.fit(x, np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "seed.cnnlab"
        model.save(path)
        return path.read_bytes()


def safetensors_parts(data: bytes) -> tuple[dict, bytes]:
    """The JSON header and the data of a safetensors file."""
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size]), data[8 + size:]


def safetensors_join(header: dict | bytes, body: bytes, length: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return (len(raw) if length is None else length).to_bytes(8, "little") + raw + body


# ------------------------------------------------------------------------ Keras files
def _keras_layer(kind, name, **config):
    return {"module": "keras.layers", "class_name": kind, "registered_name": None,
            "config": {"name": name, "trainable": True, "dtype": "float32", **config}}


def keras3_config() -> dict:
    """A Keras 3 Sequential config: Input (6, 6, 2) -> Conv2D(3, 3) -> Flatten -> Dense(2)."""
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
         "config": {"batch_shape": [None, 6, 6, 2], "dtype": "float32", "sparse": False,
                    "name": "input_layer"}},
        _keras_layer("Conv2D", "conv2d", filters=3, kernel_size=[3, 3], strides=[1, 1],
                     padding="valid", data_format="channels_last", dilation_rate=[1, 1],
                     groups=1, activation="relu", use_bias=True),
        _keras_layer("Flatten", "flatten", data_format="channels_last"),
        _keras_layer("Dense", "dense", units=2, activation="softmax", use_bias=True),
    ]
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "sequential", "trainable": True, "layers": layers,
                       "build_input_shape": [None, 6, 6, 2]},
            "build_config": {"input_shape": [None, 6, 6, 2]}, "compile_config": None}


def keras3_weights() -> bytes:
    """``model.weights.h5`` for :func:`keras3_config`, in Keras 3's layout."""
    import h5py

    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")
        for path, shapes in (("layers/conv2d", [(3, 3, 2, 3), (3,)]),
                             ("layers/dense", [(48, 2), (2,)])):
            group = f.create_group(f"{path}/vars")
            for i, shape in enumerate(shapes):
                group.create_dataset(str(i), data=rng.normal(size=shape).astype(np.float32))
        f.create_group("optimizer/vars")
    return buffer.getvalue()


@functools.lru_cache(maxsize=1)
def keras3_members() -> dict[str, bytes]:
    return {"metadata.json": json.dumps({"keras_version": "3.6.0"}).encode(),
            "config.json": json.dumps(keras3_config()).encode(),
            "model.weights.h5": keras3_weights()}


def keras2_model():
    from cnnlab.layers import Dense, Flatten
    from cnnlab.models import Sequential

    return Sequential([Flatten(input_shape=(2, 2, 1)), Dense(3, name="dense")])


@functools.lru_cache(maxsize=1)
def keras2_file() -> bytes:
    """Keras 2's ``save_weights`` layout for :func:`keras2_model`, written with h5py."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.attrs["layer_names"] = [b"flatten", b"dense"]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.4.0"
        f.create_group("flatten").attrs["weight_names"] = np.array([], "S")
        group = f.create_group("dense")
        group.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        group.create_dataset("dense/kernel:0", data=np.ones((4, 3), np.float32))
        group.create_dataset("dense/bias:0", data=np.zeros(3, np.float32))
    return buffer.getvalue()


# ------------------------------------------------------------------------ PyTorch files
def torch_net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(18, 3))


def torch_model():
    """The cnnlab twin of :func:`torch_net` (input 5x5x1)."""
    from cnnlab.layers import BatchNormalization, Conv2D, Dense, Flatten
    from cnnlab.models import Sequential

    return Sequential([Conv2D(2, 3, input_shape=(5, 5, 1)), BatchNormalization(), Flatten(),
                       Dense(3)])


@functools.lru_cache(maxsize=3)
def torch_file(kind: str) -> bytes:
    """``torch.save`` (``zip``, ``legacy``) or ``safetensors`` bytes of torch_net's state."""
    state = torch_net().state_dict()
    buffer = io.BytesIO()
    if kind == "safetensors":
        from safetensors.torch import save

        return save({k: v.contiguous() for k, v in state.items()})
    torch.save(state, buffer, _use_new_zipfile_serialization=kind == "zip")
    return buffer.getvalue()


# ------------------------------------------------------------------------ dataset files
def idx_bytes(array: np.ndarray) -> bytes:
    """IDX as on LeCun's page: 0, 0, type code, rank, big-endian sizes, big-endian data."""
    codes = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D,
             "float64": 0x0E}
    head = bytes([0, 0, codes[array.dtype.name], array.ndim])
    sizes = struct.pack(f">{array.ndim}I", *array.shape)
    return head + sizes + array.astype(array.dtype.newbyteorder(">")).tobytes()


def cifar_dict(n: int = 3) -> dict:
    rng = np.random.default_rng(2)
    return {"batch_label": "training batch 1 of 5", "labels": [int(v) for v in
                                                                rng.integers(0, 10, n)],
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            "filenames": [f"img_{i}.png" for i in range(n)]}


def cifar_pickle(protocol: int = 4) -> bytes:
    return pickle.dumps(cifar_dict(), protocol=protocol)


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@functools.lru_cache(maxsize=8)
def image_bytes(fmt: str) -> bytes:
    from PIL import Image

    array = np.random.default_rng(3).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
