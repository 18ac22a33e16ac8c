"""Keras's ``backend`` functions that lecture programs call (``K.image_data_format()``, ...).

cnnlab always works channels-last at the API; ``set_image_data_format('channels_first')`` is
refused with an explanation instead of silently changing layouts (pass
``data_format='channels_first'`` to the layers that need it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnlab.layers.base import clear_session

_EPSILON = 1e-7


def backend() -> str:
    return "torch"


def image_data_format() -> str:
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    if data_format != "channels_last":
        raise ValueError("cnnlab layers default to 'channels_last'; pass "
                         "data_format='channels_first' to individual layers instead, got "
                         f"{data_format!r}")


def image_dim_ordering() -> str:
    """Keras 1 spelling: ``'tf'`` means channels-last."""
    return "tf"


def set_image_dim_ordering(ordering: str) -> None:
    set_image_data_format({"tf": "channels_last", "th": "channels_first"}.get(ordering,
                                                                              ordering))


def floatx() -> str:
    return "float32"


def set_floatx(value: str) -> None:
    if value != "float32":
        raise ValueError(f"cnnlab computes in float32 (use mixed precision policies for "
                         f"bf16); got set_floatx({value!r})")


def epsilon() -> float:
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def int_shape(x: Any) -> tuple:
    """Shape as a tuple (``None`` for unknown sizes of symbolic tensors)."""
    return tuple(x.shape)


def count_params(x: Any) -> int:
    return int(np.prod(tuple(x.shape)))


def get_value(x: Any) -> Any:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x


def set_learning_phase(value: int) -> None:
    """Accepted for Keras-2 programs; cnnlab switches modes in fit/evaluate/predict."""


__all__ = ["backend", "clear_session", "count_params", "epsilon", "floatx", "get_value",
           "image_data_format", "image_dim_ordering", "int_shape", "set_epsilon",
           "set_floatx", "set_image_data_format", "set_image_dim_ordering",
           "set_learning_phase"]
