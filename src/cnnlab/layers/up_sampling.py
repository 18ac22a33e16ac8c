"""``UpSampling1D/2D/3D``: repeat every spatial element ``size`` times, ``O = I·size``.

No weights. Difference from Keras: ``UpSampling1D`` also accepts ``data_format``, and every
``UpSampling`` accepts ``interpolation`` (``'bilinear'`` only in 2D, as in Keras;
``'bicubic'``/``'lanczos'`` are not offered).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab import shapes
from cnnlab.layers import conv_utils as cu
from cnnlab.layers._spatial import SpatialLayer
from cnnlab.layers.registry import register

__all__ = ["UpSampling", "UpSampling1D", "UpSampling2D", "UpSampling3D", "repeat_axes"]


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
        self._build_if_declared()

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
    """Upsamples volumes ``(N, D, H, W, C)`` by repetition; ``size=(2, 2, 2)``.

    Example: ``UpSampling3D(2)`` on ``(None, 4, 8, 8, 16)`` gives ``(None, 8, 16, 16, 16)``.
    """

    rank = 3
