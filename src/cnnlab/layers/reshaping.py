"""Reshaping layers: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``, and per spatial
rank ``ZeroPadding``, ``Cropping`` and ``UpSampling`` (1D/2D/3D). None has weights.

Shapes are Keras shapes (batch first, ``None`` for unknown sizes); ``data_format=None`` means
channels-last. Padding and cropping take Keras's argument forms: an int (every side), one int
per spatial axis (both sides of that axis), or one ``(before, after)`` pair per axis; the 1D
layers take an int or one ``(before, after)`` pair.

Difference from Keras: ``Cropping1D`` and ``UpSampling1D`` also accept ``data_format`` (Keras 3's
``ZeroPadding1D`` does), and every ``UpSampling`` accepts ``interpolation`` (``'bilinear'``
only in 2D, as in Keras; ``'bicubic'``/``'lanczos'`` are not offered).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab import shapes
from cnnlab.layers import conv_utils as cu
from cnnlab.layers.base import Layer, format_shape, register

Pairs = tuple[tuple[int, int], ...]


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
        if self.batch_input_shape is not None:
            self.ensure_built(self.batch_input_shape)

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
        if self.batch_input_shape is not None:
            self.ensure_built(self.batch_input_shape)

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
        if self.batch_input_shape is not None:
            self.ensure_built(self.batch_input_shape)

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
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(f"{self.owner}: `n` must be a positive int, got {n!r}")
        self.n = n
        if self.batch_input_shape is not None:
            self.ensure_built(self.batch_input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}


def normalize_pairs(value: Any, rank: int, name: str, owner: str) -> Pairs:
    """Keras's padding/cropping forms as one ``(before, after)`` pair per spatial axis.

    Rank 1: an int or one pair. Rank 2/3: an int, ``rank`` ints (symmetric per axis) or
    ``rank`` pairs (each may also be an int). All values are non-negative ints.
    """
    forms = ("an int or a pair (before, after)" if rank == 1 else
             f"an int, a tuple of {rank} ints or a tuple of {rank} (before, after) pairs")
    error = ValueError(f"{owner}: `{name}` must be {forms} of non-negative ints, got {value!r}")

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if rank == 1 or is_int(value):
        items = [value] * rank
    elif isinstance(value, (tuple, list)) and len(value) == rank:
        items = list(value)
    else:
        raise error
    pairs = []
    for item in items:
        pair = (item, item) if is_int(item) else item
        if (not isinstance(pair, (tuple, list)) or len(pair) != 2
                or not all(is_int(v) and v >= 0 for v in pair)):
            raise error
        pairs.append((int(pair[0]), int(pair[1])))
    return tuple(pairs)


def pairs_config(pairs: Pairs) -> list:
    """Pairs as JSON data in Keras's form: ``[b, a]`` for 1D, ``[[b, a], ...]`` otherwise."""
    return list(pairs[0]) if len(pairs) == 1 else [list(p) for p in pairs]


class SpatialLayer(Layer):
    """Base of the layers acting on the spatial axes of ``(N, *spatial, C)`` data.

    Subclasses set ``rank``; ``spatial_axes`` are the tensor axes of the spatial sizes
    (``(1, 2)`` for channels-last 2D, ``(2, 3)`` for channels-first).
    """

    rank = 2

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = cu.normalize_data_format(data_format, self.owner)
        self.input_ndim = self.rank + 2
        self.dims_hint = cu.DIMS_HINTS[self.rank] if self.data_format == "channels_last" else ""
        first = 1 if self.data_format == "channels_last" else 2
        self.spatial_axes = tuple(range(first, first + self.rank))

    def finish_init(self) -> None:
        if self.batch_input_shape is not None:
            self.ensure_built(self.batch_input_shape)

    def map_spatial(self, input_shape: tuple, fn: Callable[[int, int], int]) -> tuple:
        """``input_shape`` with each known spatial size ``s`` of axis ``i`` replaced by
        ``fn(i, s)``; unknown sizes stay ``None``."""
        out = list(input_shape)
        for i, axis in enumerate(self.spatial_axes):
            if out[axis] is not None:
                out[axis] = fn(i, out[axis])
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class ZeroPadding(SpatialLayer):
    """Adds rows/columns of zeros: ``O = I + before + after`` per spatial axis.

    Args (Keras's names and defaults):
        padding: see the module docstring; default 1 on every side.
        data_format: ``'channels_last'`` (default, also for ``None``) or ``'channels_first'``.
    """

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format, **kwargs)
        self.padding = normalize_pairs(padding, self.rank, "padding", self.owner)
        # F.pad lists (before, after) from the last axis backwards; channels-last skips C.
        last_first = [side for pair in reversed(self.padding) for side in pair]
        self._torch_pad = ([0, 0] if self.data_format == "channels_last" else []) + last_first
        self.finish_init()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self.map_spatial(input_shape, lambda i, s: s + sum(self.padding[i]))

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return F.pad(inputs, self._torch_pad)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": pairs_config(self.padding)}


