"""Draw the pictures of the user guide (docs/guide/img/*.png) with cnnlab itself.

Run from the repository root (about 20 s on a quiet 2-core CPU)::

    .venv/bin/python docs/guide/make_pictures.py              # writes docs/guide/img/
    .venv/bin/python docs/guide/make_pictures.py --quick --out /tmp/pictures   # a smoke run

The pictures come from the lecture's LeNet trained on the first 6,000 Fashion-MNIST images
for 10 epochs (seed 0); ``--quick`` trains on 1,000 images for 2 epochs (the pictures are
uglier, the code path the same; tests/docs/test_guide.py runs it that way). Everything is
drawn by ``cnnlab.plots`` from ``cnnlab.explain`` results, as the guide's snippets do.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

from cnnlab import Sequential, explain, layers, plots, set_random_seed, zoo  # noqa: E402
from cnnlab.data import ImageDataGenerator  # noqa: E402
from cnnlab.data.catalog import load_dataset  # noqa: E402
from cnnlab.plots.images import write_steps  # noqa: E402

LECTURE_IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0],
                 [0, 1, 1, 0, 0]]
LECTURE_FILTER = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


def arithmetic_pictures(out: Path) -> None:
    """Convolution and pooling step by step (no model needed)."""
    trace = explain.convolve_steps(LECTURE_IMAGE, LECTURE_FILTER)
    assert trace.output.tolist() == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    write_steps(trace, out / "conv_steps.png")
    write_steps(explain.convolve_steps(LECTURE_IMAGE, LECTURE_FILTER, stride=2, padding="same"),
                out / "conv_steps_same_stride2.png")
    write_steps(explain.pool_steps([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], 2),
                out / "pool_steps.png")


def kernel_pictures(out: Path, image: np.ndarray) -> None:
    """Image kernels on one Fashion-MNIST image: two before/after figures and all kernels."""
    pixels = (image[..., 0] * 255).round().astype(np.uint8)  # (28, 28) uint8
    plots.kernel_before_after(pixels, "sobel_left", out / "kernel_sobel_left.png")
    plots.kernel_before_after(pixels, "sharpen", out / "kernel_sharpen.png")
    names = list(explain.KERNELS)
    plots.image_grid([explain.apply_kernel(pixels, name) for name in names], names,
                     out / "kernels_all.png", cols=5)


def model_pictures(out: Path, data, train_images: int, epochs: int) -> None:
    """Pictures that need a trained model: curves, confusion, filters, maps, Grad-CAM."""
    set_random_seed(0)
    x, y = data.x_train[:train_images], data.y_train[:train_images]
    x_test, y_test = data.x_test[:2000], data.y_test[:2000]
    names = data.class_names
    model = zoo.lenet_lecture(input_shape=(28, 28, 1), classes=10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=128, epochs=epochs, validation_split=0.2, verbose=2,
                        seed=0)
    plots.training_curves(history, out / "training_curves.png")
    probabilities = model.predict(x_test, verbose=0)
    plots.confusion_matrix(y_test, probabilities, names, out / "confusion_matrix.png")
    plots.misclassified_grid(x_test, y_test, probabilities, names, out / "misclassified.png",
                             max_images=16)
    plots.filters_grid(model, 0, out / "filters.png")
    plots.feature_maps_grid(model, 0, x_test[0], out / "feature_maps.png")
    plots.feature_maps_grid(model, 2, x_test[0], out / "feature_maps_conv2.png", max_maps=25)
    plots.grad_cam_overlay(model, x_test[:8], out / "grad_cam.png", class_names=names,
                           y_true=y_test[:8], method="hirescam")
    maps = explain.saliency(model, x_test[:4])
    maps = maps / maps.max(axis=(1, 2), keepdims=True)  # each map scaled to [0, 1]
    plots.image_grid([*x_test[:4], *maps], [f"input: {names[i]}" for i in y_test[:4]]
                     + ["saliency"] * 4, out / "saliency.png", cols=4)


def overfitting_picture(out: Path, data, train_images: int) -> None:
    """Curves of a net that overfits: the Keras MNIST example on a few hundred images."""
    set_random_seed(0)
    model = zoo.keras_mnist_example()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(data.x_train[:train_images], data.y_train[:train_images], batch_size=32,
                        epochs=12, validation_split=0.5, verbose=0, seed=0)
    plots.training_curves(history, out / "training_curves_overfit.png")


def augmentation_pictures(out: Path, image: np.ndarray) -> None:
    generator = ImageDataGenerator(rotation_range=20, width_shift_range=0.1,
                                   height_shift_range=0.1, zoom_range=0.1, horizontal_flip=True)
    plots.augmentation_preview(generator, image, out / "augmentation_preview.png", n=16, seed=0)
    set_random_seed(0)
    augment = Sequential([layers.Input((28, 28, 1)), layers.RandomFlip("horizontal"),
                          layers.RandomRotation(0.1), layers.RandomZoom(0.2),
                          layers.RandomContrast(0.5, value_range=(0, 1))])
    batch = np.repeat(image[None], 8, axis=0)
    shown = augment(batch, training=True).numpy()
    plots.image_grid(shown, None, out / "augmentation_layers.png", cols=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "img"),
                        help="folder for the PNG files (default: docs/guide/img)")
    parser.add_argument("--quick", action="store_true",
                        help="1,000 training images, 2 epochs (a smoke run)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_dataset("fashion_mnist")
    image = data.x_test[0]  # an ankle boot, (28, 28, 1) in [0, 1]
    arithmetic_pictures(out)
    kernel_pictures(out, image)
    augmentation_pictures(out, image)
    model_pictures(out, data, 1000 if args.quick else 6000, 2 if args.quick else 10)
    overfitting_picture(out, data, 200 if args.quick else 1200)
    for path in sorted(out.glob("*.png")):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
