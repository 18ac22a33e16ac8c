"""Keras 3 files — ``.keras`` archives and ``.weights.h5`` weight files — read as data.

A ``.keras`` file (Keras 3 ``model.save``) is a zip archive::

    metadata.json       {"keras_version": "3.x", "date_saved": ...}
    config.json         {"module": "keras", "class_name": "Sequential" | "Functional",
                         "config": {..., "layers": [{"module": "keras.layers",
                         "class_name": "Conv2D", "config": {...}, "registered_name": null,
                         "build_config": {"input_shape": [...]}}, ...]},
                         "build_config": ..., "compile_config": ...}
    model.weights.h5    the weights (below); also what ``model.save_weights('w.weights.h5')``
                        writes alone

The HDF5 tree holds one ``vars`` group per object, its arrays named ``0``, ``1``, ... in the
layer's Keras order (kernel, bias; BatchNormalization gamma, beta, moving_mean,
moving_variance) and Keras layout (conv kernel ``(kh, kw, in, out)``, dense ``(in, out)``)::

    vars/                                   the model's own (none)
    layers/conv2d/vars/0, 1                 layers by *class* name, in the model's layer order:
    layers/conv2d_1/vars/0, 1               conv2d, conv2d_1, ... (not by layer name)
    layers/sequential/layers/dense/vars/0   a nested model's layers under its own ``layers``
    optimizer/vars/...                      ignored

Safety: the archive is never extracted; only ``config.json``, ``metadata.json`` and
``model.weights.h5`` are read, into memory, after the archive is checked
(:mod:`cnnlab.files.archive`: declared sizes, compression ratio, ``..``/absolute member names,
symlinks, duplicates). The HDF5 weights are first walked in a child process
(:mod:`cnnlab.io.hdf5_guard`: a damaged file can crash the HDF5 library; links to other files and
datasets that expand from a few bytes are refused). The config is translated by class name into
cnnlab's registered layers, and nothing named in it is imported or executed (a ``Lambda``, a custom
registered object or a ``module`` outside ``keras.*`` is refused); the model is built on PyTorch's
``meta`` device and its shapes compared with the file's before any memory is allocated for it
(:mod:`cnnlab.io.meta`). """

from __future__ import annotations

import inspect
import io
import json
import os
import re
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

import cnnlab.layers  # noqa: F401  (registers every layer class)
from cnnlab import optimizers
from cnnlab.files.archive import MAX_TOTAL_BYTES, is_zip, read_members
from cnnlab.files.atomic import atomic_write
from cnnlab.io.hdf5_guard import check_hdf5, hdf5_errors
from cnnlab.io.keras_weights import HDF5_SIGNATURE, _h5py, _shapes
from cnnlab.io.meta import build_on_meta
from cnnlab.layers import base
from cnnlab.models.model import Model
from cnnlab.models.sequential import Sequential  # noqa: F401  (registers "Sequential")

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
MODELS = ("Sequential", "Functional", "Model")
REFUSED = ("Lambda", "TFOpLambda", "SlicingOpLambda", "TorchModuleWrapper", "JaxLayer",
           "FlaxLayer", "TFSMLayer")
# Keras 3 options cnnlab layers lack, dropped when they hold these (off) values.
NEUTRAL: dict[str, tuple] = {
    "activity_regularizer": (None,), "synchronized": (False,), "sparse": (False, None),
    "ragged": (False, None), "optional": (False,), "lora_rank": (None,), "lora_alpha": (None,),
    "quantization_config": (None,), "renorm": (False,), "rms_scaling": (False,),
    "groups": (1,), "seed": (None,), "pad_to_aspect_ratio": (False,),
}


