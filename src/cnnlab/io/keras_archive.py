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
(:mod:`cnnlab.io.meta`).

The config translation is :mod:`cnnlab.io._keras3_config`, the weights layout
:mod:`cnnlab.io._keras3_weights`; this module reads and writes the files.
"""

from __future__ import annotations

import io
import os
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cnnlab.layers  # noqa: F401  (registers every layer class)
from cnnlab import optimizers
from cnnlab.files.archive import MAX_TOTAL_BYTES, is_zip, read_members
from cnnlab.files.atomic import atomic_write
from cnnlab.io._keras3_config import MODELS, config_from_keras3, plain
from cnnlab.io._keras3_config import NEUTRAL as NEUTRAL
from cnnlab.io._keras3_config import REFUSED as REFUSED
from cnnlab.io._keras3_weights import (
    assign,
    keras_views,
    layer_container,
    own_weights,
    plan,
    read_vars,
    slots,
)
from cnnlab.io._utils import is_model, parse_json
from cnnlab.io.hdf5_guard import check_hdf5, hdf5_errors
from cnnlab.io.keras_weights import HDF5_SIGNATURE, _h5py
from cnnlab.io.meta import build_on_meta
from cnnlab.layers.registry import registered_class

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"


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
            return layer_container(f) is not None and "layer_names" not in f.attrs
    except (OSError, ValueError, RuntimeError, KeyError):
        return False


# ------------------------------------------------------------------------ weights files
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
            data = read_members(source, name, (WEIGHTS,))[WEIGHTS]
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


def load_keras3_weights(model: Any, path_or_h5file: Any) -> None:
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
        loads = [(targets, read_vars(datasets, path, source))
                 for targets, datasets, path in plan(model, root, source, {})]
    for targets, arrays in loads:
        assign(targets, arrays)


def save_keras3_weights(model: Any, path: str | os.PathLike) -> None:
    """Write ``model``'s weights in Keras 3's ``.weights.h5`` layout (module docstring),
    atomically; Keras 3's ``model.load_weights`` reads it for the same architecture."""
    if not model.built:
        raise ValueError(f"{model.owner}: save_keras3_weights needs a built model")
    h5py, buffer = _h5py(), io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")
        for slot, layer in slots(model, "layers", {}):
            group = f.create_group(slot).create_group("vars")
            for i, array in enumerate(keras_views(own_weights(layer))):
                group.create_dataset(str(i), data=array.cpu().numpy())
    with atomic_write(path) as out:
        out.write(buffer.getvalue())


# ------------------------------------------------------------------------ archives
def load_keras_archive(path: str | os.PathLike, compile: bool = True) -> Any:
    """The model of a Keras 3 ``.keras`` file: built from ``config.json`` (through
    :func:`config_from_keras3`), weights from ``model.weights.h5``.

    With ``compile=True`` the ``compile_config`` is applied when its optimizer, loss and
    metrics map to cnnlab's (Keras names and configs do); otherwise the model is returned
    uncompiled, with a warning saying why (compile it yourself). The optimizer's saved state
    is not restored. Raises ``ValueError`` naming the file for anything it refuses.
    """
    source = repr(os.fspath(path))
    members = read_members(path, source, (CONFIG, METADATA, WEIGHTS))
    missing = [name for name in (CONFIG, WEIGHTS) if name not in members]
    if missing:
        raise ValueError(f"{source} is not a Keras 3 .keras archive: no {', '.join(missing)}")
    raw = parse_json(members[CONFIG], f"{source}: {CONFIG}")
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
            plan(probe, h5, source, _keras_orders(probe, translated))
        model = _build(translated, source)
        loads = [(targets, read_vars(datasets, path, source)) for targets, datasets, path
                 in plan(model, h5, source, _keras_orders(model, translated))]
    for targets, arrays in loads:
        assign(targets, arrays)
    if compile and isinstance(raw, dict) and raw.get("compile_config"):
        _compile(model, raw["compile_config"], source)
    return model


def _build(translated: dict, source: str) -> Any:
    try:
        model = registered_class(translated["class_name"]).from_config(
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
        if is_model(layer) and sub["class_name"] in MODELS:
            orders.update(_keras_orders(layer, sub))
    return orders


def _compile(model: Any, config: Any, source: str) -> None:
    try:
        if not isinstance(config, dict):
            raise ValueError("compile_config is not a dict")
        args = {key: _objective(plain(value, "compile_config"))
                for key, value in config.items()}
        model.compile(optimizer=optimizers.get(args["optimizer"]), loss=args.get("loss"),
                      metrics=args.get("metrics"),
                      weighted_metrics=args.get("weighted_metrics"),
                      loss_weights=args.get("loss_weights"))
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
