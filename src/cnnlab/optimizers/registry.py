"""Optimizers by name and config: ``register``, ``get``, ``serialize``, ``deserialize``.

Names are lower-cased class names (``'adam'``, ``'rmsprop'``, ``'torchoptimizer'``); configs have
Keras's form ``{'class_name': ..., 'config': ...}``.
"""

from __future__ import annotations

from typing import Any

import torch

from cnnlab.optimizers.adadelta import Adadelta
from cnnlab.optimizers.adagrad import Adagrad
from cnnlab.optimizers.adam import Adam
from cnnlab.optimizers.adamax import Adamax
from cnnlab.optimizers.adamw import AdamW
from cnnlab.optimizers.nadam import Nadam
from cnnlab.optimizers.optimizer import Optimizer
from cnnlab.optimizers.rmsprop import RMSprop
from cnnlab.optimizers.sgd import SGD
from cnnlab.optimizers.torch_optimizer import TorchOptimizer

_REGISTRY: dict[str, type[Optimizer]] = {}


def register(cls: type[Optimizer]) -> type[Optimizer]:
    """Make ``cls`` known to :func:`get` under its lower-cased class name (usable as decorator)."""
    _REGISTRY[cls.__name__.lower()] = cls
    return cls


for _cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Nadam, Adamax, TorchOptimizer):
    register(_cls)


def _lookup(name: str) -> type[Optimizer]:
    cls = _REGISTRY.get(name.lower()) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"Unknown optimizer {name!r}; known names: {sorted(_REGISTRY)}")
    return cls


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{'class_name': ..., 'config': optimizer.get_config()}``, Keras's format."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any]) -> Optimizer:
    """Inverse of :func:`serialize` (Keras's extra keys ``module``/``registered_name`` ignored)."""
    return _lookup(config.get("class_name")).from_config(config.get("config", {}))


def get(identifier: str | dict | Optimizer | torch.optim.Optimizer) -> Optimizer:
    """An :class:`Optimizer` from a name (``'adam'``, ``'SGD'``, case-insensitive, Keras
    defaults), a serialized config dict, an ``Optimizer`` (returned as is) or a ready
    ``torch.optim.Optimizer`` (wrapped in :class:`TorchOptimizer`)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, torch.optim.Optimizer):
        return TorchOptimizer(identifier)
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    raise TypeError("optimizer must be a name, a config dict with 'class_name', an Optimizer or a "
                    f"torch.optim.Optimizer; received {type(identifier).__name__}: {identifier!r}")
