"""The HDF5 layout of Keras 3 weights (``.weights.h5``, and ``model.weights.h5`` in a
``.keras`` archive): where each layer's arrays are, and moving them in and out of a model.

One ``vars`` group per object, its arrays named ``0``, ``1``, ... in the layer's Keras order
and Keras layout; layers by snake-case *class* name with a counter, in Keras 3's walk order,
a nested model's layers under its own ``layers`` group (:mod:`cnnlab.io.keras_archive`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from cnnlab.io._utils import is_model
from cnnlab.io.keras_weights import _h5py, _shapes


def layer_container(root: Any) -> str | None:
    """The group holding the layers: ``layers`` (``_layer_checkpoint_dependencies`` in the
    ``.keras`` files of Keras 2.13-2.15)."""
    h5py = _h5py()
    for name in ("layers", "_layer_checkpoint_dependencies"):
        if name in root and isinstance(root[name], h5py.Group):
            return name
    return None


def _snake(class_name: str) -> str:
    """Keras's ``to_snake_case``: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` ->
    ``max_pooling2d``, ``BatchNormalization`` -> ``batch_normalization``."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def slots(model: Any, prefix: str, orders: dict[int, list]) -> Iterator[tuple[str, Any]]:
    """``(h5 path, layer)`` for every layer and nested model, in Keras 3's walk order."""
    used: dict[str, int] = {}
    for layer in orders.get(id(model), model.layers):
        name = _snake(getattr(layer, "class_name", type(layer).__name__))
        count = used.get(name)
        used[name] = 0 if count is None else count + 1
        path = f"{prefix}/{name}" if count is None else f"{prefix}/{name}_{count + 1}"
        yield path, layer
        if is_model(layer):
            yield from slots(layer, f"{path}/layers", orders)


def own_weights(layer: Any) -> list:
    """``[(name, tensor, layout), ...]`` that Keras 3 stores in the layer's own ``vars`` (a
    nested model's are its layers', under their own slots)."""
    return layer.keras_weights() if is_model(layer) else layer._all_keras_weights()


def _datasets(group: Any, path: str, source: str) -> list:
    """The datasets ``0``, ``1``, ... of a ``vars`` group, in order (not read yet)."""
    h5py = _h5py()
    keys = list(group)
    if not all(k.isdigit() for k in keys) or not all(
            isinstance(group[k], h5py.Dataset) for k in keys):
        raise ValueError(f"{source}: {path}/vars holds {sorted(keys)[:8]}, expected datasets "
                         f"0, 1, ...")
    return [group[key] for key in sorted(keys, key=int)]


def read_vars(datasets: list, path: str, source: str) -> list[np.ndarray]:
    """The arrays of the datasets of ``path`` (numbers only; bfloat16 words widened)."""
    arrays = []
    for data in datasets:
        array = np.asarray(data)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{source}: {path}/vars/{len(arrays)} holds {array.dtype}, not "
                             f"numbers")
        if data.attrs.get("dtype") in ("bfloat16", b"bfloat16"):  # raw 16-bit words
            array = (array.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        arrays.append(array)
    return arrays


def _saved_vars(root: Any, container: str) -> dict[str, list[np.ndarray]]:
    """Every ``<path>/vars`` under the layer container that holds arrays, by path."""
    h5py, found = _h5py(), {}

    def visit(group: Any, path: str) -> None:
        for name, child in group.items():
            if not isinstance(child, h5py.Group):
                continue
            here = f"{path}/{name}"
            if "vars" in child and isinstance(child["vars"], h5py.Group) and len(child["vars"]):
                found[here] = child["vars"]
            if container in child:
                visit(child[container], f"{here}/{container}")

    visit(root[container], container)
    return found


def plan(model: Any, root: Any, source: str, orders: dict[int, list]) -> list[tuple]:
    """``(targets, datasets, h5 path)`` for each layer with weights, after checking that the
    file's shapes (read from the HDF5 metadata, not the data) are the model's."""
    container = layer_container(root)
    if container is None:
        raise ValueError(f"{source} is not a Keras 3 weights file: no top-level 'layers' "
                         f"group (groups: {sorted(root)[:8]})")
    saved = _saved_vars(root, container)
    loads, used = [], set()
    for path, layer in slots(model, container, orders):
        targets = own_weights(layer)
        if not targets:
            continue
        datasets = [] if path not in saved else _datasets(saved[path], path, source)
        used.add(path)
        expected = [tuple(t.shape) for t in keras_views(targets)]
        if _shapes(datasets) != expected:
            raise ValueError(f"{source}: layer {layer.owner} (at {path}) has weights of "
                             f"shapes {_shapes(datasets)} in the file, but the model expects "
                             f"{expected} (Keras layout)")
        loads.append((targets, datasets, path))
    extra = sorted(set(saved) - used)
    if extra:
        raise ValueError(f"{source} has weights for {extra[0]} (shapes "
                         f"{_shapes(_datasets(saved[extra[0]], extra[0], source))}), but "
                         f"{model.owner} has no layer with weights there; the file has "
                         f"{len(saved)} layers with weights, the model {len(loads)}")
    return loads


def keras_views(targets: list) -> list:
    """The tensors of :func:`own_weights` in Keras layout (conv ``(kh, kw, in, out)``)."""
    return [layout.to_keras(t.detach()) for _, t, layout in targets]


def assign(targets: list, arrays: list) -> None:
    """Copy Keras-layout ``arrays`` into the tensors of :func:`own_weights`, in place."""
    with torch.no_grad():
        for (_, tensor, layout), array in zip(targets, arrays, strict=True):
            tensor.copy_(layout.from_keras(torch.as_tensor(np.asarray(array),
                                                           dtype=tensor.dtype)))
