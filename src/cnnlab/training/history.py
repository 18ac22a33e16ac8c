"""`History`: the callback that records every epoch's logs (what ``fit`` returns)."""

from __future__ import annotations

from typing import Any

from cnnlab.training.callback import Callback, Logs


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
