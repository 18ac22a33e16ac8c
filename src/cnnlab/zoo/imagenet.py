"""ImageNet input preprocessing and prediction decoding, as ``keras.applications.imagenet_utils``.

``preprocess_input(x, mode=...)``: 'caffe' (VGG16, ResNet50: RGB -> BGR minus the ImageNet
means), 'tf' (to [-1, 1]) or 'torch' (standardised); the formulas are in
:mod:`cnnlab.layers.imagenet_preprocessing`.

``decode_predictions(preds, top=5)`` turns class probabilities into
``[[(wordnet_id, class_name, score), ...], ...]`` using ImageNet's class index
(``imagenet_class_index.json``, which Keras downloads). cnnlab cannot download it: put the
file at one of :func:`class_index_paths` (or pass ``class_index=path``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab.layers.imagenet_preprocessing import (
    ImageNetPreprocessing,
    channel_axis,
    check_arguments,
    preprocess,
)
from cnnlab.layers.keras_tensor import KerasTensor

CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_ENV = "CNNLAB_IMAGENET_CLASS_INDEX"

_loaded: dict[str, dict[int, tuple[str, str]]] = {}


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "caffe") -> Any:
    """Scale a batch (or one image) of pixels in [0, 255] the way an ImageNet model was
    trained (module docstring for the three ``mode``s, Keras's names and formulas).

    ``x``: NumPy array or torch tensor, ``(..., H, W, 3)`` (``data_format='channels_first'``:
    ``(N, 3, H, W)`` or ``(3, H, W)``). Integer input becomes float32; float input keeps its
    dtype. Returns the same kind (array or tensor). A symbolic input (``keras.Input``) gets an
    :class:`~cnnlab.layers.imagenet_preprocessing.ImageNetPreprocessing` layer, so the model
    can be saved. Difference from Keras: the input is never modified (Keras changes a float
    NumPy array in place).
    """
    owner = "preprocess_input"
    if isinstance(x, KerasTensor):
        return ImageNetPreprocessing(mode=mode, data_format=data_format)(x)
    data_format = check_arguments(owner, mode, data_format)
    if isinstance(x, torch.Tensor):
        out = x if x.is_floating_point() else x.float()
    else:
        out = np.asarray(x)
        out = out if np.issubdtype(out.dtype, np.floating) else out.astype(np.float32)
    return preprocess(out, mode, channel_axis(owner, tuple(out.shape), data_format))


def class_index_paths() -> list[Path]:
    """Where :func:`decode_predictions` looks for ``imagenet_class_index.json``, in order:
    ``$CNNLAB_IMAGENET_CLASS_INDEX`` (a file path), ``~/.cache/cnnlab/``, and Keras's own
    cache ``~/.keras/models/`` (where a Keras installation left it)."""
    paths = []
    if os.environ.get(CLASS_INDEX_ENV):
        paths.append(Path(os.environ[CLASS_INDEX_ENV]).expanduser())
    paths += [Path("~/.cache/cnnlab").expanduser() / CLASS_INDEX_FILE,
              Path("~/.keras/models").expanduser() / CLASS_INDEX_FILE]
    return paths


def load_class_index(path: str | os.PathLike | None = None) -> dict[int, tuple[str, str]]:
    """``{class number: (wordnet_id, class_name)}`` from Keras's JSON format
    ``{"0": ["n01440764", "tench"], ...}``; ``path`` or the first of :func:`class_index_paths`
    that exists."""
    if path is None:
        found = [p for p in class_index_paths() if p.is_file()]
        if not found:
            places = ", ".join(str(p) for p in class_index_paths())
            raise FileNotFoundError(
                f"decode_predictions needs ImageNet's class index {CLASS_INDEX_FILE} (Keras "
                f"downloads it; cnnlab does not download). Put the file at one of: {places} "
                f"(or set ${CLASS_INDEX_ENV} to its path, or pass class_index=path)")
        path = found[0]
    key = os.fspath(path)
    if key not in _loaded:
        try:
            with open(key, encoding="utf-8") as f:
                raw = json.load(f)
            _loaded[key] = {int(k): (str(v[0]), str(v[1])) for k, v in raw.items()}
        except (OSError, ValueError, TypeError, IndexError, AttributeError) as exc:
            raise ValueError(f"{key} is not an ImageNet class index in Keras's format "
                             f'{{"0": ["n01440764", "tench"], ...}}: {exc}') from None
    return _loaded[key]


def decode_predictions(preds: Any, top: int = 5,
                       class_index: str | os.PathLike | None = None
                       ) -> list[list[tuple[str, str, float]]]:
    """The ``top`` classes of each prediction, best first: a list (one per sample) of
    ``(wordnet_id, class_name, score)`` tuples, Keras's format.

    ``preds``: ``(samples, classes)`` probabilities (array or tensor), ``classes`` = the size
    of the class index (1000 for ImageNet). ``class_index`` (a cnnlab addition): the JSON
    file's path, else :func:`class_index_paths` are searched.
    """
    scores = preds.detach().cpu().numpy() if isinstance(preds, torch.Tensor) else np.asarray(
        preds)
    index = load_class_index(class_index)
    if scores.ndim != 2 or scores.shape[1] != len(index):
        raise ValueError(f"decode_predictions expects a batch of predictions of shape "
                         f"(samples, {len(index)}) for its {len(index)}-class index; got an "
                         f"array of shape {scores.shape}")
    results = []
    for row in scores:
        best = np.argsort(-row, kind="stable")[:top]
        results.append([(*index[int(i)], float(row[i])) for i in best])
    return results