@register()
class ZeroPadding1D(ZeroPadding):
    """Zero padding of sequences ``(N, steps, C)`` -> ``(N, steps + left + right, C)``.

    ``padding``: int or ``(left, right)``, default 1. Example: ``ZeroPadding1D(2)`` on
    ``(None, 10, 8)`` gives ``(None, 14, 8)``.
    """

    rank = 1


@register()
class ZeroPadding2D(ZeroPadding):
    """Zero padding of images ``(N, H, W, C)`` -> ``(N, H + top + bottom, W + left + right, C)``.

    ``padding``: int, ``(sym_h, sym_w)`` or ``((top, bottom), (left, right))``; default
    ``(1, 1)``. Example: ``ZeroPadding2D(3)`` on ``(None, 224, 224, 3)`` gives
    ``(None, 230, 230, 3)`` (the stem of ResNet).
    """

    rank = 2


@register()
class ZeroPadding3D(ZeroPadding):
    """Zero padding of volumes ``(N, D, H, W, C)``; ``padding`` default 1 on every side:
    int, 3 ints or 3 ``(before, after)`` pairs."""

    rank = 3


class Cropping(SpatialLayer):
    """Removes ``before`` and ``after`` elements: ``O = I − before − after`` per spatial axis.

    Args (Keras's names and defaults):
        cropping: see the module docstring (default: 1D and 3D crop 1 on every side, 2D none).
        data_format: ``'channels_last'`` (default, also for ``None``) or ``'channels_first'``.

    The result is a view of the input (slicing, no copy). Cropping must leave at least one
    element on every axis. Input shape ``(N, *spatial, C)``; output ``(N, *cropped, C)``.
    """

    def __init__(self, cropping: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format, **kwargs)
        self.cropping = normalize_pairs(cropping, self.rank, "cropping", self.owner)
        self.finish_init()

    def cropped_size(self, i: int, size: int, input_shape: Sequence) -> int:
        """Size left on spatial axis ``i`` (at least 1, else a ``ValueError``)."""
        out = size - sum(self.cropping[i])
        if out <= 0:
            raise ValueError(
                f"{self.owner}: cropping {self.cropping[i]} along spatial axis {i} must "
                f"leave at least 1 of the {size} elements, got input shape "
                f"{format_shape(tuple(input_shape))}"
            )
        return out

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self.map_spatial(input_shape,
                                lambda i, s: self.cropped_size(i, s, input_shape))

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        index = [slice(None)] * inputs.ndim
        for i, axis in enumerate(self.spatial_axes):
            self.cropped_size(i, inputs.shape[axis], inputs.shape)
            before, after = self.cropping[i]
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": pairs_config(self.cropping)}


@register()
class Cropping1D(Cropping):
    """Cropping of sequences ``(N, steps, C)``; ``cropping`` int or ``(left, right)``, default
    ``(1, 1)``. Example: ``Cropping1D((2, 1))`` on ``(None, 10, 8)`` gives ``(None, 7, 8)``."""

    rank = 1


@register()
class Cropping2D(Cropping):
    """Cropping of images ``(N, H, W, C)``; ``cropping`` int, ``(sym_h, sym_w)`` or
    ``((top, bottom), (left, right))``, default ``((0, 0), (0, 0))``.

    Example: ``Cropping2D(((2, 2), (4, 4)))`` on ``(None, 28, 28, 3)`` gives
    ``(None, 24, 20, 3)``.
    """

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any):
        super().__init__(cropping, data_format, **kwargs)


