"""Keras callbacks: objects whose hooks run at the boundaries of training, testing, predicting.

The training loop calls, through a `CallbackList`::

    on_train_begin
      on_epoch_begin(epoch)                    # epoch is 0-based
        on_train_batch_begin(batch) / on_train_batch_end(batch, logs)
        on_test_begin ... on_test_end          # validation, if any
      on_epoch_end(epoch, logs)                # logs: {'loss', 'accuracy', 'val_loss', ...}
    on_train_end

Batch ``logs`` hold the running means of the epoch so far (as in Keras 2). Callbacks touch only
``model.stop_training``, ``model.optimizer.learning_rate`` (a float), ``model.save(path)``,
``model.save_weights(path)`` and ``model.get_weights()`` / ``model.set_weights(list)``; ``params``
holds ``epochs``, ``steps`` (per epoch, or None when unknown) and ``verbose``.

Semantics, messages and warnings follow tf.keras 2.15. Deliberate differences: an unknown
``mode`` raises ``ValueError`` (Keras warns and falls back to 'auto'); ``mode='auto'`` means
'max' when the monitor name contains ``'acc'`` or ``'auc'`` in every callback (Keras's three
callbacks each test slightly different substrings).
"""

from __future__ import annotations

import csv
import importlib.util
import inspect
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from cnnlab.training.progbar import Progbar

Logs = dict[str, Any]

