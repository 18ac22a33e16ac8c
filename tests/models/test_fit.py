"""``Model.fit`` against independent references.

The numbers are checked against a hand-written PyTorch loop (same initial weights through
``get_weights``, same batches, Keras's SGD rule written out by hand, ``F.cross_entropy`` on
logits) and against NumPy counts. The data-handling rules (which samples ``validation_split``
holds out, shuffling, generators, ``Sequence``s, ``DataLoader``s) are checked by a layer that
records the sample ids it sees in training mode. Keras rules cited from the Keras 2/3 docs of
``Model.fit`` and ``keras/src/trainers`` (loss logged = batch-size-weighted mean of the batch
losses; plain ``metrics`` ignore ``sample_weight``/``class_weight``).
"""

import os
import re
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab import losses, optimizers
from cnnlab.callbacks import (
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from cnnlab.layers import Conv2D, Dense, Flatten
from cnnlab.layers.base import Layer
from cnnlab.models import Sequential
from cnnlab.utils import Sequence


class Recorder(Layer):
    """Identity layer that records column 0 (the sample id) of every training batch."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.batches: list[list[int]] = []

    def call(self, inputs, training=False):
        if training:
            self.batches.append([int(v) for v in inputs[:, 0].round().tolist()])
        return inputs


def id_data(n):
    """``x[i] = (i, 1)``, ``y[i] = i % 3``: column 0 identifies each sample."""
    x = np.stack([np.arange(n), np.ones(n)], axis=1).astype("float32")
    return x, np.arange(n) % 3


def recorder_model(lr=0.0):
    model = Sequential([Recorder(input_shape=(2,)), Dense(3)])
    model.compile(optimizers.SGD(learning_rate=lr),
                  losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def seen(model):
    return model.layers[0].batches


def logits_model(conv):
    if conv:
        layers = [Conv2D(2, 3, input_shape=(5, 5, 1)), Flatten(), Dense(3)]
    else:
        layers = [Dense(5, activation="relu", input_shape=(4,)), Dense(3)]
    return Sequential(layers)


def torch_forward(params, x, conv):
    """The model's forward pass written with ``torch.nn.functional`` from Keras-layout weights."""
    if conv:
        kernel, bias, w, b = params
        h = F.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias)
        h = h.permute(0, 2, 3, 1).reshape(len(x), -1)  # Keras flattens in (H, W, C) order
        return h @ w + b
    w1, b1, w2, b2 = params
    return torch.relu(x @ w1 + b1) @ w2 + b2


def torch_sgd_loop(weights, batches, lr, momentum, conv):
    """Keras's SGD (``v = momentum * v - lr * g; w += v``) in a plain PyTorch loop.

    Returns the final weights, and per batch the loss and the hits before the update."""
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    velocity = [torch.zeros_like(p) for p in params]
    batch_losses, hits = [], []
    for x, y in batches:
        logits = torch_forward(params, torch.tensor(x, dtype=torch.float64), conv)
        target = torch.tensor(y)
        loss = F.cross_entropy(logits, target)
        batch_losses.append(loss.item())
        hits.append(int((logits.argmax(1) == target).sum()))
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, v, g in zip(params, velocity, grads, strict=True):
                v.mul_(momentum).sub_(lr * g)
                p.add_(v)
    return [p.detach().numpy() for p in params], batch_losses, hits


@pytest.mark.parametrize("conv", [False, True], ids=["dense", "conv"])
def test_fit_equals_a_hand_written_torch_loop(conv):
    rng = np.random.default_rng(1)
    n = 10  # batches of 4, 4, 2
    x = rng.normal(size=(n, 5, 5, 1) if conv else (n, 4)).astype("float32")
    y = rng.integers(0, 3, n)
    model = logits_model(conv)
    model.compile(optimizers.SGD(learning_rate=0.1, momentum=0.9),
                  losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start = model.get_weights()
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)

    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, n, 4)]
    expected, batch_losses, hits = torch_sgd_loop(start, batches, 0.1, 0.9, conv)
    for got, want in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)
    sizes = np.array([len(b[1]) for b in batches])
    assert history.history["loss"][0] == pytest.approx(np.dot(sizes, batch_losses) / n,
                                                       rel=1e-5)
    assert history.history["accuracy"][0] == pytest.approx(sum(hits) / n)