# ------------------------------------------------------------------------ recognising files
def is_keras_archive(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a zip holding ``config.json`` and ``model.weights.h5``."""
    try:
        if not is_zip(path):
            return False
        with zipfile.ZipFile(path) as archive:
            return {CONFIG, WEIGHTS} <= set(archive.namelist())
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        return False


def is_keras3_weights(path: str | os.PathLike) -> bool:
    """Whether ``path`` is HDF5 with a top-level ``layers`` group (Keras 3) rather than Keras
    2's ``layer_names`` attribute."""
    try:
        with open(path, "rb") as f:
            if f.read(len(HDF5_SIGNATURE)) != HDF5_SIGNATURE:
                return False
        check_hdf5(path, repr(os.fspath(path)))
        with _h5py().File(path, "r") as f:
            return _container(f) is not None and "layer_names" not in f.attrs
    except (OSError, ValueError, RuntimeError, KeyError):
        return False


def _container(root: Any) -> str | None:
    """The group holding the layers: ``layers`` (``_layer_checkpoint_dependencies`` in the
    ``.keras`` files of Keras 2.13-2.15)."""
    h5py = _h5py()
    for name in ("layers", "_layer_checkpoint_dependencies"):
        if name in root and isinstance(root[name], h5py.Group):
            return name
    return None


# ------------------------------------------------------------------------ config translation
def config_from_keras3(config: dict) -> dict:
    """``{"class_name": "Sequential" | "Functional", "config": {...}}`` in cnnlab's format
    (:mod:`cnnlab.models.config`; ``registered_class(r["class_name"]).from_config(r["config"])``)
    for a Keras 3 model config (``config.json``; a bare inner config is accepted too).

    Strips ``module``/``registered_name``/``build_config``, turns nested objects
    (initializers, regularizers, constraints) into ``{"class_name", "config"}``, a DTypePolicy
    into its name, ``__tuple__`` into a list, Keras 3 inbound nodes (``args``/``kwargs`` with
    ``__keras_tensor__`` references) into ``[layer, node, tensor, kwargs]`` lists, and drops
    Keras 3 options that are off (``groups=1``, ``synchronized=False``, ...). Raises
    ``ValueError`` naming the layer and class for an unknown class, a ``Lambda`` (code is never
    executed), a custom registered object or a ``module`` outside ``keras.*``.
    """
    if not isinstance(config, dict):
        raise ValueError(f"Keras 3 config: expected a dict, got {type(config).__name__}")
    if "class_name" not in config:
        kind = "Functional" if "input_layers" in config else "Sequential"
        config = {"class_name": kind, "config": config}
    return _model_entry(config, "the model")


def _model_entry(entry: dict, owner: str) -> dict:
    _check_origin(entry, owner)
    kind = entry["class_name"]
    if kind not in MODELS:
        raise ValueError(f"{owner}: a model of class {kind!r} is not supported (cnnlab reads "
                         f"Sequential and Functional models; a subclassed model is Python code)")
    config = entry.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"{owner}: expected a 'config' with a 'layers' list")
    name = config.get("name")
    where = f"{kind} {name!r}"
    layers = [_layer_entry(layer, where) for layer in config["layers"]]
    out: dict[str, Any] = {"name": name, "trainable": bool(config.get("trainable", True)),
                           "layers": layers}
    if kind == "Sequential":
        shape = config.get("build_input_shape") or (entry.get("build_config") or {}).get(
            "input_shape")
        if shape is not None:
            out["build_input_shape"] = _plain(shape, where)
        return {"class_name": "Sequential", "config": out}
    for layer, raw in zip(layers, config["layers"], strict=True):
        nodes = [_node(n, f"{layer['class_name']} {layer['name']!r}")
                 for n in raw.get("inbound_nodes") or []]
        layer["inbound_nodes"] = [refs for refs, _ in nodes]
        layer["inbound_structure"] = [structure for _, structure in nodes]
    out["input_layers"] = _tensor_refs(config.get("input_layers"), f"{where} input_layers")
    out["output_layers"] = _tensor_refs(config.get("output_layers"), f"{where} output_layers")
    out["multi_input"] = len(out["input_layers"]) > 1
    out["multi_output"] = len(out["output_layers"]) > 1
    return {"class_name": "Functional", "config": out}


