"""Convolution layers against a NumPy reference that implements TensorFlow's padding rule."""

import itertools
import math

import numpy as np
import pytest
import torch

from cnnlab.layers.conv import Conv1D, Conv2D, Conv3D
from cnnlab.layers.conv_transpose import Conv2DTranspose
from cnnlab.layers.core import Input
from cnnlab.layers.depthwise_conv import DepthwiseConv2D
from cnnlab.layers.separable_conv import SeparableConv2D


def tf_same_pads(size, k, s, d=1):
    """TensorFlow's rule, written independently of cnnlab.shapes."""
    out = math.ceil(size / s)
    eff = d * (k - 1) + 1
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def numpy_conv(x, kernel, bias, strides, padding, dilation=None):
    """Direct N-D convolution on channels-last arrays; kernel (*F, in, out)."""
    rank = x.ndim - 2
    dilation = dilation or (1,) * rank
    if padding == "same":
        pads = [tf_same_pads(x.shape[1 + a], kernel.shape[a], strides[a], dilation[a])
                for a in range(rank)]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    eff = [dilation[a] * (kernel.shape[a] - 1) + 1 for a in range(rank)]
    out_sizes = [(x.shape[1 + a] - eff[a]) // strides[a] + 1 for a in range(rank)]
    out = np.zeros((x.shape[0], *out_sizes, kernel.shape[-1]))
    for pos in itertools.product(*[range(o) for o in out_sizes]):
        window = x[(slice(None), *[slice(p * strides[a], p * strides[a] + eff[a], dilation[a])
                                   for a, p in enumerate(pos)], slice(None))]
        out[(slice(None), *pos, slice(None))] = np.tensordot(
            window, kernel, axes=(list(range(1, rank + 2)), list(range(rank + 1))))
    return out + (bias if bias is not None else 0)


@pytest.mark.parametrize("size,k,s", [(s, k, st) for s in (5, 6, 7) for k in (1, 2, 3, 4)
                                      for st in (1, 2, 3)])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_matches_tensorflow_padding_rule(size, k, s, padding):
    if padding == "valid" and k > size:
        return
    rng = np.random.default_rng(size * 100 + k * 10 + s)
    x = rng.normal(size=(2, size, size + 1, 3))
    layer = Conv2D(4, k, strides=s, padding=padding.upper())
    y = layer(torch.tensor(x, dtype=torch.float32))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (k, k, 3, 4)
    expected = numpy_conv(x, kernel, bias, (s, s), padding)
    np.testing.assert_allclose(y.detach().numpy(), expected, atol=1e-4)
    assert layer.compute_output_shape((None, size, size + 1, 3)) == (None, *expected.shape[1:])


def test_conv1d_and_conv3d_and_dilation():
    rng = np.random.default_rng(0)
    x1 = rng.normal(size=(2, 9, 2))
    c1 = Conv1D(3, 4, strides=2, padding="same")
    np.testing.assert_allclose(c1(torch.tensor(x1, dtype=torch.float32)).detach().numpy(),
                               numpy_conv(x1, *c1.get_weights(), (2,), "same"), atol=1e-5)
    x3 = rng.normal(size=(1, 4, 5, 6, 2))
    c3 = Conv3D(2, (2, 3, 2), padding="same", strides=(1, 2, 2))
    np.testing.assert_allclose(c3(torch.tensor(x3, dtype=torch.float32)).detach().numpy(),
                               numpy_conv(x3, *c3.get_weights(), (1, 2, 2), "same"), atol=1e-5)
    x2 = rng.normal(size=(1, 9, 9, 2))
    cd = Conv2D(2, 3, dilation_rate=2, padding="same")
    np.testing.assert_allclose(cd(torch.tensor(x2, dtype=torch.float32)).detach().numpy(),
                               numpy_conv(x2, *cd.get_weights(), (1, 1), "same", (2, 2)),
                               atol=1e-5)


def test_causal_conv1d_only_sees_the_past():
    x = torch.zeros(1, 6, 1)
    x[0, 3, 0] = 1.0
    layer = Conv1D(1, 3, padding="causal", kernel_initializer="ones", use_bias=False)
    y = layer(x)[0, :, 0]
    assert y.tolist() == [0, 0, 0, 1, 1, 1]


def test_worked_example_of_the_lecture():
    image = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0],
                      [0, 1, 1, 0, 0]], dtype=np.float32)
    filt = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float32)
    layer = Conv2D(1, 3, input_shape=(5, 5, 1))
    layer.set_weights([filt.reshape(3, 3, 1, 1), np.zeros(1)])
    out = layer(torch.tensor(image).reshape(1, 5, 5, 1))
    assert out[0, :, :, 0].tolist() == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]


