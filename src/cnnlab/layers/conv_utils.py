"""Helpers shared by the convolution and pooling layers: data formats and 'same' padding.

Channels-last tensors are viewed as channels-first with ``permute`` — no copy: the NCHW view of
a contiguous NHWC tensor is exactly PyTorch's ``channels_last`` memory format, which the CPU
(oneDNN) and CUDA (cuDNN) kernels consume directly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnlab import shapes
from cnnlab.layers._messages import format_shape

DATA_FORMATS = ("channels_last", "channels_first")
DIMS_HINTS = {1: "(steps, channels)", 2: "(H, W, C)", 3: "(D, H, W, C)"}


def normalize_data_format(data_format: str | None, owner: str) -> str:
    """``None`` means channels_last (Keras's default image data format)."""
    if data_format is None:
        return "channels_last"
    if isinstance(data_format, str) and data_format.lower() in DATA_FORMATS:
        return data_format.lower()
    raise ValueError(
        f"{owner}: `data_format` must be 'channels_last' or 'channels_first', got {data_format!r}"
    )


def to_channels_first(x: torch.Tensor) -> torch.Tensor:
    """``(N, *spatial, C)`` -> ``(N, C, *spatial)`` as a view."""
    return x.movedim(-1, 1)


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, *spatial)`` -> ``(N, *spatial, C)`` as a view."""
    return x.movedim(1, -1)


def spatial_shape(input_shape: tuple, data_format: str) -> tuple:
    """The spatial sizes of a Keras shape (batch first)."""
    return tuple(input_shape[1:-1]) if data_format == "channels_last" else tuple(input_shape[2:])


def api_shape(channels_first_shape: tuple, data_format: str) -> tuple:
    """The shape a user gave, from the shape of its channels-first view ``(N, C, *spatial)``."""
    n, c, *spatial = channels_first_shape
    return (n, *spatial, c) if data_format == "channels_last" else (n, c, *spatial)


def shown_shape(channels_first_shape: tuple, data_format: str) -> str:
    """The user's view of a batch shape for error messages, its batch size shown as None
    (formatting a traced batch size would fix it in ``torch.export`` graphs)."""
    return format_shape(api_shape((None, *channels_first_shape[1:]), data_format))


def dims_hint(rank: int, data_format: str) -> str:
    """How a rank error spells the per-sample dimensions of ``rank``-D data:
    ``"(H, W, C)"`` for channels-last images; nothing for channels-first."""
    return DIMS_HINTS[rank] if data_format == "channels_last" else ""


def spatial_axes(rank: int, data_format: str) -> tuple[int, ...]:
    """The tensor axes of the spatial sizes: ``(1, 2)`` for channels-last 2-D data,
    ``(2, 3)`` for channels-first."""
    first = 1 if data_format == "channels_last" else 2
    return tuple(range(first, first + rank))


def channel_axis(data_format: str) -> int:
    """The channel axis of a Keras shape or tensor: ``-1`` (channels_last) or ``1``."""
    return -1 if data_format == "channels_last" else 1


def with_spatial(input_shape: tuple, spatial: tuple, channels: int | None,
                 data_format: str) -> tuple:
    """Rebuild a Keras shape from batch, spatial sizes and channels."""
    if data_format == "channels_last":
        return (input_shape[0], *spatial, channels)
    return (input_shape[0], channels, *spatial)


def same_pads(spatial: tuple[int, ...], kernel: tuple[int, ...], strides: tuple[int, ...],
              dilation: tuple[int, ...]) -> list[tuple[int, int]]:
    """TensorFlow 'same' padding ``(before, after)`` per spatial axis."""
    return [shapes.same_padding(i, k, s, d)
            for i, k, s, d in zip(spatial, kernel, strides, dilation, strict=True)]


def split_pads(pads: list[tuple[int, int]]) -> tuple[tuple[int, ...], list[int] | None]:
    """Split per-axis pads into the symmetric part (for the conv op) and the rest.

    Returns ``(symmetric, extra)`` where ``extra`` is ``F.pad``'s argument for the asymmetric
    remainder (the odd pixel at the bottom/right), or ``None`` when the padding is symmetric.
    """
    symmetric = tuple(min(before, after) for before, after in pads)
    extra: list[int] = []
    for (before, after), sym in zip(reversed(pads), reversed(symmetric), strict=True):
        extra += [before - sym, after - sym]
    return symmetric, (extra if any(extra) else None)


def pad_extra(x: torch.Tensor, extra: list[int] | None, value: float = 0.0) -> torch.Tensor:
    """Apply the asymmetric remainder of the padding to a channels-first tensor."""
    if extra is None:
        return x
    return F.pad(x, extra, value=value)
