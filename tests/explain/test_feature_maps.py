"""Filters and feature maps read through the model equal what the layers compute themselves."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab.explain import feature_maps, filters
from cnnlab.layers import (
    Add,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    Input,
    MaxPooling2D,
)


def small_cnn():
    return cnnlab.Sequential([
        Conv2D(4, 3, activation="relu", input_shape=(10, 10, 2)),
        Dropout(0.5),
        MaxPooling2D(2),
        Flatten(),
        Dense(3, activation="softmax"),
    ])


def test_first_conv_feature_maps_equal_the_layer_output_by_name_index_and_object():
    model = small_cnn()
    x = np.random.default_rng(0).normal(size=(3, 10, 10, 2)).astype(np.float32)
    conv = model.layers[0]
    expected = conv(torch.tensor(x)).detach().numpy()
    for layer in ("conv2d", 0, conv):
        np.testing.assert_allclose(feature_maps(model, layer, x), expected, rtol=1e-6)
    # Inference mode: Dropout passes values through, so the pooled maps are the plain max.
    pooled = feature_maps(model, "max_pooling2d", x)
    reference = torch.nn.functional.max_pool2d(torch.tensor(expected).permute(0, 3, 1, 2), 2)
    np.testing.assert_allclose(pooled, reference.permute(0, 2, 3, 1).numpy(), rtol=1e-6)
    assert feature_maps(model, 0, x[0]).shape == (1, 8, 8, 4)  # one sample gets a batch axis


def test_functional_model_inner_layer_and_input():
    inputs = Input((6, 6, 1))
    a = Conv2D(2, 3, padding="same", name="left")(inputs)
    b = Conv2D(2, 1, name="right")(inputs)
    model = cnnlab.Model(inputs, Dense(2)(Flatten()(Add(name="join")([a, b]))))
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 1)).astype(np.float32)
    left = model.get_layer("left")(torch.tensor(x))
    right = model.get_layer("right")(torch.tensor(x))
    np.testing.assert_allclose(feature_maps(model, "join", x), (left + right).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(feature_maps(model, model.layers[0].name, x), x)


def test_filters_are_the_keras_layout_kernel_scaled_to_unit_range():
    model = small_cnn()
    kernel = model.layers[0].kernel.detach().numpy().transpose(2, 3, 1, 0)  # (kh, kw, in, out)
    np.testing.assert_array_equal(filters(model, 0, normalize=False), kernel)
    scaled = filters(model, "conv2d")
    np.testing.assert_allclose(scaled, (kernel - kernel.min()) / (kernel.max() - kernel.min()),
                               rtol=1e-6)
    assert scaled.min() == 0.0 and scaled.max() == pytest.approx(1.0)


def test_depthwise_filters_and_a_constant_kernel():
    model = cnnlab.Sequential([DepthwiseConv2D(3, depth_multiplier=2, input_shape=(5, 5, 3))])
    assert filters(model, 0).shape == (3, 3, 3, 2)
    model.layers[0].set_weights([np.full((3, 3, 3, 2), 0.5), np.zeros(6)])
    np.testing.assert_array_equal(filters(model, 0), np.zeros((3, 3, 3, 2)))


def test_bad_layer_arguments_are_explained():
    model = small_cnn()
    with pytest.raises(ValueError, match="no layer named 'conv9'"):
        feature_maps(model, "conv9", np.zeros((1, 10, 10, 2)))
    with pytest.raises(ValueError, match="no convolution kernel"):
        filters(model, "dense")
    with pytest.raises(TypeError, match="layer name"):
        filters(model, 1.5)
    with pytest.raises(ValueError, match="not a layer of this model"):
        filters(model, Conv2D(1, 1))
