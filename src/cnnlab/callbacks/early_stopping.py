"""`EarlyStopping`: stops training when a monitored quantity stops improving."""

from __future__ import annotations

from typing import Any

from cnnlab.callbacks._monitor import Monitor
from cnnlab.training.callback import Callback, Logs


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
        self._monitor = Monitor("EarlyStopping", monitor, mode)
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
