"""Activation layers with their own arguments: ``ReLU``, ``LeakyReLU``, ``ELU``, ``Softmax``,
``PReLU`` (learned slopes) and ``ThresholdedReLU``.

Each maps ``(N, ...)`` to the same shape, element by element (``Softmax`` along ``axis``). For
an activation without arguments use ``Activation('relu')`` or ``activation='relu'``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab import activations, constraints, initializers, regularizers
from cnnlab.layers._messages import format_shape
from cnnlab.layers.base import Layer
from cnnlab.layers.registry import register


def _number(owner: str, name: str, value: Any, minimum: float | None = 0.0) -> float:
    """``value`` as a float; a ``ValueError`` if it is not a number ``>= minimum``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or (minimum is not None and value < minimum):
        kind = "a number" if minimum is None else f"a number >= {minimum:g}"
        raise ValueError(f"{owner}: `{name}` must be {kind}, got {value!r}")
    return float(value)


@register()
class ReLU(Layer):
    """Rectified linear unit in Keras's general form.

    ``f(x) = min(x, max_value)`` for ``x > threshold``, else ``negative_slope·(x − threshold)``
    (with the defaults ``f(x) = max(x, 0)``).

    Args:
        max_value: ``None`` (no ceiling) or a number ``>= 0``; ``ReLU(6.0)`` is ReLU6.
        negative_slope: number ``>= 0``, the slope below the threshold (default 0).
        threshold: number ``>= 0``, where the unit switches on (default 0).

    Input/output shape: any, unchanged. Example: ``ReLU(max_value=6.0)`` maps
    ``[-1, 3, 8]`` to ``[0, 3, 6]``.
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _number(self.owner, "max_value",
                                                                 max_value)
        self.negative_slope = _number(self.owner, "negative_slope", negative_slope)
        self.threshold = _number(self.owner, "threshold", threshold)
        self._build_if_declared()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


@register()
class LeakyReLU(Layer):
    """Leaky ReLU: ``f(x) = x`` for ``x >= 0``, ``negative_slope·x`` otherwise.

    Args:
        negative_slope: number ``>= 0``, default 0.3 (Keras's layer default; the function
            ``activations.leaky_relu`` defaults to 0.2). Keras 2's name ``alpha`` is accepted.

    Input/output shape: any, unchanged. Example: ``LeakyReLU()`` maps ``[-2, 3]`` to
    ``[-0.6, 3]``.
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any):
        negative_slope = kwargs.pop("alpha", negative_slope)
        super().__init__(**kwargs)
        self.negative_slope = _number(self.owner, "negative_slope", negative_slope)
        self._build_if_declared()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


@register()
class ELU(Layer):
    """Exponential linear unit: ``f(x) = x`` for ``x > 0``, ``alpha·(exp(x) − 1)`` otherwise.

    Args:
        alpha: number, the saturation value for very negative inputs is ``−alpha``
            (default 1.0).

    Input/output shape: any, unchanged. Example: ``ELU()`` maps ``[-1, 0, 2]`` to
    ``[-0.632, 0, 2]`` (``exp(−1) − 1 = −0.632``).
    """

    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = _number(self.owner, "alpha", alpha, minimum=None)
        self._build_if_declared()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return activations.elu(inputs, self.alpha)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}


