"""Folders of images -> batches: ``image_dataset_from_directory`` with Keras's semantics.

Layout (the Dogs-vs-Cats lecture)::

    train/
      cats/  cat.0.jpg  cat.1.jpg ...
      dogs/  dog.0.jpg ...

Each sub-folder is a class (alphanumeric order, hidden folders skipped); files are found
recursively, sorted by folder then name. Images are decoded with Pillow and resized like Keras
on its PyTorch backend (``F.interpolate``, half-pixel centres, no antialiasing). An unreadable
image, or one of more than ``PIL.Image.MAX_IMAGE_PIXELS`` pixels, is a ``ValueError`` naming
its file (:func:`cnnlab.data.image_files.check_pixels`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .image_files import IMAGE_ERRORS, check_pixels
from .pipeline import Dataset

__all__ = ["IMAGE_FORMATS", "ImageDataset", "image_dataset_from_directory", "list_image_files"]

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
_PIL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}
_INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
_LABEL_MODES = ("int", "categorical", "binary", None)
_SUBSETS = ("training", "validation", "both")


def list_image_files(
    directory: str | PathLike[str],
    labels: str | Sequence[int] | None = "inferred",
    class_names: Sequence[str] | None = None,
    formats: Sequence[str] = IMAGE_FORMATS,
    follow_links: bool = False,
) -> tuple[list[str], np.ndarray | None, list[str] | None]:
    """Index a folder of images the way Keras does: ``(file_paths, labels, class_names)``.

    With ``labels='inferred'`` every non-hidden sub-folder is a class (in ``class_names`` order
    if given, which must name existing sub-folders, else alphanumeric) and ``labels`` is the
    int32 class index of each file. With ``labels=None`` or a list of integers (one per file,
    in the order listed here) the whole tree is indexed; ``class_names`` are then ``None`` or
    the sorted distinct labels as strings. Files keep the extensions in ``formats``
    (case-insensitive), walked recursively and sorted by folder then name; ``follow_links``
    also enters symlinked sub-folders. Nothing is shuffled.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"directory must be an existing folder, got {str(directory)!r}")
    explicit = labels not in ("inferred", None)
    if explicit and not isinstance(labels, (list, tuple)):
        raise ValueError(
            "labels must be 'inferred', None or a list/tuple of integer labels, one per "
            f"image file; got {labels!r}"
        )
    if labels == "inferred":
        subdirs = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name[0] != ".")
        if class_names is not None:
            unknown = sorted(set(class_names) - set(subdirs))
            if unknown:
                raise ValueError(
                    f"class_names must name sub-folders of {root} (found {subdirs}); "
                    f"got unknown {unknown}"
                )
            subdirs = list(class_names)
    elif class_names is not None:
        raise ValueError(f"class_names can only be given with labels='inferred', got {labels!r}")
    else:
        subdirs = [""]
    suffixes = tuple(s.lower() for s in formats)
    paths: list[str] = []
    counts: list[int] = []
    for sub in subdirs:
        before = len(paths)
        walk = sorted(os.walk(root / sub, followlinks=follow_links), key=lambda w: w[0])
        for folder, _, files in walk:
            images = [f for f in sorted(files) if f.lower().endswith(suffixes)]
            paths += [os.path.join(folder, f) for f in images]
        counts.append(len(paths) - before)
    if labels == "inferred":
        index = np.repeat(np.arange(len(subdirs), dtype=np.int32), counts)
        return paths, index, list(subdirs)
    if labels is None:
        return paths, None, None
    if len(labels) != len(paths):
        raise ValueError(
            f"labels has {len(labels)} entries but {root} holds {len(paths)} image files"
        )
    return paths, np.asarray(labels, dtype=np.int32), [str(v) for v in sorted(set(labels))]


