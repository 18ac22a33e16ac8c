"""A model described by an untrusted config, built first on PyTorch's ``meta`` device.

A config is a few bytes, but ``Dense(units=10**9)`` in it allocates gigabytes when the model
is built, before the weights file could show that it does not fit. On the ``meta`` device
tensors have shapes and no storage, so :func:`build_on_meta` gives the weights' shapes for
free; the loaders compare them with the file's and build the real model only when they fit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from cnnlab.layers.registry import kept_names


def build_on_meta(build: Callable[[], Any]) -> Any | None:
    """``build()`` with every tensor on the ``meta`` device; ``None`` if that fails (the real
    build then reports the error, or, for a layer that cannot run on ``meta``, simply runs).
    Layer name counters and the global random state are left as they were."""
    rng = torch.random.get_rng_state()
    try:
        with kept_names(), torch.device("meta"):
            return build()
    except Exception:  # noqa: BLE001  (the real build raises the user-facing error)
        return None
    finally:
        torch.random.set_rng_state(rng)


def state_shapes(model: Any) -> dict[str, tuple[int, ...]] | None:
    """``{state dict key: shape}`` of a built model (``None`` when it is not built)."""
    if model is None or not getattr(model, "built", False):
        return None
    return {key: tuple(t.shape) for key, t in model.state_dict().items()}