@register()
class Softmax(Layer):
    """Softmax ``y_i = exp(x_i) / Σ_j exp(x_j)`` along ``axis``.

    Args:
        axis: int or tuple of ints, the axis (axes) normalized together (default −1).

    Call argument ``mask`` (optional, broadcastable to the input): positions where it is
    False/0 get ``x − 1e9`` (``−3e4`` in float16) first, so their probability is ~0, as Keras.

    Input/output shape: any, unchanged. Example: ``Softmax()`` maps ``[[1, 1]]`` to
    ``[[0.5, 0.5]]``.
    """

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs: Any):
        super().__init__(**kwargs)
        axes = (axis,) if isinstance(axis, int) else tuple(axis) if isinstance(
            axis, (list, tuple)) else ()
        if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise ValueError(f"{self.owner}: `axis` must be an int or a tuple of ints, got "
                             f"{axis!r}")
        self.axis = axis if isinstance(axis, int) else axes
        self._build_if_declared()

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        axes = (self.axis,) if isinstance(self.axis, int) else self.axis
        if not all(-rank <= a < rank and a % rank != 0 for a in axes):
            raise ValueError(f"{self.owner}: `axis` must name non-batch axes of the input "
                             f"{format_shape(input_shape)}, got axis={self.axis}")
        if len({a % rank for a in axes}) != len(axes):
            raise ValueError(f"{self.owner}: `axis` must name each axis of the input "
                             f"{format_shape(input_shape)} once, got axis={self.axis}")

    def call(self, inputs: torch.Tensor, training: bool = False,
             mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is not None:
            large = 3e4 if inputs.dtype == torch.float16 else 1e9
            inputs = inputs - large * (1.0 - mask.to(inputs.dtype))
        if isinstance(self.axis, int):
            return activations.softmax(inputs, axis=self.axis)
        return torch.exp(inputs - torch.logsumexp(inputs, dim=self.axis, keepdim=True))

    def get_config(self) -> dict:
        axis = self.axis if isinstance(self.axis, int) else list(self.axis)
        return {**super().get_config(), "axis": axis}


@register()
class ThresholdedReLU(Layer):
    """``f(x) = x`` for ``x > theta``, else 0 (a Keras 2 layer; Keras 3 removed it).

    Args:
        theta: number ``>= 0``, the threshold (default 1.0).

    Input/output shape: any, unchanged. Example: ``ThresholdedReLU(1.0)`` maps
    ``[0.5, 1, 2]`` to ``[0, 0, 2]``.
    """

    def __init__(self, theta: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.theta = _number(self.owner, "theta", theta)
        self._build_if_declared()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return F.threshold(inputs, self.theta, 0.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "theta": self.theta}


@register()
class PReLU(Layer):
    """Parametric ReLU: ``f(x) = x`` for ``x >= 0``, ``alpha·x`` otherwise, ``alpha`` learned.

    ``alpha`` has the input's per-sample shape, with size 1 on the ``shared_axes``: for feature
    maps ``(N, H, W, C)`` with ``shared_axes=[1, 2]`` there is one slope per channel, ``C``
    parameters (the PReLU of He et al. 2015); without ``shared_axes``, ``H·W·C`` parameters.

    Args:
        alpha_initializer: initializer of the slopes (default ``'zeros'``: starts as ReLU).
        alpha_regularizer: regularizer of the slopes, or ``None``.
        alpha_constraint: constraint applied to the slopes after each optimizer step
            (e.g. ``'non_neg'``), or ``None``.
        shared_axes: ``None``, or an int or list of input axes sharing one slope (axis 0 is
            the batch, so ``[1, 2]`` are H and W of ``(N, H, W, C)``).

    Input shape: ``(N, ...)``, sizes known on the non-shared axes. Output shape: the same.
    Weight ``alpha`` has the same layout in Keras and PyTorch.

    Example: ``PReLU(shared_axes=[1, 2])`` after ``Conv2D(32, 3)`` learns 32 slopes, one per
    channel.
    """

    min_ndim = 2

    def __init__(self, alpha_initializer: Any = "zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: int | Sequence[int] | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        axes = [] if shared_axes is None else [shared_axes] if isinstance(
            shared_axes, int) else list(shared_axes) if isinstance(
            shared_axes, (list, tuple)) else [shared_axes]
        if not all(isinstance(a, int) and not isinstance(a, bool) and a > 0 for a in axes):
            raise ValueError(f"{self.owner}: `shared_axes` must be None or positive ints "
                             f"(input axes, 1-based), got {shared_axes!r}")
        self.shared_axes = axes or None
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self._build_if_declared()

    def fixed_axes(self) -> Sequence[int]:
        shared = set(self.shared_axes or ())
        return [i for i in range(1, len(self.input_shape_built)) if i not in shared]

    def build(self, input_shape: tuple) -> None:
        shared = set(self.shared_axes or ())
        if max(shared, default=0) >= len(input_shape):
            raise ValueError(f"{self.owner}: `shared_axes` {self.shared_axes} must be axes of "
                             f"the input {format_shape(input_shape)} (1 to "
                             f"{len(input_shape) - 1})")
        shape = tuple(1 if i in shared else d for i, d in enumerate(input_shape) if i > 0)
        if None in shape:
            raise ValueError(f"{self.owner}: the input sizes must be known on the axes that "
                             f"are not shared, got input shape {format_shape(input_shape)} "
                             f"and shared_axes={self.shared_axes}")
        self.input_ndim = len(input_shape)
        self.alpha = torch.nn.Parameter(self.alpha_initializer(shape, dtype=torch.float32))
        self.trainable = self.trainable

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return F.relu(inputs) - self.alpha * F.relu(-inputs)

    def regularization_losses(self) -> list[torch.Tensor]:
        if self.alpha_regularizer is None or not self.built:
            return []
        return [self.alpha_regularizer(self.alpha)]

    def weight_constraints(self) -> dict[str, Any]:
        return {"alpha": self.alpha_constraint}

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }
