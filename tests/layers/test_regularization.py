"""Dropout and noise layers: exact identities and statistics with binomial/normal tolerances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnlab.layers.keras_tensor import KerasTensor
from cnnlab.layers.registry import registered_class
from cnnlab.layers.regularization import (
    ActivityRegularization,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)


def dropped_fraction_tolerance(rate: float, n: int) -> float:
    """Five standard deviations of the fraction of drops among ``n`` Bernoulli(rate) draws."""
    return 5 * math.sqrt(rate * (1 - rate) / n)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("seed", [None, 7])
def test_dropout_statistics_and_inverted_scaling(rate, seed):
    x = torch.rand(400, 500) + 0.5  # no zeros in the input
    y = Dropout(rate, seed=seed)(x, training=True)
    dropped = y == 0
    n = x.numel()
    assert abs(dropped.float().mean().item() - rate) < dropped_fraction_tolerance(rate, n)
    kept = ~dropped
    torch.testing.assert_close(y[kept], x[kept] / (1 - rate))
    # E[y] = x: the mean of y matches the mean of x within 5 standard errors
    std_error = math.sqrt(rate / (1 - rate)) * x.square().mean().sqrt().item() / math.sqrt(n)
    assert abs(y.mean().item() - x.mean().item()) < 5 * std_error


def test_dropout_is_identity_in_inference_and_for_rate_zero():
    x = torch.randn(8, 16)
    assert Dropout(0.5)(x) is x
    assert Dropout(0.5)(x, training=False) is x
    assert Dropout(0.0)(x, training=True) is x


def test_dropout_gradient_is_the_scaled_mask():
    x = torch.ones(50, 40, requires_grad=True)
    y = Dropout(0.25)(x, training=True)
    y.sum().backward()
    torch.testing.assert_close(x.grad, (y != 0).float() / 0.75)


def test_seed_makes_the_sequence_of_masks_reproducible():
    x = torch.ones(64, 64)
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    first, second = a(x, training=True), a(x, training=True)
    assert not torch.equal(first, second)
    assert torch.equal(b(x, training=True), first) and torch.equal(b(x, training=True), second)


def test_noise_shape_shares_the_mask_along_size_one_axes():
    x = torch.rand(6, 10, 8) + 1
    y = Dropout(0.5, noise_shape=(None, 1, 8))(x, training=True)
    mask = y != 0
    assert torch.equal(mask, mask[:, :1, :].expand_as(mask))  # same features at every step
    assert 0 < mask.float().mean() < 1
    with pytest.raises(ValueError, match=r"`noise_shape` \(None, 3, 8\) does not broadcast to "
                                         r"the input shape \(None, 10, 8\)"):
        Dropout(0.5, noise_shape=(None, 3, 8))(x, training=True)
    with pytest.raises(ValueError, match="`noise_shape` must hold positive ints or None"):
        Dropout(0.5, noise_shape=(None, 0))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5", True, None])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match=r"Dropout 'd': `rate` must be a float in \[0, 1\)"):
        Dropout(rate, name="d")
    with pytest.raises(ValueError, match="`rate` must be a float"):
        SpatialDropout2D(rate)
    with pytest.raises(ValueError, match="`rate` must be a float"):
        GaussianDropout(rate)


@pytest.mark.parametrize("cls,shape,data_format", [
    (SpatialDropout1D, (40, 6, 50), None),
    (SpatialDropout2D, (40, 5, 6, 50), None),
    (SpatialDropout2D, (40, 50, 5, 6), "channels_first"),
    (SpatialDropout3D, (40, 3, 4, 5, 50), "channels_last"),
    (SpatialDropout3D, (40, 50, 3, 4, 5), "channels_first"),
])
def test_spatial_dropout_drops_whole_channels(cls, shape, data_format):
    kwargs = {} if data_format is None else {"data_format": data_format}
    x = torch.rand(shape) + 1
    y = cls(0.3, **kwargs)(x, training=True)
    channel_axis = 1 if data_format == "channels_first" else -1
    per_map = (y != 0).movedim(channel_axis, 1).flatten(2)  # (N, C, positions)
    assert torch.equal(per_map.all(-1), per_map.any(-1))  # each map all kept or all dropped
    dropped = (~per_map.any(-1)).float().mean().item()
    assert abs(dropped - 0.3) < dropped_fraction_tolerance(0.3, 40 * 50)
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / 0.7)
    assert cls(0.3, **kwargs)(x) is x


def test_spatial_dropout_shapes_config_and_rank():
    layer = SpatialDropout2D(0.2, data_format="channels_first", seed=1)
    assert layer(KerasTensor((None, 3, 8, 8))).shape == (None, 3, 8, 8)
    config = layer.get_config()
    assert config["rate"] == 0.2 and config["data_format"] == "channels_first"
    assert SpatialDropout2D.from_config(config).get_config() == config
    assert "data_format" not in SpatialDropout1D(0.2).get_config()  # as in Keras
    with pytest.raises(ValueError, match=r"SpatialDropout2D 's': expected input with 3 "
                                         r"dimensions \(H, W, C\), got \(8, 3\)"):
        SpatialDropout2D(0.5, name="s")(torch.zeros(2, 8, 3), training=True)
    with pytest.raises(ValueError, match="`data_format` must be"):
        SpatialDropout3D(0.5, data_format="NDHWC")


def test_gaussian_noise_statistics():
    x = torch.full((500, 400), 3.0)
    y = GaussianNoise(0.2)(x, training=True)
    noise = (y - x).double()
    n = noise.numel()
    assert abs(noise.mean().item()) < 5 * 0.2 / math.sqrt(n)
    assert abs(noise.std().item() - 0.2) < 5 * 0.2 / math.sqrt(2 * n)
    assert GaussianNoise(0.2)(x) is x
    with pytest.raises(ValueError, match=r"`stddev` must be a float >= 0, got -1"):
        GaussianNoise(-1)


def test_gaussian_dropout_statistics():
    rate = 0.3
    x = torch.full((500, 400), 2.0)
    factor = (GaussianDropout(rate, seed=0)(x, training=True) / x).double()
    sigma = math.sqrt(rate / (1 - rate))
    n = factor.numel()
    assert abs(factor.mean().item() - 1) < 5 * sigma / math.sqrt(n)
    assert abs(factor.std().item() - sigma) < 5 * sigma / math.sqrt(2 * n)
    assert GaussianDropout(rate)(x) is x


def test_activity_regularization_penalty_reaches_the_loss_once():
    layer = ActivityRegularization(l1=0.01, l2=0.1)
    x = torch.randn(4, 6, requires_grad=True)
    assert layer(x) is x and layer.regularization_losses() == []  # inference: no penalty
    y = layer(x, training=True)
    assert y is x
    (penalty,) = layer.regularization_losses()
    xs = x.detach().numpy().astype(np.float64)
    expected = (0.01 * np.abs(xs).sum() + 0.1 * np.square(xs).sum()) / 4
    assert penalty.item() == pytest.approx(expected, rel=1e-6)
    assert layer.regularization_losses() == []  # handed out once
    penalty.backward()
    expected_grad = (0.01 * np.sign(xs) + 0.2 * xs) / 4
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match=r"`l2` must be a float >= 0, got -0.5"):
        ActivityRegularization(l2=-0.5)


@pytest.mark.parametrize("layer", [
    Dropout(0.4, noise_shape=(None, 1), seed=2), GaussianNoise(0.5, seed=1),
    GaussianDropout(0.2), ActivityRegularization(l1=0.5), SpatialDropout3D(0.1),
])
def test_config_round_trip_and_registry(layer):
    config = layer.get_config()
    cls = registered_class(type(layer).__name__)
    assert cls is type(layer)
    assert cls.from_config(config).get_config() == config


def test_shapes_pass_through_and_input_shape_builds():
    assert Dropout(0.5, input_shape=(10,)).output_shape == (None, 10)
    assert GaussianNoise(0.1)(KerasTensor((None, 28, 28, 1))).shape == (None, 28, 28, 1)
    assert Dropout(0.5, input_shape=(3,)).count_params() == 0


def test_seed_must_be_an_int():
    with pytest.raises(TypeError, match=r"`seed` must be an int or None, got 1.5"):
        Dropout(0.5, seed=1.5)
