"""The explain figures: step-by-step convolution/pooling, an image kernel before and after (read
back pixel by pixel), and class names in the Grad-CAM and misclassified titles."""

import io

import numpy as np
import pytest
from PIL import Image

import cnnlab
from cnnlab.explain import convolve_steps, pool_steps
from cnnlab.layers import Conv2D, Dense, Flatten, Input
from cnnlab.plots._figure import DPI, save_png
from cnnlab.plots.classification import misclassified_figure
from cnnlab.plots.images import (
    grad_cam_figure,
    kernel_figure,
    steps_figure,
    steps_figure_inches,
    write_steps,
)

LECTURE_IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0],
                 [0, 1, 1, 0, 0]]
LECTURE_FILTER = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def correlate_valid(image, kernel, stride=1):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    rows = (image.shape[0] - kh) // stride + 1
    cols = (image.shape[1] - kw) // stride + 1
    return np.array([[np.sum(image[r * stride:r * stride + kh, c * stride:c * stride + kw] * kernel)
                      for c in range(cols)] for r in range(rows)])


def test_steps_figure_draws_the_lecture_outputs_from_the_steps():
    trace = convolve_steps(LECTURE_IMAGE, LECTURE_FILTER)
    expected = correlate_valid(LECTURE_IMAGE, LECTURE_FILTER)
    np.testing.assert_array_equal(expected, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    fig = steps_figure(trace)
    header, body = fig.subfigs
    image_ax, filter_ax, output_ax = header.axes
    assert texts(output_ax) == ["4", "3", "4", "2", "4", "3", "2", "3", "4"]
    assert texts(image_ax) == [str(v) for row in LECTURE_IMAGE for v in row]
    assert texts(filter_ax) == [str(v) for row in LECTURE_FILTER for v in row]
    steps = body.subfigs
    assert len(steps) == 9
    for n, (cell, value) in enumerate(zip(steps, expected.ravel(), strict=True)):
        row, col = divmod(n, 3)
        arithmetic = cell._supxlabel.get_text().replace("\n", " ")
        assert arithmetic.endswith(f"= {int(value)}")
        patch = np.asarray(LECTURE_IMAGE)[row:row + 3, col:col + 3]
        terms = " + ".join(f"{a}·{b}" for a, b in zip(patch.ravel(), np.ravel(LECTURE_FILTER),
                                                      strict=True))
        assert arithmetic == f"{terms} = {int(value)}"
        left, right = cell.axes
        box = left.patches[0]                         # the window, outlined on the input
        assert (box.get_x(), box.get_y(), box.get_width()) == (col - 0.5, row - 0.5, 3)
        filled = expected.ravel()[:n + 1]             # the output so far, in reading order
        assert texts(right) == [str(int(v)) for v in filled]


def test_steps_png_size_and_max_steps(tmp_path):
    trace = convolve_steps(LECTURE_IMAGE, LECTURE_FILTER)
    width, height = steps_figure_inches(trace)
    # S = clip(0.32·5, 1.6, 3.2) = 1.6; 3 steps per row, 2 panels each: 2·3·1.6 = 9.6 inches.
    # The arithmetic (61 characters) wraps at 2·1.6·13 = 41 characters: 2 lines.
    assert (width, height) == (9.6, round(1.6 + 0.5 + 3 * (1.6 + 0.35 + 0.13 * 2), 2))
    path = write_steps(trace, tmp_path / "conv.png")
    assert Image.open(path).size == (round(width * DPI), round(height * DPI))
    few = steps_figure(trace, max_steps=4)
    assert len(few.subfigs[1].subfigs) - sum(not s.get_visible()
                                             for s in few.subfigs[1].subfigs) == 4
    assert "first 4 of 9 steps" in few.subfigs[0]._suptitle.get_text()
    with pytest.raises(ValueError, match="max_steps"):
        steps_figure(trace, max_steps=0)


def test_steps_figure_of_pooling_shows_the_pooled_values():
    image = np.array([[1, 3, 2, 4], [5, 6, 1, 0], [7, 2, 9, 8], [3, 4, 1, 2]])
    trace = pool_steps(image, 2, stride=1)
    expected = np.array([[image[r:r + 2, c:c + 2].max() for c in range(3)] for r in range(3)])
    fig = steps_figure(trace)
    header = fig.subfigs[0]
    assert len(header.axes) == 2                       # no filter panel for pooling
    assert texts(header.axes[1]) == [str(v) for v in expected.ravel()]
    last = fig.subfigs[1].subfigs[-1]
    assert last._supxlabel.get_text() == "max(9, 8, 1, 2) = 9"


def png_pixels(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return np.asarray(Image.open(buffer).convert("RGB"))


def panel_values(fig, ax, shape):
    """The PNG's gray value at the centre of every drawn image pixel of ``ax``."""
    pixels = png_pixels(fig)
    fig.canvas.draw()
    h, w = shape
    centres = np.array([(j, i) for i in range(h) for j in range(w)], dtype=float)
    xy = ax.transData.transform(centres)
    cols = np.floor(xy[:, 0]).astype(int)
    rows = pixels.shape[0] - 1 - np.floor(xy[:, 1]).astype(int)
    return pixels[rows, cols, 0].reshape(h, w)


def test_kernel_figure_after_panel_is_the_hand_computed_filter(tmp_path):
    image = np.zeros((6, 7), dtype=np.uint8)
    image[:, :3] = 100                                   # a bright left part, edge at column 3
    kernel = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    padded = np.pad(image.astype(float), 1)
    expected = np.clip(correlate_valid(padded, kernel), 0, 255).astype(np.uint8)
    assert expected[:, 0].tolist() == [255] * 6          # 0 → 100: 3·100 (top/bottom rows) or 4·100
    assert expected[:, 1:].max() == 0                    # bright to dark is negative: clipped
    fig = kernel_figure(image, kernel)
    before, _, after = fig.axes
    np.testing.assert_array_equal(after.images[0].get_array(), expected / 255)
    np.testing.assert_array_equal(panel_values(fig, after, image.shape), expected)
    np.testing.assert_array_equal(panel_values(fig, before, image.shape), image)
    path = save_png(fig, tmp_path / "k.png")
    assert Image.open(path).size == (1200, 400)          # 3 panels of 4 inches at 100 dpi


def test_large_images_get_larger_panels(tmp_path):
    image = np.zeros((600, 500), dtype=np.uint8)
    fig = kernel_figure(image, "blur")
    # 600/100 + 0.5 = 6.5 inches a panel
    assert tuple(fig.get_size_inches()) == (19.5, 6.5)


@pytest.mark.filterwarnings("ignore:grad_cam")  # a random model may leave a map blank
def test_grad_cam_and_misclassified_titles_use_class_names():
    model = cnnlab.Sequential([Input((6, 6, 1)), Conv2D(2, 3, activation="relu"), Flatten(),
                               Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((2, 6, 6, 1)).astype(np.float32)
    names = ["T-shirt/top", "Trouser", "Ankle boot"]
    fig = grad_cam_figure(model, x, class_names=names, y_true=[2, 0])
    predicted = model.predict(x, verbose=0).argmax(1)
    titles = [ax.get_title() for ax in fig.axes]
    for i, title in enumerate(titles):
        assert title.startswith(f"true: {names[[2, 0][i]]}\npredicted: {names[predicted[i]]}")
    wrong = misclassified_figure(x, [2, 0], [1, 0], names)
    assert wrong.axes[0].get_title() == "true: Ankle boot\npred: Trouser"
    plain = misclassified_figure(x, [2, 0], [1, 0], None)
    assert plain.axes[0].get_title() == "true: 2\npred: 1"

