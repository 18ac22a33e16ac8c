"""`LearningRateScheduler`: sets the learning rate from a function of the epoch."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from cnnlab.training.callback import Callback, Logs


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
