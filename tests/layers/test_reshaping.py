"""Reshaping layers against NumPy references (reshape, transpose, pad, slicing, repeat) and a
hand-computed bilinear case; shapes against real outputs; configs round-tripped as JSON."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.layers.core import Input
from cnnlab.layers.cropping import Cropping1D, Cropping2D, Cropping3D
from cnnlab.layers.registry import registered_class
from cnnlab.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
from cnnlab.layers.up_sampling import UpSampling1D, UpSampling2D, UpSampling3D
from cnnlab.layers.zero_padding import ZeroPadding1D, ZeroPadding2D, ZeroPadding3D

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def run(layer, arr):
    return layer(torch.from_numpy(arr)).numpy()


def check_shapes(layer, arr):
    """Eager output shape == compute_output_shape == shape of a symbolic call."""
    out = layer(torch.from_numpy(arr))
    predicted = layer.compute_output_shape((None, *arr.shape[1:]))
    assert predicted == (None, *out.shape[1:])
    assert layer(Input(arr.shape[1:])).shape == predicted
    return out.numpy()


def roundtrip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    assert registered_class(type(layer).__name__) is type(layer)
    return clone


# ------------------------------------------------------------------------------ Flatten
def test_flatten_channels_last_is_numpy_reshape_and_a_view():
    x = rand(2, 3, 4, 5)
    t = torch.from_numpy(x)
    y = Flatten()(t)
    np.testing.assert_array_equal(y.numpy(), x.reshape(2, -1))
    assert y.data_ptr() == t.data_ptr()  # zero-copy for contiguous data


def test_flatten_order_is_h_w_c():
    x = np.arange(2 * 2 * 3, dtype=np.float32).reshape(1, 2, 2, 3)
    y = run(Flatten(), x)[0]
    h, w, c = 1, 0, 2
    assert y[(h * 2 + w) * 3 + c] == x[0, h, w, c]


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 3, 4), (2, 3, 4, 5, 2)])
def test_flatten_channels_first_flattens_as_channels_last(shape):
    x = rand(*shape)
    to_last = x.transpose(0, *range(2, x.ndim), 1)
    np.testing.assert_array_equal(run(Flatten(data_format="channels_first"), x),
                                  to_last.reshape(2, -1))


@pytest.mark.parametrize("shape", [(3,), (3, 7), (2, 4, 5), (2, 3, 4, 5)])
def test_flatten_shapes(shape):
    x = rand(*shape)
    np.testing.assert_array_equal(check_shapes(Flatten(), x), x.reshape(shape[0], -1))


def test_flatten_unknown_sizes_error():
    with pytest.raises(ValueError, match=r"Flatten 'f': Flatten needs known sizes .* got "
                                         r"input shape \(None, None, None, 3\)"):
        Flatten(name="f")(Input((None, None, 3)))
    assert Flatten().compute_output_shape((None, None, 3)) == (None, None)


def test_flatten_input_shape_builds_and_config():
    layer = Flatten(input_shape=(4, 4, 2), data_format="channels_first")
    assert layer.built and layer.output_shape == (None, 32)
    roundtrip(layer)
    with pytest.raises(ValueError, match=r"Flatten 'g': `data_format` must be"):
        Flatten(data_format="nhwc", name="g")


# ------------------------------------------------------------------------------ Reshape
@pytest.mark.parametrize("target", [(4, 3), (12,), (2, -1), (-1, 2, 2), (3, 2, 2)])
def test_reshape_matches_numpy(target):
    x = rand(5, 3, 4)
    y = check_shapes(Reshape(target), x)
    np.testing.assert_array_equal(y, x.reshape(5, *target))


def test_reshape_unknown_input_size_leaves_none():
    assert Reshape((-1, 2))(Input((None, 3))).shape == (None, None, 2)
    assert Reshape((-1, 2)).compute_output_shape((None, 4, 3)) == (None, 6, 2)


def test_reshape_errors():
    with pytest.raises(ValueError, match=r"Reshape 'r': cannot reshape an input of shape "
                                         r"\(None, 4, 3\) \(12 values per sample\) to target_shape "
                                         r"\(5,\)"):
        Reshape((5,), name="r")(Input((4, 3)))
    with pytest.raises(ValueError, match=r"to target_shape \(-1, 5\)"):
        Reshape((-1, 5))(torch.zeros(2, 4, 3))
    layer = Reshape((6, 2))
    layer(Input((None, 3)))
    with pytest.raises(ValueError, match=r"input of shape \(2, 5, 3\) \(15 values"):
        layer(torch.zeros(2, 5, 3))
    with pytest.raises(ValueError, match=r"`target_shape` may contain -1 only once, got "
                                         r"\(-1, -1\)"):
        Reshape((-1, -1))
    for bad in [(0, 3), (2, "a"), 6, (2, -2)]:
        with pytest.raises(ValueError, match=r"`target_shape` must be a tuple of positive"):
            Reshape(bad)


def test_reshape_config():
    roundtrip(Reshape((2, -1)))


# ------------------------------------------------------------------------------ Permute
@pytest.mark.parametrize("dims", [(2, 1, 3), (3, 1, 2), (1, 2, 3)])
def test_permute_matches_numpy(dims):
    x = rand(2, 3, 4, 5)
    np.testing.assert_array_equal(check_shapes(Permute(dims), x),
                                  x.transpose(0, *dims))


def test_permute_errors_and_config():
    with pytest.raises(ValueError, match=r"Permute 'p': `dims` must be a permutation of 1..2 "
                                         r"\(1-based, the batch axis excluded\), got \(1, 3\)"):
        Permute((1, 3), name="p")
    with pytest.raises(ValueError, match=r"got \(0, 1\)"):
        Permute((0, 1))
    with pytest.raises(TypeError, match=r"`dims` must be a tuple of ints, got 2"):
        Permute(2)
    with pytest.raises(ValueError, match=r"Permute 'q': expected input with 2 dimensions, "
                                         r"got \(3, 4, 5\)"):
        Permute((2, 1), name="q")(Input((3, 4, 5)))
    roundtrip(Permute((2, 1)))


# ------------------------------------------------------------------------------ RepeatVector
def test_repeat_vector_matches_numpy():
    x = rand(2, 5)
    y = check_shapes(RepeatVector(3), x)
    np.testing.assert_array_equal(y, np.repeat(x[:, None, :], 3, axis=1))


def test_repeat_vector_errors_and_config():
    with pytest.raises(ValueError, match=r"RepeatVector 'rv': expected input with 1 "
                                         r"dimensions \(features,\), got \(4, 5\)"):
        RepeatVector(2, name="rv")(Input((4, 5)))
    for bad in [0, -1, 2.0, True]:
        with pytest.raises(ValueError, match=r"`n` must be a positive int"):
            RepeatVector(bad)
    roundtrip(RepeatVector(4))


# ------------------------------------------------------------------------------ ZeroPadding
PAD_CASES = [
    # (class, argument, expected (before, after) per spatial axis, per-sample shape)
    (ZeroPadding1D, 2, [(2, 2)], (5, 3)),
    (ZeroPadding1D, (1, 3), [(1, 3)], (5, 3)),
    (ZeroPadding2D, 1, [(1, 1), (1, 1)], (4, 5, 3)),
    (ZeroPadding2D, (1, 2), [(1, 1), (2, 2)], (4, 5, 3)),
    (ZeroPadding2D, ((1, 2), (3, 0)), [(1, 2), (3, 0)], (4, 5, 3)),
    (ZeroPadding3D, 1, [(1, 1)] * 3, (2, 3, 4, 2)),
    (ZeroPadding3D, (1, 0, 2), [(1, 1), (0, 0), (2, 2)], (2, 3, 4, 2)),
    (ZeroPadding3D, ((0, 1), (2, 0), (1, 1)), [(0, 1), (2, 0), (1, 1)], (2, 3, 4, 2)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(("cls", "arg", "pairs", "shape"), PAD_CASES)
def test_zero_padding_matches_np_pad(cls, arg, pairs, shape, data_format):
    x = rand(2, *shape)
    layer = cls(arg, data_format=data_format)
    spatial = [(0, 0), *pairs, (0, 0)] if data_format == "channels_last" else [(0, 0),
                                                                               (0, 0), *pairs]
    np.testing.assert_array_equal(check_shapes(layer, x), np.pad(x, spatial))
    roundtrip(layer)


def test_zero_padding_defaults_and_unknown_sizes():
    assert ZeroPadding2D().padding == ((1, 1), (1, 1))
    assert ZeroPadding1D().padding == ((1, 1),)
    assert ZeroPadding3D().padding == ((1, 1),) * 3
    assert ZeroPadding2D(((1, 2), (3, 4)))(Input((None, 5, 3))).shape == (None, None, 12, 3)


@pytest.mark.parametrize(("cls", "bad"), [
    (ZeroPadding2D, (1, 2, 3)), (ZeroPadding2D, -1), (ZeroPadding2D, ((1, 2), (3,))),
    (ZeroPadding2D, "same"), (ZeroPadding2D, (1.5, 1)), (ZeroPadding1D, (1, 2, 3)),
    (ZeroPadding1D, True), (ZeroPadding3D, (1, 1)),
])
def test_zero_padding_argument_errors(cls, bad):
    with pytest.raises(ValueError, match=rf"{cls.__name__} 'z': `padding` must be .* of "
                                         r"non-negative ints, got"):
        cls(bad, name="z")


def test_zero_padding_rank_error():
    with pytest.raises(ValueError, match=r"ZeroPadding2D 'zp': expected input with 3 "
                                         r"dimensions \(H, W, C\), got \(5, 3\)"):
        ZeroPadding2D(name="zp")(torch.zeros(2, 5, 3))


# ------------------------------------------------------------------------------ Cropping
CROP_CASES = [
    (Cropping1D, (1, 2), [(1, 2)], (7, 6)),
    (Cropping1D, 2, [(2, 2)], (7, 6)),
    (Cropping2D, 1, [(1, 1), (1, 1)], (6, 7, 5)),
    (Cropping2D, (2, 1), [(2, 2), (1, 1)], (6, 7, 5)),
    (Cropping2D, ((0, 3), (2, 1)), [(0, 3), (2, 1)], (6, 7, 5)),
    (Cropping3D, (1, 0, 2), [(1, 1), (0, 0), (2, 2)], (4, 3, 6, 5)),
    (Cropping3D, ((0, 1), (1, 1), (3, 0)), [(0, 1), (1, 1), (3, 0)], (4, 3, 6, 5)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(("cls", "arg", "pairs", "shape"), CROP_CASES)
def test_cropping_matches_slicing(cls, arg, pairs, shape, data_format):
    x = rand(2, *shape)
    layer = cls(arg, data_format=data_format)
    first = 1 if data_format == "channels_last" else 2
    index = [slice(None)] * x.ndim
    for i, (before, after) in enumerate(pairs):
        index[first + i] = slice(before, x.shape[first + i] - after)
    expected = x[tuple(index)]
    np.testing.assert_array_equal(check_shapes(layer, x), expected)
    roundtrip(layer)


def test_cropping_defaults_are_keras():
    assert Cropping1D().cropping == ((1, 1),)
    assert Cropping2D().cropping == ((0, 0), (0, 0))
    assert Cropping3D().cropping == ((1, 1),) * 3


def test_cropping_is_a_view():
    t = torch.zeros(1, 5, 5, 2)
    Cropping2D(1)(t)[0, 0, 0, 0] = 7.0
    assert t[0, 1, 1, 0] == 7.0


def test_cropping_too_much_errors():
    with pytest.raises(ValueError, match=r"Cropping2D 'c': cropping \(1, 2\) along spatial "
                                         r"axis 0 must leave at least 1 of the 3 elements, got "
                                         r"input shape \(None, 3, 8, 3\)"):
        Cropping2D(((1, 2), (3, 4)), name="c")(Input((3, 8, 3)))
    with pytest.raises(ValueError, match=r"Cropping1D 'c1': cropping \(1, 1\) .* of the 2 "):
        Cropping1D(name="c1")(torch.zeros(1, 2, 3))
    layer = Cropping3D(1)
    layer(Input((None, None, None, 2)))  # unknown sizes: checked on each call
    with pytest.raises(ValueError, match=r"along spatial axis 2 .* of the 2 elements"):
        layer(torch.zeros(1, 4, 4, 2, 2))
    with pytest.raises(ValueError, match=r"`cropping` must be an int, a tuple of 2 ints"):
        Cropping2D((1, 2, 3))


# ------------------------------------------------------------------------------ UpSampling
UP_CASES = [
    (UpSampling1D, 3, (3,), (4, 2)),
    (UpSampling2D, (2, 3), (2, 3), (3, 4, 2)),
    (UpSampling2D, 2, (2, 2), (3, 4, 2)),
    (UpSampling3D, (1, 2, 3), (1, 2, 3), (2, 3, 2, 2)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(("cls", "arg", "factors", "shape"), UP_CASES)
def test_upsampling_nearest_matches_np_repeat(cls, arg, factors, shape, data_format):
    x = rand(2, *shape)
    layer = cls(arg, data_format=data_format)
    expected = x
    first = 1 if data_format == "channels_last" else 2
    for i, k in enumerate(factors):
        expected = np.repeat(expected, k, axis=first + i)
    np.testing.assert_array_equal(check_shapes(layer, x), expected)
    roundtrip(layer)


def bilinear_half_pixel(img, sh, sw):
    """Reference: TensorFlow's half-pixel bilinear resize of one (H, W) image."""
    h, w = img.shape

    def taps(n_out, scale, n_in):
        src = np.maximum((np.arange(n_out) + 0.5) / scale - 0.5, 0.0)
        lo = np.floor(src).astype(int)
        return lo, np.minimum(lo + 1, n_in - 1), src - lo

    r0, r1, fr = taps(h * sh, sh, h)
    c0, c1, fc = taps(w * sw, sw, w)
    top = img[r0][:, c0] * (1 - fc) + img[r0][:, c1] * fc
    bottom = img[r1][:, c0] * (1 - fc) + img[r1][:, c1] * fc
    return top * (1 - fr[:, None]) + bottom * fr[:, None]


