"""``cnnlab explain`` and ``cnnlab kernel`` as users run them, against NumPy."""

import json
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli
from PIL import Image

from cnnlab.explain import convolve_steps
from cnnlab.plots.images import kernel_figure, steps_figure_inches

ROOT = Path(__file__).resolve().parents[2]
LECTURE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]


cnnlab = run_cli  # in this process; subprocess=True for a real `python -m cnnlab`


def output_block(text: str) -> np.ndarray:
    """The matrix printed after the last 'Output (HxW):' line."""
    lines = text.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("Output (") and
                line.endswith("):") and "<-" not in line)
    rows = [line.split() for line in lines[start + 1:] if line.strip()]
    return np.array(rows, dtype=float)


def pool_by_hand(image, size, stride):
    rows = (image.shape[0] - size) // stride + 1
    cols = (image.shape[1] - size) // stride + 1
    return np.array([[image[r * stride:r * stride + size, c * stride:c * stride + size].max()
                      for c in range(cols)] for r in range(rows)])


def test_pool_stride_1_is_honoured_and_the_default_is_the_pool_size(tmp_path):
    image = np.array([[1, 3, 2, 4], [5, 6, 1, 0], [7, 2, 9, 8], [3, 4, 1, 2]])
    text = json.dumps(image.tolist())
    strided = cnnlab(tmp_path, "explain", "pool", "--image", text, "--stride", "1").stdout
    assert "stride 1" in strided
    np.testing.assert_array_equal(output_block(strided), pool_by_hand(image, 2, 1))
    assert output_block(strided).shape == (3, 3)
    default = cnnlab(tmp_path, "explain", "pool", "--image", text).stdout
    np.testing.assert_array_equal(output_block(default), pool_by_hand(image, 2, 2))
    conv = cnnlab(tmp_path, "explain", "conv", subprocess=True).stdout  # stride 1; a real process
    np.testing.assert_array_equal(output_block(conv), [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    bad = cnnlab(tmp_path, "explain", "pool", "--stride", "0", ok=False)
    assert bad.returncode == 1 and "--stride must be at least 1, got 0" in bad.stderr
    bad = cnnlab(tmp_path, "explain", "conv", "--kernel", "[[1,", ok=False)
    assert bad.returncode == 1 and "--kernel must be a JSON matrix" in bad.stderr


def test_explain_out_writes_the_step_picture(tmp_path):
    out = cnnlab(tmp_path, "explain", "conv", "--out", "steps.png").stdout
    assert "wrote steps.png" in out
    width, height = steps_figure_inches(convolve_steps(LECTURE, [[1, 0, 1], [0, 1, 0],
                                                                 [1, 0, 1]]))
    assert Image.open(tmp_path / "steps.png").size == (round(width * 100), round(height * 100))
    cnnlab(tmp_path, "explain", "pool", "--stride", "1", "--out", "pool.png", "--max-steps", "4")
    assert Image.open(tmp_path / "pool.png").size[0] == 960   # 3 steps a row, 2 x 1.6 inches


SOBEL_RIGHT = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]


def edge_image(tmp_path: Path) -> np.ndarray:
    image = np.zeros((10, 12, 3), dtype=np.uint8)
    image[:, 6:] = 60                            # dark left, brighter right: sobel-right > 0
    Image.fromarray(image).save(tmp_path / "edge.png")
    return image


def by_hand(gray: np.ndarray, kernel) -> np.ndarray:
    padded = np.pad(gray.astype(float), 1)
    out = np.array([[np.sum(padded[r:r + 3, c:c + 3] * np.asarray(kernel))
                     for c in range(gray.shape[1])] for r in range(gray.shape[0])])
    return np.clip(out, 0, 255).astype(np.uint8)


def after_panel(path: Path, image: np.ndarray, kernel) -> np.ndarray:
    """Read the 'after' panel of the written PNG at the centre of every image pixel (the same
    layout as kernel_figure draws)."""
    fig = kernel_figure(image, kernel)
    fig.canvas.draw()
    after = fig.axes[2]
    pixels = np.asarray(Image.open(path).convert("RGB"))
    h, w = image.shape[:2]
    xy = after.transData.transform([(j, i) for i in range(h) for j in range(w)])
    rows = pixels.shape[0] - 1 - np.floor(xy[:, 1]).astype(int)
    return pixels[rows, np.floor(xy[:, 0]).astype(int), 0].reshape(h, w)


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_kernel_accepts_a_json_matrix_with_negative_numbers(tmp_path, form):
    image = edge_image(tmp_path)
    text = json.dumps(SOBEL_RIGHT)
    args = ["--kernel", text] if form == "separate" else [f"--kernel={text}"]
    out = cnnlab(tmp_path, "kernel", "edge.png", *args).stdout
    path = tmp_path / "edge-custom.png"
    assert f"wrote {path.name}" in out or "edge-custom.png" in out
    assert Image.open(path).size == (1200, 400)       # 3 panels of 400x400 pixels
    expected = by_hand(image[..., 0], SOBEL_RIGHT)
    assert expected[1:-1, 5:7].min() == 240 and expected[:, :5].max() == 0  # 4·60 at the edge
    np.testing.assert_array_equal(after_panel(path, image, np.array(SOBEL_RIGHT)), expected)


def test_named_kernel_figure_and_raw_output(tmp_path):
    image = edge_image(tmp_path)
    cnnlab(tmp_path, "kernel", "edge.png", "--kernel", "sobel-right")
    path = tmp_path / "edge-sobel-right.png"
    np.testing.assert_array_equal(after_panel(path, image, "sobel-right"),
                                  by_hand(image[..., 0], SOBEL_RIGHT))
    cnnlab(tmp_path, "kernel", "edge.png", "--kernel", "sobel-right", "--raw", "--out", "raw.png")
    raw = np.asarray(Image.open(tmp_path / "raw.png"))
    assert raw.shape == (10, 12, 3)
    np.testing.assert_array_equal(raw[..., 0], by_hand(image[..., 0], SOBEL_RIGHT))


@pytest.mark.parametrize("kernel,message", [
    ('[[1,"a"]]', "matrix of numbers"),
    ("[[1,2],[3]]", "rows of equal length"),
    ("[[1,2", "not a valid JSON matrix"),
    ("sobel-lft", "unknown kernel 'sobel-lft'"),
])
def test_bad_kernels_give_one_line_errors(tmp_path, kernel, message):
    edge_image(tmp_path)
    done = cnnlab(tmp_path, "kernel", "edge.png", f"--kernel={kernel}", ok=False)
    assert done.returncode == 1 and message in done.stderr
    assert done.stderr.startswith("cnnlab: error: --kernel:") and done.stderr.count("\n") == 1
