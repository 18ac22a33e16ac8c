"""Callbacks driven by a scripted fake model, checked against Keras 2's documented behaviour.

Every expected timeline below is worked out by hand from the rules in the tf.keras 2.15
docstrings and source (``keras/src/callbacks.py``); the comments show the working.
"""

import math
import os

import numpy as np
import pytest
import torch

from cnnlab.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from cnnlab.callbacks import tensorboard as cb_module
from cnnlab.training import progbar


class FakeOptimizer:
    def __init__(self, lr):
        self.learning_rate = lr


class FakeModel:
    """Has exactly what callbacks may use; its 'weights' are the index of the epoch that
    produced them, and it records what was saved/restored."""

    def __init__(self, lr=0.01):
        self.stop_training = False
        self.optimizer = FakeOptimizer(lr)
        self.weights_epoch = None
        self.restored = []
        self.saved = []

    def get_weights(self):
        return [np.array(self.weights_epoch)]

    def set_weights(self, weights):
        self.restored.append(int(weights[0]))

    def save(self, path):
        self._write(path, "model")

    def save_weights(self, path):
        self._write(path, "weights")

    def _write(self, path, kind):
        with open(path, "w") as f:
            f.write(f"{kind} {self.weights_epoch}")
        self.saved.append((kind, path))


def fit(callbacks, epoch_logs, model=None, steps=3, steps_known=True, verbose=0, batch_logs=None):
    """Plays the hook sequence of Keras's fit (``steps`` batches an epoch) with scripted logs;
    returns the epochs run and the History."""
    model = model or FakeModel()
    cbl = CallbackList(callbacks, model=model, add_history=True, epochs=len(epoch_logs),
                       steps=steps if steps_known else None, verbose=verbose)
    cbl.on_train_begin()
    ran = []
    for epoch, logs in enumerate(epoch_logs):
        model.weights_epoch = epoch
        cbl.on_epoch_begin(epoch)
        for batch in range(steps):
            cbl.on_train_batch_begin(batch)
            cbl.on_train_batch_end(batch, batch_logs(epoch, batch) if batch_logs else {})
        cbl.on_epoch_end(epoch, dict(logs))
        ran.append(epoch)
        if model.stop_training:
            break
    cbl.on_train_end()
    return ran, cbl.history