def test_bilinear_hand_computed_case():
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)[None, :, :, None]
    y = run(UpSampling2D(2, interpolation="bilinear"), x)[0, :, :, 0]
    # Source coordinates of the 4 outputs per axis: -0.25 (clamped to 0), 0.25, 0.75, 1.25
    # (clamped to 1); e.g. y[1, 1] = 0.75·0.75·1 + 0.75·0.25·2 + 0.25·0.75·3 + 0.25·0.25·4.
    expected = np.array([[1.0, 1.25, 1.75, 2.0],
                         [1.5, 1.75, 2.25, 2.5],
                         [2.5, 2.75, 3.25, 3.5],
                         [3.0, 3.25, 3.75, 4.0]])
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("size", [(2, 3), (3, 1), (4, 4)])
def test_bilinear_matches_references(size):
    x = rand(2, 3, 5, 2)
    y = check_shapes(UpSampling2D(size, interpolation="bilinear"), x)
    ref = np.stack([np.stack([bilinear_half_pixel(x[n, :, :, c], *size) for c in range(2)], -1)
                    for n in range(2)])
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    torch_ref = F.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2), scale_factor=size,
                              mode="bilinear", align_corners=False).permute(0, 2, 3, 1)
    np.testing.assert_allclose(y, torch_ref.numpy(), rtol=1e-6, atol=1e-6)


