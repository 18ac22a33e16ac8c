"""Saving and loading models as data — JSON and safetensors, never code.

``model.save(path)`` writes one zip archive (any file name; ``.cnnlab`` is usual)::

    config.json            {"format": "cnnlab-model", "version": 1, "class_name": "Sequential",
                            "config": model.get_config(),
                            "compile_config": {"optimizer", "loss", "metrics",
                                               "weighted_metrics", "loss_weights"} or null}
    weights.safetensors    model.state_dict(): PyTorch layout ("conv2d.kernel" is
                           (out, in, kh, kw)), BatchNormalization's moving statistics included
    optimizer.json         the optimizer's state_dict() with each tensor replaced by
    optimizer.safetensors  {"tensor": name}, the tensors themselves (only when compiled,
                           trained and include_optimizer=True)

``load_model`` rebuilds the architecture from registered class names, loads the weights
strictly, re-compiles and restores the optimizer, so that training continues exactly as if the
model had never been saved. Loading reads only the four members above, with ``json`` and
``safetensors``: no pickle, no ``torch.load``, no import of names found in the file. The archive
is checked first (:mod:`cnnlab.files.archive`: sizes, compression ratio, member names, symlinks,
duplicates), and the model is built on PyTorch's ``meta`` device and compared with the
safetensors header before any memory is allocated for it (:mod:`cnnlab.io.meta`).

Differences from Keras:
    * ``.keras`` and ``.h5`` file names are accepted but get this cnnlab format, which Keras
      cannot read (and ``load_model`` cannot read Keras's files).
    * ``save_weights`` always writes safetensors, whatever the name (Keras 3 writes HDF5 and
      wants ``*.weights.h5``). ``load_weights`` reads such a file or a whole model file.
    * Losses and metrics that are plain functions are saved by name; load with
      ``custom_objects={'my_loss': my_loss}`` as in Keras. Lambdas and custom objects cannot be
      saved: they are left out with a warning (a model without its loss is saved uncompiled).
    * ``include_optimizer=False`` still saves the compile arguments: the model loads compiled,
      with a fresh optimizer (Keras 2's ``.h5`` then loaded it uncompiled).
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import safetensors
import safetensors.torch
import torch

import cnnlab.layers  # noqa: F401  (its __init__ imports every layer module: registers them)
from cnnlab import losses, metrics, optimizers
from cnnlab.files.archive import MAX_SAFETENSORS_HEADER, check_archive, is_zip, read_checked
from cnnlab.files.atomic import atomic_write, check_target, remove_stale_temps
from cnnlab.io.meta import build_on_meta, state_shapes
from cnnlab.layers import base
from cnnlab.models.model import Model
from cnnlab.models.sequential import Sequential  # noqa: F401  (registers "Sequential")

FORMAT = "cnnlab-model"
VERSION = 1
CONFIG, WEIGHTS = "config.json", "weights.safetensors"
OPTIMIZER_JSON, OPTIMIZER_TENSORS = "optimizer.json", "optimizer.safetensors"
TRAINING_STATE = "training_state.safetensors"  # checkpoints only: epoch, RNG and data order
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_UNSAVABLE = object()  # a loss/metric that has no JSON form


# ------------------------------------------------------------------------------------- saving
def save_model(model: Model, filepath: str | os.PathLike, overwrite: bool = True,
               include_optimizer: bool = True, training_state: bytes | None = None) -> None:
    """Write ``model`` as one zip file (module docstring). Atomic: on any error the file at
    ``filepath`` is left as it was. ``overwrite=False`` and an existing file: ``FileExistsError``.
    ``training_state`` (checkpoints) is stored as one more member, written in the same atomic
    step so that weights and training state always belong together.
    """
    path = check_target(filepath, overwrite)
    config = {"format": FORMAT, "version": VERSION, "class_name": model.class_name,
              "config": model.get_config(), "compile_config": _compile_config(model)}
    config_bytes = json.dumps(config, indent=2).encode("utf-8")
    optimizer_files = None
    if include_optimizer and config["compile_config"] is not None:
        optimizer_files = _optimizer_files(model)
    remove_stale_temps(path)  # left by a writer killed mid-write (a crashed training)
    with atomic_write(path, overwrite) as f, zipfile.ZipFile(f, "w") as archive:
        archive.writestr(CONFIG, config_bytes, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(WEIGHTS, _weights_bytes(model))
        if optimizer_files is not None:
            archive.writestr(OPTIMIZER_JSON, optimizer_files[0],
                             compress_type=zipfile.ZIP_DEFLATED)
            archive.writestr(OPTIMIZER_TENSORS, optimizer_files[1])
        if training_state is not None:
            archive.writestr(TRAINING_STATE, training_state)


def read_training_state(filepath: str | os.PathLike) -> bytes | None:
    """The training-state member of a checkpoint written by :func:`save_model`, if any."""
    path = os.fspath(filepath)
    return _read_archive(path, repr(path)).get(TRAINING_STATE)


def save_weights(model: Model, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``model.state_dict()`` (PyTorch layout, buffers included) as a safetensors file,
    atomically, whatever the file name (Keras users write ``model.weights.h5``)."""
    path = check_target(filepath, overwrite)
    if not model.built:
        raise ValueError(f"{model.owner}: save_weights needs a built model (it has no weights "
                         f"yet); give `input_shape=` to the first layer or call build/fit first")
    data = _weights_bytes(model)
    remove_stale_temps(path)
    with atomic_write(path, overwrite) as f:
        f.write(data)


