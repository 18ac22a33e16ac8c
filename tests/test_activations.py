"""Activations against NumPy formulas and the examples in Keras's documentation."""

import math

import numpy as np
import pytest
import torch

from cnnlab import activations

X = np.linspace(-6.0, 6.0, 121)


def _erf(v):
    return np.vectorize(math.erf)(v)


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _softplus(v):
    return np.log1p(np.exp(v))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
REFERENCES = {
    "relu": lambda v: np.maximum(v, 0.0),
    "relu6": lambda v: np.clip(v, 0.0, 6.0),
    "leaky_relu": lambda v: np.where(v >= 0, v, 0.2 * v),
    "elu": lambda v: np.where(v > 0, v, np.exp(v) - 1.0),
    "selu": lambda v: SELU_SCALE * np.where(v > 0, v, SELU_ALPHA * (np.exp(v) - 1.0)),
    "sigmoid": _sigmoid,
    "hard_sigmoid": lambda v: np.clip(v / 6.0 + 0.5, 0.0, 1.0),
    "tanh": np.tanh,
    "softplus": _softplus,
    "softsign": lambda v: v / (np.abs(v) + 1.0),
    "silu": lambda v: v * _sigmoid(v),
    "swish": lambda v: v * _sigmoid(v),
    "hard_silu": lambda v: v * np.clip(v / 6.0 + 0.5, 0.0, 1.0),
    "mish": lambda v: v * np.tanh(_softplus(v)),
    "gelu": lambda v: 0.5 * v * (1.0 + _erf(v / math.sqrt(2.0))),
    "exponential": np.exp,
    "linear": lambda v: v,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_elementwise_activation_matches_numpy_formula(name):
    out = activations.get(name)(torch.tensor(X))
    np.testing.assert_allclose(out.numpy(), REFERENCES[name](X), rtol=1e-6, atol=1e-7)


def test_gelu_tanh_approximation_formula():
    ref = 0.5 * X * (1 + np.tanh(math.sqrt(2 / math.pi) * (X + 0.044715 * X**3)))
    out = activations.gelu(torch.tensor(X), approximate=True)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6, atol=1e-7)


def test_elu_and_leaky_relu_arguments():
    x = torch.tensor(X)
    np.testing.assert_allclose(
        activations.elu(x, alpha=0.5).numpy(), np.where(X > 0, X, 0.5 * (np.exp(X) - 1)),
        rtol=1e-6, atol=1e-7,
    )
    np.testing.assert_allclose(
        activations.leaky_relu(x, negative_slope=0.3).numpy(), np.where(X >= 0, X, 0.3 * X)
    )


# Examples printed in the Keras 3 docstring of keras.activations.relu.
@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({}, [0.0, 0.0, 0.0, 5.0, 10.0]),
        ({"negative_slope": 0.5}, [-5.0, -2.5, 0.0, 5.0, 10.0]),
        ({"max_value": 5.0}, [0.0, 0.0, 0.0, 5.0, 5.0]),
        ({"threshold": 5.0}, [0.0, 0.0, 0.0, 0.0, 10.0]),
    ],
)
def test_relu_keras_doc_examples(kwargs, expected):
    out = activations.relu(torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0]), **kwargs)
    assert out.tolist() == expected


@pytest.mark.parametrize(
    "slope, max_value, threshold",
    [(0.3, 4.0, 1.0), (0.1, None, -1.0), (0.0, 2.0, 0.5), (0.2, None, 2.0), (0.0, 3.0, 0.0)],
)
def test_relu_general_form_matches_piecewise_definition(slope, max_value, threshold):
    # f(x) = min(x, max_value) above the threshold, slope * (x - threshold) at or below it;
    # the part above the threshold is clipped to [0, max_value] as Keras clips it.
    above = np.where(X > threshold, X, 0.0)
    if max_value is not None:
        above = np.clip(above, 0.0, max_value)
    ref = above + slope * np.minimum(X - threshold, 0.0)
    out = activations.relu(torch.tensor(X), slope, max_value, threshold)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)


