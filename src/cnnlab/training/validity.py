"""`invalid_training`: whether a model's state (loss, weights) is worth keeping."""

from __future__ import annotations

import math
from typing import Any

import torch

from cnnlab.training.callback import Logs


def invalid_training(model: Any, logs: Logs | None) -> str | None:
    """Why the model's current state is not worth keeping — ``"the loss is nan"``, ``"the
    weight 'dense.kernel' is not finite"`` — or ``None`` when its loss and weights are
    finite."""
    loss = (logs or {}).get("loss")
    if loss is not None and not math.isfinite(loss):
        return f"the loss is {loss}"
    weights = getattr(model, "state_dict", None)
    state = {} if weights is None else {k: t for k, t in weights().items()
                                        if t.is_floating_point()}
    if state and not bool(torch.stack([torch.isfinite(t).all() for t in state.values()]).all()):
        name = next(k for k, t in state.items() if not bool(torch.isfinite(t).all()))
        return f"the weight {name!r} is not finite"
    return None
