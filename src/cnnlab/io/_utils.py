"""Helpers shared by the readers and writers of :mod:`cnnlab.io`.

The model classes are found through the layer registry, never imported: ``cnnlab.io`` sits
below ``cnnlab.models`` in the package layers, and ``cnnlab.models`` registers ``Model`` as
``"Functional"`` (and ``"Model"``) and ``Sequential`` when ``import cnnlab`` runs.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from cnnlab.layers.registry import registered_class


def model_class() -> type:
    """The base class of cnnlab's models (``cnnlab.models.Model``), registered as
    ``"Functional"``; ``RuntimeError`` when ``cnnlab.models`` has not registered it."""
    try:
        return registered_class("Functional")
    except ValueError:
        raise RuntimeError("cnnlab.io needs cnnlab's model classes, which cnnlab.models "
                           "registers as 'Functional' and 'Sequential': `import cnnlab` (or "
                           "cnnlab.models) first") from None


def is_model(obj: Any) -> bool:
    """Whether ``obj`` is a cnnlab model (``Model``, ``Sequential`` or a subclass)."""
    return isinstance(obj, model_class())


def parse_json(data: bytes, what: str) -> Any:
    """``data`` decoded as UTF-8 JSON; ``ValueError`` naming ``what`` when it is not."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from None


def warn(message: str) -> None:
    """A ``UserWarning`` pointing at the code that called ``save_model`` (two frames up from
    the helper that calls this)."""
    warnings.warn(message, UserWarning, stacklevel=4)
