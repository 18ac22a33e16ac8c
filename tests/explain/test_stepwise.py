"""Step-by-step convolution and pooling: the lecture's worked example, and the same numbers as
cnnlab's own layers and plain PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.explain import convolve_steps, pool_steps
from cnnlab.layers import AveragePooling2D, Conv2D, MaxPooling2D

SPEC_IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0],
              [0, 1, 1, 0, 0]]
SPEC_FILTER = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


def test_spec_example_comes_out_with_every_window_written():
    trace = convolve_steps(SPEC_IMAGE, SPEC_FILTER)
    np.testing.assert_array_equal(trace.output, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    assert len(trace.windows) == 9
    first = trace.windows[0]
    assert first.lines == ("1·1 + 1·0 + 1·1 + 0·0 + 1·1 + 1·0 + 0·1 + 0·0 + 1·1 = 4",)
    assert (trace.windows[5].row, trace.windows[5].col, trace.windows[5].top,
            trace.windows[5].left) == (1, 2, 1, 2)
    text = trace.to_text()
    assert "Output size H, W: (5 + 2·0 − 3)/1 + 1 = 3" in text
    assert text.endswith("Output (3x3):\n  4 3 4\n  2 4 3\n  2 3 4")


def conv_layer(kernel, bias, stride, padding, activation):
    kh, kw, channels = kernel.shape
    layer = Conv2D(1, (kh, kw), strides=stride, padding=padding, activation=activation,
                   input_shape=(None, None, channels))
    layer.set_weights([kernel[..., None].astype(np.float32), np.array([bias], np.float32)])
    return layer


@pytest.mark.parametrize("size,k,stride,padding", [
    ((6, 7), (3, 3), 1, "valid"), ((7, 6), (3, 2), 2, "same"), ((5, 5), (2, 2), 2, "same"),
    ((8, 5), (4, 3), (3, 1), "valid"), ((6, 6), (3, 3), 2, "SAME"),
])
@pytest.mark.parametrize("channels", [1, 3])
def test_convolution_equals_cnnlab_conv2d(size, k, stride, padding, channels):
    rng = np.random.default_rng(sum(size) + channels)
    image = rng.integers(-3, 4, size=(*size, channels)).astype(float)
    kernel = rng.integers(-2, 3, size=(*k, channels)).astype(float)
    trace = convolve_steps(image if channels > 1 else image[..., 0],
                           kernel if channels > 1 else kernel[..., 0],
                           stride=stride, padding=padding, bias=0.5, activation="relu")
    layer = conv_layer(kernel, 0.5, stride, padding, "relu")
    expected = layer(torch.tensor(image[None], dtype=torch.float32))[0, ..., 0]
    np.testing.assert_allclose(trace.output, expected.detach().numpy(), atol=1e-5)
    assert [w.value for w in trace.windows] == pytest.approx(trace.output.ravel().tolist())


def test_explicit_padding_equals_torch_and_channels_are_summed():
    rng = np.random.default_rng(1)
    image = rng.normal(size=(5, 4, 2))
    kernel = rng.normal(size=(3, 3, 2))
    trace = convolve_steps(image, kernel, stride=2, padding=(1, 2), bias=-0.25)
    x = torch.tensor(image).permute(2, 0, 1)[None]
    w = torch.tensor(kernel).permute(2, 0, 1)[None]
    expected = F.conv2d(x, w, torch.tensor([-0.25], dtype=torch.float64), stride=2,
                        padding=(1, 2))[0, 0]
    np.testing.assert_allclose(trace.output, expected.numpy(), atol=1e-12)
    lines = trace.windows[0].lines
    assert lines[0].startswith("channel 0: ") and lines[1].startswith("channel 1: ")
    assert lines[2].startswith("sum over channels: ")
    assert "+ bias -0.25 = " in lines[3]
    assert trace.padded.shape == (7, 8, 2)
    assert trace.header == ("Output size H: (5 + 2·1 − 3)/2 + 1 = 3",
                            "Output size W: floor((4 + 2·2 − 3)/2) + 1 = 3")


def test_bias_and_activation_lines_show_the_arithmetic():
    trace = convolve_steps([[1, -2], [4, 5]], [[1, -1], [0, 2]], bias=-20,
                           activation="relu")
    assert trace.windows[0].lines == ("1·1 + -2·(-1) + 4·0 + 5·2 = 13",
                                      "13 + bias -20 = -7", "relu(-7) = 0")
    assert trace.output.tolist() == [[0.0]]


@pytest.mark.parametrize("mode,layer_class", [("max", MaxPooling2D),
                                              ("average", AveragePooling2D)])
@pytest.mark.parametrize("size,pool,stride,padding", [
    ((6, 6), 2, None, "valid"), ((7, 5), 2, None, "same"), ((7, 7), 3, 2, "same"),
    ((5, 6), (2, 3), (1, 2), "valid"),
])
def test_pooling_equals_cnnlab_layers(mode, layer_class, size, pool, stride, padding):
    image = np.random.default_rng(3).normal(size=(*size, 2))
    trace = pool_steps(image, pool, stride, mode, padding)
    layer = layer_class(pool, strides=stride, padding=padding)
    expected = layer(torch.tensor(image[None], dtype=torch.float32))[0]
    np.testing.assert_allclose(trace.output, expected.numpy(), atol=1e-5)
    assert trace.windows[0].lines[1].startswith("channel 1: ")


def test_pooling_text_and_same_padding_ignores_padded_positions():
    trace = pool_steps([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], 2)
    np.testing.assert_array_equal(trace.output, [[6, 8], [3, 4]])
    assert trace.windows[0].lines == ("max(1, 1, 5, 6) = 6",)
    average = pool_steps([[1, 1, 2], [5, 6, 7], [3, 2, 1]], 2, mode="average", padding="same")
    np.testing.assert_allclose(average.output, [[13 / 4, 9 / 2], [5 / 2, 1]])
    assert average.windows[1].lines == ("(2 + 7)/2 = 4.5",)
    assert "pad 0 top / 1 bottom, 0 left / 1 right" in average.to_text()
    assert "  2 ·\n  7 ·" in average.to_text()  # padding is shown, and not counted


@pytest.mark.parametrize("call,message", [
    (lambda: convolve_steps(np.ones((4, 4, 3)), np.ones((2, 2))), "channel"),
    (lambda: convolve_steps(np.ones((2, 2)), np.ones((3, 3))), "does not fit"),
    (lambda: convolve_steps(np.ones(4), np.ones((3, 3))), r"\(H, W\)"),
    (lambda: convolve_steps(np.ones((4, 4)), np.ones((3, 3)), padding="full"), "padding"),
    (lambda: convolve_steps(np.ones((4, 4)), np.ones((3, 3)), stride=0), "stride"),
    (lambda: pool_steps(np.ones((4, 4)), 2, mode="median"), "mode"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
