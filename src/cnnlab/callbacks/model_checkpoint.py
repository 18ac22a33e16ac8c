"""`ModelCheckpoint`: saves the model or its weights every epoch or every N batches.

It lives in :mod:`cnnlab.training`, below models, because
:mod:`cnnlab.training.distributed` leaves the file writers out on processes other
than 0; users import it from :mod:`cnnlab.callbacks`.
"""

from __future__ import annotations

import os
import warnings

from cnnlab.callbacks._monitor import Monitor
from cnnlab.training.callback import Callback, Logs
from cnnlab.training.validity import invalid_training


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

    main_process_only = True  # writes files / prints: process 0 only when distributed

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
        self._monitor = Monitor("ModelCheckpoint", monitor, mode)
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