@register()
class Cropping3D(Cropping):
    """Cropping of volumes ``(N, D, H, W, C)``; ``cropping`` default 1 on every side."""

    rank = 3


def repeat_axes(x: torch.Tensor, factors: Sequence[int]) -> torch.Tensor:
    """Repeat every element ``factors[d]`` times along each axis ``d`` (one copy in all).

    Equal to ``numpy.repeat`` applied axis by axis: nearest-neighbour upsampling by integers.
    """
    interleaved = [s for n in x.shape for s in (n, 1)]
    expanded = [s for n, k in zip(x.shape, factors, strict=True) for s in (n, k)]
    out = [n * k for n, k in zip(x.shape, factors, strict=True)]
    return x.reshape(interleaved).expand(expanded).reshape(out)


class UpSampling(SpatialLayer):
    """Repeats every spatial element ``size`` times along each axis: ``O = I·size``.

    Args (Keras's names and defaults):
        size: int or one int per spatial axis, default 2.
        data_format: ``'channels_last'`` (default, also for ``None``) or ``'channels_first'``.
        interpolation: ``'nearest'`` (default; ``UpSampling2D`` also ``'bilinear'``).
    """

    interpolations: tuple[str, ...] = ("nearest",)

    def __init__(self, size: int | Sequence[int] = 2, data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any):
        super().__init__(data_format, **kwargs)
        self.size = shapes.normalize_tuple(size, self.rank, "size", owner=self.owner)
        if interpolation not in self.interpolations:
            expected = " or ".join(repr(i) for i in self.interpolations)
            raise ValueError(f"{self.owner}: `interpolation` must be {expected}, got "
                             f"{interpolation!r}")
        self.interpolation = interpolation
        self._factors = [1] * self.input_ndim
        for axis, k in zip(self.spatial_axes, self.size, strict=True):
            self._factors[axis] = k
        self.finish_init()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self.map_spatial(input_shape, lambda i, s: s * self.size[i])

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return repeat_axes(inputs, self._factors)

    def get_config(self) -> dict:
        size = self.size[0] if self.rank == 1 else list(self.size)
        return {**super().get_config(), "size": size}


@register()
class UpSampling1D(UpSampling):
    """Repeats each step ``size`` times: ``(N, steps, C)`` -> ``(N, steps·size, C)``.

    Args: ``size`` (int, default 2). Example: ``UpSampling1D(3)`` on ``(None, 4, 5)`` gives
    ``(None, 12, 5)``.
    """

    rank = 1


@register()
class UpSampling2D(UpSampling):
    """Upsamples images ``(N, H, W, C)`` -> ``(N, H·sh, W·sw, C)``; ``size=(2, 2)``.

    ``interpolation='nearest'`` (default) repeats pixels; ``'bilinear'`` interpolates with
    half-pixel centres, as Keras (``tf.image.resize``) does: output pixel ``o`` samples the
    input at ``(o + 0.5)/s − 0.5``, clamped to the border (PyTorch's
    ``F.interpolate(mode='bilinear', align_corners=False)``).

    Example: ``UpSampling2D(2, interpolation='bilinear')`` maps ``[[1, 2], [3, 4]]`` to rows
    ``[1, 1.25, 1.75, 2]``, ``[1.5, 1.75, 2.25, 2.5]``, ``[2.5, 2.75, 3.25, 3.5]``,
    ``[3, 3.25, 3.75, 4]``.
    """

    rank = 2
    interpolations = ("nearest", "bilinear")

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if self.interpolation == "nearest":
            return super().call(inputs)
        channels_last = self.data_format == "channels_last"
        x = cu.to_channels_first(inputs) if channels_last else inputs
        out_size = [n * k for n, k in zip(x.shape[2:], self.size, strict=True)]
        y = F.interpolate(x, size=out_size, mode="bilinear", align_corners=False)
        return cu.to_channels_last(y) if channels_last else y

    def get_config(self) -> dict:
        return {**super().get_config(), "interpolation": self.interpolation}


@register()
class UpSampling3D(UpSampling):
    """Upsamples volumes ``(N, D, H, W, C)`` by repetition; ``size=(2, 2, 2)``."""

    rank = 3
