"""The optimizer's state as ``optimizer.json`` + ``optimizer.safetensors``, and back.

``optimizer.state_dict()`` is written as JSON with each tensor replaced by ``{"tensor": name}``,
the tensors themselves as safetensors: no pickle, so loading executes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import safetensors.torch
import torch

from cnnlab.io._format import OPTIMIZER_JSON, OPTIMIZER_TENSORS
from cnnlab.io._utils import parse_json, warn
from cnnlab.io._weights import load_tensors


def optimizer_files(model: Any) -> tuple[bytes, bytes] | None:
    """``optimizer.json`` and ``optimizer.safetensors`` contents, or ``None`` if the optimizer
    was never built (nothing trained yet) or holds state that is not plain data."""
    if model.optimizer.torch_optimizer is None:
        return None
    tensors: dict[str, torch.Tensor] = {}
    try:
        state = _flatten_state(model.optimizer.state_dict(), [], tensors)
        state_bytes = json.dumps(state).encode("utf-8")
    except TypeError as exc:
        warn(f"{model.owner}: the optimizer state cannot be saved ({exc}); saved without it")
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


def restore_optimizer(model: Any, members: dict[str, bytes], source: str) -> None:
    """Build the optimizer on the model's parameters now and load its saved state."""
    tensors = load_tensors(members[OPTIMIZER_TENSORS], source, OPTIMIZER_TENSORS)
    try:
        state = _unflatten_state(parse_json(members[OPTIMIZER_JSON],
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
