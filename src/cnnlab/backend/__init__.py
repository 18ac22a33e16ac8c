"""Keras's ``backend`` functions that lecture programs call (``K.image_data_format()``, ...),
the backend math (``K.mean``, ``K.square``, ...) and ``K.gradients``
(:mod:`cnnlab.backend.tensor_math`).

cnnlab always works channels-last at the API; ``set_image_data_format('channels_first')`` is
refused with an explanation instead of silently changing layouts (pass
``data_format='channels_first'`` to the layers that need it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnlab.backend.tensor_math import (  # noqa: A004 - Keras's names shadow builtins here
    abs,
    clip,
    exp,
    gradients,
    log,
    max,
    maximum,
    mean,
    min,
    minimum,
    pow,
    sqrt,
    square,
    sum,
)
from cnnlab.layers.registry import clear_session
from cnnlab.models.function import function, learning_phase
from cnnlab.optimizers import LearningRateValue

_EPSILON = 1e-7


def backend() -> str:
    """The engine's name: ``"torch"`` (Keras returns ``"tensorflow"``, ``"jax"``, ...)."""
    return "torch"


def image_data_format() -> str:
    """Always ``"channels_last"``: cnnlab's API is channels-last (NHWC)."""
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Accepts only ``"channels_last"``; a layer takes ``data_format="channels_first"`` itself."""
    if data_format != "channels_last":
        raise ValueError("cnnlab layers default to 'channels_last'; pass "
                         "data_format='channels_first' to individual layers instead, got "
                         f"{data_format!r}")


def image_dim_ordering() -> str:
    """Keras 1 spelling: ``'tf'`` means channels-last."""
    return "tf"


def set_image_dim_ordering(ordering: str) -> None:
    """Keras 1 spelling of :func:`set_image_data_format` (``"tf"`` = channels-last)."""
    set_image_data_format({"tf": "channels_last", "th": "channels_first"}.get(ordering,
                                                                              ordering))


def floatx() -> str:
    """The float type of weights and inputs: always ``"float32"``."""
    return "float32"


def set_floatx(value: str) -> None:
    """Accepts only ``"float32"`` (bf16/fp16 come from mixed-precision policies)."""
    if value != "float32":
        raise ValueError(f"cnnlab computes in float32 (use mixed precision policies for "
                         f"bf16); got set_floatx({value!r})")


def epsilon() -> float:
    """The fuzz factor ``K.epsilon()`` used in losses and metrics (default 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by :func:`epsilon`."""
    global _EPSILON
    _EPSILON = float(value)


def int_shape(x: Any) -> tuple:
    """Shape as a tuple (``None`` for unknown sizes of symbolic tensors)."""
    return tuple(x.shape)


def count_params(x: Any) -> int:
    """Number of scalars in ``x``: the product of its shape."""
    return int(np.prod(tuple(x.shape)))


def get_value(x: Any) -> Any:
    """A weight or tensor as a NumPy array; ``optimizer.learning_rate`` (or ``.lr``) as a float;
    other values unchanged. ``K.get_value(model.optimizer.lr)`` works as in Keras 2."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, LearningRateValue):
        return float(x)
    return x


def set_value(x: Any, value: Any) -> None:
    """Write ``value`` into ``x`` in place, as Keras's ``K.set_value`` assigns a variable.

    ``x`` is a weight or tensor (``model.layers[0].kernel``, ``model.weights[i]``; ``value``
    must have its shape, in the same PyTorch layout) or an optimizer's learning rate
    (``K.set_value(model.optimizer.lr, 0.001)``: sets ``optimizer.learning_rate``).
    """
    if isinstance(x, LearningRateValue):
        x.assign(float(np.asarray(value)))
        return
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"set_value: `x` must be a weight tensor or an optimizer's learning_rate, got "
            f"{type(x).__name__} {x!r}; a plain number cannot be changed in place (for an "
            f"optimizer hyper-parameter, assign the attribute instead)")
    array = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
    if tuple(array.shape) != tuple(x.shape):
        raise ValueError(f"set_value: `value` must have the shape of `x`, {tuple(x.shape)}, "
                         f"got shape {tuple(array.shape)}")
    with torch.no_grad():
        x.copy_(torch.as_tensor(array, dtype=x.dtype))


def batch_get_value(tensors: list) -> list:
    """``[get_value(t) for t in tensors]``."""
    return [get_value(t) for t in tensors]


def batch_set_value(tuples: list) -> None:
    """``set_value(x, value)`` for each ``(x, value)`` pair."""
    for x, value in tuples:
        set_value(x, value)


def set_learning_phase(value: int) -> None:
    """Accepted for Keras-2 programs; cnnlab switches modes in fit/evaluate/predict."""


__all__ = ["abs", "backend", "batch_get_value", "batch_set_value", "clear_session", "clip",
           "count_params", "epsilon", "exp", "floatx", "function", "get_value", "gradients",
           "image_data_format", "image_dim_ordering", "int_shape", "learning_phase", "log",
           "max", "maximum", "mean", "min", "minimum", "pow", "set_epsilon", "set_floatx",
           "set_image_data_format", "set_image_dim_ordering", "set_learning_phase",
           "set_value", "sqrt", "square", "sum"]
