"""``model.load_weights(path)`` for every weight file cnnlab reads, recognised by content.

=========================  ===============================================  =================
format                     recognised by                                    read by
=========================  ===============================================  =================
``cnnlab``                 zip with ``config.json`` + ``weights.safetensors``  io.saving
                           (``save``), or safetensors with cnnlab's
                           ``order`` metadata (``save_weights``)
``keras3``                 zip with ``config.json`` + ``model.weights.h5``  io.keras_archive
                           (a Keras 3 ``.keras`` file)
``keras3-h5``              HDF5 with a top-level ``layers`` group           io.keras_archive
                           (Keras 3 ``save_weights``)
``keras2-h5``              HDF5 with a ``layer_names`` attribute            io.keras_weights
                           (Keras 2 ``save_weights``/``save``, the
                           ``keras.applications`` files)
``torch``                  ``torch.save`` state dict, or safetensors with   io.torch_weights
                           PyTorch module names (torchvision's layouts)
=========================  ===============================================  =================

Nothing is decided by the file name, and no reader executes code from the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cnnlab.files.archive import MAX_SAFETENSORS_HEADER, is_zip, open_archive
from cnnlab.io.keras_archive import is_keras3_weights, load_keras3_weights
from cnnlab.io.keras_weights import HDF5_SIGNATURE, load_keras_h5
from cnnlab.io.saving import load_weights
from cnnlab.io.torch_weights import is_torch_weights_file, load_torch_weights

SAFETENSORS_HEADER_LIMIT = MAX_SAFETENSORS_HEADER  # bytes of JSON header read to recognise a file

FORMATS = ("cnnlab", "keras3", "keras3-h5", "keras2-h5", "torch")


def weights_format(path: str | os.PathLike) -> str:
    """One of :data:`FORMATS` for the file at ``path``; ``ValueError`` when it is none."""
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"no weights file {os.fspath(path)!r}")
    with open(source, "rb") as f:
        head = f.read(8)
    if head == HDF5_SIGNATURE:
        return "keras3-h5" if is_keras3_weights(source) else "keras2-h5"
    if is_zip(source):
        with open_archive(source, repr(os.fspath(path))) as archive:
            names = set(archive.namelist())
        if {"config.json", "model.weights.h5"} <= names:
            return "keras3"
        if "config.json" in names and "weights.safetensors" in names:
            return "cnnlab"
    header = _safetensors_metadata(source)
    if header is not None and "order" in header:
        return "cnnlab"
    if is_torch_weights_file(source):
        return "torch"
    if header is not None:  # safetensors with other names: cnnlab's loader names the keys
        return "cnnlab"
    raise ValueError(
        f"{os.fspath(path)!r} is not a weights file cnnlab reads: expected a cnnlab file "
        f"(save/save_weights), a Keras 3 .keras or .weights.h5 file, a Keras 2 HDF5 file or a "
        f"PyTorch state dict (torch.save or .safetensors)")


def _safetensors_metadata(path: Path) -> dict | None:
    """The ``__metadata__`` of a safetensors file (an 8-byte little-endian header length, then
    a JSON header), ``{}`` when it has none; ``None`` when ``path`` is not safetensors."""
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        if not 0 < size <= SAFETENSORS_HEADER_LIMIT:
            return None
        try:
            header = json.loads(f.read(size))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return None
    if not isinstance(header, dict):
        return None
    metadata = header.get("__metadata__")
    return metadata if isinstance(metadata, dict) else {}


def load_weights_file(model: Any, path: str | os.PathLike, by_name: bool = False,
                      skip_mismatch: bool = False) -> str:
    """Load the weights in ``path`` into the built ``model``; returns the format read.

    ``by_name``/``skip_mismatch`` have Keras 2's meaning and apply to Keras 2 HDF5 files only
    (match layers by name; skip layers whose shapes differ, with a warning). Every other format
    is strict: each weight gets a tensor of its shape, else ``ValueError`` naming the first
    layer that differs with both shapes.
    """
    kind = weights_format(path)
    if (by_name or skip_mismatch) and kind != "keras2-h5":
        raise ValueError(f"load_weights: by_name/skip_mismatch apply to Keras 2 HDF5 files; "
                         f"{os.fspath(path)!r} is a {kind} file, loaded strictly by layer order")
    if kind == "cnnlab":
        load_weights(model, path)
    elif kind in ("keras3", "keras3-h5"):  # an archive's weights are read with size limits
        load_keras3_weights(model, path)
    elif kind == "keras2-h5":
        load_keras_h5(model, path, by_name=by_name, skip_mismatch=skip_mismatch)
    else:
        load_torch_weights(model, path)
    return kind
