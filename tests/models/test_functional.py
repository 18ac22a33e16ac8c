"""The functional API: ``Model(inputs, outputs)`` against layer-by-layer references.

Skip connections and branches are compared with ``torch.nn.functional`` computed from the
Keras-layout weights; several outputs are trained with per-output losses and ``loss_weights``
and the logged numbers compared with the hand-weighted sum (Keras rule: ``loss`` is
``sum(loss_weight_i * loss_i)``, each ``<output>_loss`` is unweighted).
"""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab import losses, optimizers
from cnnlab.layers import Add, Concatenate, Conv2D, Dense, Flatten, Input, InputLayer
from cnnlab.models import Model, Sequential
from cnnlab.models.config import model_from_json


def conv_ref(x, kernel, bias, padding):
    """'same' for odd kernels with stride 1 is symmetric padding of k // 2."""
    pad = kernel.shape[0] // 2 if padding == "same" else 0
    y = F.conv2d(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(kernel).permute(3, 2, 0, 1),
                 torch.tensor(bias), padding=pad)
    return y.permute(0, 2, 3, 1).numpy()


def test_skip_connection_adds_the_input():
    inputs = Input((6, 6, 3))
    conv = Conv2D(3, 3, padding="same", activation="relu")
    outputs = Add()([conv(inputs), inputs])  # a[l+2] = g(z) + a[l]
    model = Model(inputs, outputs)
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype("float32")
    expected = np.maximum(conv_ref(x, *conv.get_weights(), "same"), 0) + x
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    assert model.output_shape == (None, 6, 6, 3)


def test_branches_concatenate_on_the_channel_axis():
    inputs = Input((5, 5, 2))
    one, three = Conv2D(4, 1), Conv2D(3, 3, padding="same")
    merged = Concatenate()([one(inputs), three(inputs)])
    model = Model(inputs, Dense(2)(Flatten()(merged)))
    x = np.random.default_rng(1).normal(size=(3, 5, 5, 2)).astype("float32")
    branches = np.concatenate([conv_ref(x, *one.get_weights(), "valid"),
                               conv_ref(x, *three.get_weights(), "same")], axis=-1)
    w, b = model.layers[-1].get_weights()
    expected = branches.reshape(3, -1) @ w + b  # Flatten in (H, W, C) order
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-4)
    assert merged.shape == (None, 5, 5, 7)
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "Conv2D", "Conv2D", "Concatenate", "Flatten", "Dense"]


def test_a_shared_layer_has_one_set_of_weights():
    a, b = Input((3,)), Input((3,))
    shared = Dense(4, name="shared")
    model = Model([a, b], Concatenate()([shared(a), shared(b)]))
    assert model.count_params() == 3 * 4 + 4
    assert len(list(model.parameters())) == 2
    xa = np.arange(6, dtype="float32").reshape(2, 3)
    xb = -xa
    w, bias = shared.get_weights()
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0),
                               np.concatenate([xa @ w + bias, xb @ w + bias], axis=1), atol=1e-5)
    lines = []
    model.summary(print_fn=lines.append)
    row = next(line for line in lines if line.startswith("shared (Dense)"))
    assert row.split()[2:5] == ["multiple", "16", "input_1[0][0]"]
    assert lines[lines.index(row) + 1].strip() == "input_2[0][0]"


def two_output_model():
    inputs = Input((4,), name="x")
    hidden = Dense(5, activation="tanh", name="hidden")(inputs)
    return Model(inputs, [Dense(3, name="label")(hidden), Dense(1, name="value")(hidden)])


def hand_losses(model, x, y_label, y_value):
    logits, value = (torch.tensor(o) for o in model.predict(x, verbose=0))
    ce = F.cross_entropy(logits, torch.tensor(y_label)).item()
    mse = F.mse_loss(value[:, 0], torch.tensor(y_value)).item()
    accuracy = np.mean(logits.argmax(1).numpy() == y_label)
    return ce, mse, accuracy


@pytest.mark.parametrize("form", ["list", "dict"])
def test_two_outputs_with_loss_weights(form):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(12, 4)).astype("float32")
    y_label, y_value = rng.integers(0, 3, 12), rng.normal(size=12).astype("float32")
    model = two_output_model()
    ce_loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    if form == "list":
        loss, weights, y = [ce_loss, "mse"], [0.5, 2.0], [y_label, y_value]
    else:
        loss, weights = {"value": "mse", "label": ce_loss}, {"label": 0.5, "value": 2.0}
        y = {"value": y_value, "label": y_label}
    model.compile(optimizers.SGD(learning_rate=0.0), loss, loss_weights=weights,
                  metrics={"label": ["accuracy"]})
    logs = model.fit(x, y, batch_size=12, verbose=0).history
    ce, mse, accuracy = hand_losses(model, x, y_label, y_value)
    assert logs["loss"][0] == pytest.approx(0.5 * ce + 2.0 * mse, rel=1e-5)
    assert logs["label_loss"][0] == pytest.approx(ce, rel=1e-5)  # unweighted, as Keras
    assert logs["value_loss"][0] == pytest.approx(mse, rel=1e-5)
    assert logs["label_accuracy"][0] == pytest.approx(accuracy)
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(result) == ["loss", "label_loss", "value_loss", "label_accuracy"]
    assert result["loss"] == pytest.approx(0.5 * ce + 2.0 * mse, rel=1e-5)


