"""`ReduceLROnPlateau`: lowers the learning rate when a monitored quantity stops improving."""

from __future__ import annotations

import numpy as np

from cnnlab.callbacks._monitor import Monitor
from cnnlab.training.callback import Callback, Logs


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
        self._monitor = Monitor("ReduceLROnPlateau", monitor, mode)
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
        """Whether a reduction happened less than ``cooldown`` epochs ago."""
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