def test_two_epochs_continue_the_optimizer_state():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.integers(0, 3, 8)
    model = logits_model(conv=False)
    model.compile(optimizers.SGD(learning_rate=0.05, momentum=0.5),
                  losses.SparseCategoricalCrossentropy(from_logits=True))
    start = model.get_weights()
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    batches = [(x[:4], y[:4]), (x[4:], y[4:])] * 2
    expected, batch_losses, _ = torch_sgd_loop(start, batches, 0.05, 0.5, conv=False)
    for got, want in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_allclose(history.history["loss"],
                               [np.mean(batch_losses[:2]), np.mean(batch_losses[2:])], rtol=1e-5)
    assert history.epoch == [0, 1]


def test_val_loss_equals_evaluate_on_the_validation_data():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(20, 4)).astype("float32"), rng.integers(0, 3, 20)
    xv, yv = rng.normal(size=(7, 4)).astype("float32"), rng.integers(0, 3, 7)
    model = logits_model(conv=False)
    model.compile("sgd", losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=8, validation_data=(xv, yv), verbose=0)
    val_loss, val_acc = model.evaluate(xv, yv, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_accuracy"][-1] == pytest.approx(val_acc)
    logits = torch.tensor(model.predict(xv, verbose=0))
    assert val_loss == pytest.approx(F.cross_entropy(logits, torch.tensor(yv)).item(), rel=1e-5)
    assert val_acc == pytest.approx(np.mean(logits.argmax(1).numpy() == yv))
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_validation_data_with_sample_weights():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 4)).astype("float32"), rng.integers(0, 3, 6)
    w = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0], dtype="float32")
    model = logits_model(conv=False)
    model.compile(optimizers.SGD(learning_rate=0.0),
                  losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=1, validation_data=(x, y, w), verbose=0)
    logits = torch.tensor(model.predict(x, verbose=0))
    per_sample = F.cross_entropy(logits, torch.tensor(y), reduction="none").numpy()
    # Keras's 'sum_over_batch_size': sum(w * loss) / number of samples.
    assert history.history["val_loss"][0] == pytest.approx(np.sum(w * per_sample) / 6, rel=1e-5)


@pytest.mark.parametrize("shuffle", [False, True])
def test_validation_split_holds_out_the_last_samples_before_shuffling(shuffle):
    x, y = id_data(10)
    model = recorder_model()
    history = model.fit(x, y, batch_size=3, epochs=2, validation_split=0.3, shuffle=shuffle,
                        verbose=0)
    for epoch in (0, 1):
        ids = sum(seen(model)[epoch * 3:(epoch + 1) * 3], [])
        assert sorted(ids) == list(range(7))  # the last 30 % (ids 7, 8, 9) are held out
    assert len(seen(model)) == 6
    val_loss = model.evaluate(x[7:], y[7:], verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)


def test_shuffle_orders():
    x, y = id_data(12)
    fixed = recorder_model()
    fixed.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert sum(seen(fixed), []) == list(range(12)) * 2

    mixed = recorder_model()
    mixed.fit(x, y, batch_size=4, epochs=2, shuffle=True, verbose=0)
    first, second = sum(seen(mixed)[:3], []), sum(seen(mixed)[3:], [])
    assert sorted(first) == sorted(second) == list(range(12))
    assert first != second and first != list(range(12))

    orders = []
    for _ in range(2):
        model = recorder_model()
        torch.manual_seed(123)  # a different global state each time must not matter
        model.fit(x, y, batch_size=4, epochs=2, seed=7, verbose=0)
        orders.append(seen(model))
        torch.manual_seed(456)
    assert orders[0] == orders[1]