def test_channels_first_equals_channels_last():
    x = torch.randn(2, 7, 8, 3)
    last = Conv2D(5, 3, strides=2, padding="same")
    first = Conv2D(5, 3, strides=2, padding="same", data_format="channels_first")
    y_last = last(x)
    first.build((None, 3, 7, 8))
    first.built = True
    first.set_weights(last.get_weights())
    y_first = first(x.permute(0, 3, 1, 2))
    torch.testing.assert_close(y_first.permute(0, 2, 3, 1), y_last)


def test_no_copy_output_is_channels_last_view():
    layer = Conv2D(8, 3, padding="same")
    y = layer(torch.randn(2, 10, 10, 3))
    assert y.is_contiguous(), "NHWC output should be a contiguous view of channels_last data"


def test_param_counts():
    assert Conv2D(10, 3, input_shape=(32, 32, 3)).count_params() == 280
    assert Conv2D(32, 3, input_shape=(28, 28, 1)).count_params() == 320
    assert Conv2D(64, 3, use_bias=False, input_shape=(8, 8, 3)).count_params() == 1728
    assert Conv2D(16, 3, groups=4, input_shape=(8, 8, 8)).count_params() == 3 * 3 * 2 * 16 + 16
    dw = DepthwiseConv2D(3, depth_multiplier=2, input_shape=(8, 8, 3))
    assert dw.count_params() == (3 * 3 * 2 + 2) * 3
    sep = SeparableConv2D(16, 3, depth_multiplier=2, input_shape=(8, 8, 3))
    assert sep.count_params() == 3 * 3 * 3 * 2 + 6 * 16 + 16


def test_depthwise_matches_per_channel_numpy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 7, 3))
    layer = DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same")
    y = layer(torch.tensor(x, dtype=torch.float32)).detach().numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 3, 2)
    for c in range(3):
        for j in range(2):
            ref = numpy_conv(x[..., c:c + 1], kernel[:, :, c:c + 1, j:j + 1], None, (2, 2),
                             "same")
            np.testing.assert_allclose(y[..., c * 2 + j], ref[..., 0] + bias[c * 2 + j],
                                       atol=1e-5)


def test_separable_is_depthwise_then_pointwise():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 6, 6, 2))
    layer = SeparableConv2D(4, 3, padding="same")
    y = layer(torch.tensor(x, dtype=torch.float32)).detach().numpy()
    dk, pk, bias = layer.get_weights()
    assert dk.shape == (3, 3, 2, 1) and pk.shape == (1, 1, 2, 4)
    depth = np.concatenate([numpy_conv(x[..., c:c + 1], dk[:, :, c:c + 1, :], None, (1, 1),
                                       "same") for c in range(2)], axis=-1)
    np.testing.assert_allclose(y, depth @ pk[0, 0] + bias, atol=1e-5)


@pytest.mark.parametrize("size,k,s,padding", [(4, 3, 2, "same"), (5, 2, 2, "same"),
                                              (3, 4, 2, "same"), (4, 3, 1, "same"),
                                              (3, 3, 2, "valid"), (3, 1, 3, "valid"),
                                              (4, 5, 3, "same")])
def test_conv2d_transpose_is_the_gradient_of_conv2d(size, k, s, padding):
    """TensorFlow defines conv2d_transpose as the input-gradient of the forward convolution."""
    torch.manual_seed(0)
    x = torch.randn(2, size, size, 3)
    deconv = Conv2DTranspose(5, k, strides=s, padding=padding)
    y = deconv(x)
    out = deconv.compute_output_shape((None, size, size, 3))
    assert tuple(y.shape[1:]) == out[1:]
    forward = Conv2D(3, k, strides=s, padding=padding, use_bias=False)
    forward.build((None, out[1], out[2], 5))
    forward.built = True
    kernel, bias = deconv.get_weights()
    assert kernel.shape == (k, k, 5, 3)
    forward.set_weights([kernel])
    probe = torch.zeros(2, out[1], out[2], 5, requires_grad=True)
    z = forward(probe)
    assert tuple(z.shape[1:3]) == (size, size)
    (grad,) = torch.autograd.grad(z, probe, grad_outputs=x)
    torch.testing.assert_close(y, grad + torch.tensor(bias), atol=1e-5, rtol=1e-5)