def _weights_bytes(model: Model) -> bytes:
    """``model.state_dict()`` as safetensors. The metadata ``"order"`` keeps the keys' order
    (safetensors sorts them), which :func:`load_weights` needs to match renamed layers."""
    state = model.state_dict()
    flat = {key: t.detach().cpu().contiguous() for key, t in state.items()}
    return safetensors.torch.save(flat, metadata={"format": "pt", "order": json.dumps(list(state))})


def _compile_config(model: Model) -> dict | None:
    """The compile arguments as JSON data; ``None`` when not compiled or not storable."""
    if model.optimizer is None or model.objectives is None:
        return None
    objectives = model.objectives
    try:
        optimizer = optimizers.serialize(model.optimizer)
        json.dumps(optimizer)
    except (TypeError, ValueError) as exc:
        _warn(f"{model.owner}: the optimizer cannot be saved ({exc}); the model is saved "
              f"uncompiled: call compile() again after loading")
        return None
    loss, dropped = _encode_objectives(objectives.loss_ids, losses, (losses,))
    if dropped:
        _warn(f"{model.owner}: the loss {', '.join(dropped)} cannot be saved (only built-in "
              f"losses and named functions can); the model is saved uncompiled: call compile() "
              f"again after loading")
        return None
    config = {"optimizer": optimizer, "loss": loss}
    for key, value in (("metrics", objectives.metric_ids),
                       ("weighted_metrics", objectives.weighted_metric_ids)):
        config[key], dropped = _encode_objectives(value, metrics, (metrics, losses))
        if dropped:
            _warn(f"{model.owner}: the metric(s) {', '.join(dropped)} cannot be saved (only "
                  f"built-in metrics and named functions can); saved without them")
    config["loss_weights"] = _numbers(objectives.loss_weight_ids)
    return config


def _numbers(value: Any) -> Any:
    """``loss_weights`` (a number, list or dict of numbers, NumPy's included) as JSON data."""
    if isinstance(value, dict):
        return {str(k): _numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numbers(v) for v in value]
    return None if value is None else float(value)


def _encode_objectives(value: Any, module: Any, builtins: tuple) -> tuple[Any, list[str]]:
    """JSON form of a ``loss``/``metrics`` compile argument, and the entries left out.

    Leaves: names stay strings; objects that ``module.get`` rebuilds from
    ``{"class_name", "config"}`` become that; functions of the ``builtins`` modules their name;
    other named functions ``{"custom_object": name}``. A dict by
    output name becomes ``{"by_output": {...}}``. Unsavable leaves are dropped from lists and
    become ``None`` in dicts.
    """
    dropped: list[str] = []

    def encode(item: Any) -> Any:
        if isinstance(item, dict):
            return {"by_output": {str(k): _or_none(encode(v)) for k, v in item.items()}}
        if isinstance(item, (list, tuple)):
            return [e for e in (encode(v) for v in item) if e is not _UNSAVABLE]
        encoded = _encode_leaf(item, module, builtins)
        if encoded is _UNSAVABLE:
            dropped.append(repr(item))
        return encoded

    return _or_none(encode(value)), dropped


