"""Image augmentation layers (Keras 3): random in training, the identity in inference.

``RandomFlip``, ``RandomRotation``, ``RandomTranslation``, ``RandomZoom``, ``RandomContrast``,
``RandomBrightness``, ``RandomCrop``. Each image of a batch gets its own random draw (except
``RandomCrop``, which crops the whole batch at one place, as Keras does). The geometric layers
share :func:`cnnlab.data.affine.warp` with ``ImageDataGenerator``: one ``grid_sample`` per batch
on the input's device.

Input: ``(N, H, W, C)`` or one image ``(H, W, C)`` (``data_format='channels_first'``:
``(N, C, H, W)``), any numeric dtype; the output is float. ``fill_mode`` follows Keras:
``'reflect'`` (``d c b a | a b c d | d c b a``, default), ``'constant'`` (``fill_value``; the
edge pixels blend towards it as in TensorFlow), ``'wrap'`` (``a b c d | a b c d``),
``'nearest'`` (``a a a a | a b c d``).

Mode: ``fit`` augments, ``evaluate``/``predict`` pass images through. A new augmentation layer
is in training mode, as Keras 3's layers default to ``training=True``: calling it (or a
``Sequential`` of them) directly on images augments them, which is how the Keras tutorials
show augmented samples. ``layer.eval()`` (or ``model.eval()``, which ``predict`` does) or
``training=False`` turns it off.

Example::

    model = Sequential([Input((32, 32, 3)), RandomFlip("horizontal"), RandomRotation(0.1),
                        RandomZoom(0.1), Conv2D(32, 3, activation="relu"), ...])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnlab.data.affine import affine_matrices, flip_where, warp
from cnnlab.layers._images import (
    aspect_crop,
    check_image_shape,
    check_size,
    on_image_batch,
    resize,
    resized_shape,
)
from cnnlab.layers.conv_utils import normalize_data_format
from cnnlab.layers.registry import register
from cnnlab.layers.regularization import SeededLayer

__all__ = ["RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation",
           "RandomTranslation", "RandomZoom"]

_FILL_MODES = {"reflect": "reflect", "constant": "grid-constant", "wrap": "grid-wrap",
               "nearest": "nearest"}
_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


def _factor_range(owner: str, name: str, factor: Any, low: float, high: float,
                  open_low: bool = False) -> tuple[float, float]:
    """Keras's factor: a number ``f`` -> ``(-|f|, |f|)``, a pair -> sorted; values in bounds."""
    pair = isinstance(factor, (list, tuple))
    values = list(factor) if pair else [factor]
    if (pair and len(values) != 2) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{owner}: `{name}` must be a number or a pair of numbers, got "
                         f"{factor!r}")
    if not all((low < v if open_low else low <= v) and v <= high for v in values):
        bounds = f"{'(' if open_low else '['}{low}, {high}]"
        raise ValueError(f"{owner}: `{name}` must lie in {bounds}, got {factor!r}")
    if pair:
        lower, upper = sorted(float(v) for v in values)
        return lower, upper
    return -abs(float(factor)), abs(float(factor))


def _value_range(owner: str, value_range: Any) -> tuple[float, float]:
    if not isinstance(value_range, (list, tuple)) or len(value_range) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value_range):
        raise ValueError(f"{owner}: `value_range` must be a pair of numbers (low, high), got "
                         f"{value_range!r}")
    low, high = sorted(float(v) for v in value_range)
    return low, high