def val_losses(*values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


# --- EarlyStopping ---


def test_early_stopping_patience(capsys):
    # best 0.8 at epoch 1; epochs 2 and 3 do not improve -> wait reaches 2 at epoch 3
    stopper = EarlyStopping(patience=2, verbose=1)
    ran, _ = fit([stopper], val_losses(1.0, 0.8, 0.9, 0.85, 0.7, 0.6))
    assert ran == [0, 1, 2, 3]
    assert (stopper.stopped_epoch, stopper.best_epoch, stopper.best) == (3, 1, 0.8)
    assert capsys.readouterr().out == "Epoch 4: early stopping\n"


def test_early_stopping_min_delta_ignores_small_improvements():
    # 0.95 is better than 1.0 by only 0.05 < min_delta = 0.1: no improvement, patience 1 runs out
    stopper = EarlyStopping(min_delta=0.1, patience=1)
    ran, _ = fit([stopper], val_losses(1.0, 0.95, 0.5))
    assert ran == [0, 1]
    # a larger drop counts: 1.0 -> 0.85 improves by 0.15 > 0.1
    ran, _ = fit([EarlyStopping(min_delta=0.1, patience=1)], val_losses(1.0, 0.85, 0.7, 0.7, 0.1))
    assert ran == [0, 1, 2, 3]


def test_early_stopping_baseline():
    # never beats the baseline 0.5: the wait counter is never reset, so the first epoch that
    # does not improve on the best stops training (Keras 2 semantics)
    ran, _ = fit([EarlyStopping(patience=2, baseline=0.5)], val_losses(0.9, 0.8, 0.7, 0.75, 0.6))
    assert ran == [0, 1, 2, 3]
    # beating the baseline resets the counter like any improvement
    logs = val_losses(0.4, 0.45, 0.3, 0.35, 0.36, 0.1)
    ran, _ = fit([EarlyStopping(patience=2, baseline=0.5)], logs)
    assert ran == [0, 1, 2, 3, 4]


def test_early_stopping_restores_best_weights_only_when_it_stops(capsys):
    model = FakeModel()
    stopper = EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    fit([stopper], val_losses(1.0, 0.5, 0.7, 0.8), model=model)
    assert model.restored == [1]
    assert capsys.readouterr().out == (
        "Restoring model weights from the end of the best epoch: 2.\nEpoch 4: early stopping\n"
    )
    model = FakeModel()
    fit([EarlyStopping(patience=5, restore_best_weights=True)], val_losses(1.0, 0.5, 0.7), model)
    assert model.restored == []


def test_early_stopping_auto_mode_maximises_accuracy():
    logs = [{"val_accuracy": a} for a in (0.5, 0.6, 0.55, 0.58, 0.9)]
    stopper = EarlyStopping(monitor="val_accuracy", patience=2)
    ran, _ = fit([stopper], logs)
    assert ran == [0, 1, 2, 3] and stopper.best == 0.6


def test_early_stopping_start_from_epoch():
    logs = val_losses(0.5, 0.9, 0.9, 0.9, 0.9)
    assert fit([EarlyStopping(patience=0)], logs)[0] == [0, 1]
    # epochs 0 and 1 are not looked at; epoch 2 sets the best, epoch 3 fails to improve
    assert fit([EarlyStopping(patience=0, start_from_epoch=2)], logs)[0] == [0, 1, 2, 3]


def test_early_stopping_missing_monitor_warns_and_continues():
    with pytest.warns(UserWarning, match="Early stopping conditioned on metric `val_loss` which "
                      "is not available. Available metrics are: loss"):
        ran, _ = fit([EarlyStopping()], [{"loss": 1.0}] * 3)
    assert ran == [0, 1, 2]


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max', got 'best'"):
        EarlyStopping(mode="best")


# --- ModelCheckpoint ---


def test_checkpoint_every_epoch_formats_the_path(tmp_path):
    model = FakeModel()
    pattern = str(tmp_path / "ckpt" / "m-{epoch:02d}-{val_loss:.2f}.cnnlab")
    fit([ModelCheckpoint(pattern)], val_losses(0.51234, 0.4, 0.6), model=model)
    names = sorted(os.listdir(tmp_path / "ckpt"))
    assert names == ["m-01-0.51.cnnlab", "m-02-0.40.cnnlab", "m-03-0.60.cnnlab"]
    assert (tmp_path / "ckpt" / "m-02-0.40.cnnlab").read_text() == "model 1"


def test_checkpoint_save_best_only(tmp_path, capsys):
    model = FakeModel()
    path = str(tmp_path / "best.cnnlab")
    fit([ModelCheckpoint(path, save_best_only=True, verbose=1)], val_losses(0.5, 0.4, 0.45, 0.4),
        model=model)
    assert len(model.saved) == 2
    assert (tmp_path / "best.cnnlab").read_text() == "model 1"  # epoch 1 holds the best, 0.4
    assert capsys.readouterr().out == (
        f"\nEpoch 1: val_loss improved from inf to 0.50000, saving model to {path}\n"
        f"\nEpoch 2: val_loss improved from 0.50000 to 0.40000, saving model to {path}\n"
        "\nEpoch 3: val_loss did not improve from 0.40000\n"
        "\nEpoch 4: val_loss did not improve from 0.40000\n"  # a tie is not an improvement
    )


def test_checkpoint_weights_only_max_mode_and_initial_threshold(tmp_path):
    model = FakeModel()
    checkpoint = ModelCheckpoint(str(tmp_path / "w-{epoch}.weights"), monitor="val_accuracy",
                                 save_best_only=True, save_weights_only=True,
                                 initial_value_threshold=0.6)
    fit([checkpoint], [{"val_accuracy": a} for a in (0.5, 0.7, 0.65, 0.8)], model=model)
    assert sorted(os.listdir(tmp_path)) == ["w-2.weights", "w-4.weights"]
    assert {kind for kind, _ in model.saved} == {"weights"}


def test_checkpoint_every_n_batches(tmp_path):
    # save_freq=2 counts batches across epochs: with 3 batches per epoch it saves after global
    # batches 2, 4, 6 = (epoch 1, batch 2), (epoch 2, batch 1), (epoch 2, batch 3), 1-based
    checkpoint = ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.cnnlab"), save_freq=2)
    fit([checkpoint], val_losses(0.5, 0.4), steps=3)
    assert sorted(os.listdir(tmp_path)) == ["e1-b2.cnnlab", "e2-b1.cnnlab", "e2-b3.cnnlab"]


def test_checkpoint_path_errors(tmp_path):
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        fit([ModelCheckpoint(str(tmp_path / "{val_acc:.2f}"))], val_losses(0.5))
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive int, got 0"):
        ModelCheckpoint("m", save_freq=0)


def test_checkpoint_missing_monitor_warns(tmp_path):
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        fit([ModelCheckpoint(str(tmp_path / "m"), save_best_only=True)], [{"loss": 1.0}])
    assert os.listdir(tmp_path) == []


# --- ReduceLROnPlateau ---


def test_reduce_lr_timeline_with_cooldown_and_min_lr(capsys):
    # loss flat at 1.0; patience 1, cooldown 2, factor 0.5, floor 0.2:
    # e0 sets best; e1 waits 1 -> 0.5, cooldown 2; e2 cooldown 2->1 (no waiting);
    # e3 cooldown 1->0 then waits 1 -> 0.25; e4 cooldown; e5 -> max(0.125, 0.2) = 0.2; e6 at floor
    model = FakeModel(lr=1.0)
    lrs = []
    reducer = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2, min_lr=0.2,
                                verbose=1)
    track = LambdaCallback(on_epoch_end=lambda e, logs: lrs.append(model.optimizer.learning_rate))
    _, history = fit([reducer, track], [{"loss": 1.0}] * 7, model=model)
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]
    assert history.history["lr"] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2]  # lr during the epoch
    assert capsys.readouterr().out == (
        "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.5.\n"
        "\nEpoch 4: ReduceLROnPlateau reducing learning rate to 0.25.\n"
        "\nEpoch 6: ReduceLROnPlateau reducing learning rate to 0.2.\n"
    )