def hand_weighted_loss(model, x, y, weights):
    logits = torch.tensor(model.predict(x, verbose=0))
    per_sample = F.cross_entropy(logits, torch.tensor(y), reduction="none").numpy()
    return float(np.sum(weights * per_sample) / len(y)), logits.argmax(1).numpy()


def test_class_weight_and_sample_weight_weight_the_loss_but_not_the_metrics():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(8, 4)).astype("float32"), np.array([0, 1, 2, 1, 0, 2, 2, 1])
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    sample_weight = rng.uniform(0.1, 2.0, 8).astype("float32")
    model = logits_model(conv=False)
    model.compile(optimizers.SGD(learning_rate=0.0),
                  losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    per_class = np.array([class_weight[int(c)] for c in y])

    h = model.fit(x, y, batch_size=8, class_weight=class_weight, verbose=0).history
    want, predicted = hand_weighted_loss(model, x, y, per_class)
    assert h["loss"][0] == pytest.approx(want, rel=1e-5)
    assert h["accuracy"][0] == pytest.approx(np.mean(predicted == y))  # unweighted, as Keras

    h = model.fit(x, y, batch_size=8, sample_weight=sample_weight, verbose=0).history
    assert h["loss"][0] == pytest.approx(hand_weighted_loss(model, x, y, sample_weight)[0],
                                         rel=1e-5)
    h = model.fit(x, y, batch_size=8, sample_weight=sample_weight, class_weight=class_weight,
                  verbose=0).history
    both = sample_weight * per_class
    assert h["loss"][0] == pytest.approx(hand_weighted_loss(model, x, y, both)[0], rel=1e-5)

    onehot = np.eye(3, dtype="float32")[y]
    model.compile(optimizers.SGD(learning_rate=0.0),
                  losses.CategoricalCrossentropy(from_logits=True))
    h = model.fit(x, onehot, batch_size=8, class_weight=class_weight, verbose=0).history
    assert h["loss"][0] == pytest.approx(want, rel=1e-5)


def test_weighted_metrics_use_the_sample_weights():
    x, y = id_data(6)
    w = np.array([0, 0, 1, 1, 1, 1], dtype="float32")
    model = recorder_model()
    model.compile(optimizers.SGD(learning_rate=0.0),
                  losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    logs = model.fit(x, y, sample_weight=w, verbose=0).history
    hits = model.predict(x, verbose=0).argmax(1) == y
    assert logs["accuracy"][0] == pytest.approx(hits.mean())
    assert logs["weighted_accuracy"][0] == pytest.approx(hits[2:].mean())


def test_initial_epoch_numbers_the_epochs(capsys):
    x, y = id_data(6)
    model = recorder_model()
    history = model.fit(x, y, epochs=3, initial_epoch=1, verbose=2)
    assert history.epoch == [1, 2]
    assert len(history.history["loss"]) == 2
    out = capsys.readouterr().out
    assert "Epoch 2/3" in out and "Epoch 3/3" in out and "Epoch 1/3" not in out


def endless(x, y, batch_size):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


def test_steps_per_epoch_with_a_generator_does_not_restart_it():
    x, y = id_data(10)
    model = recorder_model()
    history = model.fit(endless(x, y, 4), steps_per_epoch=2, epochs=2, verbose=0)
    # batches [0..3], [4..7] in epoch 1; then [8, 9], [0..3] in epoch 2 (not restarted)
    assert seen(model) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [0, 1, 2, 3]]
    assert len(history.history["loss"]) == 2


def test_a_finite_python_generator_is_one_epoch():
    x, y = id_data(7)
    model = Sequential([Recorder(), Dense(3)])  # built from the first batch, which still trains
    model.compile("sgd", losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(((x[i:i + 3], y[i:i + 3]) for i in range(0, 7, 3)), epochs=1, verbose=0)
    assert seen(model) == [[0, 1, 2], [3, 4, 5], [6]]


class IdSequence(Sequence):
    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size, self.epochs_ended = x, y, batch_size, 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        part = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1
        self.x, self.y = self.x[::-1].copy(), self.y[::-1].copy()  # a new order each epoch


def test_sequence_runs_in_order_and_gets_on_epoch_end():
    x, y = id_data(5)
    model = recorder_model()
    data = IdSequence(x, y, 2)
    model.fit(data, epochs=2, verbose=0)
    assert seen(model) == [[0, 1], [2, 3], [4], [4, 3], [2, 1], [0]]
    assert data.epochs_ended == 2


def test_a_dataloader_trains_like_the_same_arrays():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(10, 4)).astype("float32"), rng.integers(0, 3, 10)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=4)
    start = [rng.normal(size=w.shape).astype("float32") for w in logits_model(False).get_weights()]
    results = []
    for data in ((x, y), (loader,)):
        model = logits_model(conv=False)
        model.set_weights(start)
        model.compile(optimizers.SGD(learning_rate=0.1),
                      losses.SparseCategoricalCrossentropy(from_logits=True))
        kwargs = {"batch_size": 4, "shuffle": False} if len(data) == 2 else {}
        history = model.fit(*data, epochs=2, verbose=0, **kwargs)
        results.append((model.get_weights(), history.history["loss"]))
    for a, b in zip(results[0][0], results[1][0], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)