class _ImageAugmentation(SeededLayer):
    """Plumbing shared by the augmentation layers: layout, unbatched images, training switch.

    Subclasses implement ``augment(images)`` on a float channels-last batch and may override
    ``infer(images)`` (identity by default).
    """

    min_ndim = 3
    dims_hint = "(H, W, C)"

    def __init__(self, seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        self.train(True)  # called directly it augments, as Keras 3's default training=True
        self.data_format = normalize_data_format(data_format, self.owner)

    def build(self, input_shape: tuple) -> None:
        check_image_shape(self.owner, input_shape)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        def transform(batch: torch.Tensor) -> torch.Tensor:
            if self.data_format == "channels_first":
                batch = batch.movedim(1, -1)
            out = self.augment(batch) if training else self.infer(batch)
            return out.movedim(-1, 1) if self.data_format == "channels_first" else out

        return on_image_batch(inputs, transform)

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """The random transformation of a float channels-last batch (training)."""
        raise NotImplementedError

    def infer(self, images: torch.Tensor) -> torch.Tensor:
        """The inference transformation of a float channels-last batch: the identity."""
        return images

    def uniform(self, n: int, low: float, high: float, device: torch.device) -> torch.Tensor:
        """``n`` draws of ``U(low, high)`` from the layer's generator."""
        draws = torch.rand(n, generator=self.generator(device), device=device)
        return draws * (high - low) + low

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


@register()
class RandomFlip(_ImageAugmentation):
    """Flip each image left-right and/or top-bottom with probability 1/2.

    Args: mode ``'horizontal'`` (left-right), ``'vertical'`` (top-bottom) or
    ``'horizontal_and_vertical'`` (default; the two flips are drawn independently, as in
    tf.keras; Keras 3 ties them together), seed, data_format.

    Input/output shape: ``(N, H, W, C)`` or one image ``(H, W, C)``, unchanged (float).
    Example: ``RandomFlip("horizontal")`` mirrors about half the images of each batch in
    ``fit``; ``predict`` sees them unchanged.
    """

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None,
                 **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        if mode not in _FLIP_MODES:
            raise ValueError(f"{self.owner}: `mode` must be one of {_FLIP_MODES}, got {mode!r}")
        self.mode = mode
        self._build_if_declared()

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        for direction, axis in (("horizontal", 2), ("vertical", 1)):
            if direction in self.mode:
                flips = self.uniform(len(images), 0.0, 1.0, images.device) < 0.5
                images = flip_where(images, flips, axis)
        return images

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


class _AffineAugmentation(_ImageAugmentation):
    """A random affine warp per image (``matrices``), filled and interpolated as configured."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"{self.owner}: `fill_mode` must be one of {tuple(_FILL_MODES)}, "
                             f"got {fill_mode!r}")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"{self.owner}: `interpolation` must be 'bilinear' or 'nearest', "
                             f"got {interpolation!r}")
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float)):
            raise ValueError(f"{self.owner}: `fill_value` must be a number, got {fill_value!r}")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)

    def matrices(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        return warp(images, self.matrices(images), _FILL_MODES[self.fill_mode], self.fill_value,
                    self.interpolation)

    def get_config(self) -> dict:
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


@register()
class RandomRotation(_AffineAugmentation):
    """Rotate each image about its centre by ``U(lower, upper) · 360`` degrees.

    Args: factor — a fraction of a full turn ``2π``: ``f`` gives ``[-f, f]``, ``(lower, upper)``
    that range; positive angles turn counter-clockwise (``factor=(0.25, 0.25)`` equals
    ``np.rot90``). fill_mode='reflect', interpolation='bilinear', seed, fill_value=0.0.

    Input/output shape: ``(N, H, W, C)`` or one image ``(H, W, C)``, unchanged (float).
    Example: ``RandomRotation(0.1)`` turns each image by an angle in ``[-36°, 36°]``.
    """

    def __init__(self, factor: float | Sequence[float], fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, **kwargs: Any):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = list(factor) if isinstance(factor, (list, tuple)) else factor
        self.lower, self.upper = _factor_range(self.owner, "factor", factor, -1.0, 1.0)
        self._build_if_declared()

    def matrices(self, images: torch.Tensor) -> torch.Tensor:
        turns = self.uniform(len(images), self.lower, self.upper, images.device)
        return affine_matrices(len(images), theta=turns * 360.0, device=images.device)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


@register()
class RandomTranslation(_AffineAugmentation):
    """Shift each image by ``U(h) · H`` pixels down and ``U(w) · W`` pixels right.

    Args: height_factor, width_factor — fractions of the side in ``[-1, 1]``: ``f`` gives
    ``[-f, f]``, ``(lower, upper)`` that range (negative = up / left). fill_mode='reflect',
    interpolation='bilinear', seed, fill_value=0.0.

    Input/output shape: ``(N, H, W, C)`` or one image ``(H, W, C)``, unchanged (float).
    Example: ``RandomTranslation(0.1, 0.2)`` shifts 32x32 images by up to 3.2 pixels up or
    down and 6.4 left or right.
    """

    def __init__(self, height_factor: float | Sequence[float],
                 width_factor: float | Sequence[float], fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, **kwargs: Any):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = (
            list(f) if isinstance(f, (list, tuple)) else f for f in (height_factor, width_factor))
        self.height_range = _factor_range(self.owner, "height_factor", height_factor, -1.0, 1.0)
        self.width_range = _factor_range(self.owner, "width_factor", width_factor, -1.0, 1.0)
        self._build_if_declared()

    def matrices(self, images: torch.Tensor) -> torch.Tensor:
        n, height, width = images.shape[:3]
        down = self.uniform(n, *self.height_range, images.device) * height
        right = self.uniform(n, *self.width_range, images.device) * width
        return affine_matrices(n, tx=-right, ty=-down, device=images.device)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


@register()
class RandomZoom(_AffineAugmentation):
    """Zoom each image about its centre: the output shows ``1 + U(h)`` times the height and
    ``1 + U(w)`` times the width of the input.

    Args: height_factor — in ``(-1, 1]``, ``f`` gives ``[-f, f]``, a pair that range; negative
    values zoom in (``-0.5`` shows the central half enlarged 2x), positive zoom out.
    width_factor — the same for the width; ``None`` (default) reuses the height draw, keeping
    the aspect ratio. fill_mode='reflect', interpolation='bilinear', seed, fill_value=0.0.

    Input/output shape: ``(N, H, W, C)`` or one image ``(H, W, C)``, unchanged (float).
    Example: ``RandomZoom(0.2)`` shows between 0.8 and 1.2 times each image's height and
    width (zooming in or out), keeping its aspect ratio.
    """

    def __init__(self, height_factor: float | Sequence[float],
                 width_factor: float | Sequence[float] | None = None,
                 fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, **kwargs: Any):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = (
            list(f) if isinstance(f, (list, tuple)) else f for f in (height_factor, width_factor))
        self.height_range = _factor_range(self.owner, "height_factor", height_factor, -1.0, 1.0,
                                          open_low=True)
        self.width_range = None if width_factor is None else _factor_range(
            self.owner, "width_factor", width_factor, -1.0, 1.0, open_low=True)
        self._build_if_declared()

    def matrices(self, images: torch.Tensor) -> torch.Tensor:
        n = len(images)
        zoom_y = 1.0 + self.uniform(n, *self.height_range, images.device)
        zoom_x = zoom_y if self.width_range is None else \
            1.0 + self.uniform(n, *self.width_range, images.device)
        return affine_matrices(n, zx=zoom_x, zy=zoom_y, device=images.device)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


@register()
class RandomContrast(_ImageAugmentation):
    """``y = clip((x - mean) · c + mean, value_range)`` with ``c ~ U(1 - lower, 1 + upper)`` per
    image and ``mean`` the per-channel mean of that image.

    Args: factor — in ``[0, 1]``; ``f`` gives ``c`` in ``[1 - f, 1 + f]`` (Keras 3.x up to at
    least 3.15 draws from ``[1, 1 + f]`` for a single number, against its documentation),
    ``(lower, upper)`` gives ``[1 - lower, 1 + upper]``. value_range=(0, 255), seed.

    Input/output shape: ``(N, H, W, C)`` or one image ``(H, W, C)``, unchanged (float).
    Example: ``RandomContrast(0.2)`` scales each image's deviations from its channel means
    by a factor drawn from ``[0.8, 1.2]``.
    """

    def __init__(self, factor: float | Sequence[float], value_range: Sequence[float] = (0, 255),
                 seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        self.factor = list(factor) if isinstance(factor, (list, tuple)) else factor
        _factor_range(self.owner, "factor", factor, 0.0, 1.0)  # validates
        pair = factor if isinstance(factor, (list, tuple)) else (factor, factor)
        self.lower, self.upper = float(pair[0]), float(pair[1])
        self.value_range = _value_range(self.owner, value_range)
        self._build_if_declared()

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        contrast = self.uniform(len(images), 1.0 - self.lower, 1.0 + self.upper, images.device)
        mean = images.mean(dim=(1, 2), keepdim=True)
        out = (images - mean) * contrast.view(-1, 1, 1, 1) + mean
        return out.clamp(*self.value_range)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range)}


@register()
class RandomBrightness(_ImageAugmentation):
    """``y = clip(x + d · (high - low), value_range)`` with ``d ~ U(lower, upper)`` per image.

    Args: factor — in ``[-1, 1]``; ``f`` gives ``[-f, f]``, a pair that range (-1 makes the
    image black, 1 white). value_range=(0, 255) — the range of the input values, seed.

    Input/output shape: ``(N, H, W, C)`` or one image ``(H, W, C)``, unchanged (float).
    Example: ``RandomBrightness(0.1)`` adds a value drawn from ``[-25.5, 25.5]`` to every
    pixel of an image in ``[0, 255]``.
    """

    def __init__(self, factor: float | Sequence[float], value_range: Sequence[float] = (0, 255),
                 seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        self.factor = list(factor) if isinstance(factor, (list, tuple)) else factor
        self.lower, self.upper = _factor_range(self.owner, "factor", factor, -1.0, 1.0)
        self.value_range = _value_range(self.owner, value_range)
        self._build_if_declared()

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        delta = self.uniform(len(images), self.lower, self.upper, images.device) * (high - low)
        return (images + delta.view(-1, 1, 1, 1)).clamp(low, high)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range)}


@register()
class RandomCrop(_ImageAugmentation):
    """Crop images to ``(height, width)``.

    Training: one random window of that size for the whole batch (Keras's rule). Inference, and
    training on images not larger than the target: the largest centred window with the target
    aspect ratio, resized (bilinear) to ``(height, width)`` when needed — Keras's documented
    behaviour (Keras 3.x up to at least 3.15 returns the input unchanged at inference).

    Args: height, width (positive ints), seed, data_format.
    Input shape: ``(N, H, W, C)`` or one image ``(H, W, C)``.
    Output shape: ``(N, height, width, C)`` (or ``(height, width, C)``), float.

    Example: ``RandomCrop(24, 24)`` on ``(None, 32, 32, 3)`` gives ``(None, 24, 24, 3)``.
    """

    def __init__(self, height: int, width: int, seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        check_size(self.owner, height, width)
        self.height, self.width = height, width
        self._build_if_declared()

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        in_height, in_width = images.shape[1:3]
        if in_height <= self.height or in_width <= self.width:
            return self.infer(images)
        cpu = torch.device("cpu")
        top = int(torch.randint(in_height - self.height + 1, (), generator=self.generator(cpu)))
        left = int(torch.randint(in_width - self.width + 1, (), generator=self.generator(cpu)))
        return images[:, top:top + self.height, left:left + self.width]

    def infer(self, images: torch.Tensor) -> torch.Tensor:
        top, left, crop_h, crop_w = aspect_crop(images.shape[1], images.shape[2], self.height,
                                                self.width)
        window = images[:, top:top + crop_h, left:left + crop_w]
        if (crop_h, crop_w) == (self.height, self.width):
            return window
        resized = resize(window.permute(0, 3, 1, 2), (self.height, self.width), "bilinear")
        return resized.permute(0, 2, 3, 1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width}
