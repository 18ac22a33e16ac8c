"""``evaluate``, ``predict`` and the ``*_on_batch`` methods against NumPy / PyTorch references.

Keras rules checked: ``evaluate`` returns the loss alone without metrics, ``[loss, *metrics]``
with them, a dict with ``return_dict=True``; its loss is the batch-size-weighted mean of the
batch losses (so the mean over all samples); ``predict`` runs in inference mode (``Dropout``
off, ``BatchNormalization`` with its moving statistics); ``train_on_batch`` returns the loss
computed before its update.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab import losses, optimizers
from cnnlab.layers import BatchNormalization, Dense, Dropout, Input
from cnnlab.models import Model, Sequential


def data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n)


def linear_model(metrics=None, lr=0.1):
    model = Sequential([Dense(3, input_shape=(4,))])
    model.compile(optimizers.SGD(learning_rate=lr),
                  losses.SparseCategoricalCrossentropy(from_logits=True), metrics=metrics)
    return model


def reference(model, x, y, sample_weight=None):
    """Loss (Keras's sum_over_batch_size) and accuracy from the weights, in PyTorch."""
    w, b = (torch.tensor(a, dtype=torch.float64) for a in model.get_weights())
    logits = torch.tensor(x, dtype=torch.float64) @ w + b
    per_sample = F.cross_entropy(logits, torch.tensor(y), reduction="none").numpy()
    weights = np.ones(len(y)) if sample_weight is None else sample_weight
    accuracy = np.mean(logits.argmax(1).numpy() == y)
    return float(np.sum(weights * per_sample) / len(y)), accuracy, logits.numpy()


def test_evaluate_return_forms():
    x, y = data()
    model = linear_model()
    loss, accuracy, _ = reference(model, x, y)
    assert model.evaluate(x, y, batch_size=4, verbose=0) == pytest.approx(loss, rel=1e-5)

    model.compile(optimizers.SGD(), losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    values = model.evaluate(x, y, batch_size=4, verbose=0)
    assert values == pytest.approx([loss, accuracy], rel=1e-5)
    logs = model.evaluate(x, y, batch_size=3, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "accuracy"]
    assert logs == pytest.approx({"loss": loss, "accuracy": accuracy}, rel=1e-5)
    assert model.metrics_names == ["loss", "accuracy"]


def test_evaluate_with_sample_weight():
    x, y = data()
    weights = np.linspace(0.0, 2.0, len(y)).astype("float32")
    model = linear_model()
    got = model.evaluate(x, y, sample_weight=weights, batch_size=4, verbose=0)
    assert got == pytest.approx(reference(model, x, y, weights)[0], rel=1e-5)


def test_evaluate_prints_a_keras_bar(capsys):
    x, y = data()
    model = linear_model(metrics=["accuracy"])
    loss, accuracy = model.evaluate(x, y, batch_size=5)
    line = capsys.readouterr().out.strip().split("\r")[-1]
    assert line.startswith("2/2 [==============================] - ")
    assert line.endswith(f"step - loss: {loss:.4f} - accuracy: {accuracy:.4f}")


def test_predict_is_the_inference_forward_pass():
    x, y = data(32)
    model = Sequential([Dense(5, input_shape=(4,)), BatchNormalization(), Dropout(0.5),
                        Dense(3)])
    model.compile("adam", losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x * 3 + 1, y, epochs=3, batch_size=8, verbose=0)
    w1, b1, gamma, beta, moving_mean, moving_var, w2, b2 = model.get_weights()
    assert not np.allclose(moving_mean, 0)  # the moving statistics were updated by fit
    h = x @ w1 + b1
    h = (h - moving_mean) / np.sqrt(moving_var + 1e-3) * gamma + beta
    expected = h @ w2 + b2
    np.testing.assert_allclose(model.predict(x, batch_size=5, verbose=0), expected, atol=1e-5)
    np.testing.assert_allclose(model.predict(torch.tensor(x), verbose=0), expected, atol=1e-5)
    np.testing.assert_allclose(model.predict_on_batch(x), expected, atol=1e-5)
    # predict leaves the model as it found it: training output differs (batch statistics)
    assert not np.allclose(model(torch.tensor(x), training=True).detach().numpy(), expected,
                           atol=1e-3)


def batches_of(x, y=None, size=4):
    for start in range(0, len(x), size):
        part = slice(start, start + size)
        yield x[part] if y is None else (x[part], y[part])


def test_predict_and_evaluate_on_generators():
    x, y = data(10)
    model = linear_model(metrics=["accuracy"])
    loss, accuracy, logits = reference(model, x, y)
    np.testing.assert_allclose(model.predict(batches_of(x), verbose=0), logits, atol=1e-5)
    np.testing.assert_allclose(model.predict(batches_of(x, y), verbose=0), logits, atol=1e-5)
    np.testing.assert_allclose(model.predict_generator(batches_of(x), steps=2), logits[:8],
                               atol=1e-5)
    assert model.evaluate(batches_of(x, y), verbose=0) == pytest.approx([loss, accuracy],
                                                                        rel=1e-5)
    assert model.evaluate_generator(batches_of(x, y), steps=3) == pytest.approx(
        [loss, accuracy], rel=1e-5)
    first_two = reference(model, x[:8], y[:8])
    assert model.evaluate(batches_of(x, y), steps=2, verbose=0) == pytest.approx(
        [first_two[0], first_two[1]], rel=1e-5)


def test_predict_builds_a_lazy_model_from_a_generator():
    x, _ = data(6)
    model = Sequential([Dense(2)])
    out = model.predict(batches_of(x, size=4), verbose=0)
    w, b = model.get_weights()
    np.testing.assert_allclose(out, x @ w + b, atol=1e-5)
    assert model.get_weights()[0].shape == (4, 2)


def test_on_batch_methods():
    x, y = data(6)
    model = linear_model(metrics=["accuracy"], lr=0.5)
    before = model.get_weights()
    loss, accuracy, _ = reference(model, x, y)
    assert model.test_on_batch(x, y) == pytest.approx([loss, accuracy], rel=1e-5)
    assert model.train_on_batch(x, y) == pytest.approx([loss, accuracy], rel=1e-5)

    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in before]
    logits = torch.tensor(x, dtype=torch.float64) @ params[0] + params[1]
    grads = torch.autograd.grad(F.cross_entropy(logits, torch.tensor(y)), params)
    for got, w, g in zip(model.get_weights(), before, grads, strict=True):
        np.testing.assert_allclose(got, w - 0.5 * g.numpy(), atol=1e-6)

    logs = model.test_on_batch(x, y, return_dict=True)
    assert logs == pytest.approx(dict(zip(["loss", "accuracy"], reference(model, x, y)[:2],
                                          strict=True)), rel=1e-5)
    np.testing.assert_allclose(model.predict_on_batch(x), reference(model, x, y)[2], atol=1e-5)


def test_train_on_batch_with_class_weight():
    x, y = data(6)
    model = linear_model(lr=0.0)
    table = {0: 2.0, 1: 0.5, 2: 1.0}
    weights = np.array([table[int(c)] for c in y])
    got = model.train_on_batch(x, y, class_weight=table)
    assert got == pytest.approx(reference(model, x, y, weights)[0], rel=1e-5)


def test_predict_with_several_inputs_and_outputs():
    a, b = Input((2,)), Input((3,))
    first, second = Dense(1, name="first"), Dense(2, name="second")
    model = Model([a, b], [first(a), second(b)])
    xa = np.arange(10, dtype="float32").reshape(5, 2)
    xb = np.ones((5, 3), dtype="float32")
    out = model.predict([xa, xb], batch_size=2, verbose=0)
    assert isinstance(out, list) and len(out) == 2
    wa, ba = first.get_weights()
    wb, bb = second.get_weights()
    np.testing.assert_allclose(out[0], xa @ wa + ba, atol=1e-5)
    np.testing.assert_allclose(out[1], xb @ wb + bb, atol=1e-5)
