"""Plots: the pure numbers (overfitting epoch, confusion counts, display scaling) against hand
values and NumPy, and every figure written as a valid PNG of the documented pixel size."""

import os

import numpy as np
import pytest
from PIL import Image

import cnnlab
from cnnlab import plots
from cnnlab.callbacks import History
from cnnlab.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from cnnlab.plots._figure import new_figure, to_display


@pytest.mark.parametrize("val_loss,patience,expected", [
    ([0.9, 0.7, 0.6, 0.65, 0.8], None, 3),
    ([0.9, 0.7, 0.6, 0.65, 0.8], 1, 3),
    ([0.9, 0.7, 0.6, 0.65, 0.8], 2, 3),
    ([0.9, 0.7, 0.6, 0.65, 0.8], 3, None),        # only two epochs follow the minimum
    ([1.0, 0.8, 0.85, 0.7, 0.72, 0.75], None, 4),  # the global minimum
    ([1.0, 0.8, 0.85, 0.7, 0.72, 0.75], 1, 2),     # the first upturn
    ([1.0, 0.8, 0.85, 0.7, 0.72, 0.75], 2, 4),     # noise of one epoch is ignored
    ([3, 2, 2, 3], None, 3),                      # a plateau turns up at its end
    ([3, 2, 2, 2], None, None),                   # never rises
    ([1.0, 0.5, 0.25], None, None),
    ([0.4], None, None),
    ([], None, None),
])
def test_overfitting_epoch(val_loss, patience, expected):
    assert plots.overfitting_epoch(val_loss, patience) == expected


def test_overfitting_epoch_rejects_bad_patience():
    with pytest.raises(ValueError, match="patience"):
        plots.overfitting_epoch([1, 2], patience=0)


