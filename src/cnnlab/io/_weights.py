"""A model's weights as a safetensors file, and back, strictly.

``weights.safetensors`` holds ``model.state_dict()`` in PyTorch's layout (``conv2d.kernel`` is
``(out, in, kh, kw)``, BatchNormalization's moving statistics included); its metadata
``"order"`` keeps the keys' order, which safetensors sorts away.
"""

from __future__ import annotations

import json
from typing import Any

import safetensors
import safetensors.torch
import torch

from cnnlab.files.archive import MAX_SAFETENSORS_HEADER
from cnnlab.io._format import hdf5_hint
from cnnlab.io._utils import parse_json


def weights_bytes(model: Any) -> bytes:
    """``model.state_dict()`` as safetensors. The metadata ``"order"`` keeps the keys' order
    (safetensors sorts them), which :func:`load_weights_into` needs to match renamed layers."""
    state = model.state_dict()
    flat = {key: t.detach().cpu().contiguous() for key, t in state.items()}
    return safetensors.torch.save(flat, metadata={"format": "pt", "order": json.dumps(list(state))})


def load_tensors(data: bytes, source: str, what: str) -> dict[str, torch.Tensor]:
    """The tensors of the safetensors file ``data``; ``ValueError`` naming ``source`` and
    ``what`` when it is not one."""
    try:
        return safetensors.torch.load(data)
    except (safetensors.SafetensorError, ValueError, TypeError, KeyError, RuntimeError,
            OverflowError) as exc:  # KeyError: a dtype torch does not have
        raise ValueError(f"{source}: {what} is not a valid safetensors file{hdf5_hint(data)}: "
                         f"{type(exc).__name__}: {exc}") from None


class SavedWeights:
    """The names, shapes, dtypes and key order of a safetensors file, from its header alone
    (8 bytes little-endian length, then JSON ``{name: {"dtype", "shape", "data_offsets"},
    "__metadata__": {str: str}}``); the data itself is checked by ``safetensors`` when loaded.
    """

    def __init__(self, data: bytes, source: str, what: str) -> None:
        self.source, self.what = source, what
        bad = f"{source}: {what} is not a valid safetensors file{hdf5_hint(data)}"
        size = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
        if not 0 < size <= len(data) - 8:
            raise ValueError(f"{bad}: its header length {size} does not fit its "
                             f"{len(data)} bytes")
        if size > MAX_SAFETENSORS_HEADER:
            raise ValueError(f"{bad}: its header declares {size} bytes, more than "
                             f"{MAX_SAFETENSORS_HEADER}; refused")
        header = parse_json(bytes(data[8:8 + size]), bad)
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
            try:  # the key order stored by weights_bytes (safetensors sorts the keys)
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


def load_weights_into(model: Any, data: bytes, source: str, what: str) -> None:
    """Copy the saved tensors into ``model.state_dict()``: every weight once, same shapes
    (:meth:`SavedWeights.match`), a floating dtype for a floating weight (the value is cast,
    as Keras does) and the same dtype for any other."""
    expected = model.state_dict()
    names = SavedWeights(data, source, what).match(
        {key: tuple(t.shape) for key, t in expected.items()}, model.owner)
    tensors = load_tensors(data, source, what)
    for key, target in expected.items():
        saved = tensors[names[key]]
        if saved.dtype != target.dtype and not (saved.dtype.is_floating_point
                                                and target.dtype.is_floating_point):
            raise ValueError(f"{source}: weight {key!r} is {saved.dtype} in the file but "
                             f"{target.dtype} in {model.owner}")
    model.load_state_dict({key: tensors[names[key]] for key in expected}, strict=True)

