"""``Sequential``: the ways to declare it, lazy building, nesting, freezing, weights, JSON.

References: the forward pass is recomputed with NumPy from ``get_weights()`` (Keras layouts:
a Dense kernel is ``(in, out)``, a Conv2D kernel ``(kh, kw, in, out)``); parameter counts
from the lecture formulas ``(in + 1)·out`` and ``(kh·kw·in + 1)·filters``.
"""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab import losses, optimizers
from cnnlab.layers import (
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    MaxPooling2D,
)
from cnnlab.models import Sequential
from cnnlab.models.config import model_from_json


def mlp_reference(weights, x):
    w1, b1, w2, b2 = weights
    return np.maximum(x @ w1 + b1, 0) @ w2 + b2


def test_list_and_add_build_the_same_model():
    by_list = Sequential([Dense(5, activation="relu", input_shape=(3,)), Dense(2)])
    by_add = Sequential()
    by_add.add(Dense(5, activation="relu", input_shape=(3,)))
    by_add.add(Dense(2))
    for model in (by_list, by_add):
        assert model.built and model.output_shape == (None, 2)
        assert model.count_params() == (3 + 1) * 5 + (5 + 1) * 2
        x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
        np.testing.assert_allclose(model.predict(x, verbose=0),
                                   mlp_reference(model.get_weights(), x), atol=1e-5)


@pytest.mark.parametrize("first", ["input", "input_layer", "input_shape", "input_dim"])
def test_ways_to_give_the_input_shape(first):
    head = {"input": [Input((8, 8, 1))], "input_layer": [InputLayer(input_shape=(8, 8, 1))],
            "input_shape": [], "input_dim": []}[first]
    conv = Conv2D(4, 3, input_shape=(8, 8, 1)) if first == "input_shape" else Conv2D(4, 3)
    if first == "input_dim":
        model = Sequential([Dense(4, input_dim=6)])
        assert model.input_shape == (None, 6) and model.output_shape == (None, 4)
        return
    model = Sequential([*head, conv, MaxPooling2D(2), Flatten()])
    assert model.built
    assert [layer.output_shape for layer in model.layers] == [
        (None, 6, 6, 4), (None, 3, 3, 4), (None, 36)]
    assert len(model.layers) == 3  # the input is not a layer of a Sequential, as in Keras
    assert model.count_params() == (3 * 3 * 1 + 1) * 4


def test_a_model_without_input_shape_builds_on_first_data():
    # The Keras guide's first example: Dense layers with no input shape.
    model = Sequential()
    model.add(Dense(64, activation="relu"))
    model.add(Dense(64, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    assert not model.built
    with pytest.raises(ValueError, match="has not been built yet"):
        model.summary()
    with pytest.raises(ValueError, match="before the layer is built"):
        model.count_params()
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(1)
    model.fit(rng.random((64, 32)), rng.random((64, 10)), epochs=1, batch_size=32, verbose=0)
    assert model.built and model.input_shape == (None, 32)
    assert [layer.output_shape for layer in model.layers] == [(None, 64), (None, 64), (None, 10)]
    assert model.count_params() == 33 * 64 + 65 * 64 + 65 * 10


def test_build_with_a_shape():
    model = Sequential([Dense(3), Dense(1)])
    model.build((None, 7))
    assert model.count_params() == 8 * 3 + 4
    assert model.layers[0].get_weights()[0].shape == (7, 3)


def test_pop_removes_the_last_layer():
    model = Sequential([Dense(4, input_shape=(2,)), Dense(3), Dense(1)])
    removed = model.pop()
    assert removed.name == "dense_2"
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.output_shape == (None, 3)
    assert model.count_params() == 3 * 4 + 5 * 3
    assert list(model.state_dict()) == ["dense.kernel", "dense.bias", "dense_1.kernel",
                                        "dense_1.bias"]
    model.add(Dense(6))
    assert model.output_shape == (None, 6)
    assert model.predict(np.ones((2, 2), "float32"), verbose=0).shape == (2, 6)
    with pytest.raises(ValueError, match="no layer to pop"):
        Sequential().pop()


def test_a_sequential_inside_a_sequential():
    inner = Sequential([Dense(4, activation="relu"), Dense(3)], name="inner")
    model = Sequential([Dense(5, input_shape=(2,)), inner, Dense(1)])
    assert model.layers[1] is inner and inner.built
    w0, b0, w1, b1, w2, b2, w3, b3 = model.get_weights()
    x = np.random.default_rng(2).normal(size=(3, 2)).astype("float32")
    expected = mlp_reference([w1, b1, w2, b2], x @ w0 + b0) @ w3 + b3
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    assert model.count_params() == 15 + (24 + 15) + 4
    lines = []
    model.summary(print_fn=lines.append)
    assert any(line.split() == ["inner", "(Sequential)", "(None,", "3)", "39"] for line in lines)


def fit_once(model, x, y):
    model.compile(optimizers.SGD(learning_rate=0.5), "mse")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)


def test_a_frozen_layer_keeps_its_weights():
    x = np.random.default_rng(3).normal(size=(8, 3)).astype("float32")
    y = np.ones((8, 1), "float32")
    frozen, free = Dense(4, input_shape=(3,)), Dense(1)
    model = Sequential([frozen, free])
    frozen.trainable = False
    before_frozen, before_free = frozen.get_weights(), free.get_weights()
    fit_once(model, x, y)
    for got, want in zip(frozen.get_weights(), before_frozen, strict=True):
        np.testing.assert_array_equal(got, want)
    assert not np.allclose(free.get_weights()[0], before_free[0])
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[-4:-1] == ["Total params: 21", "Trainable params: 5",
                            "Non-trainable params: 16"]


def test_a_frozen_model_changes_nothing():
    x = np.random.default_rng(4).normal(size=(8, 3)).astype("float32")
    model = Sequential([Dense(4, input_shape=(3,)), Dense(1)])
    model.trainable = False
    before = model.get_weights()
    with pytest.warns(UserWarning, match="no trainable weights"):
        fit_once(model, x, np.ones((8, 1), "float32"))
    for got, want in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, want)
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[-4:-1] == ["Total params: 21", "Trainable params: 0",
                            "Non-trainable params: 21"]