def test_validation_steps_and_validation_freq():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.integers(0, 3, 8)
    xv, yv = rng.normal(size=(12, 4)).astype("float32"), rng.integers(0, 3, 12)
    model = logits_model(conv=False)
    model.compile(optimizers.SGD(learning_rate=0.1),
                  losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=4, validation_data=endless(xv, yv, 3), validation_steps=2,
                        validation_freq=2, verbose=0)
    assert len(history.history["loss"]) == 4
    assert len(history.history["val_loss"]) == 2  # after epochs 2 and 4 only
    # the endless generator is not restarted: epoch 4 validates on samples 6..11
    assert history.history["val_loss"][1] == pytest.approx(
        model.evaluate(xv[6:], yv[6:], verbose=0), rel=1e-6)


def test_verbose_output_formats(capsys):
    x, y = id_data(10)
    model = recorder_model()
    model.compile(optimizers.SGD(learning_rate=0.0),
                  losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(x, y, batch_size=5, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""

    model.fit(x, y, batch_size=5, epochs=2, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    loss = f"{history.history['loss'][0]:.4f}"  # lr = 0: every epoch has the same loss
    accuracy = f"{history.history['accuracy'][0]:.4f}"
    bar = (r"2/2 \[==============================\] - \d+s \d+(ms|us|s)/step - "
           rf"loss: {loss} - accuracy: {accuracy}")
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(bar, lines[1].split("\r")[-1]), lines[1]
    assert re.fullmatch(bar, lines[3].split("\r")[-1]), lines[3]

    model.fit(x, y, batch_size=5, epochs=1, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1  # no 'Epoch 1/1' line for a single epoch, as Keras
    assert re.fullmatch(rf"2/2 - \d+s - loss: {loss} - accuracy: {accuracy} - "
                        r"\d+(ms|us|s)/epoch - \d+(ms|us|s)/step", lines[0]), lines[0]


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = id_data(6)
    model = recorder_model(lr=0.5)
    snapshots = []
    keep = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    # min_delta larger than any change: only the first epoch counts as an improvement
    stop = EarlyStopping(monitor="loss", patience=2, min_delta=100.0, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, callbacks=[keep, stop], verbose=0)
    assert history.epoch == [0, 1, 2]
    assert stop.stopped_epoch == 2
    for got, want in zip(model.get_weights(), snapshots[0], strict=True):
        np.testing.assert_array_equal(got, want)
    assert not np.allclose(snapshots[0][0], snapshots[2][0])


def test_reduce_lr_on_plateau_changes_the_optimizer_learning_rate():
    x, y = id_data(6)
    model = recorder_model(lr=0.1)
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=100.0)
    history = model.fit(x, y, epochs=3, callbacks=[reduce], verbose=0)
    # epoch 1 improves on +inf; epochs 2 and 3 do not, each halving the rate
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.05])
    # the next update really uses the new rate: w -= 0.025 * grad
    before = model.get_weights()
    model.fit(x, y, batch_size=6, epochs=1, verbose=0)
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in before]
    logits = torch.tensor(x, dtype=torch.float64) @ params[0] + params[1]
    grads = torch.autograd.grad(F.cross_entropy(logits, torch.tensor(y)), params)
    for got, w, g in zip(model.get_weights(), before, grads, strict=True):
        np.testing.assert_allclose(got, w - 0.025 * g.numpy(), atol=1e-6)


