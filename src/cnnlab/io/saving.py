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

import json
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cnnlab.layers  # noqa: F401  (its __init__ imports every layer module: registers them)
from cnnlab.files.archive import is_zip
from cnnlab.files.atomic import atomic_write, check_target, remove_stale_temps
from cnnlab.io._compile_config import compile_config, compile_from_config
from cnnlab.io._format import (
    CONFIG,
    FORMAT,
    OPTIMIZER_JSON,
    OPTIMIZER_TENSORS,
    TRAINING_STATE,
    VERSION,
    WEIGHTS,
    read_archive,
    read_config,
)
from cnnlab.io._optimizer_state import optimizer_files, restore_optimizer
from cnnlab.io._utils import model_class
from cnnlab.io._weights import SavedWeights, load_weights_into, weights_bytes
from cnnlab.io.keras_archive import is_keras_archive, load_keras_archive
from cnnlab.io.meta import build_on_meta, state_shapes
from cnnlab.layers.base import Layer
from cnnlab.layers.registry import registered_class, registered_while

__all__ = ["load_model", "load_weights", "read_training_state", "save_model", "save_weights"]


# ------------------------------------------------------------------------------------- saving
def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True,
               include_optimizer: bool = True, training_state: bytes | None = None) -> None:
    """Write ``model`` as one zip file (module docstring). Atomic: on any error the file at
    ``filepath`` is left as it was. ``overwrite=False`` and an existing file: ``FileExistsError``.
    ``training_state`` (checkpoints) is stored as one more member, written in the same atomic
    step so that weights and training state always belong together.
    """
    path = check_target(filepath, overwrite)
    config = {"format": FORMAT, "version": VERSION, "class_name": model.class_name,
              "config": model.get_config(), "compile_config": compile_config(model)}
    config_bytes = json.dumps(config, indent=2).encode("utf-8")
    optimizer_data = None
    if include_optimizer and config["compile_config"] is not None:
        optimizer_data = optimizer_files(model)
    remove_stale_temps(path)  # left by a writer killed mid-write (a crashed training)
    with atomic_write(path, overwrite) as f, zipfile.ZipFile(f, "w") as archive:
        archive.writestr(CONFIG, config_bytes, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(WEIGHTS, weights_bytes(model))
        if optimizer_data is not None:
            archive.writestr(OPTIMIZER_JSON, optimizer_data[0],
                             compress_type=zipfile.ZIP_DEFLATED)
            archive.writestr(OPTIMIZER_TENSORS, optimizer_data[1])
        if training_state is not None:
            archive.writestr(TRAINING_STATE, training_state)


def read_training_state(filepath: str | os.PathLike) -> bytes | None:
    """The training-state member of a checkpoint written by :func:`save_model`, if any."""
    path = os.fspath(filepath)
    return read_archive(path, repr(path)).get(TRAINING_STATE)


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``model.state_dict()`` (PyTorch layout, buffers included) as a safetensors file,
    atomically, whatever the file name (Keras users write ``model.weights.h5``)."""
    path = check_target(filepath, overwrite)
    if not model.built:
        raise ValueError(f"{model.owner}: save_weights needs a built model (it has no weights "
                         f"yet); give `input_shape=` to the first layer or call build/fit first")
    data = weights_bytes(model)
    remove_stale_temps(path)
    with atomic_write(path, overwrite) as f:
        f.write(data)


# ------------------------------------------------------------------------------------ loading
def load_model(filepath: str | os.PathLike, custom_objects: dict[str, Any] | None = None,
               compile: bool = True) -> Any:
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
    if is_keras_archive(filepath):
        return load_keras_archive(filepath, compile=compile)
    source = repr(os.fspath(filepath))
    members = read_archive(os.fspath(filepath), source)
    config = read_config(members[CONFIG], source)
    saved = SavedWeights(members[WEIGHTS], source, WEIGHTS)
    with _custom_layers(custom_objects):
        probe = build_on_meta(lambda: _model_from_config(config, source))
        shapes = state_shapes(probe)
        if shapes is not None:  # refuse a config that does not fit before allocating it
            saved.match(shapes, probe.owner)
        model = _model_from_config(config, source)
    load_weights_into(model, members[WEIGHTS], source, WEIGHTS)
    saved_compile = config.get("compile_config")
    if compile and saved_compile is not None:
        compile_from_config(model, saved_compile, custom_objects, source)
        if OPTIMIZER_JSON in members and OPTIMIZER_TENSORS in members:
            restore_optimizer(model, members, source)
    return model


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
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
        data = read_archive(path, source)[WEIGHTS]
    else:
        with open(path, "rb") as f:
            data = f.read()
    load_weights_into(model, data, source, "the weights file")


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
    layers = {name: obj for name, obj in custom_objects.items()
              if isinstance(obj, type) and issubclass(obj, Layer)}
    with registered_while(layers):
        yield


def _model_from_config(config: dict, source: str) -> Any:
    model_base = model_class()
    try:
        cls = registered_class(config["class_name"])
        if not (isinstance(cls, type) and issubclass(cls, model_base)):
            raise ValueError(f"class {config['class_name']!r} is a layer, not a model")
        return cls.from_config(config["config"])
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError,
            RuntimeError, MemoryError) as exc:  # RuntimeError: allocation, recursion depth
        raise ValueError(f"{source}: cannot rebuild the model from {CONFIG}: "
                         f"{type(exc).__name__}: {str(exc)[:300]}") from None