def _layer_entry(entry: Any, where: str) -> dict:
    if isinstance(entry, dict):  # refuse foreign classes before looking further
        inner = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        _check_origin(entry, f"{entry.get('class_name')} "
                             f"{entry.get('name') or inner.get('name')!r} in {where}")
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise ValueError(f"{where}: bad layer entry, expected {{'class_name': str, 'config': "
                         f"dict}}, got {str(entry)[:200]}")
    kind, config = entry["class_name"], entry["config"]
    name = entry.get("name") or config.get("name")
    owner = f"{kind} {name!r}"
    if not isinstance(name, (str, type(None))):
        raise ValueError(f"{where}: {owner}: a layer name must be a string")
    if kind in MODELS:
        translated = _model_entry(entry, owner)
    else:
        _check_origin(entry, owner)
        if kind in REFUSED:
            raise ValueError(f"{owner}: the {kind} layer holds Python code (or a reference to "
                             f"it), which cnnlab never executes; it is not supported. Rebuild "
                             f"this part with built-in layers")
        if kind not in base._LAYER_REGISTRY:
            raise ValueError(f"{owner}: layer class {kind!r} is not supported by cnnlab (it "
                             f"reads only its registered layers, never imports code named in "
                             f"a file); known: {', '.join(sorted(base._LAYER_REGISTRY))}")
        layer_class = base.registered_class(kind)
        translated = {"class_name": kind,
                      "config": _layer_config(layer_class, config, owner)}
    translated["name"] = name if name is not None else translated["config"].get("name")
    return translated


def _check_origin(entry: dict, owner: str) -> None:
    """Refuse classes that come from outside Keras or from a custom registration."""
    kind, module = entry.get("class_name"), entry.get("module")
    if module is not None and (not isinstance(module, str)
                               or not (module == "keras" or module.startswith("keras."))):
        raise ValueError(f"{owner}: class {kind!r} from module {module!r} is not supported: "
                         f"cnnlab reads only Keras's own classes and never imports or executes "
                         f"code named in a file")
    registered = entry.get("registered_name")
    if registered is not None and registered != kind:
        raise ValueError(f"{owner}: {registered!r} is a custom registered object, which is "
                         f"not supported (never imported or executed)")


def _accepted(layer_class: type) -> set[str]:
    """Argument names the layer class takes (its ``__init__``/``_init`` and its bases')."""
    names: set[str] = set()
    for cls in layer_class.__mro__:
        for method in ("__init__", "_init"):
            if method in cls.__dict__:
                names |= {p.name for p in inspect.signature(cls.__dict__[method]).parameters
                          .values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if cls is base.Layer:
            break
    return names - {"self"}


def _layer_config(layer_class: type, config: dict, owner: str) -> dict:
    accepted = _accepted(layer_class)
    out = {}
    for key, value in config.items():
        value = _plain(value, f"{owner} `{key}`")
        if key == "dtype" and not (value is None or isinstance(value, str)):
            raise ValueError(f"{owner}: dtype {str(value)[:120]} is not supported (a dtype "
                             f"name or a DTypePolicy is)")
        if key in accepted:
            out[key] = value
        elif key.startswith("renorm_") and not config.get("renorm"):
            continue
        elif value not in NEUTRAL.get(key, ()):
            raise ValueError(f"{owner}: Keras option {key}={value!r} is not supported by "
                             f"cnnlab's {layer_class.__name__}")
    return out


def _plain(value: Any, where: str) -> Any:
    """A config value with Keras 3's serialized objects made plain cnnlab data."""
    if isinstance(value, list):
        return [_plain(v, where) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("class_name")
    if not (isinstance(kind, str) and "config" in value and (
            "module" in value or "registered_name" in value or kind.startswith("__"))):
        return {k: _plain(v, where) for k, v in value.items()}
    _check_origin(value, where)
    config = value["config"]
    if kind in ("__tuple__", "__numpy__") and isinstance(config, dict):
        return _plain(config.get("value"), where)
    if kind.startswith("__"):
        raise ValueError(f"{where}: a serialized {kind} value is not supported (code and "
                         f"tensors in a config are never executed)")
    if kind == "function" and isinstance(config, str):
        return config  # a built-in function by name: 'relu', 'sparse_categorical_crossentropy'
    if kind.endswith("DTypePolicy"):
        if kind not in ("DTypePolicy", "FloatDTypePolicy") or not isinstance(config, dict):
            raise ValueError(f"{where}: dtype policy {kind!r} (quantized weights) is not "
                             f"supported")
        return config.get("name")
    return {"class_name": kind, "config": _plain(config, where)}


def _node(node: Any, owner: str) -> tuple[list, str]:
    """One call of a layer as cnnlab's ``([[layer, node, tensor, kwargs], ...], structure)``."""
    if isinstance(node, list):  # Keras 2 form (Keras 2.13-2.15 .keras files)
        refs = [[*ref[:3], ref[3] if len(ref) > 3 else {}] for ref in node]
        return refs, "single" if len(refs) == 1 else "list"
    if not isinstance(node, dict) or not isinstance(node.get("args"), list):
        raise ValueError(f"{owner}: bad inbound node {str(node)[:200]}")
    args = node["args"]
    if len(args) != 1:
        raise ValueError(f"{owner}: called with {len(args)} positional arguments; cnnlab layers "
                         f"take one input (a tensor or a list of tensors)")
    kwargs = {}
    for key, value in (node.get("kwargs") or {}).items():
        if value is None:
            continue
        if key != "training" or not isinstance(value, bool):
            raise ValueError(f"{owner}: call argument {key}={str(value)[:80]} is not supported")
        kwargs[key] = value
    first = args[0]
    if isinstance(first, dict) and first.get("class_name") == "__tuple__":
        first = (first.get("config") or {}).get("value")
    tensors = first if isinstance(first, list) else [first]
    refs = [[*_history(t, owner), kwargs] for t in tensors]
    return refs, "list" if isinstance(first, list) else "single"


def _history(tensor: Any, owner: str) -> list:
    if isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__":
        history = (tensor.get("config") or {}).get("keras_history")
        if _is_ref(history):
            return list(history[:3])
    raise ValueError(f"{owner}: expected a Keras tensor reference as input, got "
                     f"{str(tensor)[:200]}")


def _is_ref(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str) \
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:3])


