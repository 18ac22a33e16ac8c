"""``Cropping1D/2D/3D``: remove elements at both ends of the spatial axes.

``cropping`` takes Keras's forms (:mod:`cnnlab.layers._spatial`): an int, one int per spatial
axis or one ``(before, after)`` pair per axis. No weights.

Difference from Keras: ``Cropping1D`` also accepts ``data_format`` (Keras 3's ``ZeroPadding1D``
does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnlab.layers._messages import format_shape
from cnnlab.layers._spatial import SpatialLayer, normalize_pairs, pairs_config
from cnnlab.layers.registry import register

__all__ = ["Cropping", "Cropping1D", "Cropping2D", "Cropping3D"]


class Cropping(SpatialLayer):
    """Removes ``before`` and ``after`` elements: ``O = I − before − after`` per spatial axis.

    Args (Keras's names and defaults):
        cropping: an int, one int per spatial axis or one ``(before, after)`` pair per
            axis (default: 1D and 3D crop 1 on every side, 2D none).
        data_format: ``'channels_last'`` (default, also for ``None``) or ``'channels_first'``.

    The result is a view of the input (slicing, no copy). Cropping must leave at least one
    element on every axis. Input shape ``(N, *spatial, C)``; output ``(N, *cropped, C)``.
    """

    def __init__(self, cropping: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format, **kwargs)
        self.cropping = normalize_pairs(cropping, self.rank, "cropping", self.owner)
        self._build_if_declared()

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
    """Cropping of volumes ``(N, D, H, W, C)``; ``cropping`` default 1 on every side.

    Example: ``Cropping3D(1)`` on ``(None, 10, 10, 10, 2)`` gives ``(None, 8, 8, 8, 2)``.
    """

    rank = 3
