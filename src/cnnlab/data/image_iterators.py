"""Keras's image iterators: endless batch iterators that are also ``Sequence``s.

:class:`NumpyArrayIterator` (``ImageDataGenerator.flow``) and :class:`DirectoryIterator`
(``flow_from_directory``) gather a batch, then hand it to the generator's
:meth:`~cnnlab.data.image_generator.ImageDataGenerator.augment_batch`, which transforms the
whole batch at once. ``fit`` consumes them as a ``Sequence`` (``len``, ``it[i]``,
``on_epoch_end``); ``next(it)`` walks them forever, as Keras's ``Iterator`` does.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np
import torch

from cnnlab.data.directory import list_image_files
from cnnlab.data.image_files import img_to_array, load_img, save_img

__all__ = ["DirectoryIterator", "ImageIterator", "NumpyArrayIterator"]

_KERAS_FORMATS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")
_CLASS_MODES = ("categorical", "binary", "sparse", "input", None)


class BatchAugmenter(Protocol):
    """What the iterators use of their :class:`~cnnlab.data.image_generator.ImageDataGenerator`
    (passed in by ``flow``/``flow_from_directory``; this module does not import it)."""

    data_format: str  # 'channels_last' or 'channels_first'
    channel_axis: int  # of a batch in data_format
    dtype: np.dtype  # of the batches
    has_geometry: bool  # whether augment_batch warps images
    _validation_split: float  # fraction held out for subset='validation'

    def augment_batch(self, images: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """Random transforms + standardization of a channels-last batch ``(B, H, W, C)``."""


def warn_channels(channels: int, what: str, shape: tuple) -> None:
    """Keras's warning for arrays whose channel axis does not hold 1, 3 or 4 channels."""
    if channels not in (1, 3, 4):
        warnings.warn(f"{what}: expected images with 1, 3 or 4 channels on the channel axis, "
                      f"got an array of shape {shape} ({channels} channels)", stacklevel=3)


def fresh_seed() -> int:
    """A seed from NumPy's global generator (so ``np.random.seed`` makes runs repeatable)."""
    return int(np.random.randint(0, 2**31 - 1))


