"""The cnnlab model file (:mod:`cnnlab.io.saving`): its member names, and reading them checked.

A zip archive holding ``config.json`` and ``weights.safetensors``, and optionally
``optimizer.json`` + ``optimizer.safetensors`` and (checkpoints) ``training_state.safetensors``.
Only these members are ever read, after the checks of :mod:`cnnlab.files.archive`.
"""

from __future__ import annotations

import zipfile

from cnnlab.files.archive import check_archive, read_checked
from cnnlab.io._utils import parse_json
from cnnlab.io.keras_weights import HDF5_SIGNATURE

FORMAT = "cnnlab-model"
VERSION = 1
CONFIG, WEIGHTS = "config.json", "weights.safetensors"
OPTIMIZER_JSON, OPTIMIZER_TENSORS = "optimizer.json", "optimizer.safetensors"
TRAINING_STATE = "training_state.safetensors"  # checkpoints only: epoch, RNG and data order
MEMBERS = (CONFIG, WEIGHTS, OPTIMIZER_JSON, OPTIMIZER_TENSORS, TRAINING_STATE)


def read_archive(path: str, source: str) -> dict[str, bytes]:
    """``{member name: bytes}`` for the known members of a cnnlab zip (others are ignored,
    never read); config and weights must be there, else ``ValueError`` naming ``source``."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        with open(path, "rb") as f:
            hint = hdf5_hint(f.read(len(HDF5_SIGNATURE)))
        raise ValueError(f"{source} is not a cnnlab model file (a zip archive){hint}: "
                         f"{exc}") from None
    with archive:
        check_archive(archive, source, MEMBERS)
        names = set(archive.namelist())
        for required in (CONFIG, WEIGHTS):
            if required not in names:
                raise ValueError(f"{source} is not a cnnlab model file: it has no "
                                 f"{required} (members: {sorted(names)[:8]})")
        return read_checked(archive, source, MEMBERS)


def hdf5_hint(data: bytes) -> str:
    """A hint for the error message when ``data`` starts like an HDF5 (Keras 2) file."""
    if data.startswith(HDF5_SIGNATURE):
        return (" (it is an HDF5 file, as Keras 2 writes: cnnlab reads only the weights from "
                "it, so build the model in code, then call "
                "cnnlab.io.keras_weights.load_keras_h5(model, path); Keras architectures are "
                "not imported)")
    return ""


def read_config(data: bytes, source: str) -> dict:
    """``config.json`` parsed and checked: cnnlab's format tag, a supported version, a
    ``class_name`` (str), a ``config`` (dict) and a ``compile_config`` (dict or null)."""
    config = parse_json(data, f"{source}: {CONFIG}")
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
