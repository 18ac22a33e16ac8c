"""Keras 2 HDF5 weight files: read them into a cnnlab model, write them from one.

The layout (what Keras 2's ``save_weights('w.h5')`` and ``model.save('m.h5')`` write, and the
``keras.applications`` files such as ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``)::

    /                         attrs: layer_names = [b'block1_conv1', ...], keras_version, backend
    /block1_conv1             attrs: weight_names = [b'block1_conv1/kernel:0', b'.../bias:0']
    /block1_conv1/block1_conv1/kernel:0   dataset, Keras layout (kh, kw, in, out)

A full-model file holds the same tree under ``/model_weights``. Long attribute lists may be
split into ``layer_names0``, ``layer_names1``, ... (HDF5's 64 kB header limit). Weights are in
Keras layout, which is what ``Layer.set_weights`` takes, and cnnlab's ``Flatten`` has Keras's
H·W·C order, so a ``Dense`` after ``Flatten`` needs no row permutation.

Reading uses h5py only: an HDF5 file holds arrays and strings, never code. A file is first
walked in a child process (:mod:`cnnlab.io.hdf5_guard`), since a damaged one can crash the HDF5
library; links to other files, non-numeric datasets and datasets that expand from a few stored
bytes are refused there.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.files.atomic import atomic_write
from cnnlab.io.hdf5_guard import check_hdf5, hdf5_errors

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def is_hdf5(path: str | os.PathLike) -> bool:
    """Whether the file starts with the HDF5 signature."""
    with open(path, "rb") as f:
        return f.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise ImportError("reading or writing Keras HDF5 weights needs h5py: "
                          "pip install 'cnnlab[keras]' (or pip install h5py)") from None
    return h5py


def _strings(group: Any, name: str) -> list[str]:
    """A string-list attribute, joined from ``name0``, ``name1``, ... chunks if split."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, chunk = [], 0
        while f"{name}{chunk}" in group.attrs:
            values += list(group.attrs[f"{name}{chunk}"])
            chunk += 1
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def read_keras_h5(path: str | os.PathLike) -> list[tuple[str, list[str], list[np.ndarray]]]:
    """``[(layer name, weight names, arrays), ...]`` in file order, layers without weights
    left out."""
    h5py = _h5py()
    source = Path(path).name
    check_hdf5(path, source)  # a damaged file crashes HDF5: it is walked in a child first
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"{source} is not a readable HDF5 file: {exc}") from None
    with f, hdf5_errors(source):
        root = f["model_weights"] if "model_weights" in f else f
        backend = root.attrs.get("backend", b"tensorflow")
        backend = backend.decode() if isinstance(backend, bytes) else str(backend)
        if backend == "theano":
            raise ValueError(f"{source} was written by Keras on Theano (flipped kernels, "
                             f"channels-first); convert it with Keras 2 on TensorFlow first")
        layer_names = _strings(root, "layer_names")
        if not layer_names:
            raise ValueError(f"{source} is HDF5 but not a Keras weights file: the root has no "
                             f"'layer_names' attribute (groups: {sorted(root)[:8]})")
        layers = []
        for name in layer_names:
            if name not in root:
                raise ValueError(f"{source}: layer {name!r} is listed but has no group")
            group = root[name]
            weight_names = _strings(group, "weight_names")
            arrays = []
            for weight in weight_names:
                if weight not in group or not isinstance(group[weight], h5py.Dataset):
                    raise ValueError(f"{source}: layer {name!r} lists weight {weight!r} but "
                                     f"has no such dataset")
                arrays.append(np.asarray(group[weight]))
            if arrays:
                layers.append((name, weight_names, arrays))
    return layers


def _weighted_layers(model: Any) -> list[Any]:
    """The model's top-level layers that hold weights (a nested model counts as one)."""
    return [layer for layer in model.layers if layer._all_keras_weights()]


def _shapes(arrays: Sequence[Any]) -> list[tuple]:
    return [tuple(np.shape(a)) for a in arrays]


def load_keras_h5(model: Any, path: str | os.PathLike, by_name: bool = False,
                  skip_mismatch: bool = False) -> None:
    """Load a Keras 2 HDF5 weights (or full-model) file into ``model``.

    Keras's rules: by default the layers with weights are matched in order (names may
    differ); ``by_name=True`` matches layer names and leaves the model's other layers alone;
    ``skip_mismatch=True`` (with ``by_name``) skips layers whose shapes differ instead of
    raising. A mismatch raises ``ValueError`` naming the first differing layer and both
    shapes. Nothing is changed unless every layer to load fits.
    """
    if not model.built:
        raise ValueError(f"{model.owner}: build the model (input_shape=, build() or one batch) "
                         f"before loading weights into it")
    source = Path(path).name
    saved = read_keras_h5(path)
    targets = _weighted_layers(model)
    pairs = []
    if by_name:
        by_layer = {layer.name: layer for layer in targets}
        for name, _, arrays in saved:
            layer = by_layer.get(name)
            if layer is not None:
                pairs.append((name, layer, arrays))
    else:
        if len(saved) != len(targets):
            raise ValueError(
                f"{source} has {len(saved)} layers with weights ({[s[0] for s in saved]}), "
                f"{model.owner} has {len(targets)} ({[t.name for t in targets]}); "
                f"load by_name=True to match layers by name")
        pairs = [(name, layer, arrays) for (name, _, arrays), layer in zip(saved, targets,
                                                                           strict=True)]
    loads = []
    for name, layer, arrays in pairs:
        expected = _shapes(layer.get_weights())
        if _shapes(arrays) != expected:
            if by_name and skip_mismatch:
                continue
            raise ValueError(
                f"{source}: layer {name!r} has weights of shapes {_shapes(arrays)}, but "
                f"{layer.owner} expects {expected} (Keras layout)")
        loads.append((layer, arrays))
    for layer, arrays in loads:
        layer.set_weights(arrays)


def _leaf_weights(layer: Any) -> list[tuple[str, np.ndarray]]:
    """``('conv2d/kernel:0', array)`` for each weight, nested models by their inner layers."""
    inner = getattr(layer, "layers", None)
    if inner is not None:
        return [item for sub in inner for item in _leaf_weights(sub)]
    return [(f"{layer.name}/{name}:0", layout.to_keras(t.detach()).cpu().numpy())
            for name, t, layout in layer.keras_weights()]


def save_keras_h5(model: Any, path: str | os.PathLike) -> None:
    """Write ``model``'s weights in Keras 2's HDF5 layout (readable by Keras's
    ``model.load_weights('w.h5')`` for the same architecture); atomic."""
    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        layers = [layer for layer in model.layers if not _is_input(layer)]
        f.attrs["layer_names"] = np.array([layer.name.encode() for layer in layers], "S")
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.15.0"
        for layer in layers:
            group = f.create_group(layer.name)
            weights = _leaf_weights(layer)
            group.attrs["weight_names"] = np.array([name.encode() for name, _ in weights], "S")
            for name, array in weights:
                group.create_dataset(name, data=array)
    with atomic_write(path) as out:
        out.write(buffer.getvalue())


def _is_input(layer: Any) -> bool:
    return type(layer).__name__ == "InputLayer"
