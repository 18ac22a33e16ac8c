"""The base of the layers acting on the spatial axes (padding, cropping, upsampling; internal).

Padding and cropping take Keras's argument forms: an int (every side), one int per spatial axis
(both sides of that axis), or one ``(before, after)`` pair per axis; the 1D layers take an int
or one ``(before, after)`` pair. ``data_format=None`` means channels-last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnlab.layers import conv_utils as cu
from cnnlab.layers.base import Layer

Pairs = tuple[tuple[int, int], ...]


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
        self.dims_hint = cu.dims_hint(self.rank, self.data_format)
        self.spatial_axes = cu.spatial_axes(self.rank, self.data_format)

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