def _or_none(value: Any) -> Any:
    return None if value is _UNSAVABLE else value


def _encode_leaf(item: Any, module: Any, builtins: tuple) -> Any:
    if item is None or isinstance(item, str):
        return item
    if inspect.isfunction(item):
        if any(getattr(m, item.__name__, None) is item for m in builtins):
            return item.__name__
        return {"custom_object": item.__name__} if item.__name__.isidentifier() else _UNSAVABLE
    try:
        entry = {"class_name": type(item).__name__, "config": item.get_config()}
        json.dumps(entry)
        if type(module.get(entry)) is type(item):
            return entry
    except (AttributeError, TypeError, ValueError):
        pass
    return _UNSAVABLE


def _optimizer_files(model: Model) -> tuple[bytes, bytes] | None:
    """``optimizer.json`` and ``optimizer.safetensors`` contents, or ``None`` if the optimizer
    was never built (nothing trained yet) or holds state that is not plain data."""
    if model.optimizer.torch_optimizer is None:
        return None
    tensors: dict[str, torch.Tensor] = {}
    try:
        state = _flatten_state(model.optimizer.state_dict(), [], tensors)
        state_bytes = json.dumps(state).encode("utf-8")
    except TypeError as exc:
        _warn(f"{model.owner}: the optimizer state cannot be saved ({exc}); saved without it")
        return None
    return state_bytes, safetensors.torch.save(tensors)


