"""Keras's ``ImageDataGenerator``: real-time augmentation and standardization, batched on tensors.

Each batch is transformed at once on the device of the data: random parameters are drawn for
the whole batch, one affine matrix per image is built vectorized, and one sampling grid +
one ``grid_sample`` warp the batch (:mod:`cnnlab.data.affine`). The order of the
steps per image is Keras's: affine warp, channel shift, flips, brightness, then
:meth:`ImageDataGenerator.standardize` (``preprocessing_function``, ``rescale``, sample-wise,
feature-wise, ZCA).

Differences from Keras's legacy generator (``keras.preprocessing.image``), all deliberate:

- ``height_shift_range`` moves images vertically and ``width_shift_range`` horizontally, each a
  fraction of its own side, as documented. Keras >= 2.3 draws ``tx`` from
  ``height_shift_range`` (scaled by the height) but applies it along the width, and rotates
  non-square images about a transposed centre; square images with equal ranges behave alike.
- ``fill_mode='wrap'`` repeats the image with period ``n`` (``np.pad(mode='wrap')``, Keras's
  documented ``abcd|abcd|abcd``); SciPy >= 1.6's ``'wrap'``, which Keras calls, uses ``n - 1``.
- Brightness has no 8-bit rounding (Keras goes through a PIL image).
- The random numbers come from one NumPy generator per batch, derived from ``(seed, epoch,
  batch)``: ``seed`` makes batches reproducible (in any thread) but they are not Keras's
  numbers. Outputs are NumPy arrays for NumPy input (as Keras) and tensors on the input's
  device for tensor input.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from cnnlab.data._augment_args import number, pair, shift_spec
from cnnlab.data._batch_transforms import FILL_MODES, GEOMETRY, Params, transform_batch
from cnnlab.data._feature_stats import FeatureMoments
from cnnlab.data._random_params import draw_params
from cnnlab.data.image_iterators import (
    DirectoryIterator,
    NumpyArrayIterator,
    fresh_seed,
    warn_channels,
)

__all__ = ["ImageDataGenerator"]

_STATS_CHUNK = 1024  # images per step when fitting statistics
_OVERRIDES = (("zca_whitening", "featurewise_center"),
              ("zca_whitening", "featurewise_std_normalization"),
              ("featurewise_std_normalization", "featurewise_center"),
              ("samplewise_std_normalization", "samplewise_center"))
_STATISTICS = {"mean": "featurewise_center", "std": "featurewise_std_normalization",
               "zca_whitening_matrix": "zca_whitening"}


class ImageDataGenerator:
    """Generate batches of augmented, standardized images (``keras.preprocessing.image``).

    Args (Keras's names and defaults):
        featurewise_center / featurewise_std_normalization: subtract the per-channel mean /
            divide by ``std + 1e-6``, both fitted on training data with :meth:`fit`.
        samplewise_center / samplewise_std_normalization: the same per image (all pixels and
            channels of the image).
        zca_whitening, zca_epsilon=1e-6: ZCA whitening fitted by :meth:`fit` (implies
            ``featurewise_center``, replaces ``featurewise_std_normalization``; the matrix
            indexes features in channels-last order).
        rotation_range: degrees; ``theta ~ U(-r, r)``, positive = counter-clockwise.
        width_shift_range / height_shift_range: float (fraction of the side if < 1, else
            pixels), int ``k`` (whole pixels in ``{-(k-1), ..., k-1}``), or a list of choices.
        brightness_range: ``(lo, hi)``; pixel values are multiplied by ``U(lo, hi)``, clipped to
            ``[0, 255]`` (images outside that range: to their own min..max).
        shear_range: degrees; counter-clockwise shear angle ``~ U(-s, s)``.
        zoom_range: float ``z`` -> ``[1 - z, 1 + z]``, or ``[lo, hi]``; width and height zoom
            factors are drawn separately; a factor below 1 zooms in.
        channel_shift_range: adds ``U(-c, c)`` to every channel, clipped to the image's range.
        fill_mode: ``'constant'`` (``cval``), ``'nearest'`` (default), ``'reflect'``, ``'wrap'``.
        horizontal_flip / vertical_flip: flip with probability 1/2.
        rescale: multiply by this factor (after augmentation, before other standardization).
        preprocessing_function: called on each image (a NumPy ``(H, W, C)`` array) after
            augmentation; returns an array of the same shape.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        validation_split: fraction held out for ``subset='validation'`` in ``flow*``.
        interpolation_order: 1 (bilinear, default) or 0 (nearest).
        dtype: output dtype, default ``'float32'``.

    Example:
        >>> datagen = ImageDataGenerator(rotation_range=90, width_shift_range=0.1,
        ...                              height_shift_range=0.1, horizontal_flip=True)
        >>> model.fit(datagen.flow(x_train, y_train, batch_size=64), epochs=10)
    """

    def __init__(self, featurewise_center: bool = False, samplewise_center: bool = False,
                 featurewise_std_normalization: bool = False,
                 samplewise_std_normalization: bool = False, zca_whitening: bool = False,
                 zca_epsilon: float = 1e-6, rotation_range: float = 0,
                 width_shift_range: Any = 0.0, height_shift_range: Any = 0.0,
                 brightness_range: Sequence[float] | None = None, shear_range: float = 0.0,
                 zoom_range: float | Sequence[float] = 0.0, channel_shift_range: float = 0.0,
                 fill_mode: str = "nearest", cval: float = 0.0, horizontal_flip: bool = False,
                 vertical_flip: bool = False, rescale: float | None = None,
                 preprocessing_function: Callable | None = None,
                 data_format: str | None = None, validation_split: float = 0.0,
                 interpolation_order: int = 1, dtype: Any = None):
        self.featurewise_center = bool(featurewise_center or zca_whitening
                                       or featurewise_std_normalization)
        self.featurewise_std_normalization = bool(featurewise_std_normalization
                                                  and not zca_whitening)
        self.samplewise_center = bool(samplewise_center or samplewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.zca_whitening, self.zca_epsilon = bool(zca_whitening), float(zca_epsilon)
        causes = {"zca_whitening": zca_whitening,
                  "featurewise_std_normalization": featurewise_std_normalization,
                  "samplewise_std_normalization": samplewise_std_normalization}
        requested = {"featurewise_center": featurewise_center, "samplewise_center":
                     samplewise_center,
                     "featurewise_std_normalization": featurewise_std_normalization}
        warned = set()
        for cause, option in _OVERRIDES:
            if causes[cause] and option not in warned \
                    and getattr(self, option) != bool(requested[option]):
                warned.add(option)
                warnings.warn(f"ImageDataGenerator: `{cause}=True` overrides `{option}` (now "
                              f"{getattr(self, option)})", stacklevel=2)
        self.rotation_range = number(rotation_range, "rotation_range")
        self.width_shift_range = shift_spec(width_shift_range, "width_shift_range")
        self.height_shift_range = shift_spec(height_shift_range, "height_shift_range")
        self.shear_range = number(shear_range, "shear_range")
        if isinstance(zoom_range, (int, float)) and not isinstance(zoom_range, bool):
            self.zoom_range = [1.0 - zoom_range, 1.0 + zoom_range]
        else:
            self.zoom_range = list(pair(zoom_range, "zoom_range"))
        self.channel_shift_range = number(channel_shift_range, "channel_shift_range")
        self.brightness_range = (None if brightness_range is None
                                 else pair(brightness_range, "brightness_range"))
        if fill_mode not in FILL_MODES:
            raise ValueError(f"ImageDataGenerator: `fill_mode` must be one of "
                             f"{tuple(FILL_MODES)}, got {fill_mode!r}")
        self.fill_mode, self.cval = fill_mode, number(cval, "cval", low=None)
        self.horizontal_flip, self.vertical_flip = bool(horizontal_flip), bool(vertical_flip)
        self.rescale = rescale if rescale is None else number(rescale, "rescale", low=None)
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise TypeError(f"ImageDataGenerator: `preprocessing_function` must be callable, "
                            f"got {preprocessing_function!r}")
        self.preprocessing_function = preprocessing_function
        self.data_format = data_format or "channels_last"
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"ImageDataGenerator: `data_format` must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}")
        self.channel_axis, self.row_axis, self.col_axis = (
            (3, 1, 2) if self.data_format == "channels_last" else (1, 2, 3))
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(f"ImageDataGenerator: `validation_split` must be strictly between "
                             f"0 and 1, got {validation_split!r}")
        self._validation_split = float(validation_split)
        if interpolation_order not in (0, 1):
            raise ValueError(f"ImageDataGenerator: `interpolation_order` must be 0 (nearest) or "
                             f"1 (bilinear), got {interpolation_order!r}")
        self.interpolation_order = interpolation_order
        self.dtype = np.dtype(dtype or "float32")
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.zca_whitening_matrix: np.ndarray | None = None

    # ----------------------------------------------------------------- random parameters
    @property
    def has_geometry(self) -> bool:
        """Whether the random transforms include an affine warp (rotation, shift, shear,
        zoom)."""
        return bool(self.rotation_range or self.width_shift_range or self.height_shift_range
                    or self.shear_range or self.zoom_range != [1.0, 1.0])

    def draw_transforms(self, n: int, height: int, width: int,
                        rng: np.random.Generator) -> Params:
        """Random parameters for ``n`` images: Keras's keys, each a ``(n,)`` NumPy array or
        None. The uniform draws come in one call; NumPy is cheaper than torch for a batch of
        parameters."""
        return draw_params(self, n, height, width, rng)

    def get_random_transform(self, img_shape: Sequence[int], seed: int | None = None) -> Params:
        """Random parameters for one image of shape ``img_shape``, as Keras's dict.

        Keys: ``theta``, ``shear`` (degrees), ``tx``/``ty`` (pixels along the width/height),
        ``zx``/``zy``, ``flip_horizontal``/``flip_vertical``, ``channel_shift_intensity`` and
        ``brightness`` (``None`` when disabled).
        """
        height, width = (img_shape[0], img_shape[1]) if self.data_format == "channels_last" \
            else (img_shape[1], img_shape[2])
        rng = np.random.default_rng(fresh_seed() if seed is None else int(seed))
        drawn = self.draw_transforms(1, height, width, rng)
        defaults = {"theta": 0.0, "tx": 0.0, "ty": 0.0, "shear": 0.0, "zx": 1.0, "zy": 1.0,
                    "flip_horizontal": False, "flip_vertical": False}
        params: Params = {}
        for key, value in drawn.items():
            params[key] = defaults.get(key) if value is None else value[0].item()
        return params

    # ----------------------------------------------------------------- transforms
    def transform_batch(self, images: torch.Tensor, params: Params) -> torch.Tensor:
        """Apply batched parameters (``draw_transforms``) to float ``(B, H, W, C)`` images."""
        return transform_batch(images, params, self.fill_mode, self.cval,
                               "bilinear" if self.interpolation_order else "nearest")

    def augment_batch(self, images: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """Random transforms, then :meth:`standardize`, of a channels-last batch ``(B, H, W,
        C)`` of any dtype: what Keras's iterators do image by image, for the whole batch at
        once. Returns a float tensor on the images' device."""
        images = self._as_float(images)
        params = self.draw_transforms(len(images), images.shape[1], images.shape[2], rng)
        return self.standardize_batch(self.transform_batch(images, params))

    def apply_transform(self, x: Any, transform_parameters: Params) -> np.ndarray:
        """Transform one image ``(H, W, C)`` with Keras's parameter dict; returns NumPy."""
        image = self._one_image(x, "apply_transform")
        params: Params = {}
        for key, value in transform_parameters.items():
            neutral = value is None or value is False or (
                key in GEOMETRY and float(value) == (1.0 if key in ("zx", "zy") else 0.0))
            params[key] = None if neutral else np.array([float(value)])
        for key in ("flip_horizontal", "flip_vertical"):
            if params.get(key) is not None:
                params[key] = params[key] > 0
        out = self.transform_batch(image, params)
        return self._from_channels_last(out)[0].cpu().numpy().astype(self.dtype)

    def random_transform(self, x: Any, seed: int | None = None) -> np.ndarray:
        """A randomly transformed copy of one image (NumPy), as Keras's."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    # ----------------------------------------------------------------- standardization
    def standardize(self, x: Any) -> Any:
        """Apply ``preprocessing_function``, ``rescale``, sample-wise, feature-wise and ZCA
        normalization to one image ``(H, W, C)`` or a batch ``(N, H, W, C)``.

        Sample-wise statistics are per image, also for a batch (Keras would pool a batch).
        As in Keras, a float NumPy array is normalized in place (and returned); other input
        gives a new float array / tensor.
        """
        data = torch.as_tensor(x)
        if data.ndim not in (3, 4):
            raise ValueError(f"ImageDataGenerator.standardize: expected an image (H, W, C) or "
                             f"a batch (N, H, W, C), got shape {tuple(data.shape)}")
        batch = self._to_channels_last(data if data.ndim == 4 else data[None])
        out = self._from_channels_last(self.standardize_batch(self._as_float(batch)))
        out = out if data.ndim == 4 else out[0]
        if isinstance(x, torch.Tensor):
            return out
        result = out.cpu().numpy().astype(self.dtype, copy=False)
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            x[...] = result
            return x
        return result

    def standardize_batch(self, images: torch.Tensor) -> torch.Tensor:
        """:meth:`standardize` for a float channels-last batch tensor (no copy back)."""
        if self.preprocessing_function is not None:  # user code: one NumPy image per call
            rows = np.stack([np.asarray(self.preprocessing_function(self._image_for_user(img)))
                             for img in images])
            images = self._as_float(self._to_channels_last(
                torch.as_tensor(rows, device=images.device)))
        if self.rescale:
            images = images * self.rescale
        if self.samplewise_center:
            images = images - images.mean(dim=(1, 2, 3), keepdim=True)
        if self.samplewise_std_normalization:
            images = images / (images.std(dim=(1, 2, 3), correction=0, keepdim=True) + 1e-6)
        mean, std, whitening = (self._statistic(name, images) for name in _STATISTICS)
        if mean is not None:
            images = images - mean
        if std is not None:
            images = images / (std + 1e-6)
        if whitening is not None:
            images = (images.reshape(len(images), -1) @ whitening).reshape(images.shape)
        return images

    def _statistic(self, name: str, images: torch.Tensor) -> torch.Tensor | None:
        """A fitted statistic as a tensor that broadcasts against channels-last images; None
        (with Keras's warning) when its option is on but :meth:`fit` has not run."""
        option = _STATISTICS[name]
        if not getattr(self, option):
            return None
        value = getattr(self, name)
        if value is None:
            warnings.warn(f"ImageDataGenerator: `{option}` is set but the generator has not "
                          f"been fit on training data; call `.fit(x_train)` first", stacklevel=4)
            return None
        stat = torch.as_tensor(np.asarray(value), dtype=images.dtype, device=images.device)
        if self.data_format == "channels_first" and stat.ndim == 3:
            stat = stat.movedim(0, -1)
        return stat

    # ----------------------------------------------------------------- fit
    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Fit the feature-wise statistics (per-channel mean and std, ZCA) on training data.

        ``rescale`` is applied first; with ``augment=True`` the statistics are taken over
        ``rounds`` randomly augmented copies. Standardize validation and test data with these
        training statistics (``flow`` and :meth:`standardize` do). ``std`` is the population
        standard deviation after centering, as ``np.std``.
        """
        data = self._to_channels_last(torch.as_tensor(np.asarray(x) if not isinstance(
            x, torch.Tensor) else x))
        if data.ndim != 4:
            raise ValueError(f"ImageDataGenerator.fit: expected a rank-4 batch of images, got "
                             f"shape {tuple(np.shape(x))}")
        warn_channels(data.shape[-1], "ImageDataGenerator.fit", tuple(np.shape(x)))
        if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
            raise ValueError(f"ImageDataGenerator.fit: `rounds` must be a positive int, got "
                             f"{rounds!r}")
        rng = np.random.default_rng(fresh_seed() if seed is None else int(seed))
        moments = FeatureMoments(tuple(data.shape[1:]), gram=self.zca_whitening)
        for _ in range(rounds if augment else 1):
            for start in range(0, len(data), _STATS_CHUNK):
                chunk = self._as_float(data[start:start + _STATS_CHUNK])
                if self.rescale:
                    chunk = chunk * self.rescale
                if augment:
                    params = self.draw_transforms(len(chunk), chunk.shape[1], chunk.shape[2], rng)
                    chunk = self.transform_batch(chunk, params)
                moments.add(chunk)
        mean, std = moments.mean_std()
        channels = moments.channels
        shape = (1, 1, channels) if self.data_format == "channels_last" else (channels, 1, 1)
        if self.featurewise_center:
            self.mean = mean.float().numpy().reshape(shape)
        if self.featurewise_std_normalization:
            self.std = std.float().numpy().reshape(shape)
        if self.zca_whitening:
            self.zca_whitening_matrix = moments.zca_matrix(self.zca_epsilon)

    # ----------------------------------------------------------------- iterators
    def flow(self, x: Any, y: Any = None, batch_size: int = 32, shuffle: bool = True,
             sample_weight: Any = None, seed: int | None = None, save_to_dir: str | None = None,
             save_prefix: str = "", save_format: str = "png", ignore_class_split: bool = False,
             subset: str | None = None) -> NumpyArrayIterator:
        """An endless iterator (and ``Sequence``) of augmented batches ``(x, y[, w])``."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  save_to_dir=save_to_dir, save_prefix=save_prefix,
                                  save_format=save_format, subset=subset,
                                  ignore_class_split=ignore_class_split)

    def flow_from_directory(self, directory: str | os.PathLike, target_size: tuple[int, int] = (
            256, 256), color_mode: str = "rgb", classes: Sequence[str] | None = None,
            class_mode: str | None = "categorical", batch_size: int = 32, shuffle: bool = True,
            seed: int | None = None, save_to_dir: str | None = None, save_prefix: str = "",
            save_format: str = "png", follow_links: bool = False, subset: str | None = None,
            interpolation: str = "nearest", keep_aspect_ratio: bool = False) -> DirectoryIterator:
        """Batches of augmented images read from class sub-folders of ``directory``."""
        return DirectoryIterator(directory, self, target_size=target_size,
                                 color_mode=color_mode, classes=classes, class_mode=class_mode,
                                 batch_size=batch_size, shuffle=shuffle, seed=seed,
                                 save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, follow_links=follow_links,
                                 subset=subset, interpolation=interpolation,
                                 keep_aspect_ratio=keep_aspect_ratio)

    # ----------------------------------------------------------------- layout helpers
    def _as_float(self, images: torch.Tensor) -> torch.Tensor:
        dtype = torch.float64 if self.dtype == np.float64 else torch.float32
        return images if images.dtype == dtype else images.to(dtype)

    def _to_channels_last(self, images: torch.Tensor) -> torch.Tensor:
        return images.movedim(-3, -1) if self.data_format == "channels_first" else images

    def _from_channels_last(self, images: torch.Tensor) -> torch.Tensor:
        return images.movedim(-1, -3) if self.data_format == "channels_first" else images

    def _image_for_user(self, image: torch.Tensor) -> np.ndarray:
        return self._from_channels_last(image).cpu().numpy()

    def _one_image(self, x: Any, what: str) -> torch.Tensor:
        image = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
        if image.ndim != 3:
            raise ValueError(f"ImageDataGenerator.{what}: expected one image of rank 3, got "
                             f"shape {tuple(image.shape)}")
        return self._as_float(self._to_channels_last(image)[None])