def _tensor_refs(value: Any, where: str) -> list:
    if _is_ref(value):
        return [list(value[:3])]
    if isinstance(value, list) and value and all(_is_ref(v) for v in value):
        return [list(v[:3]) for v in value]
    raise ValueError(f"{where}: expected [layer, node, tensor] references (a dict of named "
                     f"inputs/outputs is not supported), got {str(value)[:200]}")


# ------------------------------------------------------------------------ weights
def _snake(class_name: str) -> str:
    """Keras's ``to_snake_case``: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` ->
    ``max_pooling2d``, ``BatchNormalization`` -> ``batch_normalization``."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _slots(model: Any, prefix: str, orders: dict[int, list]) -> Iterator[tuple[str, Any]]:
    """``(h5 path, layer)`` for every layer and nested model, in Keras 3's walk order."""
    used: dict[str, int] = {}
    for layer in orders.get(id(model), model.layers):
        name = _snake(getattr(layer, "class_name", type(layer).__name__))
        count = used.get(name)
        used[name] = 0 if count is None else count + 1
        path = f"{prefix}/{name}" if count is None else f"{prefix}/{name}_{count + 1}"
        yield path, layer
        if isinstance(layer, Model):
            yield from _slots(layer, f"{path}/layers", orders)


def _own_weights(layer: Any) -> list:
    return layer.keras_weights() if isinstance(layer, Model) else layer._all_keras_weights()


def _datasets(group: Any, path: str, source: str) -> list:
    """The datasets ``0``, ``1``, ... of a ``vars`` group, in order (not read yet)."""
    h5py = _h5py()
    keys = list(group)
    if not all(k.isdigit() for k in keys) or not all(
            isinstance(group[k], h5py.Dataset) for k in keys):
        raise ValueError(f"{source}: {path}/vars holds {sorted(keys)[:8]}, expected datasets "
                         f"0, 1, ...")
    return [group[key] for key in sorted(keys, key=int)]


def _read_vars(datasets: list, path: str, source: str) -> list[np.ndarray]:
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


@contextmanager
def _open_h5(source: Any) -> Iterator[tuple[Any, str]]:
    """The root group of an HDF5 path, bytes file object or open h5py File/Group, and a name
    for messages. A ``.keras`` archive path gives its ``model.weights.h5`` (read safely)."""
    h5py = _h5py()
    if isinstance(source, (h5py.File, h5py.Group)):
        yield source, repr(source.file.filename)
        return
    if isinstance(source, (str, os.PathLike)):
        name = repr(os.fspath(source))
        if is_keras_archive(source):
            data = _read_members(source, name, (WEIGHTS,))[WEIGHTS]
            check_hdf5(data, f"{name}: {WEIGHTS}")
            source = io.BytesIO(data)
        else:
            check_hdf5(source, name)
    else:
        name = repr(getattr(source, "name", "the weights file"))
        data = source.read(MAX_TOTAL_BYTES + 1)
        if len(data) > MAX_TOTAL_BYTES:
            raise ValueError(f"{name}: larger than {MAX_TOTAL_BYTES} bytes; refused")
        check_hdf5(data, name)
        source = io.BytesIO(data)
    try:
        f = h5py.File(source, "r")
    except OSError as exc:
        raise ValueError(f"{name} is not a readable HDF5 file: {exc}") from None
    with f, hdf5_errors(name):
        yield f, name