def test_model_checkpoint_writes_a_file_per_epoch(tmp_path):
    pytest.importorskip("safetensors")
    pytest.importorskip("cnnlab.io.saving")
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(6, 4)).astype("float32"), rng.integers(0, 3, 6)
    model = logits_model(conv=False)
    model.compile("sgd", losses.SparseCategoricalCrossentropy(from_logits=True))
    path = os.path.join(tmp_path, "weights-{epoch:02d}.cnnlab")
    model.fit(x, y, epochs=2, callbacks=[ModelCheckpoint(path)], verbose=0)
    assert sorted(os.listdir(tmp_path)) == ["weights-01.cnnlab", "weights-02.cnnlab"]
    from cnnlab.io import load_model

    loaded = load_model(os.path.join(tmp_path, "weights-02.cnnlab"))
    for got, want in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_fit_generator_is_fit_with_a_generator():
    x, y = id_data(8)
    model = recorder_model()
    history = model.fit_generator(endless(x, y, 4), steps_per_epoch=2, epochs=2, verbose=0)
    assert seen(model) == [[0, 1, 2, 3], [4, 5, 6, 7]] * 2
    assert history.epoch == [0, 1]


def test_weight_penalties_are_part_of_the_loss_and_the_gradient():
    from cnnlab.regularizers import L2

    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(6, 4)).astype("float32"), rng.integers(0, 3, 6)
    model = Sequential([Dense(3, input_shape=(4,), kernel_regularizer=L2(0.1))])
    model.compile(optimizers.SGD(learning_rate=0.2),
                  losses.SparseCategoricalCrossentropy(from_logits=True))
    w, b = (torch.tensor(a, dtype=torch.float64, requires_grad=True)
            for a in model.get_weights())
    data_loss = F.cross_entropy(torch.tensor(x, dtype=torch.float64) @ w + b, torch.tensor(y))
    total = data_loss + 0.1 * (w ** 2).sum()  # Keras's l2: factor * sum(w^2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(total.item(), rel=1e-5)
    history = model.fit(x, y, batch_size=6, verbose=0)
    assert history.history["loss"][0] == pytest.approx(total.item(), rel=1e-5)
    grads = torch.autograd.grad(total, [w, b])
    for got, p, g in zip(model.get_weights(), (w, b), grads, strict=True):
        np.testing.assert_allclose(got, (p - 0.2 * g).detach().numpy(), atol=1e-6)


def test_learning_rate_scheduler_and_csv_logger(tmp_path):
    from cnnlab.callbacks import CSVLogger, LearningRateScheduler

    x, y = id_data(6)
    model = recorder_model(lr=1.0)
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)), CSVLogger(str(path))])
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert model.optimizer.learning_rate == pytest.approx(0.1 / 3)
    rows = [line.split(",") for line in path.read_text().splitlines()]
    assert rows[0] == ["epoch", "loss", "lr", "val_loss", "val_lr"]  # Keras adds val_ columns
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    assert all(r[3:] == ["NA", "NA"] for r in rows[1:])
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], history.history["loss"],
                               rtol=1e-6)


