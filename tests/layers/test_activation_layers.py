"""Activation layers against their formulas in NumPy (and values printed by Keras 3.15 for the
general ReLU), PReLU's weight shapes as Keras builds them, gradcheck, errors, configs."""

import json

import numpy as np
import pytest
import torch

from cnnlab import regularizers
from cnnlab.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from cnnlab.layers.core import Input
from cnnlab.layers.registry import registered_class

RNG = np.random.default_rng(0)
X = RNG.normal(scale=2.0, size=(4, 3, 5)).astype(np.float32)


def run(layer, arr=X, **kwargs):
    out = layer(torch.from_numpy(arr), **kwargs)
    assert layer.compute_output_shape((None, *arr.shape[1:])) == (None, *out.shape[1:])
    return out.detach().numpy()


def roundtrip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    assert registered_class(type(layer).__name__) is type(layer)
    return clone


# ------------------------------------------------------------------------------ ReLU
@pytest.mark.parametrize(("max_value", "slope", "threshold"), [
    (None, 0.0, 0.0), (6.0, 0.0, 0.0), (None, 0.1, 0.0), (1.5, 0.2, 0.5), (None, 0.0, 1.0)])
def test_relu_matches_formula(max_value, slope, threshold):
    layer = ReLU(max_value=max_value, negative_slope=slope, threshold=threshold)
    ceiling = np.inf if max_value is None else max_value
    expected = np.where(X > threshold, np.minimum(X, ceiling), slope * (X - threshold))
    np.testing.assert_allclose(run(layer), expected, rtol=1e-6, atol=1e-7)
    roundtrip(layer)


def test_relu_matches_keras_values():
    xs = np.linspace(-3, 3, 13, dtype=np.float32)[None]
    # keras.layers.ReLU(max_value=2, negative_slope=0.5, threshold=1) in Keras 3.15.1
    keras = [-2, -1.75, -1.5, -1.25, -1, -0.75, -0.5, -0.25, 0, 1.5, 2, 2, 2]
    out = run(ReLU(max_value=2, negative_slope=0.5, threshold=1), xs)[0]
    np.testing.assert_allclose(out, keras, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_value": -1}, r"`max_value` must be a number >= 0, got -1"),
    ({"negative_slope": -0.1}, r"`negative_slope` must be a number >= 0, got -0.1"),
    ({"threshold": -1}, r"`threshold` must be a number >= 0, got -1"),
    ({"threshold": None}, r"`threshold` must be a number >= 0, got None"),
    ({"max_value": "6"}, r"`max_value` must be a number >= 0, got '6'"),
])
def test_relu_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=rf"ReLU 'r': {message}"):
        ReLU(name="r", **kwargs)


# ------------------------------------------------------------------------------ LeakyReLU
def test_leaky_relu_default_slope_is_keras_layer_default():
    np.testing.assert_allclose(run(LeakyReLU()), np.where(X >= 0, X, 0.3 * X), rtol=1e-6)


def test_leaky_relu_legacy_alpha_and_errors():
    layer = LeakyReLU(alpha=0.1)
    assert layer.get_config()["negative_slope"] == 0.1
    np.testing.assert_allclose(run(layer), np.where(X >= 0, X, 0.1 * X), rtol=1e-6)
    roundtrip(layer)
    with pytest.raises(ValueError, match=r"LeakyReLU 'l': `negative_slope` must be a number "
                                         r">= 0, got -0.1"):
        LeakyReLU(-0.1, name="l")


# ------------------------------------------------------------------------------ ELU
@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_elu_matches_formula(alpha):
    expected = np.where(X > 0, X, alpha * (np.exp(X) - 1))
    np.testing.assert_allclose(run(ELU(alpha)), expected, rtol=1e-5, atol=1e-6)
    roundtrip(ELU(alpha))
    with pytest.raises(ValueError, match=r"ELU 'e': `alpha` must be a number, got None"):
        ELU(None, name="e")


# ------------------------------------------------------------------------------ Softmax
def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 1, (1, 2), [-2, -1]])
def test_softmax_matches_numpy(axis):
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    np.testing.assert_allclose(run(Softmax(axis)), np_softmax(X, np_axis), rtol=1e-5,
                               atol=1e-7)
    roundtrip(Softmax(axis))


def test_softmax_keeps_logits_for_the_losses():
    t = torch.from_numpy(X)
    assert Softmax()(t)._keras_logits is t
    assert not hasattr(Softmax(axis=1)(t), "_keras_logits")


def test_softmax_mask_zeroes_masked_positions():
    mask = RNG.random(X.shape) > 0.4
    out = run(Softmax(), mask=torch.from_numpy(mask))
    e = np.exp(X - X.max(-1, keepdims=True)) * mask
    np.testing.assert_allclose(out, e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-7)