def load_keras3_weights(model: Any, path_or_h5file: Any, _orders: dict | None = None) -> None:
    """Load Keras 3 weights (``.weights.h5``, a ``.keras`` archive's, an open h5py file or a
    binary file object) into the built ``model``.

    Keras 3's rules: layers are visited in order (``model.layers``; nested models' layers
    under their own ``layers`` group), addressed by snake-case class name with a counter
    (``conv2d``, ``conv2d_1``); each layer's arrays in its Keras weight order. A missing,
    extra or differently shaped layer raises ``ValueError`` naming the first such layer and
    both shapes; nothing is changed unless every layer fits. ``optimizer/`` is ignored.
    """
    if not model.built:
        raise ValueError(f"{model.owner}: build the model (input_shape=, build() or one batch) "
                         f"before loading weights into it")
    with _open_h5(path_or_h5file) as (root, source):
        loads = [(targets, _read_vars(datasets, path, source))
                 for targets, datasets, path in _plan(model, root, source, _orders or {})]
    for targets, arrays in loads:
        _assign(targets, arrays)


def _plan(model: Any, root: Any, source: str, orders: dict[int, list]) -> list[tuple]:
    """``(targets, datasets, h5 path)`` for each layer with weights, after checking that the
    file's shapes (read from the HDF5 metadata, not the data) are the model's."""
    container = _container(root)
    if container is None:
        raise ValueError(f"{source} is not a Keras 3 weights file: no top-level 'layers' "
                         f"group (groups: {sorted(root)[:8]})")
    saved = _saved_vars(root, container)
    loads, used = [], set()
    for path, layer in _slots(model, container, orders):
        targets = _own_weights(layer)
        if not targets:
            continue
        datasets = [] if path not in saved else _datasets(saved[path], path, source)
        used.add(path)
        expected = [tuple(t.shape) for t in _keras_views(targets)]
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


def _keras_views(targets: list) -> list:
    return [layout.to_keras(t.detach()) for _, t, layout in targets]


def _assign(targets: list, arrays: list) -> None:
    import torch

    with torch.no_grad():
        for (_, tensor, layout), array in zip(targets, arrays, strict=True):
            tensor.copy_(layout.from_keras(torch.as_tensor(np.asarray(array),
                                                           dtype=tensor.dtype)))


def save_keras3_weights(model: Any, path: str | os.PathLike) -> None:
    """Write ``model``'s weights in Keras 3's ``.weights.h5`` layout (module docstring),
    atomically; Keras 3's ``model.load_weights`` reads it for the same architecture."""
    if not model.built:
        raise ValueError(f"{model.owner}: save_keras3_weights needs a built model")
    h5py, buffer = _h5py(), io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")
        for slot, layer in _slots(model, "layers", {}):
            group = f.create_group(slot).create_group("vars")
            for i, array in enumerate(_keras_views(_own_weights(layer))):
                group.create_dataset(str(i), data=array.cpu().numpy())
    with atomic_write(path) as out:
        out.write(buffer.getvalue())


# ------------------------------------------------------------------------ archives
def _read_members(path: Any, source: str, names: tuple[str, ...]) -> dict[str, bytes]:
    """The named members (those present) after the checks of :mod:`cnnlab.files.archive`
    (sizes, ratio, member names); never extracts."""
    return read_members(path, source, names)


def _read_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from None