def test_bilinear_channels_first_and_gradcheck():
    x = rand(2, 2, 3, 4)
    y = run(UpSampling2D((2, 2), data_format="channels_first", interpolation="bilinear"), x)
    ref = run(UpSampling2D((2, 2), interpolation="bilinear"), x.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(y, ref.transpose(0, 3, 1, 2), rtol=1e-6, atol=1e-6)
    layer = UpSampling2D((2, 3), interpolation="bilinear")
    t = torch.randn(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (t,))


def test_upsampling_errors():
    with pytest.raises(ValueError, match=r"UpSampling2D 'u': `interpolation` must be "
                                         r"'nearest' or 'bilinear', got 'bicubic'"):
        UpSampling2D(interpolation="bicubic", name="u")
    with pytest.raises(ValueError, match=r"UpSampling3D 'u3': `interpolation` must be "
                                         r"'nearest', got 'bilinear'"):
        UpSampling3D(interpolation="bilinear", name="u3")
    with pytest.raises(ValueError, match=r"UpSampling2D 'u2': `size` must contain positive"):
        UpSampling2D((0, 2), name="u2")
    assert UpSampling2D((2, 3))(Input((None, 5, 3))).shape == (None, None, 15, 3)
    assert UpSampling1D().get_config()["size"] == 2