def _generator(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The random stream of batch ``index`` of ``epoch`` (``index = 0``: the epoch's order):
    a counter-based Philox generator keyed by ``seed``, its counter starting at
    ``(0, 0, epoch, index)``, so every batch has its own stream, in any thread."""
    bit_generator = np.random.Philox(key=seed % 2**64, counter=[0, 0, epoch, index])
    return np.random.Generator(bit_generator)


class ImageIterator:
    """Keras's ``Iterator``: an endless iterator over batches that is also a ``Sequence``.

    ``len()`` is ``ceil(n / batch_size)``; ``it[i]`` is batch ``i`` of the current epoch and
    ``on_epoch_end()`` starts a new epoch (a new order when ``shuffle``); ``next(it)`` walks the
    batches forever, reshuffling after each pass, the last batch of a pass being smaller. The
    order and the random transforms of a batch depend only on ``(seed, epoch, i)``, so the same
    seed gives the same batches whatever threads ask for them.
    """

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"{type(self).__name__}: `batch_size` must be a positive int, got "
                             f"{batch_size!r}")
        if n <= 0:
            raise ValueError(f"{type(self).__name__}: there are no samples to iterate over")
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, bool(shuffle), seed
        self._seed = fresh_seed() if seed is None else int(seed)
        self.batch_index = 0
        self.total_batches_seen = 0
        self.epoch = 0  # epochs ended with on_epoch_end (Sequence use)
        self._pass = 0  # passes completed by next()
        self.lock = threading.Lock()
        self._cached_order: tuple[int, torch.Tensor] | None = None

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    @property
    def index_array(self) -> np.ndarray:
        """Sample order of the current epoch."""
        return self._order(self.epoch).numpy()

    def _order(self, epoch: int) -> torch.Tensor:
        with self.lock:
            if self._cached_order is None or self._cached_order[0] != epoch:
                order = torch.from_numpy(_generator(self._seed, epoch, 0).permutation(self.n)
                                         if self.shuffle else np.arange(self.n))
                self._cached_order = (epoch, order)
            return self._cached_order[1]

    def _fetch(self, epoch: int, index: int) -> Any:
        ids = self._order(epoch)[index * self.batch_size:(index + 1) * self.batch_size]
        return self._batch(ids, _generator(self._seed, epoch, index + 1))

    def __getitem__(self, index: int) -> Any:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) \
                or not 0 <= index < len(self):
            raise ValueError(f"{type(self).__name__}: asked for batch {index!r}, but the "
                             f"sequence has {len(self)} batches")
        self.total_batches_seen += 1
        return self._fetch(self.epoch, int(index))

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def reset(self) -> None:
        self.batch_index = 0

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Any:
        with self.lock:
            epoch, index = self._pass, self.batch_index
            self.batch_index += 1
            if self.batch_index >= len(self):
                self.batch_index, self._pass = 0, self._pass + 1
            self.total_batches_seen += 1
        return self._fetch(epoch, index)

    next = __next__

    def _batch(self, ids: torch.Tensor, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def _augment(self, images: torch.Tensor, rng: np.random.Generator,
                 ids: torch.Tensor) -> torch.Tensor:
        """Augment + standardize a batch in the generator's layout; optionally save it as
        image files."""
        idg = self.image_data_generator
        channels_first = idg.data_format == "channels_first"
        images = idg.augment_batch(images.movedim(1, -1) if channels_first else images, rng)
        if self.save_to_dir:
            tags = rng.integers(10**4, size=len(images)).tolist()
            for image, index, tag in zip(images, ids.tolist(), tags, strict=True):
                name = f"{self.save_prefix}_{index}_{tag}.{self.save_format}"
                save_img(os.path.join(self.save_to_dir, name), image.cpu().numpy(), scale=True)
        images = images.movedim(-1, 1) if channels_first else images
        return images.to(_torch_dtype(idg.dtype))


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    return torch.from_numpy(np.zeros(0, dtype=dtype)).dtype


class NumpyArrayIterator(ImageIterator):
    """Batches ``(x, y[, sample_weight])`` of augmented images from arrays (``flow``).

    ``x``: ``(N, H, W, C)`` images (any numeric dtype; uint8 stays uint8 in memory and becomes
    float per batch). When the generator warps images, they are also kept once in planar
    ``(N, C, H, W)`` layout, which ``grid_sample`` reads without a per-batch transpose (Keras
    keeps a float32 copy of ``x`` instead). With ``subset``, the generator's
    ``validation_split`` keeps the *first* ``int(N * split)`` samples for ``'validation'`` and
    the rest for ``'training'`` (Keras's rule; both parts must hold the same classes unless
    ``ignore_class_split``).
    """

    def __init__(self, x: Any, y: Any, image_data_generator: BatchAugmenter,
                 batch_size: int = 32, shuffle: bool = False, sample_weight: Any = None,
                 seed: int | None = None, save_to_dir: str | None = None, save_prefix: str = "",
                 save_format: str = "png", subset: str | None = None,
                 ignore_class_split: bool = False):
        if isinstance(x, (list, tuple)):
            raise TypeError("flow: `x` must be one array of images; extra input arrays "
                            "(Keras's `(x, x_misc)` form) are not supported")
        self.tensor_output = isinstance(x, torch.Tensor)
        images = x if self.tensor_output else torch.from_numpy(np.ascontiguousarray(x))
        if images.ndim != 4:
            raise ValueError(f"flow: `x` must be a rank-4 batch of images, got shape "
                             f"{tuple(images.shape)}")
        if images.dtype == torch.float64 and image_data_generator.dtype != np.float64:
            images = images.float()
        for name, part in (("y", y), ("sample_weight", sample_weight)):
            if part is not None and len(part) != len(images):
                raise ValueError(f"flow: `x` and `{name}` must have the same length, got "
                                 f"{len(images)} and {len(part)}")
        labels = None if y is None else self._keep(y)
        weights = None if sample_weight is None else self._keep(sample_weight)
        if subset is not None:
            part = _split_part(len(images), image_data_generator._validation_split, subset)
            if labels is not None and not ignore_class_split:
                _check_classes(labels, part.stop if subset == "validation" else part.start)
            images = images[part]
            labels = None if labels is None else labels[part]
            weights = None if weights is None else weights[part]
        self.image_data_generator = image_data_generator
        channels = images.shape[image_data_generator.channel_axis]
        warn_channels(channels, "flow", tuple(images.shape))
        self.x, self.y, self.sample_weight = images, labels, weights
        planar = image_data_generator.data_format == "channels_last" \
            and image_data_generator.has_geometry
        self._planar = images.permute(0, 3, 1, 2).contiguous() if planar else None
        self.save_to_dir, self.save_prefix, self.save_format = (save_to_dir, save_prefix,
                                                                save_format)
        super().__init__(len(images), batch_size, shuffle, seed)

    def _keep(self, array: Any) -> Any:
        return torch.as_tensor(array) if self.tensor_output else np.asarray(array)

    def _batch(self, ids: torch.Tensor, rng: np.random.Generator) -> Any:
        if self._planar is not None:  # channels-last views of (B, C, H, W) memory
            images = self._planar.index_select(0, ids.to(self.x.device)).permute(0, 2, 3, 1)
        else:
            images = self.x.index_select(0, ids.to(self.x.device))
        batch_x = self._augment(images, rng, ids)
        if not self.tensor_output:
            batch_x = batch_x.cpu().numpy()
        picks = ids if self.tensor_output else ids.numpy()
        out = (batch_x,) if self.y is None else (batch_x, self.y[picks])
        if self.y is not None and self.sample_weight is not None:
            out += (self.sample_weight[picks],)
        return out[0] if len(out) == 1 else out


def _split_part(n: int, split: float, subset: str) -> slice:
    if subset not in ("training", "validation"):
        raise ValueError(f"`subset` must be 'training' or 'validation', got {subset!r}")
    if not split:
        raise ValueError(f"subset={subset!r} needs ImageDataGenerator(validation_split=...)")
    cut = int(n * split)
    return slice(0, cut) if subset == "validation" else slice(cut, None)


def _check_classes(labels: Any, cut: int) -> None:
    head, tail = np.asarray(labels[:cut]), np.asarray(labels[cut:])
    if not np.array_equal(np.unique(head), np.unique(tail)):
        raise ValueError("flow: the training and validation subsets hold different classes "
                         "after the split; shuffle arrays sorted by label first, or pass "
                         "ignore_class_split=True")


class DirectoryIterator(ImageIterator):
    """Batches of augmented images from class sub-folders (``flow_from_directory``).

    Sub-folders of ``directory`` are the classes (sorted, or ``classes`` in the given order);
    images (``png, jpg, jpeg, bmp, ppm, tif, tiff``) are found recursively and sorted. With
    ``subset``, the generator's ``validation_split`` takes the *first* ``int(split * n_k)``
    files of each class for ``'validation'`` and the others for ``'training'``, as Keras does.
    Images are read with ``load_img(color_mode, target_size, interpolation,
    keep_aspect_ratio)``. Labels per ``class_mode``: ``'categorical'`` one-hot, ``'binary'`` /
    ``'sparse'`` class index as float32, ``'input'`` the images themselves, ``None`` no labels.

    Attributes: ``class_indices`` ({name: index}), ``classes`` (index per file), ``filenames``
    (relative to ``directory``), ``filepaths``, ``samples``, ``num_classes``, ``image_shape``.
    """

    def __init__(self, directory: str | os.PathLike, image_data_generator: BatchAugmenter,
                 target_size: tuple[int, int] = (256, 256), color_mode: str = "rgb",
                 classes: Sequence[str] | None = None, class_mode: str | None = "categorical",
                 batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
                 save_to_dir: str | None = None, save_prefix: str = "",
                 save_format: str = "png", follow_links: bool = False,
                 subset: str | None = None, interpolation: str = "nearest",
                 keep_aspect_ratio: bool = False):
        channels = {"grayscale": 1, "rgb": 3, "rgba": 4}.get(color_mode)
        if channels is None:
            raise ValueError(f"flow_from_directory: `color_mode` must be 'rgb', 'rgba' or "
                             f"'grayscale', got {color_mode!r}")
        if class_mode not in _CLASS_MODES:
            raise ValueError(f"flow_from_directory: `class_mode` must be one of {_CLASS_MODES}, "
                             f"got {class_mode!r}")
        self.directory, self.image_data_generator = os.fspath(directory), image_data_generator
        self.target_size, self.color_mode, self.class_mode = (tuple(target_size), color_mode,
                                                              class_mode)
        self.interpolation, self.keep_aspect_ratio = interpolation, keep_aspect_ratio
        self.image_shape = (*self.target_size, channels)
        if image_data_generator.data_format == "channels_first":
            self.image_shape = (channels, *self.target_size)
        paths, labels, names = list_image_files(directory, "inferred", classes, _KERAS_FORMATS,
                                                follow_links)
        if not paths:
            raise ValueError(f"flow_from_directory: no images in {self.directory}; expected one "
                             f"sub-folder per class holding {', '.join(_KERAS_FORMATS)} files")
        if subset is not None:
            split = image_data_generator._validation_split
            keep = np.concatenate([np.arange(len(labels))[part] for part in
                                   _class_parts(labels, len(names), split, subset)])
            paths, labels = [paths[i] for i in keep], labels[keep]
        self.class_indices = {name: i for i, name in enumerate(names)}
        self.num_classes, self.classes = len(names), labels.astype(np.int32)
        self._filepaths = paths
        self.filenames = [os.path.relpath(p, self.directory) for p in paths]
        self.samples = len(paths)
        self.save_to_dir, self.save_prefix, self.save_format = (save_to_dir, save_prefix,
                                                                save_format)
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self) -> list[str]:
        return self._filepaths

    @property
    def labels(self) -> np.ndarray:
        return self.classes

    def _load(self, index: int) -> np.ndarray:
        image = load_img(self._filepaths[index], color_mode=self.color_mode,
                         target_size=self.target_size, interpolation=self.interpolation,
                         keep_aspect_ratio=self.keep_aspect_ratio)
        return img_to_array(image)

    def _batch(self, ids: torch.Tensor, rng: np.random.Generator) -> Any:
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            arrays = list(pool.map(self._load, ids.tolist()))
        images = torch.from_numpy(np.stack(arrays))  # (B, H, W, C): load_img is channels-last
        if self.image_data_generator.data_format == "channels_first":
            images = images.movedim(-1, 1)
        batch_x = self._augment(images, rng, ids).cpu().numpy()
        picks = self.classes[ids.numpy()]
        if self.class_mode is None:
            return batch_x
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        if self.class_mode == "categorical":
            batch_y = np.eye(self.num_classes, dtype=self.image_data_generator.dtype)[picks]
        else:
            batch_y = picks.astype(self.image_data_generator.dtype)
        return batch_x, batch_y


def _class_parts(labels: np.ndarray, num_classes: int, split: float,
                 subset: str) -> list[slice]:
    """Per class (files are grouped by class), the slice of its files in ``subset``."""
    _split_part(1, split, subset)  # validates subset and split
    bounds = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=num_classes))])
    parts = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        cut = start + int(split * (stop - start))
        parts.append(slice(start, cut) if subset == "validation" else slice(cut, stop))
    return parts
