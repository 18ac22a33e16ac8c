"""Argument checks and building blocks shared by the zoo's builders."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from cnnlab.layers import BatchNormalization, Conv2D, KerasTensor

ImageShape = tuple[int | None, int | None, int]


def check_input_shape(input_shape: Sequence[int | None], model: str) -> ImageShape:
    """``(height, width, channels)`` (channels-last); heights/widths may be ``None``."""
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"{model}: `input_shape` must be (height, width, channels), got "
                         f"{input_shape!r}")
    *spatial, channels = input_shape
    for size in spatial:
        if size is not None and (isinstance(size, bool) or not isinstance(size, int)
                                 or size <= 0):
            raise ValueError(f"{model}: height and width in `input_shape` must be positive ints "
                             f"or None, got {tuple(input_shape)!r}")
    if isinstance(channels, bool) or not isinstance(channels, int) or channels <= 0:
        raise ValueError(f"{model}: the channel count in `input_shape` must be a positive int, "
                         f"got {tuple(input_shape)!r}")
    return (spatial[0], spatial[1], channels)


def check_classes(classes: int, model: str) -> int:
    """The number of output classes: a positive int."""
    if isinstance(classes, bool) or not isinstance(classes, int):
        raise TypeError(f"{model}: `classes` must be an int, got {classes!r}")
    if classes <= 0:
        raise ValueError(f"{model}: `classes` must be positive, got {classes}")
    return classes


def load_pretrained(model: Any, weights: str | os.PathLike | None, name: str) -> Any:
    """``model`` with the weights of the file ``weights`` (``None``: as initialized).

    Any file :mod:`cnnlab.io.weight_files` reads; a Keras 2 HDF5 file (the
    ``keras.applications`` files) is matched by layer name, so a ``_notop`` file loads into a
    base, every other format strictly by layer order."""
    if weights is None:
        return model
    if not isinstance(weights, (str, os.PathLike)) or not os.path.isfile(weights):
        raise ValueError(f"{name}: `weights` must be None or the path of a weights file that "
                         f"exists, got weights={weights!r}")
    from cnnlab.io.weight_files import weights_format

    model.load_weights(os.fspath(weights), by_name=weights_format(weights) == "keras2-h5")
    return model


@contextmanager
def building(model: str, input_shape: Sequence[int | None]) -> Iterator[None]:
    """Name the model and the input shape when a layer rejects it (e.g. an image too small)."""
    try:
        yield
    except ValueError as err:
        raise ValueError(f"{model}: cannot build for input_shape={tuple(input_shape)!r}: "
                         f"{err}") from err


def conv_bn(x: KerasTensor, filters: int, kernel_size: int, name: str, strides: int = 1,
            padding: str = "same", **bn_options: Any) -> KerasTensor:
    """``Conv2D`` without bias (the BN's ``beta`` replaces it) followed by
    ``BatchNormalization``; layers ``<name>_conv`` and ``<name>_bn``. Kernels start from
    He-normal (He et al. 2015), the initialization for ReLU networks."""
    x = Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False,
               kernel_initializer="he_normal", name=f"{name}_conv")(x)
    return BatchNormalization(name=f"{name}_bn", **bn_options)(x)
