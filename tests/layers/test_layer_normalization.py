"""LayerNormalization: Keras's documented example, the formula in NumPy, F.layer_norm, several
axes, parameter count, gradients, saving, errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab import load_model
from cnnlab.keras import layers as keras_layers
from cnnlab.layers import Dense, Input, LayerNormalization
from cnnlab.models import Model, Sequential


def numpy_layer_norm(x, axes, gamma, beta, eps):
    x = x.astype(np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def test_keras_documented_example():
    data = np.arange(10, dtype=np.float32).reshape(5, 2) * 10
    out = LayerNormalization(axis=1)(torch.from_numpy(data)).detach().numpy()
    # (x - mean) / sqrt(var + 1e-3) with var = 25: ±5 / sqrt(25.001)
    np.testing.assert_allclose(out, np.tile([-1.0, 1.0], (5, 1)) * 5 / np.sqrt(25.001),
                               rtol=1e-6)
    assert keras_layers.LayerNormalization is LayerNormalization


def test_defaults_and_last_axis_against_numpy_and_torch():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, (4, 5, 6, 8)).astype(np.float32)
    layer = LayerNormalization()
    assert (layer.axis, layer.epsilon, layer.center, layer.scale) == (-1, 1e-3, True, True)
    out = layer(torch.from_numpy(x))
    gamma = rng.normal(size=8).astype(np.float32)
    beta = rng.normal(size=8).astype(np.float32)
    np.testing.assert_allclose(out.detach().numpy(), numpy_layer_norm(x, -1, 1.0, 0.0, 1e-3),
                               rtol=1e-4, atol=1e-5)
    layer.set_weights([gamma, beta])
    out = layer(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, numpy_layer_norm(x, -1, gamma, beta, 1e-3),
                               rtol=1e-4, atol=1e-5)
    reference = F.layer_norm(torch.from_numpy(x), (8,), torch.from_numpy(gamma),
                             torch.from_numpy(beta), eps=1e-3)
    np.testing.assert_allclose(out, reference.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("axis", [[1, 2, 3], [1, 3], [1], 2])
def test_several_and_inner_axes_against_numpy(axis):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4, 5, 2)).astype(np.float32)
    layer = LayerNormalization(axis=axis, epsilon=1e-5)
    layer.build((None, 4, 5, 2))
    axes = tuple(axis) if isinstance(axis, list) else (axis,)
    shape = tuple(x.shape[a] for a in axes)
    assert [w.shape for w in layer.get_weights()] == [shape, shape]
    gamma = rng.normal(size=shape).astype(np.float32)
    beta = rng.normal(size=shape).astype(np.float32)
    layer.set_weights([gamma, beta])
    broadcast = [x.shape[d] if d in axes else 1 for d in range(4)]
    expected = numpy_layer_norm(x, axes, gamma.reshape(broadcast), beta.reshape(broadcast),
                                1e-5)
    np.testing.assert_allclose(layer(torch.from_numpy(x)).detach().numpy(), expected,
                               rtol=1e-4, atol=1e-5)


def test_parameter_count_is_two_per_feature_and_options():
    model = Sequential([Input((10,)), Dense(64), LayerNormalization()])
    assert model.layers[-1].count_params() == 128
    assert len(model.layers[-1].trainable_weights) == 2
    bare = LayerNormalization(center=False, scale=False, input_shape=(7,))
    assert bare.count_params() == 0
    scale_only = LayerNormalization(center=False, input_shape=(7,))
    assert [w.shape for w in scale_only.get_weights()] == [(7,)]


def test_same_in_training_and_inference_and_gradients_match_torch():
    x = torch.randn(6, 9)
    layer = LayerNormalization(gamma_initializer="random_normal", beta_initializer="ones")
    layer(x)
    np.testing.assert_allclose(layer(x, training=True).detach().numpy(),
                               layer(x, training=False).detach().numpy())
    layer(x).pow(2).sum().backward()
    gamma = layer.gamma.detach().clone().requires_grad_(True)
    beta = layer.beta.detach().clone().requires_grad_(True)
    F.layer_norm(x, (9,), gamma, beta, 1e-3).pow(2).sum().backward()
    np.testing.assert_allclose(layer.gamma.grad.numpy(), gamma.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(layer.beta.grad.numpy(), beta.grad.numpy(), rtol=1e-5)


def test_config_and_save_load_round_trip(tmp_path):
    inputs = Input((4, 4, 3))
    outputs = LayerNormalization(axis=[1, 2, 3], epsilon=1e-4, name="ln",
                                 gamma_regularizer="l2")(inputs)
    model = Model(inputs, outputs)
    model.set_weights([np.random.default_rng(2).normal(size=w.shape).astype(np.float32)
                       for w in model.get_weights()])
    config = model.get_layer("ln").get_config()
    assert config["axis"] == [1, 2, 3] and config["epsilon"] == 1e-4
    clone = LayerNormalization.from_config(config)
    assert clone.axis == [1, 2, 3] and clone.gamma_regularizer is not None
    model.save(tmp_path / "m.cnnlab")
    loaded = load_model(tmp_path / "m.cnnlab")
    assert isinstance(loaded.get_layer("ln"), LayerNormalization)
    x = np.random.default_rng(3).normal(size=(2, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_errors_name_the_layer_and_the_argument():
    with pytest.raises(TypeError, match="LayerNormalization .*`axis`.*'a'"):
        LayerNormalization(axis="a")
    with pytest.raises(ValueError, match="`epsilon` must be a positive number, got 0"):
        LayerNormalization(epsilon=0)
    with pytest.raises(ValueError, match="non-batch axes .*axis=0"):
        LayerNormalization(axis=0)(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="axis=4"):
        LayerNormalization(axis=4)(torch.zeros(2, 3))
    layer = LayerNormalization()
    layer(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="expected axis 1 of the input to have size 3"):
        layer(torch.zeros(2, 5))
