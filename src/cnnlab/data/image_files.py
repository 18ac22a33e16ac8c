"""Keras's image file helpers: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``.

Images are PIL images at the file boundary and NumPy arrays ``(H, W, C)`` (channels-last)
inside, as in ``keras.preprocessing.image``.

A damaged or hostile image file is a ``ValueError`` naming it, whatever Pillow raised
(:data:`IMAGE_ERRORS`), and an image of more than ``PIL.Image.MAX_IMAGE_PIXELS`` pixels (about
89 million; Pillow itself only warns up to twice that) is refused before it is decoded, so a
small file claiming 50000x50000 pixels takes no memory. Set ``MAX_IMAGE_PIXELS`` (``None``: no
limit) to read larger images.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import numpy as np
from PIL import Image

from cnnlab.files.atomic import atomic_write

_RESAMPLE = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
             "lanczos": Image.LANCZOS, "box": Image.BOX, "hamming": Image.HAMMING}
_COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
# What Pillow raises for damaged files: OSError (truncated, unidentified), SyntaxError (a broken
# PNG chunk), DecompressionBombError, and a few plugins' internal errors.
IMAGE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError, KeyError,
                TypeError, ZeroDivisionError, MemoryError, Image.DecompressionBombError)


def check_pixels(img: Image.Image, path: Any) -> None:
    """``ValueError`` if ``img`` (opened, not decoded) has more than ``MAX_IMAGE_PIXELS``."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and img.width * img.height > limit:
        raise ValueError(f"image {os.fspath(path)!r} claims {img.width}x{img.height} pixels, "
                         f"more than PIL.Image.MAX_IMAGE_PIXELS={limit}; refused (possible "
                         f"decompression bomb)")


def load_img(path: str | os.PathLike, grayscale: bool = False, color_mode: str = "rgb",
             target_size: tuple[int, int] | None = None, interpolation: str = "nearest",
             keep_aspect_ratio: bool = False) -> Image.Image:
    """Open an image file as a PIL image in ``color_mode``, resized to ``target_size``
    ``(height, width)`` with ``interpolation``; ``keep_aspect_ratio`` crops the centre first."""
    if grayscale:
        color_mode = "grayscale"
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"load_img: `color_mode` must be one of {sorted(_COLOR_MODES)}, got "
                         f"{color_mode!r}")
    if interpolation not in _RESAMPLE:
        raise ValueError(f"load_img: `interpolation` must be one of {sorted(_RESAMPLE)}, got "
                         f"{interpolation!r}")
    try:
        with Image.open(path) as opened:
            check_pixels(opened, path)
            img = opened.convert(_COLOR_MODES[color_mode])
    except IMAGE_ERRORS as err:
        raise ValueError(f"load_img: could not read image {os.fspath(path)!r}: "
                         f"{type(err).__name__}: {err}") from err
    if target_size is not None:
        height, width = target_size
        if keep_aspect_ratio:
            crop_w = min(img.width, int(img.height * width / height))
            crop_h = min(img.height, int(img.width * height / width))
            left, top = (img.width - crop_w) // 2, (img.height - crop_h) // 2
            img = img.crop((left, top, left + crop_w, top + crop_h))
        if img.size != (width, height):
            img = img.resize((width, height), _RESAMPLE[interpolation])
    return img


def img_to_array(img: Image.Image, data_format: str | None = None,
                 dtype: str = "float32") -> np.ndarray:
    """PIL image -> array ``(H, W, C)`` (``(C, H, W)`` for ``'channels_first'``)."""
    array = np.asarray(img, dtype=dtype)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"img_to_array: expected an image, got an array of shape {array.shape}")
    return array.transpose(2, 0, 1).copy() if data_format == "channels_first" else array.copy()


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True,
                 dtype: str = "float32") -> Image.Image:
    """Array ``(H, W, C)`` with C in {1, 3, 4} -> PIL image; ``scale`` maps min..max to
    0..255 (Keras's rule)."""
    array = np.asarray(x, dtype=dtype)
    if array.ndim != 3:
        raise ValueError(f"array_to_img: expected an array of rank 3 (H, W, C), got shape "
                         f"{array.shape}")
    if data_format == "channels_first":
        array = array.transpose(1, 2, 0)
    if scale:
        array = array - array.min()
        top = array.max()
        if top != 0:
            array = array / top
        array = array * 255
    channels = array.shape[-1]
    modes = {1: "L", 3: "RGB", 4: "RGBA"}
    if channels not in modes:
        raise ValueError(f"array_to_img: expected 1, 3 or 4 channels, got {channels}")
    pixels = np.clip(array, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels, modes[channels])


def save_img(path: str | os.PathLike, x: Any, data_format: str | None = None,
             file_format: str | None = None, scale: bool = True, **kwargs: Any) -> None:
    """Write an array as an image file (atomically: a temporary file, then a rename)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    fmt = file_format or os.path.splitext(os.fspath(path))[1].lstrip(".").upper() or "PNG"
    fmt = "JPEG" if fmt == "JPG" else fmt
    with atomic_write(path) as handle:
        img.save(handle, format=fmt, **kwargs)