def _load_image(
    path: str, channels: int, size: tuple[int, int], interpolation: str, crop: bool
) -> torch.Tensor:
    """Decode ``path`` to float32 ``(H, W, C)`` resized to ``size``; errors name the file."""
    try:
        with Image.open(path) as img:
            check_pixels(img, path)
            keep = ("L", "I;16", "I") if channels == 1 else (_PIL_MODES[channels],)
            if img.mode not in keep:  # 16/32-bit grayscale is kept, as Keras does
                img = img.convert(_PIL_MODES[channels])
            array = np.asarray(img, dtype=np.float32)
    except IMAGE_ERRORS as err:
        raise ValueError(f"could not read image {path}: {type(err).__name__}: {err}") from err
    image = torch.from_numpy(array.reshape(array.shape[0], array.shape[1], -1))
    height, width = image.shape[:2]
    if crop:  # largest centred window with the target aspect ratio (Keras's smart_resize)
        crop_h = max(min(height, int(width * size[0] / size[1])), 1)
        crop_w = max(min(width, int(height * size[1] / size[0])), 1)
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        image = image[top : top + crop_h, left : left + crop_w]
    if tuple(image.shape[:2]) == size:
        return image.contiguous()
    nchw = image.permute(2, 0, 1).unsqueeze(0)
    align = False if interpolation in ("bilinear", "bicubic") else None
    resized = F.interpolate(
        nchw, size=size, mode=interpolation, align_corners=align, antialias=False
    )
    return resized[0].permute(1, 2, 0).contiguous()


class ImageDataset(Dataset):
    """Iterable of ``(images, labels)`` batches read from image files (Keras's tf.data analogue).

    ``images``: float32 ``(B, H, W, C)`` channels-last tensor, values 0..255 (not rescaled).
    ``labels``: ``'int'`` -> int32 ``(B,)``; ``'binary'`` -> float32 ``(B, 1)``;
    ``'categorical'`` -> float32 one-hot ``(B, num_classes)``; ``None`` -> only images are
    yielded. With ``batch_size=None`` single examples are yielded instead of batches.
    ``len()`` is the number of batches. With ``shuffle=True`` every pass (epoch) draws a new
    permutation from a generator seeded with ``seed`` (Keras reshuffles each epoch too, through
    a bounded buffer; here the permutation is uniform over all files). It is a
    :class:`~cnnlab.data.pipeline.Dataset`: ``.take(1)``, ``.map(fn)``, ``.prefetch(n)``,
    ``.cache()`` work as on Keras's ``tf.data.Dataset``.
    """

    def __init__(
        self,
        file_paths: list[str],
        labels: np.ndarray | None,
        label_mode: str | None,
        class_names: list[str] | None,
        *,
        channels: int,
        image_size: tuple[int, int],
        batch_size: int | None,
        shuffle: bool,
        seed: int | None,
        interpolation: str,
        crop_to_aspect_ratio: bool,
    ) -> None:
        self.file_paths, self.class_names = file_paths, class_names
        self._labels = _encode_labels(labels, label_mode, len(class_names or ()))
        self._load_args = (channels, image_size, _INTERPOLATIONS[interpolation],
                           crop_to_aspect_ratio)
        self._batch_size, self._shuffle = batch_size, shuffle
        self._rng = np.random.default_rng(seed)

    def cardinality(self) -> int:
        return len(self)

    def __len__(self) -> int:
        if self._batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self._batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.file_paths)
        order = self._rng.permutation(n) if self._shuffle else np.arange(n)
        step = self._batch_size or 1
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            for start in range(0, n, step):
                index = order[start : start + step]
                images = list(pool.map(self._load, index))
                x = torch.stack(images) if self._batch_size else images[0]
                if self._labels is None:
                    yield x
                    continue
                y = self._labels[torch.from_numpy(index)]
                yield x, (y if self._batch_size else y[0])

    def _load(self, i: int) -> torch.Tensor:
        return _load_image(self.file_paths[i], *self._load_args)


def _encode_labels(labels: np.ndarray | None, mode: str | None, num_classes: int) -> Any:
    if labels is None or mode is None:
        return None
    index = torch.from_numpy(labels.astype(np.int64))
    if mode == "int":
        return index.to(torch.int32)
    if mode == "binary":
        return index.to(torch.float32).unsqueeze(1)
    return F.one_hot(index, num_classes).to(torch.float32)


def _image_size(image_size: int | Sequence[int]) -> tuple[int, int]:
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise ValueError(f"image_size must be (height, width) positive ints, got {image_size!r}")
    return size  # type: ignore[return-value]


