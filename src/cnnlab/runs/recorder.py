"""``fit(..., run='name')``: record a run in the store and checkpoint it every epoch.

:class:`RunRecorder` is a callback: at the end of each epoch it writes
``runs/<id>/checkpoint.cnnlab`` (model, optimizer, training state; atomic) and then the epoch's
logs to the SQLite store, so the store never points at a checkpoint that does not exist yet.
:func:`resume_into` loads the last checkpoint of a run into a model and returns the training
state that ``fit`` continues from.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import torch

from cnnlab.runs import process
from cnnlab.runs.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from cnnlab.runs.store import RunStore, run_folder
from cnnlab.training.callbacks import Callback

CHECKPOINT = "checkpoint.cnnlab"


class RunRecorder(Callback):
    """Checkpoint + store row per epoch; ``finish`` on the way out (status and scores)."""

    def __init__(self, store: RunStore, run_id: str, data_order: torch.Generator | None,
                 history: dict[str, list[float]] | None = None):
        super().__init__()
        self.store, self.run_id, self.data_order = store, run_id, data_order
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.folder = run_folder(run_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        path = self.folder / CHECKPOINT
        state = TrainingState.capture(epoch + 1, self.history, self.data_order)
        save_checkpoint(self.model, path, state)
        self.store.log_epoch(self.run_id, epoch, self._with_learning_rate(logs),
                             time.perf_counter() - self._epoch_start, checkpoint=str(path))

    def _with_learning_rate(self, logs: dict) -> dict:
        """The epoch's logs as stored: with the optimizer's ``learning_rate`` at the epoch's
        end when no callback logged it (the run store's record of the schedule)."""
        if "learning_rate" in logs or "lr" in logs:
            return logs
        rate = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        try:
            return {**logs, "learning_rate": float(rate)}
        except (TypeError, ValueError):  # no optimizer
            return logs


def resume_into(model: Any, store: RunStore, run: str) -> tuple[str, TrainingState]:
    """Load run ``run``'s last checkpoint into ``model`` (weights and optimizer state)."""
    record = store.get(run)
    if not record.checkpoint or not Path(record.checkpoint).exists():
        raise ValueError(f"run {record.id!r} has no checkpoint to resume from (it finished "
                         f"{record.epochs} epochs)")
    saved, state = load_checkpoint(record.checkpoint)
    model.set_weights(saved.get_weights())
    if saved.optimizer is not None and saved.optimizer.torch_optimizer is not None:
        model.optimizer.load_state_dict(saved.optimizer.state_dict())
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
    if record is not None and record.checkpoint:
        run_id, state = resume_into(model, store, run)
        state.restore(data_order)
        if config.get("epochs") is not None and int(config["epochs"]) > state.epoch:
            store.update_config(run_id, epochs=int(config["epochs"]))
        return RunRecorder(store, run_id, data_order, state.history), state.epoch
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