def test_two_outputs_train_like_the_weighted_sum_in_torch():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 4)).astype("float32")
    y_label, y_value = rng.integers(0, 3, 8), rng.normal(size=8).astype("float32")
    model = two_output_model()
    model.compile(optimizers.SGD(learning_rate=0.1),
                  [losses.SparseCategoricalCrossentropy(from_logits=True), "mse"],
                  loss_weights=[0.5, 2.0])
    start = model.get_weights()
    model.fit(x, [y_label, y_value], batch_size=4, shuffle=False, verbose=0)
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in start]
    for part in (slice(0, 4), slice(4, 8)):
        w1, b1, w2, b2, w3, b3 = params
        h = torch.tanh(torch.tensor(x[part], dtype=torch.float64) @ w1 + b1)
        loss = 0.5 * F.cross_entropy(h @ w2 + b2, torch.tensor(y_label[part])) + \
            2.0 * F.mse_loss((h @ w3 + b3)[:, 0], torch.tensor(y_value[part], dtype=torch.float64))
        grads = torch.autograd.grad(loss, params)
        params = [(p - 0.1 * g).detach().requires_grad_() for p, g in zip(params, grads,
                                                                          strict=True)]
    for got, want in zip(model.get_weights(), params, strict=True):
        np.testing.assert_allclose(got, want.detach().numpy(), atol=1e-6)


def test_two_inputs_by_list_and_by_name():
    a, b = Input((2,), name="left"), Input((3,), name="right")
    out = Dense(1, name="out")(Concatenate()([a, b]))
    model = Model([a, b], out)
    model.compile(optimizers.SGD(learning_rate=0.0), "mse")
    xa, xb = np.ones((4, 2), "float32"), np.zeros((4, 3), "float32")
    y = np.arange(4, dtype="float32")
    w, bias = model.get_layer("out").get_weights()
    pred = np.concatenate([xa, xb], axis=1) @ w + bias
    want = np.mean((pred[:, 0] - y) ** 2)
    assert model.evaluate([xa, xb], y, verbose=0) == pytest.approx(want, rel=1e-5)
    assert model.evaluate({"right": xb, "left": xa}, y, verbose=0) == pytest.approx(want,
                                                                                   rel=1e-5)
    np.testing.assert_allclose(model.predict({"left": xa, "right": xb}, verbose=0), pred,
                               atol=1e-6)


def test_get_layer_and_layers_order():
    model = two_output_model()
    assert [layer.name for layer in model.layers] == ["x", "hidden", "label", "value"]
    assert isinstance(model.layers[0], InputLayer)
    assert model.get_layer("hidden") is model.layers[1]
    assert model.get_layer(index=-1).name == "value"
    assert model.output_names == ["label", "value"]
    with pytest.raises(ValueError, match="no layer named 'nope'.*'hidden'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="index 9 is out of range for 4 layers"):
        model.get_layer(index=9)


def test_a_sequential_inside_a_functional_model():
    inner = Sequential([Dense(4, activation="relu"), Dense(3)], name="inner")
    inputs = Input((2,))
    model = Model(inputs, Dense(1)(inner(inputs)))
    x = np.random.default_rng(4).normal(size=(5, 2)).astype("float32")
    w1, b1, w2, b2, w3, b3 = model.get_weights()
    expected = (np.maximum(x @ w1 + b1, 0) @ w2 + b2) @ w3 + b3
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    assert model.count_params() == (2 * 4 + 4) + (4 * 3 + 3) + (3 + 1)
    assert "inner.dense.kernel" in model.state_dict()


def test_functional_json_round_trip_with_a_shared_layer():
    a, b = Input((3,)), Input((3,))
    shared = Dense(2)
    merged = Add()([shared(a), shared(b)])
    model = Model([a, b], [Dense(1)(merged), merged])
    copy = model_from_json(model.to_json())
    assert json.loads(copy.to_json()) == json.loads(model.to_json())
    copy.set_weights(model.get_weights())
    x = [np.ones((2, 3), "float32"), np.arange(6, dtype="float32").reshape(2, 3)]
    for got, want in zip(copy.predict(x, verbose=0), model.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert len(list(copy.parameters())) == 4


def test_a_model_is_a_torch_module():
    model = two_output_model()
    assert isinstance(model, torch.nn.Module)
    assert list(model.state_dict()) == ["hidden.kernel", "hidden.bias", "label.kernel",
                                        "label.bias", "value.kernel", "value.bias"]
    outputs = model(torch.ones(2, 4))
    assert [tuple(o.shape) for o in outputs] == [(2, 3), (2, 1)]
