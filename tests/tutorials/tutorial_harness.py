"""Test harness for the tutorial programs: data stand-ins and shorter runs. NOT tutorial code.

Each program in ``programs/`` is a public tutorial transcribed with only its imports changed,
plus lines marked ``# cnnlab harness`` that call this module:

- ``epochs(n)``, ``steps(n)``: ``n``, capped by ``$TUTORIAL_EPOCHS`` / ``$TUTORIAL_STEPS`` (the
  test suite runs 1-2 epochs of a few steps; unset, the tutorial's own numbers are used);
- ``count(n)``: a number of images or samples scaled by ``$TUTORIAL_SCALE`` (default 1);
- ``use_mnist_standin()``: ``mnist.load_data()`` returns a subset of the real Fashion-MNIST
  (same dtype and per-image shape as MNIST; sizes ``count(60000)``/``count(10000)``), since
  MNIST cannot be downloaded here;
- ``use_cifar10_standin()``: ``cifar10.load_data()`` returns learnable synthetic 32x32x3 images
  of 10 classes (CIFAR-10's dtypes and shapes);
- ``make_dogs_vs_cats(folder, ...)``: a folder of small synthetic JPEG files named like
  Kaggle's Dogs vs Cats (``cat.0.jpg`` ...); "cats" are warm with horizontal stripes, "dogs"
  cool with vertical stripes, so a convnet can learn them;
- ``cache_image(fname)``: put a synthetic photo where ``keras.utils.get_file`` finds it (the
  Keras cache, ``$KERAS_HOME/datasets``) so that the tutorial's ``get_file`` line runs as is;
- ``photo_file(path)`` / ``use_imagenet_class_index_standin()``: the author's local photo and
  Keras's downloaded ImageNet class index (``decode_predictions``), as synthetic stand-ins;
- ``use_cv2_standin()``: a minimal ``cv2`` (imread/resize/applyColorMap/imwrite on Pillow and
  matplotlib) when OpenCV is not installed — the class-activation tutorial uses it.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import numpy as np
from PIL import Image

_RNG = np.random.default_rng(1234)


def _cap(n: int, variable: str) -> int:
    limit = os.environ.get(variable)
    return min(n, int(limit)) if limit else n


def epochs(n: int) -> int:
    """The tutorial's epoch count, capped by ``$TUTORIAL_EPOCHS``."""
    return _cap(n, "TUTORIAL_EPOCHS")


def steps(n: int) -> int:
    """The tutorial's steps (per epoch, or iterations of a loop), capped by ``$TUTORIAL_STEPS``."""
    return _cap(n, "TUTORIAL_STEPS")


def count(n: int) -> int:
    """A sample/image count scaled by ``$TUTORIAL_SCALE`` (at least 1)."""
    return max(1, round(n * float(os.environ.get("TUTORIAL_SCALE", "1"))))


# ------------------------------------------------------------------------------------ arrays
def use_mnist_standin() -> None:
    """``mnist.load_data()`` -> a Fashion-MNIST subset with MNIST's dtypes and shapes."""
    from cnnlab.data.datasets import fashion_mnist, mnist
    from cnnlab.keras.datasets import mnist as keras_mnist

    def load_data(path: str | None = None) -> tuple:
        (x, y), (xt, yt) = fashion_mnist.load_data()
        n, nt = count(60000), count(10000)
        return (x[:n], y[:n]), (xt[:nt], yt[:nt])

    mnist.load_data = keras_mnist.load_data = load_data