def test_softmax_matches_numpy_and_keeps_its_logits():
    x = torch.randn(4, 7, dtype=torch.float64)
    out = activations.softmax(x)
    e = np.exp(x.numpy() - x.numpy().max(-1, keepdims=True))
    np.testing.assert_allclose(out.numpy(), e / e.sum(-1, keepdims=True), rtol=1e-12)
    assert out._keras_logits is x
    assert out._keras_activation == "softmax"


def test_softmax_over_another_axis_normalizes_that_axis_and_keeps_no_logits():
    x = torch.randn(3, 5)
    out = activations.softmax(x, axis=0)
    torch.testing.assert_close(out.sum(0), torch.ones(5))
    assert not hasattr(out, "_keras_logits")


def test_log_softmax_is_log_of_softmax_and_finite_for_huge_logits():
    x = torch.tensor([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]], dtype=torch.float64)
    out = activations.log_softmax(x)
    np.testing.assert_allclose(out[0].numpy(), np.log(np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum()))
    assert out[1].tolist() == [0.0, -1000.0, -2000.0]


def test_sigmoid_keeps_its_logits():
    x = torch.randn(5)
    out = activations.sigmoid(x)
    assert out._keras_logits is x and out._keras_activation == "sigmoid"


def test_get_is_case_insensitive_and_knows_aliases():
    assert activations.get("ReLU") is activations.relu
    assert activations.get("LeakyReLU") is activations.leaky_relu
    assert activations.get("leakyrelu") is activations.leaky_relu
    assert activations.get("swish") is activations.silu
    assert activations.get(None) is activations.linear


def test_get_returns_callables_unchanged():
    def custom(x):
        return 2 * x

    assert activations.get(custom) is custom


def test_get_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match="Unknown activation 'rellu'.*'relu'"):
        activations.get("rellu")


def test_get_rejects_non_callables():
    with pytest.raises(TypeError, match="activation must be"):
        activations.get(3)


@pytest.mark.parametrize("name", ["relu", "softmax", "sigmoid", "tanh", "linear", "gelu", "elu"])
def test_serialize_round_trips_through_get(name):
    fn = activations.get(name)
    assert activations.serialize(fn) == name
    assert activations.get(activations.serialize(fn)) is fn


def test_serialize_of_alias_gives_canonical_name():
    assert activations.serialize(activations.swish) == "silu"


def test_serialize_rejects_custom_callables():
    with pytest.raises(ValueError, match="Cannot serialize activation"):
        activations.serialize(lambda x: x)


@pytest.mark.parametrize("name", ["relu", "relu6", "elu", "selu", "tanh", "silu", "linear"])
def test_apply_to_fresh_overwrites_outside_autograd_with_the_same_values(name):
    fn = activations.get(name)
    x = torch.linspace(-7.0, 7.0, 57)
    expected = fn(x.clone())
    fresh = x.clone()
    with torch.inference_mode():
        out = activations.apply_to_fresh(fn, fresh)
    assert out.data_ptr() == fresh.data_ptr()  # no second buffer
    torch.testing.assert_close(out, expected)


def test_apply_to_fresh_allocates_in_training_and_for_other_activations():
    x = torch.linspace(-3.0, 3.0, 13, requires_grad=True)
    y = x * 2.0
    out = activations.apply_to_fresh(activations.relu, y)
    assert out.data_ptr() != y.data_ptr()
    out.sum().backward()  # autograd intact
    torch.testing.assert_close(x.grad, torch.where(x > 0, 2.0, 0.0))
    with torch.no_grad():
        fresh = torch.linspace(-3.0, 3.0, 13)
        soft = activations.apply_to_fresh(activations.softmax, fresh)
    assert soft.data_ptr() != fresh.data_ptr()
    assert soft._keras_logits is fresh  # softmax keeps its logits for the losses
