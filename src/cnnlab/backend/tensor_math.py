"""Keras 2 backend math (``K.mean``, ``K.square``, ...) and ``K.gradients``.

Each function computes now on tensors/arrays and, on a symbolic tensor (``layer.output``,
``model.input``), records a graph node instead (:mod:`cnnlab.layers.symbolic`), so that the
Keras-2 ``K.function`` idioms work.

``K.gradients`` is supported only in the ``K.function`` pattern of Deep Learning with Python
(1st ed., 5.4): the loss and the variables are symbolic tensors of one layer graph (the
variables being ``model.input`` or a layer's output on the path to the loss), and the returned
symbolic gradients are evaluated by ``K.function([model.input], [loss, grads])``. Gradients with
respect to weights (TF1 training graphs) or of eager tensors are refused with an error pointing
to ``tf.GradientTape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cnnlab.layers.keras_tensor import KerasTensor
from cnnlab.layers.symbolic import Gradients, apply

Axis = int | Sequence[int] | None


def _tensor(x: Any) -> Any:
    if isinstance(x, (KerasTensor, torch.Tensor)):
        return x
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


def _dims(t: torch.Tensor, axis: Axis) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(t.ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _reduce(name: str, fn: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    def run(t: torch.Tensor) -> torch.Tensor:
        return fn(t, dim=_dims(t, axis), keepdim=keepdims)

    return apply(run, _tensor(x), description=name)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Mean over ``axis`` (all axes when None)."""
    return _reduce("mean", torch.mean, x, axis, keepdims)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001 - Keras's name
    """Sum over ``axis`` (all axes when None)."""
    return _reduce("sum", torch.sum, x, axis, keepdims)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Maximum over ``axis`` (all axes when None)."""
    return _reduce("max", torch.amax, x, axis, keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Minimum over ``axis`` (all axes when None)."""
    return _reduce("min", torch.amin, x, axis, keepdims)


def square(x: Any) -> Any:
    """x² element-wise (a graph node on a symbolic tensor)."""
    return apply(torch.square, _tensor(x), description="square")


def sqrt(x: Any) -> Any:
    """√x element-wise."""
    return apply(torch.sqrt, _tensor(x), description="sqrt")


def abs(x: Any) -> Any:  # noqa: A001
    """|x| element-wise."""
    return apply(torch.abs, _tensor(x), description="abs")


def exp(x: Any) -> Any:
    """eˣ element-wise."""
    return apply(torch.exp, _tensor(x), description="exp")


def log(x: Any) -> Any:
    """Natural logarithm element-wise."""
    return apply(torch.log, _tensor(x), description="log")


def pow(x: Any, a: float) -> Any:  # noqa: A001
    """xᵃ element-wise."""
    return apply(lambda t: t ** a, _tensor(x), description="pow")


def maximum(x: Any, y: Any) -> Any:
    """max(x, y) element-wise, ``y`` broadcast."""
    return apply(lambda a, b: torch.maximum(a, torch.as_tensor(b, dtype=a.dtype)),
                 _tensor(x), y, description="maximum")


def minimum(x: Any, y: Any) -> Any:
    """min(x, y) element-wise, ``y`` broadcast."""
    return apply(lambda a, b: torch.minimum(a, torch.as_tensor(b, dtype=a.dtype)),
                 _tensor(x), y, description="minimum")


def clip(x: Any, min_value: float, max_value: float) -> Any:
    """``x`` clamped to ``[min_value, max_value]``."""
    return apply(lambda t: t.clamp(min_value, max_value), _tensor(x), description="clip")


def gradients(loss: Any, variables: Any) -> list:
    """Symbolic gradients of ``loss`` with respect to each of ``variables`` (a list, as Keras).

    Only for symbolic tensors evaluated through ``K.function`` (see the module docstring):
    ``grads = K.gradients(loss, model.input)[0]``.
    """
    many = isinstance(variables, (list, tuple))
    targets = list(variables) if many else [variables]
    if not isinstance(loss, KerasTensor):
        raise NotImplementedError(
            f"K.gradients: `loss` must be a symbolic tensor built from layer outputs (for "
            f"K.function), got {type(loss).__name__}; for eager tensors use tf.GradientTape")
    for v in targets:
        if not isinstance(v, KerasTensor):
            raise NotImplementedError(
                f"K.gradients: each variable must be a symbolic tensor (model.input or a "
                f"layer's output), got {type(v).__name__}; gradients with respect to weights "
                f"(TF1 graph training) are not supported: use tf.GradientTape and "
                f"optimizer.apply_gradients")
    return [Gradients()([loss, v]) for v in targets]


__all__ = ["abs", "clip", "exp", "gradients", "log", "max", "maximum", "mean", "min", "minimum",
           "pow", "sqrt", "square", "sum"]
