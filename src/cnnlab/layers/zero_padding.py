"""``ZeroPadding1D/2D/3D``: add zeros around the spatial axes, ``O = I + before + after``.

``padding`` takes Keras's forms (:mod:`cnnlab.layers._spatial`): an int, one int per spatial
axis or one ``(before, after)`` pair per axis. No weights.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnlab.layers._spatial import SpatialLayer, normalize_pairs, pairs_config
from cnnlab.layers.registry import register

__all__ = ["ZeroPadding", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]


class ZeroPadding(SpatialLayer):
    """Adds rows/columns of zeros: ``O = I + before + after`` per spatial axis.

    Args (Keras's names and defaults):
        padding: an int, one int per spatial axis or one ``(before, after)`` pair per
            axis; default 1 on every side.
        data_format: ``'channels_last'`` (default, also for ``None``) or ``'channels_first'``.
    """

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format, **kwargs)
        self.padding = normalize_pairs(padding, self.rank, "padding", self.owner)
        # F.pad lists (before, after) from the last axis backwards; channels-last skips C.
        last_first = [side for pair in reversed(self.padding) for side in pair]
        self._torch_pad = ([0, 0] if self.data_format == "channels_last" else []) + last_first
        self._build_if_declared()

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
    int, 3 ints or 3 ``(before, after)`` pairs.

    Example: ``ZeroPadding3D(1)`` on ``(None, 8, 8, 8, 3)`` gives ``(None, 10, 10, 10, 3)``.
    """

    rank = 3