_BATCH_HOOKS = {
    "train": ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


class Callback:
    """Base class: override the hooks you need. ``self.model`` and ``self.params`` are set by
    the training loop before ``on_train_begin``."""

    #: True if the batch hooks can take un-synchronised tensors as log values.
    accepts_tensor_logs = False

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: Logs | None = None) -> None: ...
    def on_train_end(self, logs: Logs | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_test_begin(self, logs: Logs | None = None) -> None: ...
    def on_test_end(self, logs: Logs | None = None) -> None: ...
    def on_predict_begin(self, logs: Logs | None = None) -> None: ...
    def on_predict_end(self, logs: Logs | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Defaults to the Keras 1 name ``on_batch_begin``."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Defaults to the Keras 1 name ``on_batch_end``."""
        self.on_batch_end(batch, logs)

    def wants_batch_hooks(self, mode: str) -> bool:
        """Whether the ``mode`` ('train', 'test', 'predict') batch hooks do anything here;
        `CallbackList` skips the others, so an idle hook costs nothing per batch."""
        return any(_overrides(self, name) for name in _BATCH_HOOKS[mode])


def _overrides(callback: Callback, name: str) -> bool:
    method = getattr(callback, name)
    return getattr(method, "__func__", None) is not getattr(Callback, name)


def _to_python(logs: Logs | None) -> Logs:
    """A copy of ``logs`` with 0-d tensors/arrays turned into Python numbers."""
    return {k: v.item() if getattr(v, "ndim", None) == 0 else v for k, v in (logs or {}).items()}


class CallbackList:
    """Calls every hook of a list of callbacks in order (the object the training loop uses).

    Args:
        callbacks: the callbacks, in call order.
        model: given to every callback's ``set_model``.
        add_history: append a `History` unless one is in ``callbacks``.
        add_progbar: append a `ProgbarLogger` unless one is in ``callbacks``.
        **params: given to every callback's ``set_params`` (``epochs``, ``steps``, ``verbose``).

    ``history`` is the `History` callback, if any. Logs are copied and 0-d tensors become Python
    numbers before callbacks see them (batch logs stay as given for callbacks that accept
    tensors), so the loop may pass tensors without syncing on every batch.
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        *,
        model: Any = None,
        add_history: bool = False,
        add_progbar: bool = False,
        **params: Any,
    ) -> None:
        self.callbacks: list[Callback] = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks: expected Callback instances, got {type(callback).__name__}"
                )
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.model = model
        self.params: dict[str, Any] = {}
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)
        self._find_batch_listeners()

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self._find_batch_listeners()

    def __iter__(self):
        return iter(self.callbacks)

    def set_model(self, model: Any) -> None:
        self.model = model
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)
        self._find_batch_listeners()

    def batch_hooks_needed(self, mode: str) -> bool:
        """True if some callback listens to the ``mode`` batch hooks: the loop may skip
        building batch logs otherwise."""
        return bool(self._batch_listeners[mode])

    def _find_batch_listeners(self) -> None:
        self._batch_listeners = {
            mode: [c for c in self.callbacks if c.wants_batch_hooks(mode)] for mode in _BATCH_HOOKS
        }

    def _call(self, hook: str, *args: Any, logs: Logs | None) -> None:
        logs = _to_python(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def _call_batch(self, mode: str, hook: str, batch: int, logs: Logs | None) -> None:
        plain = None
        for callback in self._batch_listeners[mode]:
            if callback.accepts_tensor_logs:
                getattr(callback, hook)(batch, dict(logs or {}))
            else:
                plain = _to_python(logs) if plain is None else plain
                getattr(callback, hook)(batch, plain)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._call("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_end", epoch, logs=logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        self._call("on_test_end", logs=logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._call("on_predict_end", logs=logs)

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("train", "on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("train", "on_train_batch_end", batch, logs)

    on_batch_begin = on_train_batch_begin
    on_batch_end = on_train_batch_end

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("test", "on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("test", "on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("predict", "on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("predict", "on_predict_batch_end", batch, logs)


class History(Callback):
    """Records the epoch logs: ``history['loss'][i]`` is the loss of ``epoch[i]``.

    ``history`` keeps growing across several ``fit`` calls; ``epoch`` restarts with each one.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class ProgbarLogger(Callback):
    """Prints ``Epoch 3/10`` (when there are several epochs) and a `Progbar` per epoch;
    ``evaluate``/``predict`` get a bar too, but validation inside ``fit`` stays silent.

    Args:
        count_mode: only ``'steps'`` (the progress counts batches).
        stateful_metrics: names shown as given while others are averaged by the bar; ``None``
            (default) shows every value as given, since batch logs already hold running means
            (in Keras 2 the loss and every compiled metric are stateful).
    """

    accepts_tensor_logs = True

    def __init__(self, count_mode: str = "steps", stateful_metrics: Iterable[str] | None = None):
        super().__init__()
        if count_mode != "steps":
            raise ValueError(f"ProgbarLogger: count_mode must be 'steps', got {count_mode!r}")
        self.stateful_metrics = None if stateful_metrics is None else set(stateful_metrics)
        self.verbose, self.epochs, self.target = 1, 1, None
        self.progbar: Progbar | None = None
        self.seen = 0
        self._in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def wants_batch_hooks(self, mode: str) -> bool:
        return self.verbose == 1 or self.target is None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._in_fit = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._start_bar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._advance(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._finish(logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._start_bar()

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._advance(batch, logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._start_bar()

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._advance(batch, None)  # predictions are not metrics

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._finish(None)

    def _start_bar(self) -> None:
        self.seen = 0
        self.progbar = Progbar(
            self.target or None, verbose=self.verbose, stateful_metrics=self.stateful_metrics
        )

    def _items(self, logs: Logs | None) -> list[tuple[str, Any]]:
        logs = logs or {}
        if self.stateful_metrics is None:
            self.progbar.stateful_metrics.update(logs)
        return list(logs.items())

    def _advance(self, batch: int, logs: Logs | None) -> None:
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, self._items(logs), finalize=False)

    def _finish(self, logs: Logs | None) -> None:
        if self.progbar.target is None and self.seen:  # learnt at the end of the first pass
            self.progbar.target = self.target = self.seen
        self.progbar.update(self.progbar.target or self.seen, self._items(logs), finalize=True)


class _Monitor:
    """The quantity a callback watches: its name, direction, and the warning when it is
    missing from the logs."""

    def __init__(self, owner: str, monitor: str, mode: str) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor or "auc" in monitor else "min"
        self.name = monitor
        self.sign = 1.0 if mode == "max" else -1.0  # the direction of improvement

    @property
    def worst(self) -> float:
        return -self.sign * math.inf

    def better(self, a: float, b: float) -> bool:
        """``a > b`` in 'max' mode, ``a < b`` in 'min' mode."""
        return a > b if self.sign > 0 else a < b

    def read(self, logs: Logs | None, missing: str) -> float | None:
        """``logs[monitor]``, or None after warning ``missing`` (with the available keys)."""
        logs = logs or {}
        value = logs.get(self.name)
        if value is None:
            available = ",".join(logs)
            warnings.warn(missing.format(self.name, available), stacklevel=3)
        return value


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves when it beats the best so far by more than ``min_delta``; the wait
    counter restarts only if it also beats ``baseline`` (when given). Training stops at the end
    of epoch ``e > 0`` where the counter reaches ``patience``; epochs ``< start_from_epoch``
    are ignored. With ``restore_best_weights`` the weights of the best epoch are put back when
    (and only when) it stops early, as in Keras 2. ``stopped_epoch`` and ``best_epoch`` are
    0-based; the message ``Epoch 5: early stopping`` is 1-based.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self._monitor = _Monitor("EarlyStopping", monitor, mode)
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.on_train_begin()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self._monitor.worst
        self.best_weights: list[Any] | None = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        current = self._monitor.read(
            logs, "Early stopping conditioned on metric `{}` which is not available. "
            "Available metrics are: {}"
        )
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._improves_on(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improves_on(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights:
                if self.verbose > 0:
                    print(
                        "Restoring model weights from the end of the best epoch: "
                        f"{self.best_epoch + 1}."
                    )
                self.model.set_weights(self.best_weights)

    def _improves_on(self, current: float, reference: float) -> bool:
        # Keras's arithmetic exactly (it decides ties at the min_delta boundary)
        return self._monitor.better(current - self._monitor.sign * self.min_delta, reference)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(Callback):
    """Saves the model (or only its weights) at the end of every epoch or every
    ``save_freq`` batches.

    ``filepath`` may hold ``{epoch:02d}`` (1-based), ``{batch}`` (1-based, batch-level saving)
    and any log key, e.g. ``'ckpt-{epoch:02d}-{val_loss:.2f}.cnnlab'``. With
    ``save_best_only`` it saves only when ``monitor`` beats the best value so far (strictly),
    starting from ``initial_value_threshold`` if given.

    Unlike Keras, it never saves a model whose ``loss`` is NaN or infinite or whose weights are
    (after ``TerminateOnNaN`` stopped the epoch, say): it warns and the file keeps the last
    model that trained to a finite loss.
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        if save_freq != "epoch" and (
            not isinstance(save_freq, int) or isinstance(save_freq, bool) or save_freq < 1
        ):
            raise ValueError(
                f"ModelCheckpoint: save_freq must be 'epoch' or a positive int, got {save_freq!r}"
            )
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self._monitor = _Monitor("ModelCheckpoint", monitor, mode)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.best = self._monitor.worst if initial_value_threshold is None else (
            initial_value_threshold
        )
        self._batches_since_save = 0
        self._last_batch = -1
        self._epoch = 0

    def wants_batch_hooks(self, mode: str) -> bool:
        return mode == "train" and self.save_freq != "epoch"

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        # a batch index not above the last one means a new epoch began
        self._batches_since_save += batch + 1 if batch <= self._last_batch else (
            batch - self._last_batch
        )
        self._last_batch = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs or {})

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch: int, batch: int | None, logs: Logs) -> None:
        path = self._format_path(epoch, batch, logs)
        invalid = invalid_training(self.model, logs)
        if invalid is not None:
            where = f"Epoch {epoch + 1}" + ("" if batch is None else f", batch {batch}")
            warnings.warn(f"ModelCheckpoint: {where}: {invalid}; not saving to {path} (it "
                          f"keeps the last model with a finite loss)", stacklevel=2)
            return
        if self.save_best_only:
            current = self._monitor.read(logs, "Can save best model only with {} available, "
                                              "skipping.")
            if current is None:
                return
            if not self._monitor.better(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve "
                          f"from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from "
                      f"{self.best:.5f} to {current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        # model.save / save_weights write atomically themselves (cnnlab.files.atomic)
        (self.model.save_weights if self.save_weights_only else self.model.save)(path)

    def _format_path(self, epoch: int, batch: int | None, logs: Logs) -> str:
        fields = dict(logs, epoch=epoch + 1)
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {error}'
            ) from error


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` has not improved by more
    than ``min_delta`` for ``patience`` epochs: ``lr = max(lr * factor, min_lr)``.

    After a reduction it waits ``cooldown`` epochs (not counting towards patience) before
    watching again. Adds the current ``lr`` to the epoch logs (so `History` records it).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Got {factor}"
            )
        self.monitor = monitor
        self._monitor = _Monitor("ReduceLROnPlateau", monitor, mode)
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.on_train_begin()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.best = self._monitor.worst
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = {} if logs is None else logs
        optimizer = self.model.optimizer
        logs["lr"] = optimizer.learning_rate
        current = self._monitor.read(
            logs, "Learning rate reduction is conditioned on metric `{}` which is not "
            "available. Available metrics are: {}"
        )
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._monitor.better(current, self.best + self._monitor.sign * self.min_delta):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            # compare in float32: an lr stored in float32 may sit a hair above min_lr
            if self.wait >= self.patience and optimizer.learning_rate > np.float32(self.min_lr):
                new_lr = max(optimizer.learning_rate * self.factor, self.min_lr)
                optimizer.learning_rate = new_lr
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                          f"to {new_lr}.")
                self.cooldown_counter = self.cooldown
                self.wait = 0


def _takes_lr(schedule: Callable[..., Any]) -> bool:
    """Whether ``schedule`` accepts ``(epoch, lr)`` rather than ``(epoch)`` alone."""
    try:
        parameters = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: assume the new API
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)


class LearningRateScheduler(Callback):
    """Sets ``lr = schedule(epoch, lr)`` (or ``schedule(epoch)``) at the start of every epoch;
    ``epoch`` is 0-based. Adds ``lr`` to the epoch logs.

    Example:
        >>> LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._pass_lr = _takes_lr(schedule)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = self.model.optimizer
        args = (epoch, float(optimizer.learning_rate)) if self._pass_lr else (epoch,)
        lr = self.schedule(*args)
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)):
            raise TypeError(
                f'The output of the "schedule" function should be a float. Got: {lr!r}'
            )
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["lr"] = self.model.optimizer.learning_rate


class CSVLogger(Callback):
    """Writes one CSV row per epoch: ``epoch`` (0-based) then the log keys in sorted order.

    The columns are fixed by the first epoch; if it has no ``val_`` keys, ``val_<key>`` columns
    are added for every key (filled with ``NA`` when absent), as Keras does. Rows end with
    ``\\r\\n`` (Python's 'excel' dialect, as Keras). ``append=True`` continues an existing file
    without repeating its header.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file = None
        self._writer: csv.DictWriter | None = None
        self._write_header = True

    def on_train_begin(self, logs: Logs | None = None) -> None:
        write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as existing:
                write_header = not existing.readline()
        self._write_header = write_header
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(key.startswith("val_") for key in self.keys):
                self.keys += ["val_" + key for key in self.keys]
        if self._writer is None:
            self._writer = csv.DictWriter(
                self._file, fieldnames=["epoch", *self.keys], delimiter=self.sep
            )
            if self._write_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._file.close()
        self._writer = None


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's ``loss`` is NaN or infinite.

    As in Keras it prints ``Batch 3: Invalid loss, terminating training`` (the batch index is
    0-based, counted from the epoch's start) and sets ``model.stop_training``: the epoch still
    ends (validation, ``on_epoch_end``) and ``fit`` returns normally, its ``History`` holding
    the epoch's NaN loss. ``stopped_epoch`` / ``stopped_batch`` (0-based) tell where; they are
    ``None`` until then. ``ModelCheckpoint`` does not save such an epoch, and a recorded run
    (``fit(run=...)``) raises ``InvalidLossError`` naming the batch and keeps its last good
    checkpoint.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stopped_epoch: int | None = None
        self.stopped_batch: int | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.stopped_epoch, self.stopped_batch = self._epoch, batch
            self.model.stop_training = True


def invalid_training(model: Any, logs: Logs | None) -> str | None:
    """Why the model's current state is not worth keeping — ``"the loss is nan"``, ``"the
    weight 'dense.kernel' is not finite"`` — or ``None`` when its loss and weights are
    finite."""
    loss = (logs or {}).get("loss")
    if loss is not None and not math.isfinite(loss):
        return f"the loss is {loss}"
    weights = getattr(model, "state_dict", None)
    state = {} if weights is None else {k: t for k, t in weights().items()
                                        if t.is_floating_point()}
    if state and not bool(torch.stack([torch.isfinite(t).all() for t in state.values()]).all()):
        name = next(k for k, t in state.items() if not bool(torch.isfinite(t).all()))
        return f"the weight {name!r} is not finite"
    return None


_HOOK_NAMES = frozenset(name for name in vars(Callback) if name.startswith("on_"))


class LambdaCallback(Callback):
    """A callback made of plain functions, e.g.
    ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs['loss']))``.

    Hooks take positional arguments as in `Callback` (``on_train_begin(logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_batch_end(batch, logs)``, ...); any hook name is
    accepted as a keyword.
    """

    def __init__(self, **hooks: Callable[..., Any] | None) -> None:
        super().__init__()
        for name, function in hooks.items():
            if name not in _HOOK_NAMES:
                raise TypeError(
                    f"LambdaCallback: unknown hook {name!r}; expected one of "
                    f"{sorted(_HOOK_NAMES)}"
                )
            if function is not None:
                setattr(self, name, function)


def _summary_writer(log_dir: str) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir)


class TensorBoard(Callback):
    """Writes scalars for TensorBoard, laid out as Keras does: training values in
    ``log_dir/train`` and validation values (``val_`` prefix removed) in
    ``log_dir/validation``, tagged ``epoch_<name>`` at step ``epoch`` and, with
    ``update_freq='batch'`` or an int N, ``batch_<name>`` every N training batches (step = the
    global batch count). Needs the ``tensorboard`` package; view with
    ``tensorboard --logdir logs``.

    Only scalars are written: ``histogram_freq``, ``write_images``, ``embeddings_freq`` and
    ``profile_batch`` are accepted for compatibility and ignored with a warning.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: Any = None,
    ) -> None:
        super().__init__()
        if importlib.util.find_spec("tensorboard") is None:
            raise ImportError(
                "The TensorBoard callback needs the 'tensorboard' package, which is not "
                "installed. Install it with: pip install tensorboard"
            )
        if update_freq not in ("epoch", "batch") and (
            not isinstance(update_freq, int) or isinstance(update_freq, bool) or update_freq < 1
        ):
            raise ValueError(
                "TensorBoard: update_freq must be 'epoch', 'batch' or a positive int, "
                f"got {update_freq!r}"
            )
        ignored = {"histogram_freq": histogram_freq, "write_images": write_images,
                   "embeddings_freq": embeddings_freq, "profile_batch": profile_batch}
        ignored = [name for name, value in ignored.items() if value]
        if ignored:
            warnings.warn(
                f"TensorBoard: {', '.join(ignored)} not supported by cnnlab; only scalars are "
                "written.", stacklevel=2
            )
        self.log_dir = os.fspath(log_dir)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.write_steps_per_second = write_steps_per_second
        self._writers: dict[str, Any] = {}
        self._global_batch = 0

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            self._writers[name] = _summary_writer(os.path.join(self.log_dir, name))
        return self._writers[name]

    def wants_batch_hooks(self, mode: str) -> bool:
        return mode == "train" and (self.update_freq != "epoch" or self.write_steps_per_second)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._global_batch = 0

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch_start, self._epoch_batches = time.monotonic(), 0

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._batch_start = time.monotonic()

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._global_batch += 1
        self._epoch_batches += 1
        if self.update_freq == "epoch" or self._global_batch % self.update_freq:
            return
        values = dict(logs or {})
        if self.write_steps_per_second:
            values["steps_per_second"] = 1.0 / max(time.monotonic() - self._batch_start, 1e-9)
        for name, value in values.items():
            self._writer("train").add_scalar("batch_" + name, value, self._global_batch)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        train = {k: v for k, v in (logs or {}).items() if not k.startswith("val_")}
        if self.write_steps_per_second:
            elapsed = max(time.monotonic() - self._epoch_start, 1e-9)
            train["steps_per_second"] = self._epoch_batches / elapsed
        validation = {k[4:]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        for folder, values in (("train", train), ("validation", validation)):
            for name, value in values.items():
                self._writer(folder).add_scalar("epoch_" + name, value, epoch)
            if values:
                self._writer(folder).flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
