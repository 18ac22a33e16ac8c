"""Reshaping layers: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``. None has weights.

Shapes are Keras shapes (batch first, ``None`` for unknown sizes). The layers that pad, crop or
upsample the spatial axes are in :mod:`~cnnlab.layers.zero_padding`,
:mod:`~cnnlab.layers.cropping` and :mod:`~cnnlab.layers.up_sampling`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from cnnlab.layers import conv_utils as cu
from cnnlab.layers._messages import check_positive_int, format_shape
from cnnlab.layers.base import Layer
from cnnlab.layers.registry import register

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]


@register()
class Flatten(Layer):
    """Flattens each sample to a vector, in Keras's order (channels last, i.e. H·W·C).

    ``y[n, (h·W + w)·C + c] = x[n, h, w, c]``: for channels-last data this is
    ``x.reshape(N, -1)``, a view (no copy) of a contiguous tensor. With
    ``data_format='channels_first'`` the channels are first moved last (as Keras does), so
    ``Flatten`` gives the same vector for the same image in either format.

    Args:
        data_format: ``'channels_last'`` (default, also for ``None``) or ``'channels_first'``.

    Input shape: ``(N, d1, ..., dk)`` with known sizes. Output shape: ``(N, d1·...·dk)``
    (``(N, 1)`` for a ``(N,)`` input).

    Difference from Keras: unknown sizes (``Input((None, None, 3))``) are an error at build
    instead of an output size ``None`` that only the next ``Dense`` would reject.

    Example: ``Flatten()`` on ``(None, 5, 5, 64)`` gives ``(None, 1600)``.
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = cu.normalize_data_format(data_format, self.owner)
        self._build_if_declared()

    def build(self, input_shape: tuple) -> None:
        if None in input_shape[1:]:
            raise ValueError(
                f"{self.owner}: Flatten needs known sizes for every non-batch axis, got input "
                f"shape {format_shape(input_shape)}; give the input a fixed size or use "
                f"GlobalAveragePooling2D instead"
            )

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        sizes = input_shape[1:]
        return (input_shape[0], None if None in sizes else math.prod(sizes))

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = cu.to_channels_last(inputs)
        return inputs.reshape(inputs.shape[0], math.prod(inputs.shape[1:]))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


@register()
class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (row-major order, like ``numpy.reshape``).

    Args:
        target_shape: tuple of positive ints, the per-sample shape (no batch axis); one entry
            may be ``-1``, inferred from the input size.

    Input shape: any ``(N, ...)`` with as many values per sample as ``target_shape`` holds.
    Output shape: ``(N, *target_shape)``; ``-1`` is resolved when the input sizes are known
    (else it is ``None``).

    Example: ``Reshape((4, 4, 1))`` on ``(None, 16)`` gives ``(None, 4, 4, 1)``;
    ``Reshape((-1, 2))`` on ``(None, 4, 3)`` gives ``(None, 6, 2)``.
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(target_shape, (tuple, list)) or not all(
            isinstance(d, int) and not isinstance(d, bool) and (d > 0 or d == -1)
            for d in target_shape
        ):
            raise ValueError(f"{self.owner}: `target_shape` must be a tuple of positive ints "
                             f"(one may be -1), got {target_shape!r}")
        if list(target_shape).count(-1) > 1:
            raise ValueError(f"{self.owner}: `target_shape` may contain -1 only once, got "
                             f"{tuple(target_shape)}")
        self.target_shape = tuple(target_shape)
        self._build_if_declared()

    def resolve(self, input_shape: Sequence[int | None]) -> tuple:
        """``target_shape`` with ``-1`` filled in for an input of ``input_shape`` (batch
        first)."""
        sizes = tuple(input_shape[1:])
        if None in sizes:
            return tuple(None if d == -1 else d for d in self.target_shape)
        total = math.prod(sizes)
        known = math.prod(d for d in self.target_shape if d != -1)
        fits = total % known == 0 if -1 in self.target_shape else total == known
        if not fits:
            raise ValueError(
                f"{self.owner}: cannot reshape an input of shape {format_shape(input_shape)} "
                f"({total} values per sample) to target_shape {self.target_shape}"
            )
        return tuple(total // known if d == -1 else d for d in self.target_shape)

    def build(self, input_shape: tuple) -> None:
        self.resolve(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *self.resolve(input_shape))

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return inputs.reshape(inputs.shape[0], *self.resolve(inputs.shape))

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


@register()
class Permute(Layer):
    """Permutes the non-batch axes: output axis ``i`` is input axis ``dims[i - 1]``.

    Args:
        dims: permutation of ``1, ..., k`` (1-based, the batch axis 0 stays in place).

    Input shape: ``(N, d1, ..., dk)``. Output shape: ``(N, d[dims[0]], ..., d[dims[k-1]])``.
    The result is a view (``Tensor.permute``), no copy.

    Example: ``Permute((2, 1))`` on ``(None, 10, 64)`` gives ``(None, 64, 10)``.
    """

    def __init__(self, dims: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        given = dims
        try:
            dims = tuple(dims)
        except TypeError:
            raise TypeError(f"{self.owner}: `dims` must be a tuple of ints, got {dims!r}") from None
        if isinstance(given, str) or not all(
                isinstance(d, int) and not isinstance(d, bool) for d in dims) or sorted(
                dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"{self.owner}: `dims` must be a permutation of 1..{len(dims)} "
                             f"(1-based, the batch axis excluded), got {given!r}")
        self.dims = dims
        self.input_ndim = len(dims) + 1
        self._build_if_declared()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return inputs.permute(0, *self.dims)

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": list(self.dims)}


@register()
class RepeatVector(Layer):
    """Repeats each input vector ``n`` times: ``y[b, i, :] = x[b, :]`` for ``i < n``.

    Args:
        n: positive int, the number of repetitions.

    Input shape: ``(N, features)``. Output shape: ``(N, n, features)``.

    Example: ``RepeatVector(3)`` on ``(None, 32)`` gives ``(None, 3, 32)``.
    """

    input_ndim = 2
    dims_hint = "(features,)"

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        check_positive_int(self.owner, "n", n)
        self.n = n
        self._build_if_declared()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}