def _flatten_state(value: Any, path: list[str], tensors: dict[str, torch.Tensor]) -> Any:
    """JSON form of a state dict: tensors move to ``tensors`` and become ``{"tensor": name}``;
    dicts become ``{"dict": [[key, value], ...]}`` (keeping int keys), sequences
    ``{"list": [...]}`` / ``{"tuple": [...]}``; numbers, strings, bools and None stay."""
    if isinstance(value, torch.Tensor):
        name = "/".join(path) or "tensor"
        if name in tensors:
            name = f"{name}#{len(tensors)}"
        tensors[name] = value.detach().cpu().contiguous().clone()
        return {"tensor": name}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float))):
                raise TypeError(f"key {key!r} at {'/'.join(path) or 'top level'}")
            items.append([key, _flatten_state(item, [*path, str(key)], tensors)])
        return {"dict": items}
    if isinstance(value, (list, tuple)):
        tag = "list" if isinstance(value, list) else "tuple"
        return {tag: [_flatten_state(v, [*path, str(i)], tensors) for i, v in enumerate(value)]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{type(value).__name__} value at {'/'.join(path) or 'top level'}")


def _unflatten_state(node: Any, tensors: dict[str, torch.Tensor], source: str) -> Any:
    """Inverse of :func:`_flatten_state`; anything else is a ``ValueError``."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) == 1:
        tag, body = next(iter(node.items()))
        if tag == "tensor" and isinstance(body, str) and body in tensors:
            return tensors[body]
        if tag == "dict" and isinstance(body, list) and all(
                isinstance(p, list) and len(p) == 2 and not isinstance(p[0], (list, dict))
                for p in body):
            return {k: _unflatten_state(v, tensors, source) for k, v in body}
        if tag in ("list", "tuple") and isinstance(body, list):
            items = [_unflatten_state(v, tensors, source) for v in body]
            return items if tag == "list" else tuple(items)
    raise ValueError(f"{source}: bad entry in {OPTIMIZER_JSON}: {str(node)[:120]}")


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=4)


# ------------------------------------------------------------------------------------ loading
def load_model(filepath: str | os.PathLike, custom_objects: dict[str, Any] | None = None,
               compile: bool = True) -> Model:
    """Rebuild a model written by :func:`save_model`: architecture, weights and, with
    ``compile=True``, the compile arguments and optimizer state. A Keras 3 ``.keras`` archive
    is read by :func:`cnnlab.io.keras_archive.load_keras_archive` (its layers must be ones
    cnnlab has; its optimizer state is not restored).

    ``custom_objects`` maps names to your own layer classes (for class names that are not
    registered) and to the functions used as losses/metrics, as in Keras. Class names are
    looked up only there and in cnnlab's layer registry; nothing named in the file is imported.
    Raises ``ValueError`` naming the file for anything that is not a valid cnnlab model file.
    """
    custom_objects = _check_custom_objects(custom_objects)
    from cnnlab.io.keras_archive import is_keras_archive, load_keras_archive

    if is_keras_archive(filepath):
        return load_keras_archive(filepath, compile=compile)
    source = repr(os.fspath(filepath))
    members = _read_archive(os.fspath(filepath), source)
    config = _read_config(members[CONFIG], source)
    saved = _SavedWeights(members[WEIGHTS], source, WEIGHTS)
    with _custom_layers(custom_objects):
        probe = build_on_meta(lambda: _model_from_config(config, source))
        shapes = state_shapes(probe)
        if shapes is not None:  # refuse a config that does not fit before allocating it
            saved.match(shapes, probe.owner)
        model = _model_from_config(config, source)
    _load_weights_into(model, members[WEIGHTS], source, WEIGHTS)
    compile_config = config.get("compile_config")
    if compile and compile_config is not None:
        _compile_from_config(model, compile_config, custom_objects, source)
        if OPTIMIZER_JSON in members and OPTIMIZER_TENSORS in members:
            _restore_optimizer(model, members, source)
    return model


def load_weights(model: Model, filepath: str | os.PathLike) -> None:
    """Load weights saved by :func:`save_weights` (or from a whole model file) into the built
    ``model``. Strict: every weight must get a saved tensor of the same shape, matched by name,
    or by position for the same architecture with other layer names; else ``ValueError``."""
    path = os.fspath(filepath)
    source = repr(path)
    if not model.built:
        raise ValueError(f"{model.owner}: build the model before load_weights (give "
                         f"`input_shape=` to the first layer, or call build(shape) or the model "
                         f"on data once), so that its weights exist to receive {source}")
    if is_zip(path):
        data = _read_archive(path, source)[WEIGHTS]
    else:
        with open(path, "rb") as f:
            data = f.read()
    _load_weights_into(model, data, source, "the weights file")


def _read_archive(path: str, source: str) -> dict[str, bytes]:
    """The known members of a cnnlab zip (others are ignored, never read); config and
    weights must be there."""
    known = (CONFIG, WEIGHTS, OPTIMIZER_JSON, OPTIMIZER_TENSORS, TRAINING_STATE)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        with open(path, "rb") as f:
            hint = _hdf5_hint(f.read(len(_HDF5_SIGNATURE)))
        raise ValueError(f"{source} is not a cnnlab model file (a zip archive){hint}: "
                         f"{exc}") from None
    with archive:
        check_archive(archive, source, known)
        names = set(archive.namelist())
        for required in (CONFIG, WEIGHTS):
            if required not in names:
                raise ValueError(f"{source} is not a cnnlab model file: it has no "
                                 f"{required} (members: {sorted(names)[:8]})")
        return read_checked(archive, source, known)


def _hdf5_hint(data: bytes) -> str:
    if data.startswith(_HDF5_SIGNATURE):
        return (" (it is an HDF5 file, as Keras 2 writes: cnnlab reads only the weights from "
                "it, so build the model in code, then call "
                "cnnlab.io.keras_weights.load_keras_h5(model, path); Keras architectures are "
                "not imported)")
    return ""


def _read_config(data: bytes, source: str) -> dict:
    config = _parse_json(data, f"{source}: {CONFIG}")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        found = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise ValueError(f"{source}: {CONFIG} has format {found!r}, expected {FORMAT!r} (is it "
                         f"a file written by Keras or another tool?)")
    version = config.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= VERSION:
        raise ValueError(f"{source}: format version {version!r} is not supported; this cnnlab "
                         f"reads versions 1 to {VERSION}")
    if not isinstance(config.get("class_name"), str) or not isinstance(config.get("config"),
                                                                        dict):
        raise ValueError(f"{source}: {CONFIG} needs 'class_name' (str) and 'config' (dict)")
    if not isinstance(config.get("compile_config"), (dict, type(None))):
        raise ValueError(f"{source}: {CONFIG} 'compile_config' must be a dict or null")
    return config


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from None


def _check_custom_objects(custom_objects: Any) -> dict[str, Any]:
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, dict) or not all(isinstance(k, str)
                                                       for k in custom_objects):
        raise TypeError(f"load_model: `custom_objects` must be a dict {{name: class or "
                        f"function}}, got {custom_objects!r}")
    return custom_objects


@contextmanager
def _custom_layers(custom_objects: dict[str, Any]) -> Iterator[None]:
    """Make the layer classes of ``custom_objects`` known by name, for unregistered names
    only, while a model is rebuilt (a process-wide change: not thread-safe)."""
    added = [name for name, obj in custom_objects.items()
             if isinstance(obj, type) and issubclass(obj, base.Layer)
             and name not in base._LAYER_REGISTRY]
    base._LAYER_REGISTRY.update({name: custom_objects[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            base._LAYER_REGISTRY.pop(name, None)


def _model_from_config(config: dict, source: str) -> Model:
    try:
        cls = base.registered_class(config["class_name"])
        if not (isinstance(cls, type) and issubclass(cls, Model)):
            raise ValueError(f"class {config['class_name']!r} is a layer, not a model")
        return cls.from_config(config["config"])
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError,
            RuntimeError, MemoryError) as exc:  # RuntimeError: allocation, recursion depth
        raise ValueError(f"{source}: cannot rebuild the model from {CONFIG}: "
                         f"{type(exc).__name__}: {str(exc)[:300]}") from None


def _load_tensors(data: bytes, source: str, what: str) -> dict[str, torch.Tensor]:
    try:
        return safetensors.torch.load(data)
    except (safetensors.SafetensorError, ValueError, TypeError, KeyError, RuntimeError,
            OverflowError) as exc:  # KeyError: a dtype torch does not have
        raise ValueError(f"{source}: {what} is not a valid safetensors file{_hdf5_hint(data)}: "
                         f"{type(exc).__name__}: {exc}") from None


class _SavedWeights:
    """The names, shapes, dtypes and key order of a safetensors file, from its header alone
    (8 bytes little-endian length, then JSON ``{name: {"dtype", "shape", "data_offsets"},
    "__metadata__": {str: str}}``); the data itself is checked by ``safetensors`` when loaded.
    """

    def __init__(self, data: bytes, source: str, what: str) -> None:
        self.source, self.what = source, what
        bad = f"{source}: {what} is not a valid safetensors file{_hdf5_hint(data)}"
        size = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
        if not 0 < size <= len(data) - 8:
            raise ValueError(f"{bad}: its header length {size} does not fit its "
                             f"{len(data)} bytes")
        if size > MAX_SAFETENSORS_HEADER:
            raise ValueError(f"{bad}: its header declares {size} bytes, more than "
                             f"{MAX_SAFETENSORS_HEADER}; refused")
        header = _parse_json(bytes(data[8:8 + size]), bad)
        if not isinstance(header, dict):
            raise ValueError(f"{bad}: its header is not a JSON object")
        metadata = header.pop("__metadata__", None) or {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.dtypes: dict[str, str] = {}
        for name, entry in header.items():
            shape = entry.get("shape") if isinstance(entry, dict) else None
            if not (isinstance(shape, list) and all(
                    isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
                    and isinstance(entry.get("dtype"), str)):
                raise ValueError(f"{bad}: bad header entry {name!r}: {str(entry)[:120]}")
            self.shapes[name], self.dtypes[name] = tuple(shape), entry["dtype"]
        self.order = None
        if isinstance(metadata, dict) and isinstance(metadata.get("order"), str):
            try:  # the key order stored by _weights_bytes (safetensors sorts the keys)
                order = json.loads(metadata["order"])
            except (json.JSONDecodeError, RecursionError):
                order = None
            if isinstance(order, list) and sorted(map(str, order)) == sorted(self.shapes):
                self.order = order

    def match(self, expected: dict[str, tuple[int, ...]], owner: str) -> dict[str, str]:
        """``{model key: file key}``: every weight once, with its shape.

        Keys are matched by name; if the names differ but the file lists the same weights in
        the same order (the same architecture, its layers named ``dense_1`` instead of
        ``dense`` as a second model in one session is), they are matched by position as Keras
        does, provided the weight names after the layer name (``kernel``, ...) agree.
        """
        names = {key: key for key in expected}
        if set(self.shapes) != set(expected):
            order = self.order
            if order is None or len(order) != len(expected) or any(
                    key.rsplit(".", 1)[-1] != saved.rsplit(".", 1)[-1]
                    for key, saved in zip(expected, order, strict=False)):
                raise ValueError(
                    f"{self.source}: the weights do not fit {owner}: missing keys "
                    f"{sorted(set(expected) - set(self.shapes))[:20]}, unexpected keys "
                    f"{sorted(set(self.shapes) - set(expected))[:20]} (weights are matched by "
                    f"name, or by position when the layers are the same but named "
                    f"differently)")
            names = dict(zip(expected, order, strict=True))
        for key, shape in expected.items():
            saved = self.shapes[names[key]]
            if saved != tuple(shape):
                alias = f" (saved as {names[key]!r})" if names[key] != key else ""
                raise ValueError(f"{self.source}: weight {key!r}{alias} has shape {saved} in "
                                 f"the file but {tuple(shape)} in {owner}")
        return names


def _load_weights_into(model: Model, data: bytes, source: str, what: str) -> None:
    """Copy the saved tensors into ``model.state_dict()``: every weight once, same shapes
    (:meth:`_SavedWeights.match`), a floating dtype for a floating weight (the value is cast,
    as Keras does) and the same dtype for any other."""
    expected = model.state_dict()
    names = _SavedWeights(data, source, what).match(
        {key: tuple(t.shape) for key, t in expected.items()}, model.owner)
    tensors = _load_tensors(data, source, what)
    for key, target in expected.items():
        saved = tensors[names[key]]
        if saved.dtype != target.dtype and not (saved.dtype.is_floating_point
                                                and target.dtype.is_floating_point):
            raise ValueError(f"{source}: weight {key!r} is {saved.dtype} in the file but "
                             f"{target.dtype} in {model.owner}")
    model.load_state_dict({key: tensors[names[key]] for key in expected}, strict=True)


def _compile_from_config(model: Model, config: dict, custom_objects: dict[str, Any],
                         source: str) -> None:
    try:
        optimizer = optimizers.deserialize(config["optimizer"])
        loss = _decode_objectives(config["loss"], custom_objects)
        model.compile(optimizer=optimizer, loss=loss,
                      metrics=_decode_objectives(config.get("metrics"), custom_objects),
                      weighted_metrics=_decode_objectives(config.get("weighted_metrics"),
                                                          custom_objects),
                      loss_weights=config.get("loss_weights"))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError,
            RecursionError) as exc:
        raise ValueError(f"{source}: cannot compile the model from its compile_config ({exc}); "
                         f"load with compile=False and compile it yourself") from None


def _decode_objectives(value: Any, custom_objects: dict[str, Any]) -> Any:
    """Inverse of :func:`_encode_objectives`, taking custom functions from custom_objects."""
    if isinstance(value, list):
        return [_decode_objectives(v, custom_objects) for v in value]
    if isinstance(value, dict) and set(value) == {"by_output"} and isinstance(
            value["by_output"], dict):
        return {k: _decode_objectives(v, custom_objects) for k, v in value["by_output"].items()}
    if isinstance(value, dict) and set(value) == {"custom_object"}:
        name = value["custom_object"]
        if name not in custom_objects:
            raise ValueError(f"the model was compiled with the custom function {name!r}: pass "
                             f"custom_objects={{{name!r}: {name}}}")
        return custom_objects[name]
    if value is None or isinstance(value, str) or (
            isinstance(value, dict) and set(value) == {"class_name", "config"}):
        return value
    raise ValueError(f"bad loss or metric entry {str(value)[:120]}")


def _restore_optimizer(model: Model, members: dict[str, bytes], source: str) -> None:
    """Build the optimizer on the model's parameters now and load its saved state."""
    tensors = _load_tensors(members[OPTIMIZER_TENSORS], source, OPTIMIZER_TENSORS)
    try:
        state = _unflatten_state(_parse_json(members[OPTIMIZER_JSON],
                                             f"{source}: {OPTIMIZER_JSON}"), tensors, source)
    except RecursionError:
        raise ValueError(f"{source}: {OPTIMIZER_JSON} is nested too deeply") from None
    if not model.built:
        raise ValueError(f"{source}: the file holds optimizer state for a model that is not "
                         f"built")
    try:
        model._prepare(None)
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"{source}: the compile_config does not fit the model: {exc}") from None
    try:
        model.optimizer.load_state_dict(state)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RuntimeError) as exc:
        raise ValueError(f"{source}: the optimizer state does not fit the model: {exc}") from None