def load_keras_archive(path: str | os.PathLike, compile: bool = True) -> Model:
    """The model of a Keras 3 ``.keras`` file: built from ``config.json`` (through
    :func:`config_from_keras3`), weights from ``model.weights.h5``.

    With ``compile=True`` the ``compile_config`` is applied when its optimizer, loss and
    metrics map to cnnlab's (Keras names and configs do); otherwise the model is returned
    uncompiled, with a warning saying why (compile it yourself). The optimizer's saved state
    is not restored. Raises ``ValueError`` naming the file for anything it refuses.
    """
    source = repr(os.fspath(path))
    members = _read_members(path, source, (CONFIG, METADATA, WEIGHTS))
    missing = [name for name in (CONFIG, WEIGHTS) if name not in members]
    if missing:
        raise ValueError(f"{source} is not a Keras 3 .keras archive: no {', '.join(missing)}")
    raw = _read_json(members[CONFIG], f"{source}: {CONFIG}")
    try:
        translated = config_from_keras3(raw)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError,
            RecursionError) as exc:
        raise ValueError(f"{source}: {CONFIG}: {exc}") from None
    weights = members[WEIGHTS]
    check_hdf5(weights, f"{source}: {WEIGHTS}")
    h5py = _h5py()
    try:
        h5 = h5py.File(io.BytesIO(weights), "r")
    except OSError as exc:
        raise ValueError(f"{source}: {WEIGHTS} is not a readable HDF5 file: {exc}") from None
    with h5, hdf5_errors(f"{source}: {WEIGHTS}"):
        probe = build_on_meta(lambda: _build(translated, source))
        if getattr(probe, "built", False):  # refuse what does not fit before allocating it
            _plan(probe, h5, source, _keras_orders(probe, translated))
        model = _build(translated, source)
        loads = [(targets, _read_vars(datasets, path, source)) for targets, datasets, path
                 in _plan(model, h5, source, _keras_orders(model, translated))]
    for targets, arrays in loads:
        _assign(targets, arrays)
    if compile and isinstance(raw, dict) and raw.get("compile_config"):
        _compile(model, raw["compile_config"], source)
    return model


def _build(translated: dict, source: str) -> Model:
    try:
        model = base.registered_class(translated["class_name"]).from_config(
            translated["config"])
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError,
            RuntimeError, MemoryError) as exc:  # RuntimeError: allocation, recursion depth
        raise ValueError(f"{source}: cannot build the model from {CONFIG}: "
                         f"{type(exc).__name__}: {str(exc)[:300]}") from None
    if not model.built:
        raise ValueError(f"{source}: {CONFIG} gives no input shape, so the model cannot be "
                         f"built to receive its weights")
    return model


def _keras_orders(model: Any, entry: dict) -> dict[int, list]:
    """The layer order of each (nested) model as listed in the Keras config — Keras 3's own
    order, which a functional model's ``model.layers`` need not follow."""
    orders: dict[int, list] = {}
    by_name = {layer.name: layer for layer in model.layers}
    listed = [by_name[e["name"]] for e in entry["config"]["layers"] if e["name"] in by_name]
    if len(listed) == len(model.layers):
        orders[id(model)] = listed
    for sub in entry["config"]["layers"]:
        layer = by_name.get(sub["name"])
        if isinstance(layer, Model) and sub["class_name"] in MODELS:
            orders.update(_keras_orders(layer, sub))
    return orders


def _compile(model: Model, config: Any, source: str) -> None:
    try:
        if not isinstance(config, dict):
            raise ValueError("compile_config is not a dict")
        plain = {key: _objective(_plain(value, "compile_config"))
                 for key, value in config.items()}
        model.compile(optimizer=optimizers.get(plain["optimizer"]), loss=plain.get("loss"),
                      metrics=plain.get("metrics"),
                      weighted_metrics=plain.get("weighted_metrics"),
                      loss_weights=plain.get("loss_weights"))
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        model.optimizer, model.objectives = None, None
        warnings.warn(f"{source}: its compile_config does not map to cnnlab ({exc}); the model "
                      f"is loaded uncompiled: call compile() yourself", UserWarning, stacklevel=3)


def _objective(value: Any) -> Any:
    """A loss/metric entry without Keras 3's ``dtype`` and default ``reduction`` keys."""
    if isinstance(value, list):
        return [_objective(v) for v in value]
    if isinstance(value, dict) and isinstance(value.get("config"), dict) and "class_name" in value:
        config = {k: v for k, v in value["config"].items() if k != "dtype" and not (
            k == "reduction" and v == "sum_over_batch_size")}
        return {"class_name": value["class_name"], "config": config}
    return value


__all__ = ["config_from_keras3", "is_keras3_weights", "is_keras_archive", "load_keras3_weights",
           "load_keras_archive", "save_keras3_weights"]
