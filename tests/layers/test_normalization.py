"""BatchNormalization against the Keras formulas written out in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab.layers.keras_tensor import KerasTensor
from cnnlab.layers.normalization import BatchNormalization

EPS = 1e-3


def numpy_batch_norm(x, axis, gamma, beta, mean=None, var=None, eps=EPS):
    """Keras: ``gamma·(x − mean)/sqrt(var + eps) + beta``; batch statistics (biased variance)
    over every axis but ``axis`` unless ``mean``/``var`` are given."""
    axis = axis % x.ndim
    reduce = tuple(a for a in range(x.ndim) if a != axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    if mean is None:
        mean, var = x.mean(axis=reduce), x.var(axis=reduce)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * y + beta.reshape(shape), mean, var


def random_weights(layer, channels, rng):
    gamma = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    beta = rng.standard_normal(channels).astype(np.float32)
    moving_mean = rng.standard_normal(channels).astype(np.float32)
    moving_var = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    layer.set_weights([gamma, beta, moving_mean, moving_var])
    return gamma, beta, moving_mean, moving_var


SHAPES_AXES = [
    ((16, 5), -1),            # after Dense
    ((4, 7, 3), -1),          # after Conv1D
    ((4, 5, 6, 3), -1),       # after Conv2D, channels_last
    ((4, 3, 5, 6), 1),        # after Conv2D, channels_first
    ((2, 3, 4, 5, 2), -1),    # after Conv3D
    ((4, 5, 6, 3), 2),        # an arbitrary middle axis
]


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_training_uses_batch_statistics_and_updates_moving_ones(shape, axis):
    rng = np.random.default_rng(0)
    layer = BatchNormalization(axis=axis, momentum=0.9, input_shape=shape[1:])
    gamma, beta, moving_mean, moving_var = random_weights(layer, shape[axis], rng)
    for _ in range(3):
        x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
        y = layer(torch.from_numpy(x), training=True).detach().numpy()
        expected, mean, var = numpy_batch_norm(x.astype(np.float64), axis, gamma, beta)
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
        moving_mean = 0.9 * moving_mean + 0.1 * mean
        moving_var = 0.9 * moving_var + 0.1 * var
        np.testing.assert_allclose(layer.moving_mean.numpy(), moving_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.moving_variance.numpy(), moving_var, rtol=1e-5)
    x = rng.standard_normal(shape).astype(np.float32)
    y = layer(torch.from_numpy(x)).detach().numpy()  # inference: moving statistics
    expected, _, _ = numpy_batch_norm(x, axis, gamma, beta, moving_mean, moving_var)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)


def test_inference_leaves_moving_statistics_alone():
    layer = BatchNormalization()
    x = torch.randn(8, 4) * 5 + 3
    y = layer(x)
    torch.testing.assert_close(y, x / np.sqrt(1 + EPS))  # mean 0, variance 1, gamma 1, beta 0
    assert layer.moving_mean.eq(0).all() and layer.moving_variance.eq(1).all()


def test_frozen_layer_runs_in_inference_mode_even_when_training():
    rng = np.random.default_rng(1)
    layer = BatchNormalization(input_shape=(4, 4, 3))
    weights = random_weights(layer, 3, rng)
    layer.trainable = False
    x = rng.standard_normal((5, 4, 4, 3)).astype(np.float32)
    y = layer(torch.from_numpy(x), training=True).detach().numpy()
    expected, _, _ = numpy_batch_norm(x, -1, weights[0], weights[1], weights[2], weights[3])
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer.get_weights()[2], weights[2])
    np.testing.assert_array_equal(layer.get_weights()[3], weights[3])
    assert not any(p.requires_grad for p in layer.parameters())
    assert layer.trainable_weights == []


def test_one_value_per_channel_gives_beta_and_zero_batch_variance():
    layer = BatchNormalization(input_shape=(3,))
    beta = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    layer.set_weights([np.ones(3), beta, np.zeros(3), np.ones(3)])
    x = torch.tensor([[4.0, 5.0, 6.0]], requires_grad=True)  # e.g. the last batch of an epoch
    y = layer(x, training=True)
    np.testing.assert_allclose(y.detach().numpy()[0], beta, atol=1e-6)
    y.sum().backward()
    assert x.grad.abs().max() == 0 and layer.gamma.grad.abs().max() == 0
    np.testing.assert_array_equal(layer.beta.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.01 * x.detach().numpy()[0],
                               rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), [0.99] * 3, rtol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_gradients_match_finite_differences(training):
    layer = BatchNormalization(input_shape=(3, 3, 2)).double()
    x = torch.randn(3, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    gamma = torch.rand(2, dtype=torch.float64, requires_grad=True) + 0.5
    beta = torch.randn(2, dtype=torch.float64, requires_grad=True)

    def forward(x, gamma, beta):
        weights = {"gamma": gamma, "beta": beta}
        return torch.func.functional_call(layer, weights, (x,), {"training": training})

    assert torch.autograd.gradcheck(forward, (x, gamma, beta))


def test_shared_layer_backward_matches_plain_torch_formula():
    layer = BatchNormalization(input_shape=(4, 4, 3))
    with torch.no_grad():
        layer.gamma.uniform_(0.5, 2.0)
    x1, x2 = (torch.randn(2, 4, 4, 3, requires_grad=True) for _ in range(2))
    (layer(x1, training=True) * layer(x2, training=True)).sum().backward()  # two calls, one graph

    def reference(x):
        mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2), unbiased=False)
        return layer.gamma.detach() * (x - mean) / torch.sqrt(var + EPS) + layer.beta.detach()

    r1, r2 = (x.detach().clone().requires_grad_() for x in (x1, x2))
    (reference(r1) * reference(r2)).sum().backward()
    torch.testing.assert_close(x1.grad, r1.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(x2.grad, r2.grad, rtol=1e-4, atol=1e-5)


def test_weights_order_shapes_and_counts():
    layer = BatchNormalization()
    layer(torch.randn(2, 4, 4, 8))
    names = [name for name, _, _ in layer.keras_weights()]
    assert names == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.shape for w in layer.get_weights()] == [(8,)] * 4
    assert layer.count_params() == 32
    assert sum(t.numel() for t in layer.trainable_weights) == 16
    assert sum(t.numel() for t in layer.non_trainable_weights) == 16
    assert {name for name, _ in layer.named_buffers()} == {"moving_mean", "moving_variance"}


@pytest.mark.parametrize("center,scale,names", [
    (False, True, ["gamma", "moving_mean", "moving_variance"]),
    (True, False, ["beta", "moving_mean", "moving_variance"]),
    (False, False, ["moving_mean", "moving_variance"]),
])
def test_center_and_scale_switch_gamma_and_beta(center, scale, names):
    layer = BatchNormalization(center=center, scale=scale, input_shape=(5,))
    assert [name for name, _, _ in layer.keras_weights()] == names
    x = np.random.default_rng(2).standard_normal((6, 5)).astype(np.float32)
    y = layer(torch.from_numpy(x), training=True).detach().numpy()
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + EPS), rtol=1e-4,
                               atol=1e-5)


def test_initializers_are_used():
    layer = BatchNormalization(gamma_initializer="zeros", moving_variance_initializer="zeros",
                               beta_initializer="ones", input_shape=(3,))
    gamma, beta, mean, var = layer.get_weights()
    assert (gamma == 0).all() and (beta == 1).all() and (mean == 0).all() and (var == 0).all()


def test_regularization_losses():
    layer = BatchNormalization(gamma_regularizer=lambda w: 3.0 * w.sum(),
                               beta_regularizer=lambda w: w.square().sum(), input_shape=(4,))
    gamma = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    beta = np.array([1.0, -1.0, 2.0, 0.0], dtype=np.float32)
    layer.set_weights([gamma, beta, np.zeros(4), np.ones(4)])
    losses = [t.item() for t in layer.regularization_losses()]
    assert losses == [30.0, 6.0]
    assert BatchNormalization(input_shape=(4,)).regularization_losses() == []
    assert BatchNormalization().regularization_losses() == []  # not built yet


def test_named_regularizer_uses_keras_default_factor():
    layer = BatchNormalization(gamma_regularizer="l2", input_shape=(2,))
    layer.set_weights([np.array([1.0, 2.0]), np.zeros(2), np.zeros(2), np.ones(2)])
    (penalty,) = layer.regularization_losses()
    assert penalty.item() == pytest.approx(0.01 * 5.0)


def test_constraint_projects_gamma_after_a_step():
    layer = BatchNormalization(gamma_constraint="non_neg", input_shape=(3,))
    layer.set_weights([np.array([-1.0, 0.5, -2.0]), np.zeros(3), np.zeros(3), np.ones(3)])
    layer.apply_constraints()
    np.testing.assert_array_equal(layer.get_weights()[0], [0.0, 0.5, 0.0])


def test_config_round_trip():
    layer = BatchNormalization(axis=1, momentum=0.9, epsilon=1e-5, center=False,
                               gamma_regularizer="l2", moving_variance_initializer="zeros",
                               gamma_constraint="non_neg")
    config = layer.get_config()
    assert config["axis"] == 1 and config["momentum"] == 0.9 and config["epsilon"] == 1e-5
    assert config["center"] is False and config["beta_regularizer"] is None
    assert config["beta_constraint"] is None and config["gamma_constraint"] is not None
    assert BatchNormalization.from_config(config).get_config() == config


def test_symbolic_call_and_summary_shape():
    layer = BatchNormalization()
    assert layer(KerasTensor((None, None, None, 16))).shape == (None, None, None, 16)
    assert layer.count_params() == 64


def test_errors():
    with pytest.raises(ValueError, match=r"BatchNormalization 'bn': `axis` must name a "
                                         r"non-batch axis of the 2-D input"):
        BatchNormalization(axis=2, name="bn", input_shape=(4,))
    with pytest.raises(ValueError, match="non-batch axis"):
        BatchNormalization(axis=0)(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="axis -1 of the input must have a known size"):
        BatchNormalization()(KerasTensor((None, 4, None)))
    with pytest.raises(TypeError, match=r"`axis` must be an int, got \[1, 2\]"):
        BatchNormalization(axis=[1, 2])
    with pytest.raises(ValueError, match=r"`momentum` must be in \[0, 1\], got 1.5"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="`epsilon` must be positive"):
        BatchNormalization(epsilon=0)
    layer = BatchNormalization()
    layer(torch.zeros(2, 4, 4, 3))
    with pytest.raises(ValueError, match=r"expected input with 3 dimensions, got a batch of "
                                         r"shape \(2, 4, 3\)"):
        layer(torch.zeros(2, 4, 3))
    with pytest.raises(ValueError, match="expected axis -1 of the input to have size 3"):
        layer(torch.zeros(2, 4, 4, 5))