def test_softmax_axis_errors():
    with pytest.raises(ValueError, match=r"Softmax 's': `axis` must be an int or a tuple of "
                                         r"ints, got 'x'"):
        Softmax("x", name="s")
    for axis in (0, 3, (1, -3)):
        with pytest.raises(ValueError, match=r"Softmax 't': `axis` must name non-batch axes of "
                                             r"the input \(None, 3, 5\), got axis="):
            Softmax(axis, name="t")(Input((3, 5)))


# ------------------------------------------------------------------------------ ThresholdedReLU
def test_thresholded_relu_matches_formula():
    np.testing.assert_array_equal(run(ThresholdedReLU()), np.where(X > 1.0, X, 0.0))
    np.testing.assert_array_equal(run(ThresholdedReLU(0.5)), np.where(X > 0.5, X, 0.0))
    roundtrip(ThresholdedReLU(0.5))
    with pytest.raises(ValueError, match=r"ThresholdedReLU 'th': `theta` must be a number >= 0"
                                         r", got -1"):
        ThresholdedReLU(-1, name="th")


# ------------------------------------------------------------------------------ PReLU
@pytest.mark.parametrize(("shared_axes", "alpha_shape"), [
    (None, (5, 6, 3)), ([1, 2], (1, 1, 3)), (1, (1, 6, 3)), ([3], (5, 6, 1))])
def test_prelu_alpha_shape_as_keras(shared_axes, alpha_shape):
    layer = PReLU(shared_axes=shared_axes)
    assert layer(Input((5, 6, 3))).shape == (None, 5, 6, 3)
    assert tuple(layer.alpha.shape) == alpha_shape
    assert [w.shape for w in layer.get_weights()] == [alpha_shape]
    assert layer.count_params() == int(np.prod(alpha_shape))
    roundtrip(layer)


def test_prelu_matches_formula_and_starts_as_relu():
    x = RNG.normal(size=(2, 5, 6, 3)).astype(np.float32)
    layer = PReLU(shared_axes=[1, 2])
    np.testing.assert_array_equal(run(layer, x), np.maximum(x, 0))  # alpha_initializer='zeros'
    alpha = RNG.uniform(0.1, 0.9, size=(1, 1, 3)).astype(np.float32)
    layer.set_weights([alpha])
    np.testing.assert_allclose(run(layer, x), np.where(x >= 0, x, alpha * x), rtol=1e-6)


def test_prelu_gradcheck_input_and_alpha():
    layer = PReLU(alpha_initializer="random_uniform", input_shape=(4, 2)).double()
    x = torch.randn(3, 4, 2, dtype=torch.float64)
    x = (x + 0.1 * torch.sign(x)).requires_grad_()  # keep away from the kink at 0
    alpha = layer.alpha.detach().clone().requires_grad_()
    assert alpha.dtype == torch.float64
    assert torch.autograd.gradcheck(
        lambda inp, a: torch.func.functional_call(layer, {"alpha": a}, (inp,)), (x, alpha))


def test_prelu_regularizer_and_constraint():
    layer = PReLU(alpha_initializer="ones", alpha_regularizer={"class_name": "L2",
                                                              "config": {"l2": 0.1}},
                  alpha_constraint="non_neg", input_shape=(2, 3))
    (penalty,) = layer.regularization_losses()
    assert penalty.item() == pytest.approx(0.1 * 6)
    with torch.no_grad():
        layer.alpha.fill_(-0.5)
    layer.apply_constraints()
    assert torch.all(layer.alpha == 0)
    clone = roundtrip(layer)
    assert isinstance(clone.alpha_regularizer, regularizers.L2)


def test_prelu_errors():
    with pytest.raises(ValueError, match=r"PReLU 'p': the input sizes must be known on the axes "
                                         r"that are not shared, got input shape "
                                         r"\(None, None, None, 3\) and shared_axes=None"):
        PReLU(name="p")(Input((None, None, 3)))
    assert PReLU(shared_axes=[1, 2])(Input((None, None, 3))).shape == (None, None, None, 3)
    with pytest.raises(ValueError, match=r"PReLU 'q': `shared_axes` \[4\] must be axes of the "
                                         r"input \(None, 5, 6, 3\) \(1 to 3\)"):
        PReLU(shared_axes=4, name="q")(Input((5, 6, 3)))
    for bad in [0, [1, "2"], [True]]:
        with pytest.raises(ValueError, match=r"`shared_axes` must be None or positive ints"):
            PReLU(shared_axes=bad)
    layer = PReLU(shared_axes=[1], name="r")
    layer(Input((5, 3)))
    with pytest.raises(ValueError, match=r"PReLU 'r': expected axis 2 of the input to have "
                                         r"size 3, got input of shape \(5, 4\)"):
        layer(Input((5, 4)))