def _check_split(
    validation_split: float | None, subset: str | None, shuffle: bool, seed: int | None
) -> None:
    """Keras's rules for ``validation_split`` and ``subset``."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split!r}")
    if bool(validation_split) != (subset is not None):
        raise ValueError(
            "subset and validation_split go together: got "
            f"validation_split={validation_split!r}, subset={subset!r}"
        )
    if subset is not None and subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {_SUBSETS}, got {subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "validation_split with shuffle=True needs a seed, so that the training and "
            "validation subsets do not overlap"
        )


def _check_options(
    label_mode: str | None, color_mode: str, interpolation: str, batch_size: int | None
) -> None:
    if label_mode not in _LABEL_MODES:
        raise ValueError(f"label_mode must be one of {_LABEL_MODES}, got {label_mode!r}")
    if color_mode not in _CHANNELS:
        raise ValueError(f"color_mode must be one of {tuple(_CHANNELS)}, got {color_mode!r}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"interpolation must be one of {tuple(_INTERPOLATIONS)} (as Keras on PyTorch), "
            f"got {interpolation!r}"
        )
    if batch_size is not None and not (isinstance(batch_size, int) and batch_size > 0):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")


def image_dataset_from_directory(
    directory: str | PathLike[str],
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: int | tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    verbose: bool = True,
) -> ImageDataset | tuple[ImageDataset, ImageDataset]:
    """Batches of images from class sub-folders, as ``keras.utils.image_dataset_from_directory``.

    Files are indexed with :func:`list_image_files`, shuffled once with
    ``np.random.RandomState(seed)`` (when ``shuffle``), and with ``validation_split=v`` the last
    ``int(v * N)`` files form the validation subset and the others the training subset
    (``subset='training'``, ``'validation'``, or ``'both'`` for the pair). Like Keras, the
    ``'both'`` validation set is not reshuffled per epoch.

    Returns an :class:`ImageDataset` (``.class_names``, ``.file_paths``, ``len()``) yielding
    ``(x, y)``: ``x`` float32 ``(B, *image_size, C)`` with C = 1/3/4 for
    ``color_mode='grayscale'/'rgb'/'rgba'``; ``y`` per ``label_mode`` ('int' int32 ``(B,)``,
    'binary' float32 ``(B, 1)``, 'categorical' float32 ``(B, classes)``, None: no labels).
    Images are resized (``crop_to_aspect_ratio`` crops the centred window of the target aspect
    ratio first); an unreadable image raises ``ValueError`` naming its file when its batch is
    read.

    Example:
        >>> train, val = image_dataset_from_directory("dogs-vs-cats/train", image_size=(150, 150),
        ...     validation_split=0.2, subset="both", seed=1337, batch_size=32)
        >>> train.class_names
        ['cats', 'dogs']
    """
    _check_options(label_mode, color_mode, interpolation, batch_size)
    _check_split(validation_split, subset, shuffle, seed)
    size = _image_size(image_size)
    paths, label_array, names = list_image_files(directory, labels, class_names,
                                                 IMAGE_FORMATS, follow_links)
    if labels is None or label_mode is None:
        label_array, label_mode = None, None
    if label_mode == "binary" and len(names or ()) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes, got {names}")
    if verbose:
        found = f"Found {len(paths)} files"
        print(found + "." if names is None else f"{found} belonging to {len(names)} classes.")
    if shuffle:
        order = np.arange(len(paths))
        np.random.RandomState(np.random.randint(1_000_000) if seed is None else seed).shuffle(order)
        paths = [paths[i] for i in order]
        label_array = None if label_array is None else label_array[order]
    num_val = int(validation_split * len(paths)) if validation_split else 0

    def make(which: str | None) -> ImageDataset:
        part = slice(None)
        if which == "training":
            part = slice(0, len(paths) - num_val)
        elif which == "validation":
            part = slice(len(paths) - num_val, None)
        subset_paths = paths[part]
        if not subset_paths:
            raise ValueError(
                f"No {which + ' ' if which else ''}images found in directory {directory}. "
                f"Allowed formats: {IMAGE_FORMATS}"
            )
        if verbose and which:
            print(f"Using {len(subset_paths)} files for {which}.")
        return ImageDataset(
            subset_paths, None if label_array is None else label_array[part], label_mode, names,
            channels=_CHANNELS[color_mode], image_size=size, batch_size=batch_size,
            shuffle=shuffle and not (subset == "both" and which == "validation"), seed=seed,
            interpolation=interpolation, crop_to_aspect_ratio=crop_to_aspect_ratio,
        )

    if subset == "both":
        return make("training"), make("validation")
    return make(subset)