def test_confusion_counts_match_numpy():
    rng = np.random.default_rng(0)
    true, pred = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    reference, _, _ = np.histogram2d(true, pred, bins=[np.arange(6)] * 2)
    np.testing.assert_array_equal(plots.confusion_counts(true, pred), reference)
    one_hot, probabilities = np.eye(5)[true], rng.random((200, 5))
    np.testing.assert_array_equal(plots.confusion_counts(one_hot, probabilities),
                                  plots.confusion_counts(true, probabilities.argmax(1)))
    assert plots.confusion_counts([0, 1], [1, 1], num_classes=4).shape == (4, 4)
    with pytest.raises(ValueError, match="one label per sample"):
        plots.confusion_counts([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="below num_classes=2"):
        plots.confusion_counts([0, 3], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="integer labels"):
        plots.confusion_counts([0.5, 1], [0, 1])


def test_display_scaling_rules():
    np.testing.assert_allclose(to_display(np.array([[0, 255]], np.uint8)), [[0.0, 1.0]])
    np.testing.assert_allclose(to_display(np.array([[0.2, 0.4]])), [[0.2, 0.4]])
    np.testing.assert_allclose(to_display(np.array([[0.0, 127.5]])), [[0.0, 0.5]])
    np.testing.assert_allclose(to_display(np.array([[-2.0, 0.0, 2.0]])), [[0.0, 0.5, 1.0]])
    assert to_display(np.ones((3, 4, 1))).shape == (3, 4)
    with pytest.raises(ValueError, match="expected an image"):
        to_display(np.ones((3, 4, 2)))


def png_size(path):
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()
    with Image.open(path) as image:
        return image.size


def test_training_curves_from_history_and_dict(tmp_path):
    history = History()
    history.history = {"loss": [1.0, 0.7, 0.5], "val_loss": [1.1, 0.9, 1.0],
                       "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.4, 0.6, 0.55]}
    path = plots.training_curves(history, tmp_path / "sub" / "curves.png")
    assert path == str(tmp_path / "sub" / "curves.png")
    assert png_size(path) == (1000, 400)                       # two 500x400 panels
    assert png_size(plots.training_curves({"loss": [1, 0.5]}, tmp_path / "loss.png")) \
        == (500, 400)
    assert sorted(os.listdir(tmp_path / "sub")) == ["curves.png"]  # no temporary file left
    with pytest.raises(ValueError, match="'loss'"):
        plots.training_curves({"accuracy": [0.5]}, tmp_path / "bad.png")


def test_confusion_matrix_and_drawing_into_a_given_axes(tmp_path):
    path = plots.confusion_matrix([0, 1, 2, 1], [0, 2, 2, 1], ["a", "b", "c"],
                                  tmp_path / "cm.png")
    assert png_size(path) == (380, 380)                        # 2 + 0.6·3 inches at 100 dpi
    ax = new_figure(4, 4).add_subplot()
    counts = plots.confusion_counts([0, 1, 2, 1], [0, 2, 2, 1])
    assert plots.draw_confusion_matrix(ax, counts, normalize=True) is ax
    assert ax.get_title() == "accuracy 0.750 on 4 samples"


def test_misclassified_grid_picks_the_errors(tmp_path):
    x = np.random.default_rng(1).random((10, 8, 8, 1))
    true = np.arange(10) % 3
    pred = true.copy()
    pred[[1, 4, 6, 7, 9]] = (pred[[1, 4, 6, 7, 9]] + 1) % 3
    path = plots.misclassified_grid(x, true, pred, ["a", "b", "c"], tmp_path / "m.png",
                                    max_images=4)
    assert png_size(path) == (320, 320)                        # 4 cells of 160x160
    none = plots.misclassified_grid(x, true, true, None, tmp_path / "none.png")
    assert png_size(none) == (160, 160)


def test_image_grid(tmp_path):
    images = np.random.default_rng(2).integers(0, 256, (6, 10, 12, 3), dtype=np.uint8)
    assert png_size(plots.image_grid(images, list("abcdef"), tmp_path / "g.png", cols=3)) \
        == (480, 320)
    with pytest.raises(ValueError, match="one entry per image"):
        plots.image_grid(images, ["a"], tmp_path / "bad.png")


@pytest.fixture
def cnn():
    return cnnlab.Sequential([Input((12, 12, 3)), Conv2D(8, 3, activation="relu"),
                              MaxPooling2D(2), Conv2D(4, 3, activation="relu"), Flatten(),
                              Dense(3, activation="softmax")])


def test_model_pictures(tmp_path, cnn):
    x = np.random.default_rng(3).random((3, 12, 12, 3)).astype(np.float32)
    assert png_size(plots.filters_grid(cnn, 0, tmp_path / "f.png")) == (480, 480)  # 8 -> 3x3
    assert png_size(plots.filters_grid(cnn, 2, tmp_path / "f2.png", max_filters=2)) \
        == (320, 160)
    assert png_size(plots.feature_maps_grid(cnn, "conv2d_1", x, tmp_path / "fm.png")) \
        == (320, 320)
    assert png_size(plots.grad_cam_overlay(cnn, x, tmp_path / "gc.png",
                                           class_names=["x", "y", "z"])) == (320, 320)
    with pytest.raises(ValueError, match="no convolution kernel"):
        plots.filters_grid(cnn, "dense", tmp_path / "bad.png")
    with pytest.raises(ValueError, match=r"\(H, W, C\) output"):
        plots.feature_maps_grid(cnn, "flatten", x, tmp_path / "bad.png")


def test_kernel_before_after(tmp_path):
    image = np.random.default_rng(4).integers(0, 256, (20, 24), dtype=np.uint8)
    assert png_size(plots.kernel_before_after(image, "sobel-left", tmp_path / "k.png")) \
        == (1200, 400)


class StandInGenerator:
    """Like ImageDataGenerator.random_transform: one image in, one transformed image out."""

    def __init__(self):
        self.calls = []

    def random_transform(self, x, seed=None):
        self.calls.append((float(x[0, 0, 0]), seed))
        shift = np.random.default_rng(seed).integers(0, x.shape[1])
        return np.roll(x, shift, axis=1).astype(np.float32)


def test_augmentation_preview_uses_each_seed_and_is_reproducible(tmp_path):
    images = np.zeros((2, 10, 10, 3), dtype=np.uint8)
    images[0, 0, 0], images[1, 0, 0] = 10, 20
    images[:, 3:6, :2] = 255
    generator = StandInGenerator()
    first = plots.augmentation_preview(generator, images, tmp_path / "a.png", n=6, seed=5)
    assert png_size(first) == (480, 320)                       # 6 cells -> 3 columns x 2 rows
    assert generator.calls == [(10.0, 5), (20.0, 6), (10.0, 7), (20.0, 8), (10.0, 9),
                               (20.0, 10)]
    again = plots.augmentation_preview(StandInGenerator(), images, tmp_path / "b.png", n=6,
                                       seed=5)
    other = plots.augmentation_preview(StandInGenerator(), images, tmp_path / "c.png", n=6,
                                       seed=50)
    read = [open(p, "rb").read() for p in (first, again, other)]
    assert read[0] == read[1] and read[0] != read[2]
    single = StandInGenerator()
    plots.augmentation_preview(single, images[0], tmp_path / "d.png", n=2)
    assert single.calls == [(10.0, None), (10.0, None)]
    with pytest.raises(TypeError, match="random_transform"):
        plots.augmentation_preview(object(), images, tmp_path / "e.png")
    with pytest.raises(ValueError, match="`n`"):
        plots.augmentation_preview(generator, images, tmp_path / "e.png", n=0)
