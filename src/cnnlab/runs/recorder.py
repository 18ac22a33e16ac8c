"""``fit(..., run='name')``: record a run in the store and checkpoint it every epoch.

:class:`RunRecorder` is a callback: at the end of each epoch it writes
``runs/<id>/checkpoint.cnnlab`` (model, optimizer, training state; atomic) and then the epoch's
logs to the SQLite store, so the store never points at a checkpoint that does not exist yet.
:func:`resume_into` loads the last checkpoint of a run into a model and returns the training
state that ``fit`` continues from.

A process killed between the two writes leaves a checkpoint one epoch ahead of the store: the
resume takes the checkpoint (it is complete: written atomically) and writes the epochs' rows the
store lacks from the history the checkpoint holds. An epoch whose training loss or weights are
NaN or infinite is not checkpointed: :class:`InvalidLossError` names the first bad batch, the
run ends ``failed`` and its last good checkpoint stays.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import torch

from cnnlab.files.atomic import remove_stale_temps
from cnnlab.runs import process
from cnnlab.runs.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from cnnlab.runs.store import RunStore, run_folder
from cnnlab.training.callback import Callback
from cnnlab.training.validity import invalid_training

CHECKPOINT = "checkpoint.cnnlab"


class InvalidLossError(RuntimeError):
    """A recorded run's training loss (or weights) became NaN or infinite: the run is stopped,
    its last good checkpoint kept. ``epoch`` (0-based) and ``batch`` (0-based within the epoch,
    ``None`` if only the weights were bad) say where."""

    def __init__(self, message: str, epoch: int, batch: int | None):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


class RunRecorder(Callback):
    """Checkpoint + store row per epoch; ``finish`` on the way out (status and scores).

    ``checkpointed``: the epochs the run's checkpoint holds (``None`` before the first)."""

    def __init__(self, store: RunStore, run_id: str, data_order: torch.Generator | None,
                 history: dict[str, list[float]] | None = None,
                 checkpointed: int | None = None):
        super().__init__()
        self.store, self.run_id, self.data_order = store, run_id, data_order
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.folder = run_folder(run_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.checkpointed = checkpointed
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        path = self.folder / CHECKPOINT
        invalid = invalid_training(self.model, logs)
        if invalid is not None:
            raise self._invalid(epoch, invalid, path)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        state = TrainingState.capture(epoch + 1, self.history, self.data_order)
        save_checkpoint(self.model, path, state)
        self.checkpointed = epoch + 1
        self.store.log_epoch(self.run_id, epoch, with_learning_rate(self.model, logs),
                             time.perf_counter() - self._epoch_start, checkpoint=str(path))

    def _invalid(self, epoch: int, invalid: str, path: Path) -> InvalidLossError:
        objectives = getattr(self.model, "objectives", None)
        batch = getattr(objectives, "invalid_train_batch", None)
        where = f"epoch {epoch + 1}" if batch is None else f"batch {batch} of epoch {epoch + 1}"
        kept = (f"its checkpoint of epoch {self.checkpointed} is kept: {path}"
                if self.checkpointed else "no checkpoint was written")
        return InvalidLossError(f"run {self.run_id}: {invalid} at {where} (batches count from "
                                f"0, epochs from 1, as fit prints them); training stopped, "
                                f"nothing of this epoch was saved and {kept}", epoch, batch)

    def end(self, error: BaseException | None = None) -> None:
        """Record the run's end: ``finished``, or ``stopped`` (Ctrl-C) / ``failed`` with
        ``error``. With an ``error`` a store that cannot be written (the full disk that made
        the training fail, say) only adds a note to it: the training's error is the one
        raised."""
        if error is None:
            self.store.finish(self.run_id)
            return
        stopped = isinstance(error, KeyboardInterrupt)
        try:
            self.store.finish(self.run_id, "stopped" if stopped else "failed",
                              error=None if stopped else repr(error))
        except Exception as store_error:  # noqa: BLE001 - reported on the error in flight
            error.add_note(f"(the run store could not record this failure either: "
                           f"{store_error})")


def with_learning_rate(model: Any, logs: dict) -> dict:
    """An epoch's logs as stored: with the optimizer's ``learning_rate`` at the epoch's end
    when no callback logged it (the run store's record of the schedule)."""
    if "learning_rate" in logs or "lr" in logs:
        return logs
    rate = getattr(getattr(model, "optimizer", None), "learning_rate", None)
    try:
        return {**logs, "learning_rate": float(rate)}
    except (TypeError, ValueError):  # no optimizer
        return logs


def checkpoint_of(record: Any) -> Path | None:
    """The checkpoint file of a run: the one the store names, or the run folder's when the
    process was killed after writing its first checkpoint but before recording it."""
    if record.checkpoint and Path(record.checkpoint).exists():
        return Path(record.checkpoint)
    path = run_folder(record.id) / CHECKPOINT
    return path if path.exists() else None


def resume_into(model: Any, store: RunStore, run: str) -> tuple[str, TrainingState]:
    """Load run ``run``'s last checkpoint into ``model`` (weights and optimizer state).

    Epochs the checkpoint holds but the store lacks (killed between the two writes) get their
    rows back from the checkpoint's history (their time is unknown: 0 s)."""
    record = store.get(run)
    path = checkpoint_of(record)
    if path is None:
        raise ValueError(f"run {record.id!r} has no checkpoint to resume from (it finished "
                         f"{record.epochs} epochs)")
    remove_stale_temps(path)
    saved, state = load_checkpoint(path)
    model.set_weights(saved.get_weights())
    if saved.optimizer is not None and saved.optimizer.torch_optimizer is not None:
        model.optimizer.load_state_dict(saved.optimizer.state_dict())
    for epoch in range(len(record.history), state.epoch):
        logs = {key: values[epoch] for key, values in state.history.items()
                if epoch < len(values)}
        store.log_epoch(record.id, epoch, with_learning_rate(model, logs), 0.0,
                        checkpoint=str(path))
    return record.id, state


def start_run(model: Any, run: str, resume: bool, data_order: torch.Generator,
              config: dict) -> tuple[RunRecorder, int | None]:
    """A recorder for ``fit(run=..., resume=...)`` and the epoch to start from.

    With ``resume=True`` and a checkpoint of ``run`` in the store, its weights, optimizer state
    and random states are restored and training continues at the saved epoch (up to
    ``config['epochs']``, which becomes the run's planned epochs when it is larger than the
    saved epoch: that extends a finished run); a recorded run without a checkpoint yet starts
    at epoch 0 under its id; an unknown ``run`` starts a new run (so a training script with
    ``resume=True`` can simply be run again). A resumed run becomes ``running`` again, owned by
    this process; resuming a run whose training process is still alive on this host is an
    error (two processes would write one checkpoint).
    """
    store = RunStore()
    record = None
    if resume:
        try:
            record = store.get(run)
        except KeyError:
            record = None
    if record is not None:
        check_not_running(record)
        store.claim(record.id)
    if record is not None and checkpoint_of(record) is not None:
        run_id, state = resume_into(model, store, record.id)
        state.restore(data_order)
        if config.get("epochs") is not None and int(config["epochs"]) > state.epoch:
            store.update_config(run_id, epochs=int(config["epochs"]))
        return RunRecorder(store, run_id, data_order, state.history, state.epoch), state.epoch
    if record is not None:  # values fit does not know (None) keep what the caller recorded
        store.update_config(record.id, **{key: value for key, value in config.items()
                                          if value is not None or key not in record.config})
        return RunRecorder(store, record.id, data_order), None
    run_id = store.create(run, model=getattr(model, "name", None),
                          dataset=config.pop("dataset", None), config=config)
    return RunRecorder(store, run_id, data_order), None


def check_not_running(record: Any) -> None:
    """Refuse to resume ``record`` while its training process is alive on this host."""
    if record.status != "running" or record.pid == os.getpid():
        return
    if process.state(record.pid, record.host, record.pid_start) == process.ALIVE:
        raise ValueError(f"run {record.id!r} is still running (process {record.pid} on "
                         f"{record.host}); stop it before resuming")