def test_reduce_lr_improvements_beyond_min_delta_reset_the_wait():
    model = FakeModel(lr=1.0)
    # min_delta 0.1: 0.95 and 0.9 are within 0.1 of the best 1.0 -> 2 waits -> reduce at e2;
    # then 0.7 improves (0.7 < 0.9), 0.65 and 0.62 do not beat 0.7 by 0.1 -> reduce at e5
    fit([ReduceLROnPlateau(monitor="loss", patience=2, min_delta=0.1, factor=0.5)],
        [{"loss": v} for v in (1.0, 0.95, 0.9, 0.7, 0.65, 0.62)], model=model)
    assert model.optimizer.learning_rate == 0.25


def test_reduce_lr_rejects_factor_of_one():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)


# --- LearningRateScheduler ---


def test_scheduler_one_and_two_argument_schedules(capsys):
    model = FakeModel(lr=0.1)
    _, history = fit([LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1), verbose=1)],
                     [{"loss": 1.0}] * 3, model=model)
    assert history.history["lr"] == [0.1, 0.05, 0.1 / 3]
    assert capsys.readouterr().out.startswith(
        "\nEpoch 1: LearningRateScheduler setting learning rate to 0.1.\n"
        "\nEpoch 2: LearningRateScheduler setting learning rate to 0.05.\n"
    )
    seen = []

    def decay(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5

    model = FakeModel(lr=0.8)
    fit([LearningRateScheduler(decay)], [{"loss": 1.0}] * 3, model=model)
    assert seen == [(0, 0.8), (1, 0.4), (2, 0.2)] and model.optimizer.learning_rate == 0.1


def test_scheduler_rejects_non_numbers():
    with pytest.raises(TypeError, match='The output of the "schedule" function should be a float'):
        fit([LearningRateScheduler(lambda epoch: "fast")], [{"loss": 1.0}])


# --- CSVLogger, History, TerminateOnNaN ---


def test_csv_logger_rows(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "val_accuracy": 0.5},
            {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5, "val_accuracy": 0.625}]
    fit([CSVLogger(path)], logs)
    assert path.read_bytes() == (
        b"epoch,accuracy,loss,val_accuracy,val_loss\r\n"
        b"0,0.75,0.5,0.5,0.625\r\n"
        b"1,0.875,0.25,0.625,0.5\r\n"
    )


