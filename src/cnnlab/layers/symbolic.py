"""Operations on symbolic tensors: ``model.output[:, 386]``, ``K.mean(layer.output)``, ``a / b``.

Keras 2 turns a TensorFlow operation applied to a ``KerasTensor`` into a layer of the graph
(``TFOpLambda``); cnnlab does the same with :class:`SymbolicOp`, so the Keras-2 idioms of
Deep Learning with Python (1st ed., 5.4) build graphs that ``K.function`` runs::

    loss = K.mean(model.get_layer("block3_conv1").output[:, :, :, 0])
    grads = K.gradients(loss, model.input)[0]          # a Gradients node (see below)
    grads /= K.sqrt(K.mean(K.square(grads))) + 1e-5
    iterate = K.function([model.input], [loss, grads])

Shapes are found by running the function on small zero tensors (unknown sizes tried as 2 and
3: the axes whose size follows are unknown in the result). Models holding these layers cannot
be saved (they hold code), like ``Lambda``.

This module sits above ``Layer`` and ``KerasTensor``; importing it installs :func:`apply` as
what ``KerasTensor``'s operators call (:func:`~cnnlab.layers.keras_tensor.set_operation_recorder`),
so that neither of those modules imports this one. The ``cnnlab.layers`` package imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from cnnlab.layers.base import Layer
from cnnlab.layers.keras_tensor import KerasTensor, set_operation_recorder
from cnnlab.layers.nest import flatten

__all__ = ["Gradients", "SymbolicOp", "apply"]


def _probe(function: Callable, shapes: list[tuple], fill: int) -> tuple:
    args = [torch.zeros([fill if d is None else d for d in s]) for s in shapes]
    return tuple(function(*args).shape)


class SymbolicOp(Layer):
    """A function of one or more tensors recorded as a graph node (Keras's ``TFOpLambda``).

    Args:
        function: ``function(*tensors) -> tensor``.
        description: shown as the layer's name stem (``tf.math.reduce_mean``-like).

    Input: one tensor or a list (the function's arguments, in order). Output: the function's
    result, its shape found by probing (module docstring). Example: ``model.output[:, 386]``
    on a ``(None, 1000)`` output records a ``SymbolicOp`` whose output has shape ``(None,)``.
    """

    min_ndim = 0  # scalars (a mean over everything) are valid operands

    def __init__(self, function: Callable, description: str = "op", **kwargs: Any):
        super().__init__(**kwargs)
        self.function, self.description = function, description

    def call(self, inputs: Any, training: bool = False) -> torch.Tensor:
        return self.function(*flatten(inputs))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        with torch.no_grad():
            two, three = _probe(self.function, shapes, 2), _probe(self.function, shapes, 3)
        if len(two) != len(three):
            raise ValueError(f"{self.owner}: the output rank of {self.description} depends on "
                             f"unknown input sizes {shapes}")
        return tuple(a if a == b else None for a, b in zip(two, three, strict=True))

    def get_config(self) -> dict:
        raise TypeError(f"{self.owner}: an operation on symbolic tensors ({self.description}) "
                        f"holds code and cannot be saved; save the weights instead")


def apply(function: Callable, *operands: Any, description: str = "op") -> Any:
    """``function(*operands)``: run now on tensors, or record a :class:`SymbolicOp` node when
    an operand is a ``KerasTensor`` (the others are captured as constants)."""
    symbolic = [i for i, v in enumerate(operands) if isinstance(v, KerasTensor)]
    if not symbolic:
        return function(*operands)
    constants = list(operands)

    def on_tensors(*tensors: torch.Tensor) -> torch.Tensor:
        values = list(constants)
        for i, t in zip(symbolic, tensors, strict=True):
            values[i] = t
        return function(*values)

    inputs = [operands[i] for i in symbolic]
    return SymbolicOp(on_tensors, description)(inputs if len(inputs) > 1 else inputs[0])


set_operation_recorder(apply)


class Gradients(Layer):
    """``d(sum of target) / d(source)`` as a graph node: what ``K.gradients`` returns.

    Input: ``[target, source]`` (symbolic tensors of the same graph). Output: a tensor of the
    source's shape. It is computed with autograd while ``K.function`` runs the graph, so the
    source must lie on the path from the function's inputs to the target.
    """

    min_ndim = 0

    def call(self, inputs: Any, training: bool = False) -> torch.Tensor:
        target, source = inputs
        if not (target.requires_grad and source.requires_grad):
            return torch.zeros_like(source)
        (grad,) = torch.autograd.grad(target.sum(), source, retain_graph=True,
                                      allow_unused=True)
        return torch.zeros_like(source) if grad is None else grad

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[1])

    def get_config(self) -> dict:
        raise TypeError(f"{self.owner}: a gradient node cannot be saved")
