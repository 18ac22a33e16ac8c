"""Merge layers: combine a list of tensors into one (``Add``, ``Subtract``, ``Multiply``,
``Average``, ``Maximum``, ``Minimum``, ``Concatenate``, ``Dot``), and their lowercase
functional forms (``add([a, b])``, ``concatenate([a, b], axis=-1)``, ...).

They are what skip connections and branches are made of: the ResNet block ``a[l+2] =
g(z[l+2] + a[l])`` is ``Activation('relu')(Add()([z, a]))``, and an Inception module joins its
branches with ``Concatenate()`` along the channels.

Element-wise merges broadcast as Keras does: the non-batch shapes are aligned on the right, a
size 1 stretches to the other size, and a lower-rank input gets size-1 axes inserted after the
batch axis (``(N, C)`` with ``(N, H, W, C)`` acts as ``(N, 1, 1, C)``). No weights.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab.layers._messages import format_shape
from cnnlab.layers.base import Layer
from cnnlab.layers.registry import register


def _is_shape_list(input_shape: Any) -> bool:
    return (isinstance(input_shape, (list, tuple)) and len(input_shape) > 0
            and all(isinstance(s, (list, tuple)) for s in input_shape))


class Merge(Layer):
    """Base of the merge layers: ``call`` receives a list of tensors, returns one tensor.

    Shapes are checked at build (when the inputs' shapes are first known); subclasses
    implement ``check_shapes`` (returning the output shape) and ``merge``, and set
    ``n_inputs`` when they take a fixed number of inputs.
    """

    n_inputs: int | None = None

    def check_count(self, count: int, shown: str) -> None:
        if self.n_inputs is not None and count != self.n_inputs:
            raise ValueError(f"{self.owner}: expected exactly {self.n_inputs} inputs, got "
                             f"{count}{shown}")

    def list_of_shapes(self, input_shape: Any) -> list[tuple]:
        """The input shapes as a list, or a ``ValueError`` if this is not a list of inputs."""
        if not _is_shape_list(input_shape):
            shown = (format_shape(input_shape) if isinstance(input_shape, tuple)
                     else repr(input_shape))
            raise ValueError(f"{self.owner}: expected a list of input tensors, got {shown}")
        shapes = [tuple(s) for s in input_shape]
        self.check_count(len(shapes), ": " + ", ".join(format_shape(s) for s in shapes))
        return shapes

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = self.list_of_shapes(input_shape)
        batches = {s[0] for s in shapes} - {None}
        if len(batches) > 1:
            raise ValueError(f"{self.owner}: all inputs must have the same batch size, got "
                             f"{', '.join(format_shape(s) for s in shapes)}")
        return (batches.pop() if batches else None, *self.check_shapes(shapes))

    def check_shapes(self, shapes: list[tuple]) -> tuple:
        """Validate the input shapes; return the output shape without the batch axis."""
        raise NotImplementedError

    def call(self, inputs: Sequence[torch.Tensor], training: bool = False) -> torch.Tensor:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{self.owner}: expected a list of input tensors, got "
                             f"{type(inputs).__name__}")
        self.check_count(len(inputs), "")
        return self.merge(list(inputs))

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


class ElementwiseMerge(Merge):
    """An element-wise merge ``y = op(...op(op(x1, x2), x3)...)``, with Keras's broadcasting."""

    op: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def check_shapes(self, shapes: list[tuple]) -> tuple:
        rank = max(len(s) for s in shapes) - 1
        out = []
        for axis in range(-rank, 0):
            having = [s for s in shapes if len(s) > -axis]
            sizes = [s[axis] for s in having]
            fixed = [s for s in having if s[axis] not in (None, 1)]
            for other in fixed[1:]:
                if other[axis] != fixed[0][axis]:
                    raise ValueError(
                        f"{self.owner}: all inputs must have the same shape (or size 1 on an "
                        f"axis, to broadcast), got {format_shape(fixed[0])} and "
                        f"{format_shape(other)}"
                    )
            out.append(None if None in sizes else (fixed[0][axis] if fixed else 1))
        return tuple(out)

    def call(self, inputs: Sequence[torch.Tensor], training: bool = False) -> torch.Tensor:
        if isinstance(inputs, (list, tuple)) and len({x.ndim for x in inputs}) > 1:
            rank = max(x.ndim for x in inputs)
            inputs = [x.reshape(x.shape[0], *[1] * (rank - x.ndim), *x.shape[1:])
                      for x in inputs]
        return super().call(inputs, training)

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return functools.reduce(self.op, inputs)


@register()
class Add(ElementwiseMerge):
    """Element-wise sum of the inputs: ``y = x1 + x2 + ...``.

    Input: a list of tensors of the same shape (or broadcastable, see the module docstring).
    Output: one tensor of that shape.

    Example (a residual connection)::

        x = Input((32, 32, 16))
        y = Conv2D(16, 3, padding='same')(x)
        z = Add()([x, y])            # (None, 32, 32, 16)
    """

    op = staticmethod(torch.add)


@register()
class Subtract(ElementwiseMerge):
    """Element-wise difference of exactly two inputs: ``y = x1 − x2``.

    Example: ``Subtract()([a, b])`` on two ``(None, 16)`` tensors gives ``(None, 16)``.
    """

    n_inputs = 2
    op = staticmethod(torch.sub)


@register()
class Multiply(ElementwiseMerge):
    """Element-wise product of the inputs: ``y = x1 · x2 · ...`` (e.g. attention gating).

    Input: a list of tensors of the same shape (or broadcastable). Output: that shape.
    Example: ``Multiply()([x, gate])`` with ``(None, 8, 8, 64)`` and ``(None, 1, 1, 64)``
    gives ``(None, 8, 8, 64)``.
    """

    op = staticmethod(torch.mul)


@register()
class Average(ElementwiseMerge):
    """Element-wise mean of the inputs: ``y = (x1 + ... + xk) / k`` (e.g. model ensembles).

    Input: a list of tensors of the same shape (or broadcastable). Output: that shape.
    Example: ``Average()([p1, p2, p3])`` of three ``(None, 10)`` predictions gives
    ``(None, 10)``.
    """

    op = staticmethod(torch.add)

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return super().merge(inputs) / len(inputs)


@register()
class Maximum(ElementwiseMerge):
    """Element-wise maximum of the inputs: ``y = max(x1, x2, ...)``.

    Input: a list of tensors of the same shape (or broadcastable). Output: that shape.
    Example: ``Maximum()([a, b])`` maps ``[1, 5]`` and ``[3, 2]`` to ``[3, 5]``.
    """

    op = staticmethod(torch.maximum)


@register()
class Minimum(ElementwiseMerge):
    """Element-wise minimum of the inputs: ``y = min(x1, x2, ...)``.

    Input: a list of tensors of the same shape (or broadcastable). Output: that shape.
    Example: ``Minimum()([a, b])`` maps ``[1, 5]`` and ``[3, 2]`` to ``[1, 2]``.
    """

    op = staticmethod(torch.minimum)


@register()
class Concatenate(Merge):
    """Joins the inputs along ``axis`` (default −1: the channels of channels-last data).

    Args:
        axis: the axis to join along; not the batch axis.

    Input: a list of tensors of equal rank whose sizes agree on every other axis.
    Output: the same shape with the ``axis`` sizes summed.

    Example (Inception branches): ``Concatenate()([a, b])`` with ``(None, 28, 28, 64)`` and
    ``(None, 28, 28, 32)`` gives ``(None, 28, 28, 96)``.
    """

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"{self.owner}: `axis` must be an int, got {axis!r}")
        self.axis = axis

    def check_shapes(self, shapes: list[tuple]) -> tuple:
        rank = len(shapes[0])
        for other in shapes[1:]:
            if len(other) != rank:
                raise ValueError(f"{self.owner}: all inputs must have the same rank, got "
                                 f"{format_shape(shapes[0])} and {format_shape(other)}")
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"{self.owner}: `axis` must name a non-batch axis of the inputs "
                             f"{format_shape(shapes[0])}, got axis={self.axis}")
        axis = self.axis % rank
        out = []
        for i in range(1, rank):
            sizes = [s[i] for s in shapes]
            if i == axis:
                out.append(None if None in sizes else sum(sizes))
                continue
            known = [s for s in shapes if s[i] is not None]
            for other in known[1:]:
                if other[i] != known[0][i]:
                    raise ValueError(
                        f"{self.owner}: inputs must have the same shape except along the "
                        f"concatenation axis {self.axis}, got {format_shape(known[0])} and "
                        f"{format_shape(other)}"
                    )
            out.append(known[0][i] if known else None)
        return tuple(out)

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(inputs, dim=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


@register()
class Dot(Merge):
    """Per-sample dot product of two tensors along the given axes (Keras's ``batch_dot``).

    For ``x`` of shape ``(N, *a, k, *b)`` and ``y`` of shape ``(N, *c, k, *d)`` contracted over
    the two ``k`` axes: ``out[n, a, b, c, d] = sum_k x[n, a, k, b] · y[n, c, k, d]``, shape
    ``(N, *a, *b, *c, *d)``; two vectors ``(N, k)`` give ``(N, 1)``.

    Args:
        axes: int (the same axis of both inputs; negative counts from the end of each) or a
            pair ``(axis_x, axis_y)``; never the batch axis 0.
        normalize: L2-normalize both inputs along their ``axes`` first, so that the dot
            product is the cosine similarity (``x / max(||x||, 1e-7)``, as Keras 3).

    Example: ``Dot(axes=1)`` on two ``(None, 64)`` tensors gives ``(None, 1)``;
    ``Dot(axes=(2, 1))`` on ``(None, 3, 4)`` and ``(None, 4, 5)`` gives ``(None, 3, 5)``.
    """

    n_inputs = 2

    def __init__(self, axes: int | Sequence[int], normalize: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        single = isinstance(axes, int)
        pair = (axes, axes) if single else tuple(axes) if isinstance(axes, (list, tuple)) else ()
        if len(pair) != 2 or not all(isinstance(a, int) and not isinstance(a, bool)
                                     for a in pair):
            raise ValueError(f"{self.owner}: `axes` must be an int or a pair of ints, got "
                             f"{axes!r}")
        self.axes = axes if single else pair
        self.normalize = bool(normalize)
        self._pair = pair

    def resolve_axes(self, rank_x: int, rank_y: int) -> tuple[int, int]:
        """Non-negative contraction axes for inputs of these ranks (batch axis excluded)."""
        resolved = tuple(a % r if -r <= a < r else -1
                         for a, r in zip(self._pair, (rank_x, rank_y), strict=True))
        if min(resolved) <= 0:
            raise ValueError(f"{self.owner}: `axes` must name non-batch axes of inputs of rank "
                             f"{rank_x} and {rank_y}, got axes={self.axes}")
        return resolved

    def check_shapes(self, shapes: list[tuple]) -> tuple:
        sx, sy = shapes
        ax, ay = self.resolve_axes(len(sx), len(sy))
        if None not in (sx[ax], sy[ay]) and sx[ax] != sy[ay]:
            raise ValueError(f"{self.owner}: the contracted axes must have the same size, got "
                             f"axis {ax} of {format_shape(sx)} and axis {ay} of "
                             f"{format_shape(sy)}")
        out = sx[1:ax] + sx[ax + 1:] + sy[1:ay] + sy[ay + 1:]
        return out or (1,)

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        x, y = inputs
        ax, ay = self.resolve_axes(x.ndim, y.ndim)
        if self.normalize:
            x, y = F.normalize(x, dim=ax, eps=1e-7), F.normalize(y, dim=ay, eps=1e-7)
        x, y = x.movedim(ax, -1), y.movedim(ay, 1)
        n, k = x.shape[0], x.shape[-1]
        out = torch.bmm(x.reshape(n, -1, k), y.reshape(n, k, -1))
        rest = (*x.shape[1:-1], *y.shape[2:])
        return out.reshape(n, *rest) if rest else out.reshape(n, 1)

    def get_config(self) -> dict:
        axes = self.axes if isinstance(self.axes, int) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def add(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Add(**kwargs)(inputs)``: the element-wise sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] − inputs[1]``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Multiply(**kwargs)(inputs)``: the element-wise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)


def average(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Average(**kwargs)(inputs)``: the element-wise mean of a list of tensors."""
    return Average(**kwargs)(inputs)


def maximum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Maximum(**kwargs)(inputs)``: the element-wise maximum of a list of tensors."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """``Minimum(**kwargs)(inputs)``: the element-wise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: Sequence[Any], axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis, **kwargs)(inputs)``: join a list of tensors along ``axis``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: Sequence[Any], axes: int | Sequence[int] = -1, **kwargs: Any) -> Any:
    """``Dot(axes, **kwargs)(inputs)``: per-sample dot product of two tensors."""
    return Dot(axes=axes, **kwargs)(inputs)
