"""What a training in this process tells its live dashboard: a ring buffer read by the server.

:class:`LiveFeed` holds one ``fit``'s per-batch points ``(x, loss, accuracy, batch)`` (``x`` in
epochs: ``epoch + (batch + 1)/steps``; loss and accuracy are the running means of the epoch so
far, as the batch logs of Keras 2 are), its per-epoch logs with the learning rate, its status, and
on-demand copies of the weights. :class:`LiveCallback` fills it from the training thread; the
server thread only reads. The training thread's cost per batch is one tuple appended under an
uncontended lock and one ``Event.is_set()``; weights are copied only when the server asked for
them (at the next batch end) and once per epoch.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import torch

from cnnlab.training.callback import Callback

MAX_BATCH_POINTS = 20_000
ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
                 "binary_accuracy")


def accuracy_of(logs: dict, prefix: str = "") -> float | None:
    """The first accuracy-like entry of ``logs`` (``accuracy``, ``acc``, ...), if any."""
    for key in ACCURACY_KEYS:
        value = logs.get(prefix + key)
        if isinstance(value, (int, float)):
            return float(value)
    return None


def _finite(value: Any) -> float | None:
    if not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass
class Snapshot:
    """A copy of the model's weights (``state_dict``) taken between two training steps;
    ``version`` is the number of training batches done when it was taken."""

    version: int
    state: dict[str, torch.Tensor]


@dataclass
class LiveFeed:
    """One ``fit`` as the dashboard sees it (written by the training thread only)."""

    id: str
    model: Any
    name: str | None = None  # the run's name when fit(run=...) records it
    images: Any = None  # the source whose first samples the dashboard shows (ArrayData)
    images_what: str = "validation images"
    dataset: str = "arrays"
    class_names: list[str] | None = None
    status: str = "running"
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    finished: float | None = None
    steps: int | None = None
    epochs_planned: int | None = None
    batches: deque = field(default_factory=lambda: deque(maxlen=MAX_BATCH_POINTS))
    batch_count: int = 0  # points ever pushed (the deque keeps the last MAX_BATCH_POINTS)
    epochs: list[dict] = field(default_factory=list)
    version: int = 0  # bumped on every change the server may want to send
    snapshot: Snapshot | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wanted: threading.Event = field(default_factory=threading.Event)
    _taken: threading.Condition = field(default_factory=threading.Condition)

    # ----------------------------------------------------------- training thread (writes)
    def push_batch(self, x: float, loss: float | None, accuracy: float | None,
                   batch: int) -> None:
        with self._lock:
            self.batches.append((x, loss, accuracy, batch))
            self.batch_count += 1
            self.version += 1
            self.updated = time.time()
        if self._wanted.is_set():
            self.take_snapshot()

    def push_epoch(self, row: dict) -> None:
        with self._lock:
            self.epochs.append(row)
            self.version += 1
            self.updated = time.time()

    def set_status(self, status: str) -> None:
        with self._lock:
            self.status = status
            self.finished = time.time() if status != "running" else None
            self.version += 1

    def take_snapshot(self) -> None:
        """Copy the weights now (the training thread calls this between two steps)."""
        state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        with self._taken:
            self.snapshot = Snapshot(self.batch_count, state)
            self._wanted.clear()
            self._taken.notify_all()

    # ----------------------------------------------------------------- server thread (reads)
    def weights(self, timeout: float = 2.0) -> Snapshot:
        """Weights as of the latest batch: asks the training thread for a copy and waits up
        to ``timeout`` s; when training is over (or between epochs) the last copy serves."""
        current = self.snapshot
        if current is not None and (self.status != "running"
                                    or current.version == self.batch_count):
            return current
        with self._taken:
            self._wanted.set()
            self._taken.wait_for(lambda: self.snapshot is not current, timeout)
        if self.snapshot is None:  # training has not reached its first batch yet
            raise LookupError("the weights are not available yet; training is starting")
        return self.snapshot

    def batch_points(self, since: int) -> tuple[list, int]:
        """Points pushed after the first ``since`` ones, and the new count."""
        with self._lock:
            count = self.batch_count
            missing = min(count - since, len(self.batches))
            points = list(self.batches)[len(self.batches) - missing:] if missing > 0 else []
        return points, count

    def epoch_rows(self, since: int) -> list[dict]:
        with self._lock:
            return list(self.epochs[since:])


class LiveCallback(Callback):
    """Pushes ``(epoch + fraction, loss, accuracy)`` per batch and the logs per epoch."""

    def __init__(self, feed: LiveFeed):
        super().__init__()
        self.feed = feed
        self._epoch = 0
        self._started = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.feed.steps = self.params.get("steps")
        self.feed.epochs_planned = self.params.get("epochs")

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch, self._started = epoch, time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        x = self._epoch + (batch + 1) / self.feed.steps if self.feed.steps else \
            self._epoch + batch / 1000.0
        self.feed.push_batch(x, _finite(logs.get("loss")), accuracy_of(logs), batch)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        row = {k: _finite(v) for k, v in logs.items() if isinstance(v, (int, float))}
        row["epoch"] = epoch + 1
        row["seconds"] = time.perf_counter() - self._started
        optimizer = getattr(self.model, "optimizer", None)
        try:
            row["lr"] = _finite(optimizer.learning_rate) if optimizer is not None else None
        except (AttributeError, TypeError, ValueError):
            row["lr"] = None
        self.feed.push_epoch(row)
        self.feed.take_snapshot()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.feed.snapshot is None or self.feed.snapshot.version != self.feed.batch_count:
            self.feed.take_snapshot()
        self.feed.set_status("finished")