def _cifar_like(n: int) -> tuple[np.ndarray, np.ndarray]:
    labels = _RNG.integers(0, 10, size=n)
    hues = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1],
                     [0, 1, 1], [1, .5, 0], [.5, 0, 1], [.5, .5, .5], [0, .5, 1]])
    yy, xx = np.mgrid[0:32, 0:32]
    images = np.empty((n, 32, 32, 3), np.uint8)
    for i, c in enumerate(labels):
        stripes = (np.sin((xx if c % 2 else yy) * (0.4 + 0.1 * (c // 2))) + 1) / 2
        img = stripes[..., None] * hues[c] * 200 + _RNG.normal(0, 20, (32, 32, 3)) + 20
        images[i] = np.clip(img, 0, 255)
    return images, labels.astype(np.uint8).reshape(-1, 1)


def use_cifar10_standin() -> None:
    """``cifar10.load_data()`` -> learnable synthetic images with CIFAR-10's dtypes/shapes."""
    from cnnlab.data.datasets import cifar10
    from cnnlab.keras.datasets import cifar10 as keras_cifar10

    def load_data() -> tuple:
        return _cifar_like(count(50000)), _cifar_like(count(10000))

    cifar10.load_data = keras_cifar10.load_data = load_data


# ------------------------------------------------------------------------------------ images
def synthetic_photo(label: int, size: tuple[int, int] = (72, 64)) -> Image.Image:
    """A small RGB picture of class ``label`` (0 = "cat", 1 = "dog")."""
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width]
    period = _RNG.uniform(5, 9)
    phase = _RNG.uniform(0, 2 * np.pi)
    wave = (np.sin((yy if label == 0 else xx) * 2 * np.pi / period + phase) + 1) / 2
    colour = np.array([200, 90, 40]) if label == 0 else np.array([40, 110, 200])
    img = wave[..., None] * colour + _RNG.normal(0, 18, (height, width, 3)) + 30
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def make_dogs_vs_cats(folder: str | os.PathLike, per_class: int,
                      pattern: str = "{animal}.{i}.jpg") -> Path:
    """Write ``per_class`` JPEG files per animal into ``folder`` (Kaggle's flat layout by
    default; ``pattern`` may hold sub-folders, e.g. ``"{Animal}/{i}.jpg"``)."""
    root = Path(folder)
    for label, animal in enumerate(("cat", "dog")):
        for i in range(per_class):
            path = root / pattern.format(animal=animal, Animal=animal.capitalize(), i=i)
            path.parent.mkdir(parents=True, exist_ok=True)
            size = (int(_RNG.integers(56, 90)), int(_RNG.integers(56, 90)))
            synthetic_photo(label, size).save(path, quality=90)
    return root


def make_pet_images(per_class: int) -> Path:
    """Microsoft's ``PetImages/{Cat,Dog}/<i>.jpg`` layout (keras.io "Image classification from
    scratch"): ``per_class`` synthetic JPEGs per class, plus the file the tutorial predicts on
    (``Cat/6779.jpg``) and two files without a JFIF header, which the tutorial deletes."""
    root = make_dogs_vs_cats("PetImages", per_class, pattern="{Animal}/{i}.jpg")
    synthetic_photo(0).save(root / "Cat" / "6779.jpg", quality=90)
    for animal in ("Cat", "Dog"):
        synthetic_photo(0).save(root / animal / "666.jpg", format="PNG")  # a broken "JPEG"
    return root


def cache_image(fname: str, label: int = 0, size: tuple[int, int] = (320, 240)) -> str:
    """Place a synthetic photo at ``$KERAS_HOME/datasets/fname`` (where ``get_file`` looks)."""
    root = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets"
    root.mkdir(parents=True, exist_ok=True)
    synthetic_photo(label, size).save(root / fname, quality=90)
    return str(root / fname)


def photo_file(path: str | os.PathLike, label: int = 0, size: tuple[int, int] = (400, 300)) -> str:
    """Write a synthetic photo at ``path`` (for a tutorial that reads the author's picture)."""
    synthetic_photo(label, size).save(path, quality=90)
    return str(path)


def use_imagenet_class_index_standin() -> None:
    """An ImageNet class index in Keras's JSON format for ``decode_predictions`` (Keras
    downloads the real one into ``~/.keras/models``): the three elephant classes DLwP uses
    under their real ids and names, ``class_<i>`` elsewhere."""
    import json

    real = {101: ["n01871265", "tusker"], 385: ["n02504013", "Indian_elephant"],
            386: ["n02504458", "African_elephant"]}
    index = {str(i): real.get(i, [f"n{i:08d}", f"class_{i}"]) for i in range(1000)}
    folder = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "imagenet_class_index.json").write_text(json.dumps(index))
    os.environ["CNNLAB_IMAGENET_CLASS_INDEX"] = str(folder / "imagenet_class_index.json")


# ------------------------------------------------------------------------------------ cv2
def use_cv2_standin() -> None:
    """Provide ``import cv2`` (the four calls of DLwP 5.4) when OpenCV is not installed."""
    try:
        import cv2  # noqa: F401
        return
    except ImportError:
        pass
    from matplotlib import colormaps

    cv2 = types.ModuleType("cv2")
    cv2.COLORMAP_JET = 2

    def imread(path: str) -> np.ndarray:
        return np.asarray(Image.open(path).convert("RGB"))[:, :, ::-1].copy()

    def resize(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        image = Image.fromarray(np.asarray(array, np.float32), mode="F")
        return np.asarray(image.resize(size, Image.BILINEAR), np.float32)

    def applyColorMap(array: np.ndarray, colormap: int) -> np.ndarray:  # noqa: N802
        rgb = colormaps["jet"](np.asarray(array, np.uint8))[..., :3] * 255
        return rgb[..., ::-1].astype(np.uint8)

    def imwrite(path: str, array: np.ndarray) -> bool:
        pixels = np.clip(np.asarray(array), 0, 255).astype(np.uint8)[:, :, ::-1]
        Image.fromarray(pixels).save(path)
        return True

    cv2.imread, cv2.resize, cv2.applyColorMap, cv2.imwrite = imread, resize, applyColorMap, imwrite
    sys.modules["cv2"] = cv2
