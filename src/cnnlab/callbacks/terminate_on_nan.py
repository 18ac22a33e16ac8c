"""`TerminateOnNaN`: stops training at the first batch whose loss is NaN or infinite."""

from __future__ import annotations

import math

from cnnlab.training.callback import Callback, Logs


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
