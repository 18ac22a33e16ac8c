"""Symbolic tensors of the functional API: ``KerasTensor`` and the graph ``Node`` making it.

``x = Input((28, 28, 1))`` is a ``KerasTensor``: a Keras shape (batch first, ``None`` for
unknown sizes) without data. Calling a layer on it records a :class:`Node` (the layer, its
inputs, its call arguments) and returns the output ``KerasTensor``; a ``Model(inputs,
outputs)`` runs those nodes in order.

Operators (``x[:, 0]``, ``a + b``, ``loss / 2``) record graph nodes too, as Keras 2's
``TFOpLambda`` layers do. The layer that records them (:mod:`cnnlab.layers.symbolic`) is made of
:class:`~cnnlab.layers.base.Layer`, which itself makes ``KerasTensor``\\ s, so this module does
not import it: it installs itself with :func:`set_operation_recorder` when imported, which the
``cnnlab.layers`` package does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnlab.layers._messages import Shape, format_shape
from cnnlab.layers.nest import flatten

__all__ = ["KerasTensor", "Node", "is_symbolic", "keras_shape", "set_operation_recorder"]

# record(function, *operands, description=...) -> the result as a graph node
_record_operation: Callable[..., Any] | None = None


def set_operation_recorder(record: Callable[..., Any]) -> None:
    """Install ``record(function, *operands, description=...)``: what an operator applied to
    a ``KerasTensor`` returns (:func:`cnnlab.layers.symbolic.apply` installs itself)."""
    global _record_operation
    _record_operation = record


class KerasTensor:
    """A symbolic tensor of the functional API: a Keras shape and the node that made it.

    Args:
        shape: the Keras shape, batch first, ``None`` for unknown sizes.
        node: the :class:`Node` whose output this is (``None`` for a free tensor).
        index: the position among the node's outputs.
        dtype, name: as in Keras (``Input`` names its tensor after its layer).

    Example: ``Input((28, 28, 1))`` is ``<KerasTensor shape=(None, 28, 28, 1), from
    'input_1'>``; ``Conv2D(8, 3)`` called on it returns one of shape ``(None, 26, 26, 8)``.
    """

    def __init__(self, shape: Shape, node: Node | None = None, index: int = 0,
                 dtype: str = "float32", name: str | None = None):
        self.shape = tuple(shape)
        self.node = node
        self.index = index
        self.dtype = dtype
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        origin = f", from {self.node.layer.name!r}" if self.node else ""
        return f"<KerasTensor shape={format_shape(self.shape)}{origin}>"

    # Operations record graph nodes (layers/symbolic.py), as Keras 2's TFOpLambda layers do:
    # ``model.output[:, 386]``, ``loss / 2``, ``grads / (K.sqrt(...) + 1e-5)``.
    def _op(self, description: str, function: Callable, *operands: Any) -> Any:
        if _record_operation is None:
            raise RuntimeError("operations on symbolic tensors need cnnlab.layers.symbolic, "
                               "which importing cnnlab.layers loads")
        return _record_operation(function, *operands, description=description)

    def __getitem__(self, key: Any) -> Any:
        return self._op("getitem", lambda t: t[key], self)

    def __iter__(self) -> Any:
        raise TypeError(f"a symbolic tensor cannot be iterated over ({self!r}); index it "
                        f"(x[0]) or run it with a model first")

    def __neg__(self) -> Any:
        return self._op("negative", lambda a: -a, self)

    def __add__(self, other: Any) -> Any:
        return self._op("add", lambda a, b: a + b, self, other)

    def __radd__(self, other: Any) -> Any:
        return self._op("add", lambda a, b: a + b, other, self)

    def __sub__(self, other: Any) -> Any:
        return self._op("subtract", lambda a, b: a - b, self, other)

    def __rsub__(self, other: Any) -> Any:
        return self._op("subtract", lambda a, b: a - b, other, self)

    def __mul__(self, other: Any) -> Any:
        return self._op("multiply", lambda a, b: a * b, self, other)

    def __rmul__(self, other: Any) -> Any:
        return self._op("multiply", lambda a, b: a * b, other, self)

    def __truediv__(self, other: Any) -> Any:
        return self._op("divide", lambda a, b: a / b, self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self._op("divide", lambda a, b: a / b, other, self)

    def __pow__(self, other: Any) -> Any:
        return self._op("pow", lambda a, b: a ** b, self, other)


class Node:
    """One call of a layer on symbolic inputs: ``outputs = layer(inputs, **kwargs)``.

    ``layer`` is the :class:`~cnnlab.layers.base.Layer` called (typed ``Any`` here: that
    module sits above this one); ``inputs`` the symbolic inputs as given (``input_tensors``
    their leaves); ``outputs`` the output ``KerasTensor``\\ s and ``output_structure`` what
    the call returned (one tensor or a list).
    """

    def __init__(self, layer: Any, inputs: Any, kwargs: dict):
        self.layer = layer
        self.inputs = inputs
        self.input_tensors = flatten(inputs)
        self.kwargs = kwargs
        self.outputs: list[KerasTensor] = []
        self.output_structure: Any = None  # what the call returned: one tensor or a list

    def call_kwargs(self, training: bool) -> dict:
        """The keyword arguments to run this node with: those given at the symbolic call,
        where an explicit ``training=True|False`` wins over the model's mode (Keras: a base
        called as ``base(x, training=False)`` stays in inference mode during ``fit``)."""
        if self.kwargs.get("training") is not None:
            return self.kwargs
        return {**self.kwargs, "training": training}


def is_symbolic(structure: Any) -> bool:
    """Whether any leaf of ``structure`` (a tensor or nested lists/tuples) is a KerasTensor."""
    return any(isinstance(leaf, KerasTensor) for leaf in flatten(structure))


def keras_shape(leaf: Any) -> Shape:
    """The Keras shape of a ``KerasTensor``, or of a batch tensor with its batch size unknown:
    a ``(32, 28, 28, 1)`` batch gives ``(None, 28, 28, 1)``."""
    if isinstance(leaf, KerasTensor):
        return leaf.shape
    return (None, *tuple(leaf.shape[1:]))