def test_csv_logger_adds_na_validation_columns_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    fit([CSVLogger(path, separator=";")], [{"loss": 0.5}])
    fit([CSVLogger(path, separator=";", append=True)], [{"loss": 0.25}])
    assert path.read_bytes() == b"epoch;loss;val_loss\r\n0;0.5;NA\r\n0;0.25;NA\r\n"


def test_history_records_every_epoch():
    logs = [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5, "val_loss": 1.5}]
    ran, history = fit([], logs)
    assert history.epoch == [0, 1]
    assert history.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
    assert history.params == {"epochs": 2, "steps": 3, "verbose": 0}
    assert isinstance(history.model, FakeModel)


def test_terminate_on_nan(capsys):
    model = FakeModel()
    losses = {(0, 0): 1.0, (0, 1): 0.9, (0, 2): math.nan}
    fit([TerminateOnNaN()], val_losses(0.5, 0.4), model=model,
        batch_logs=lambda e, b: {"loss": losses.get((e, b), 1.0)})
    assert model.stop_training
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"
    model = FakeModel()
    fit([TerminateOnNaN()], val_losses(0.5), model=model,
        batch_logs=lambda e, b: {"loss": math.inf})
    assert model.stop_training


# --- CallbackList and the base class ---


class Recorder(Callback):
    def __init__(self, name, events):
        super().__init__()
        self.name, self.events = name, events

    def on_epoch_end(self, epoch, logs=None):
        self.events.append((self.name, epoch, logs))


def test_callback_list_calls_in_order_with_python_numbers():
    events = []
    cbl = CallbackList([Recorder("a", events), Recorder("b", events)], model=FakeModel())
    cbl.on_epoch_end(0, {"loss": torch.tensor(0.5), "acc": np.float32(0.25)})
    assert events == [("a", 0, {"loss": 0.5, "acc": 0.25}), ("b", 0, {"loss": 0.5, "acc": 0.25})]
    assert type(events[0][2]["loss"]) is float


def test_callback_list_skips_batch_hooks_nobody_overrides():
    cbl = CallbackList([Recorder("a", []), History()], model=FakeModel(), epochs=1, steps=2)
    assert not cbl.batch_hooks_needed("train")
    legacy = []
    cbl.append(LambdaCallback(on_batch_end=lambda batch, logs: legacy.append((batch, logs))))
    assert cbl.batch_hooks_needed("train") and not cbl.batch_hooks_needed("test")
    cbl.on_train_batch_end(4, {"loss": torch.tensor(2.0)})  # Keras 1 name on_batch_end is used
    assert legacy == [(4, {"loss": 2.0})]


def test_callback_list_adds_one_history_and_one_progbar():
    history = History()
    cbl = CallbackList([history], add_history=True, add_progbar=True)
    assert cbl.history is history
    assert [type(c) for c in cbl] == [History, ProgbarLogger]
    with pytest.raises(TypeError, match="expected Callback instances, got function"):
        CallbackList([lambda: None])


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=print)


# --- ProgbarLogger (stdout is not a TTY under capsys: finished lines only) ---


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(progbar, "_clock", lambda: 0.0)  # every duration prints as 0s