def test_a_frozen_batch_normalization_runs_in_inference_mode():
    # Keras 2 rule: BatchNormalization(trainable=False) uses its moving statistics even in fit.
    rng = np.random.default_rng(5)
    x = rng.normal(3.0, 2.0, size=(16, 3)).astype("float32")
    bn = BatchNormalization()
    model = Sequential([Dense(3, input_shape=(3,)), bn, Dense(1)])
    bn.set_weights([np.full(3, 2.0), np.full(3, 0.5), np.full(3, 1.0), np.full(3, 4.0)])
    bn.trainable = False
    fit_once(model, x, np.ones((16, 1), "float32"))
    gamma, beta, mean, var = bn.get_weights()
    np.testing.assert_array_equal(np.stack([gamma, beta, mean, var]),
                                  [[2.0] * 3, [0.5] * 3, [1.0] * 3, [4.0] * 3])
    h = torch.ones(2, 3)
    expected = (h - 1.0) / np.sqrt(4.0 + 1e-3) * 2.0 + 0.5
    np.testing.assert_allclose(bn(h, training=True).detach().numpy(), expected, atol=1e-6)
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[-3:-1] == ["Trainable params: 16",  # the two Dense layers
                            "Non-trainable params: 12"]  # gamma, beta and the moving stats


def test_weights_in_keras_layouts():
    model = Sequential([Conv2D(4, (3, 2), input_shape=(6, 5, 2)), Flatten(), Dense(3)])
    kernel, bias, dense_kernel, dense_bias = model.get_weights()
    assert kernel.shape == (3, 2, 2, 4) and bias.shape == (4,)
    assert dense_kernel.shape == (4 * 4 * 4, 3) and dense_bias.shape == (3,)
    # the Keras layout is a real permutation of the stored PyTorch weight
    conv = model.layers[0]
    torch_weight = dict(conv.named_parameters())["kernel"].detach().numpy()
    np.testing.assert_array_equal(kernel, torch_weight.transpose(2, 3, 1, 0))
    rng = np.random.default_rng(6)
    new = [rng.normal(size=w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new, strict=True):
        np.testing.assert_array_equal(got, want)
    x = rng.normal(size=(2, 6, 5, 2)).astype("float32")
    h = F.conv2d(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(new[0]).permute(3, 2, 0, 1),
                 torch.tensor(new[1])).permute(0, 2, 3, 1).reshape(2, -1).numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), h @ new[2] + new[3], atol=1e-4)
    with pytest.raises(ValueError, match=r"expected 4 arrays with shapes \[\(3, 2, 2, 4\)"):
        model.set_weights([new[0].transpose(3, 2, 1, 0), *new[1:]])
    with pytest.raises(ValueError, match="got 3 with shapes"):
        model.set_weights(new[:3])


def test_json_round_trip_keeps_config_and_outputs():
    model = Sequential([Conv2D(3, 3, padding="same", activation="relu", input_shape=(5, 5, 2)),
                        BatchNormalization(), Dropout(0.3), Flatten(),
                        Dense(2, activation="softmax")])
    copy = model_from_json(model.to_json())
    assert isinstance(copy, Sequential)
    assert json.loads(copy.to_json()) == json.loads(model.to_json())
    copy.set_weights(model.get_weights())
    x = np.random.default_rng(7).normal(size=(3, 5, 5, 2)).astype("float32")
    np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)
    lazy = Sequential([Dense(2)])
    assert not model_from_json(lazy.to_json()).built


def test_every_model_is_a_torch_module():
    model = Sequential([Conv2D(2, 3, input_shape=(5, 5, 1)), BatchNormalization(), Flatten(),
                        Dense(1)])
    assert isinstance(model, torch.nn.Module)
    assert list(model.state_dict()) == [
        "conv2d.kernel", "conv2d.bias", "batch_normalization.gamma", "batch_normalization.beta",
        "batch_normalization.moving_mean", "batch_normalization.moving_variance",
        "dense.kernel", "dense.bias"]
    assert len(list(model.parameters())) == 6  # the moving statistics are buffers
    assert sum(p.numel() for p in model.parameters()) + 2 * 2 == model.count_params()
    out = model(torch.zeros(4, 5, 5, 1))
    assert out.shape == (4, 1) and not model.training


def test_compile_then_fit_with_a_keras_default_optimizer_name():
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer="rmsprop", loss="mse")
    assert type(model.optimizer).__name__ == "RMSprop"
    assert model.optimizer.learning_rate == pytest.approx(0.001)
    losses_seen = model.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=3, verbose=0)
    assert losses_seen.history["loss"][2] < losses_seen.history["loss"][0]
    assert losses.get("mse").name == "mse"