def test_conv2d_transpose_output_padding_shape():
    layer = Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1)
    assert tuple(layer(torch.randn(1, 4, 4, 1)).shape) == (1, 8, 8, 2)
    layer = Conv2DTranspose(2, 3, strides=2, padding="valid", output_padding=0)
    assert tuple(layer(torch.randn(1, 4, 4, 1)).shape) == (1, 9, 9, 2)


@pytest.mark.parametrize("make", [
    lambda: Conv2D(2, 3, strides=2, padding="same", activation="tanh"),
    lambda: Conv1D(2, 2, padding="causal"),
    lambda: DepthwiseConv2D(2, depth_multiplier=2, padding="same"),
    lambda: SeparableConv2D(2, 3, strides=2, padding="same"),
    lambda: Conv2DTranspose(2, 3, strides=2, padding="same"),
])
def test_gradcheck_float64(make):
    layer = make().double()
    shape = (1, 5, 2) if isinstance(layer, Conv1D) else (1, 5, 4, 2)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    layer(x)  # build
    layer.double()
    assert torch.autograd.gradcheck(lambda t: layer(t), (x,))


def test_symbolic_shapes_and_none_sizes():
    inp = Input((None, None, 3))
    y = Conv2D(8, 3, strides=2, padding="same")(inp)
    assert y.shape == (None, None, None, 8)
    y2 = Conv2D(8, 5)(Input((28, 28, 1)))
    assert y2.shape == (None, 24, 24, 8)


def test_errors_name_the_layer_and_values():
    with pytest.raises(ValueError, match=r"Conv2D 'c1': expected input with 3 dimensions "
                                         r"\(H, W, C\), got \(28, 28\)"):
        Conv2D(4, 3, name="c1", input_shape=(28, 28))
    with pytest.raises(ValueError, match="padding"):
        Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(4, 0)
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(4, -3)
    with pytest.raises(ValueError, match="filters"):
        Conv2D(0, 3)
    with pytest.raises(ValueError, match="larger than the input"):
        Conv2D(4, 7, input_shape=(5, 5, 1))
    layer = Conv2D(4, 3, name="c2", input_shape=(8, 8, 3))
    with pytest.raises(ValueError, match="axis -1 of the input to have size 3"):
        layer(Input((8, 8, 1)))
    with pytest.raises(ValueError, match="c2.*a batch of shape"):
        layer(torch.randn(8, 8, 3))
    with pytest.raises(TypeError, match="unexpected keyword"):
        Conv2D(4, 3, kernal_size=3)


def test_keras1_and_keras2_legacy_spellings():
    with pytest.warns(UserWarning, match="Keras 2 API"):
        layer = Conv2D(32, 3, 3, input_shape=(8, 8, 1))
    assert layer.kernel_size == (3, 3) and layer.strides == (1, 1)
    from cnnlab.layers.conv import Conv2D as Convolution2D

    legacy = Convolution2D(nb_filter=8, nb_row=5, nb_col=5, border_mode="same",
                           subsample=(2, 2), input_shape=(10, 10, 1))
    assert legacy.output_shape == (None, 5, 5, 8) and legacy.kernel_size == (5, 5)


def test_kernel_regularizer_and_constraint():
    from cnnlab.constraints import MaxNorm
    from cnnlab.regularizers import l2

    layer = Conv2D(3, 2, kernel_regularizer=l2(0.1), kernel_constraint=MaxNorm(0.5, axis=[0, 1, 2]),
                   input_shape=(4, 4, 2))
    (penalty,) = layer.regularization_losses()
    kernel = layer.get_weights()[0]
    np.testing.assert_allclose(float(penalty), 0.1 * (kernel ** 2).sum(), rtol=1e-5)
    with torch.no_grad():
        layer.kernel.mul_(100)
    layer.apply_constraints()
    norms = np.sqrt((layer.get_weights()[0] ** 2).sum(axis=(0, 1, 2)))
    np.testing.assert_allclose(norms, 0.5, rtol=1e-4)