def test_terminate_on_nan_stops_within_the_epoch(capsys):
    from cnnlab.callbacks import TerminateOnNaN

    x = np.full((8, 4), 1e20, dtype="float32")  # squared error overflows float32: inf
    model = Sequential([Dense(1, input_shape=(4,), kernel_initializer="ones")])
    model.compile(optimizers.SGD(learning_rate=0.1), "mse")
    history = model.fit(x, np.zeros(8), batch_size=2, epochs=5, verbose=0,
                        callbacks=[TerminateOnNaN()])
    assert history.epoch == [0]
    assert "Batch 0: Invalid loss, terminating training" in capsys.readouterr().out


# ------------------------------------------------------------ read-ahead of generator sources
def prefetch_threads():
    return [t for t in threading.enumerate() if t.name.startswith("cnnlab-prefetch")]


class ThreadNoting:
    """An endless generator of id batches that notes the thread producing each batch."""

    def __init__(self, x, y, batch_size):
        self.items, self.threads, self.produced = endless(x, y, batch_size), [], 0

    def __iter__(self):
        return self

    def __next__(self):
        self.threads.append(threading.current_thread().name)
        self.produced += 1
        return next(self.items)


@pytest.mark.parametrize("workers", [0, 1])
def test_generator_batches_come_from_a_background_thread_in_order(workers):
    x, y = id_data(10)
    model = recorder_model()
    source = ThreadNoting(x, y, 4)
    model.fit(source, steps_per_epoch=2, epochs=2, workers=workers, max_queue_size=3,
              verbose=0)
    # the read-ahead of epoch 1 is not lost: epoch 2 continues where epoch 1 stopped
    assert seen(model) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [0, 1, 2, 3]]
    if workers:
        assert set(source.threads) == {"cnnlab-prefetch"}
        assert 4 <= source.produced <= 4 + 3 + 1  # at most max_queue_size (+1 in hand) ahead
    else:
        assert set(source.threads) == {threading.current_thread().name}
        assert source.produced == 4
    assert prefetch_threads() == []  # fit joined its threads


def test_a_sequence_read_by_two_workers_trains_exactly_like_one():
    x, y = id_data(9)
    runs = []
    for workers in (0, 2):
        model = recorder_model(lr=0.1)
        model.set_weights([np.full((2, 3), 0.1, np.float32), np.zeros(3, np.float32)])
        model.fit(IdSequence(x, y, 2), epochs=2, workers=workers, verbose=0)
        runs.append((seen(model), model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_error_in_the_generator_reaches_fit_and_stops_the_threads():
    x, y = id_data(8)

    def failing():
        yield x[:4], y[:4]
        raise OSError("disk gone")

    model = recorder_model()
    with pytest.raises(OSError, match="disk gone"):
        model.fit(failing(), steps_per_epoch=2, verbose=0)
    assert prefetch_threads() == []


def test_bad_data_from_a_generator_leaves_no_thread_behind():
    model = Sequential([Dense(3, input_shape=(2,))])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="expected input of shape"):
        model.fit(endless(np.ones((4, 5), "float32"), np.ones((4, 3), "float32"), 2),
                  steps_per_epoch=2, verbose=0)
    assert prefetch_threads() == []


@pytest.mark.parametrize("name, value", [("workers", -1), ("workers", 1.5),
                                         ("max_queue_size", 0)])
def test_bad_read_ahead_arguments(name, value):
    x, y = id_data(4)
    with pytest.raises(ValueError, match=f"`{name}` must be an int"):
        recorder_model().fit(endless(x, y, 2), steps_per_epoch=1, verbose=0, **{name: value})