def test_progbar_logger_epoch_lines(capsys, frozen_clock):
    fit([ProgbarLogger()], val_losses(0.5, 0.25), verbose=1, steps=3,
        batch_logs=lambda e, b: {"loss": torch.tensor(2.0)})
    bar = "3/3 [" + "=" * 30 + "] - 0s 0s/step"
    assert capsys.readouterr().out == (
        "Epoch 1/2\n"
        f"{bar} - loss: 1.0000 - val_loss: 0.5000\n"  # the epoch logs, shown as given
        "Epoch 2/2\n"
        f"{bar} - loss: 1.0000 - val_loss: 0.2500\n"
    )


def test_progbar_logger_verbose_2_and_single_epoch(capsys, frozen_clock):
    fit([ProgbarLogger()], val_losses(0.5), verbose=2, steps=3)
    # no 'Epoch 1/1' line for a single epoch
    assert capsys.readouterr().out == (
        "3/3 - 0s - loss: 1.0000 - val_loss: 0.5000 - 0s/epoch - 0s/step\n"
    )


def test_progbar_logger_learns_an_unknown_step_count(capsys, frozen_clock):
    fit([ProgbarLogger()], val_losses(0.5, 0.25), verbose=2, steps=4, steps_known=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("4/4 - 0s") and lines[3].startswith("4/4 - 0s")


def test_progbar_logger_shows_evaluate_but_not_validation_inside_fit(capsys, frozen_clock):
    logger = ProgbarLogger()
    cbl = CallbackList([logger], model=FakeModel(), epochs=1, steps=2, verbose=1)
    cbl.on_test_begin()
    for batch in range(2):
        cbl.on_test_batch_end(batch, {"loss": 0.5})
    cbl.on_test_end({"loss": 0.5})
    assert capsys.readouterr().out.startswith("2/2 [")
    cbl.on_train_begin()
    cbl.on_test_begin()
    cbl.on_test_batch_end(0, {"loss": 0.5})
    cbl.on_test_end({"loss": 0.5})
    assert capsys.readouterr().out == ""


# --- TensorBoard ---


class FakeWriter:
    def __init__(self, log_dir, record):
        self.log_dir, self.record = log_dir, record

    def add_scalar(self, tag, value, step):
        self.record.append((os.path.basename(self.log_dir), tag, value, step))

    def flush(self):
        pass

    def close(self):
        self.record.append((os.path.basename(self.log_dir), "closed"))


@pytest.fixture
def tensorboard_installed(monkeypatch):
    real_find_spec = cb_module.importlib.util.find_spec
    monkeypatch.setattr(
        cb_module.importlib.util, "find_spec",
        lambda name, *a: object() if name == "tensorboard" else real_find_spec(name, *a),
    )
    record = []
    monkeypatch.setattr(cb_module, "_summary_writer", lambda log_dir: FakeWriter(log_dir, record))
    return record


def test_tensorboard_needs_the_package(monkeypatch):
    monkeypatch.setattr(cb_module.importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        TensorBoard()


def test_tensorboard_scalars_layout(tensorboard_installed, tmp_path):
    logs = [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}]
    fit([TensorBoard(tmp_path, update_freq=2)], logs, steps=3,
        batch_logs=lambda e, b: {"loss": 10.0 * e + b})
    # global batch counts 1..6; every 2nd is written: (e0,b1)=1.0, (e1,b0)=10.0, (e1,b2)=12.0
    assert tensorboard_installed == [
        ("train", "batch_loss", 1.0, 2),
        ("train", "epoch_loss", 0.5, 0),
        ("validation", "epoch_loss", 0.75, 0),
        ("train", "batch_loss", 10.0, 4),
        ("train", "batch_loss", 12.0, 6),
        ("train", "epoch_loss", 0.25, 1),
        ("validation", "epoch_loss", 0.5, 1),
        ("train", "closed"),
        ("validation", "closed"),
    ]


def test_tensorboard_writes_real_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    fit([TensorBoard(tmp_path)], [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}])
    train = EventAccumulator(str(tmp_path / "train"))
    train.Reload()
    assert [(s.step, s.value) for s in train.Scalars("epoch_loss")] == [(0, 0.5), (1, 0.25)]
