"""Where the dashboard's numbers come from: a run store on disk, or the trainings of this process.

Both sources answer the same questions (the server does not know which one it has):
``runs()`` summary rows, ``run(id)`` one run with its epoch rows, ``updates(id, cursor)`` what is
new since the client's cursor (``None`` when nothing is), ``model(id)`` a model to compute
pictures with and a version of its weights, ``images(id)`` a few labelled images.

:class:`StoreSource` reads ``runs/cnnlab.db`` (read only, through :class:`RunStore`) and each run's
latest checkpoint (``runs/<id>/checkpoint.cnnlab``, loaded with the safe loader). It looks for
news by comparing the database files' sizes and modification times — one ``stat`` per second per
open page — and reads SQLite only when they changed. :class:`LiveSource` reads the in-memory
:class:`~cnnlab.dashboard.feed.LiveFeed` of each ``fit(dashboard=True)`` of this process.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.dashboard import payloads
from cnnlab.dashboard.feed import LiveFeed, accuracy_of
from cnnlab.layers.registry import registered_class

RUN_ID = re.compile(r"[\w-]{1,80}")  # what RunStore makes of names: no '.', '/', '%'...
SAMPLES = 12  # images shown with their probabilities
CONFUSION_IMAGES = 2000  # images the confusion matrix counts
CHECKPOINT = "checkpoint.cnnlab"
MAX_LIVE_RUNS = 10  # trainings of one process the live dashboard keeps


class NotFound(LookupError):
    """No such run / layer / image: the server answers 404 with this message."""


def check_run_id(run_id: str) -> str:
    """``run_id`` if it is a well-formed run id, else a 404 (no path ever built from it)."""
    if not RUN_ID.fullmatch(run_id):
        raise NotFound(f"no run {run_id!r}: run ids are made of letters, digits, '-' and '_'")
    return run_id


def epoch_row(index: int, logs: dict) -> dict:
    """An epoch's logs with ``epoch`` (1-based) and the accuracy under a fixed name."""
    row = dict(logs)
    row["epoch"] = index + 1
    row.setdefault("accuracy", accuracy_of(logs))
    row.setdefault("val_accuracy", accuracy_of(logs, "val_"))
    row.setdefault("lr", logs.get("learning_rate"))
    return row


def _signature(*paths: Path) -> tuple:
    out = []
    for path in paths:
        try:
            stat = path.stat()
            out.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


class _Cache:
    """Per-run results of an expensive computation, valid while the weights version holds."""

    def __init__(self) -> None:
        self._items: dict[tuple, tuple[Any, Any]] = {}

    def get(self, key: tuple, version: Any, compute: Any) -> Any:
        hit = self._items.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = compute()
        if len(self._items) > 256:
            self._items.clear()
        self._items[key] = (version, value)
        return value


class Source:
    """The questions the server asks; subclasses answer them from a store or a live feed."""

    title = "cnnlab"
    interval = 1.0  # seconds between two looks for news per open page
    blocking = True  # answers may wait on disk / SQLite: the server asks from a worker thread

    def __init__(self) -> None:
        self.lock = threading.RLock()  # one computation with a model at a time
        self.cache = _Cache()

    # -- to implement
    def runs(self) -> list[dict]:
        raise NotImplementedError

    def run(self, run_id: str) -> dict:
        raise NotImplementedError

    def signature(self, run_id: str | None) -> Any:
        raise NotImplementedError

    def updates(self, run_id: str, epochs: int, batches: int) -> dict | None:
        raise NotImplementedError

    def model(self, run_id: str, weights: bool = True) -> tuple[Any, Any]:
        """The model and a version of its weights (``weights=False``: the architecture is
        enough, any weights do)."""
        raise NotImplementedError

    def images(self, run_id: str) -> tuple[np.ndarray, np.ndarray | None, list[str] | None, str]:
        raise NotImplementedError

    # -- shared
    def computed(self, kind: str, run_id: str, args: tuple, compute: Any) -> Any:
        """``compute(model)`` for the run's current weights, cached per weights version."""
        with self.lock:
            model, version = self.model(run_id)
            return self.cache.get((kind, run_id, *args), version, lambda: compute(model))

    def describe(self, run_id: str) -> dict:
        """Summary text and conv layer names (the parts of a run that need its model)."""
        try:
            with self.lock:
                model, version = self.model(run_id, weights=False)
                return self.cache.get(("describe", run_id), version, lambda: {
                    "summary": payloads.summary_text(model),
                    "conv_layers": payloads.conv_layers(model)})
        except LookupError as err:
            return {"summary": str(err), "conv_layers": []}


class StoreSource(Source):
    """The runs recorded in a run store folder (read only)."""

    def __init__(self, folder: str | os.PathLike):
        super().__init__()
        self.db = find_database(Path(folder))
        self.runs_dir = self.db.parent
        self.title = f"runs in {self.runs_dir}"
        from cnnlab.runs.store import RunStore

        self.store = RunStore(self.db)
        self._models: dict[str, tuple[tuple, Any]] = {}
        self._datasets: dict[str, tuple] = {}

    def _record(self, run_id: str) -> Any:
        check_run_id(run_id)
        if run_id not in {row.id for row in self.store.list()}:
            raise NotFound(f"no run {run_id!r} in {self.db}")
        return self.store.get(run_id)

    def _summary(self, record: Any) -> dict:
        out = _summary(record)
        stamp = _signature(self.runs_dir / record.id / CHECKPOINT)[0]
        out["updated"] = max(record.created, stamp[0] / 1e9) if stamp else record.created
        return out

    def runs(self) -> list[dict]:
        return [self._summary(record) for record in self.store.list()]

    def run(self, run_id: str) -> dict:
        record = self._record(run_id)
        out = self._summary(record)
        out["config"] = record.config
        out["epoch_rows"] = [epoch_row(i, logs) for i, logs in enumerate(record.history)]
        out["batches"], out["batch_count"] = [], 0
        out["live"] = False
        return out

    def checkpoint(self, run_id: str) -> Path:
        path = self.runs_dir / check_run_id(run_id) / CHECKPOINT
        if path.resolve().parent.parent != self.runs_dir.resolve():
            raise NotFound(f"run {run_id!r} has no checkpoint inside {self.runs_dir}")
        return path

    def signature(self, run_id: str | None) -> Any:
        files = [self.db, self.db.with_name(self.db.name + "-wal")]
        if run_id is not None:
            files.append(self.checkpoint(run_id))
        return _signature(*files)

    def updates(self, run_id: str, epochs: int, batches: int) -> dict | None:
        record = self._record(run_id)
        rows = [epoch_row(i, logs) for i, logs in enumerate(record.history)][epochs:]
        return {"summary": self._summary(record), "epoch_rows": rows, "batches": [],
                "cursor": [epochs + len(rows), 0]}

    def model(self, run_id: str, weights: bool = True) -> tuple[Any, Any]:
        from cnnlab.runs.checkpoint import load_checkpoint

        path = self.checkpoint(run_id)
        version = _signature(path)
        if version == (None,):
            self._record(run_id)
            raise NotFound(f"run {run_id!r} has no checkpoint yet (one is written after every "
                           f"epoch)")
        cached = self._models.get(run_id)
        if cached is None or cached[0] != version:
            model, _ = load_checkpoint(path)
            model.eval()
            if len(self._models) >= 4:
                self._models.pop(next(iter(self._models)))
            self._models[run_id] = (version, model)
        return self._models[run_id][1], version

    def images(self, run_id: str) -> tuple[np.ndarray, np.ndarray | None, list[str] | None, str]:
        from cnnlab.data.catalog import CLASS_NAMES, LOADERS, load_dataset

        record = self._record(run_id)
        name = str(record.config.get("data") or record.dataset or "")
        key = name.lower().replace("-", "_")
        if key not in LOADERS:
            raise NotFound(f"run {run_id!r} was trained on {name or 'arrays'!s}, not a named "
                           f"dataset ({', '.join(LOADERS)}): no test images to show")
        if key not in self._datasets:
            data = load_dataset(key)
            self._datasets[key] = (data.x_test[:CONFUSION_IMAGES],
                                   data.y_test[:CONFUSION_IMAGES].astype(np.int64),
                                   data.class_names)
        x, y, names = self._datasets[key]
        names = record.config.get("class_names") or names or CLASS_NAMES.get(key)
        return x, y, names, f"{key} test images"


def find_database(folder: Path) -> Path:
    """``folder/runs/cnnlab.db`` (``folder`` is ``$CNNLAB_HOME``), ``folder/cnnlab.db`` (the
    runs folder) or ``folder`` itself (the database file)."""
    for candidate in (folder / "runs" / "cnnlab.db", folder / "cnnlab.db"):
        if candidate.is_file():
            return candidate
    if folder.is_file():
        return folder
    raise FileNotFoundError(f"no run store in {folder}: expected {folder / 'runs' / 'cnnlab.db'} "
                            f"(runs recorded with fit(run=...) or cnnlab train while "
                            f"CNNLAB_HOME={folder})")


def _summary(record: Any) -> dict:
    config = record.config or {}
    model = config.get("model") or record.model
    return {"id": record.id, "name": record.name or record.id, "model": model,
            "recipe": config.get("recipe"), "dataset": record.dataset or config.get("data"),
            "status": record.status, "created": record.created, "finished": record.finished,
            "epochs": record.epochs, "epochs_planned": config.get("epochs"),
            "best_val_accuracy": record.best_val_accuracy,
            "test_accuracy": record.test_accuracy, "seconds": record.seconds,
            "error": record.error}


class LiveSource(Source):
    """The ``fit(dashboard=True)`` calls of this process, newest first."""

    interval = 0.5  # reads memory only
    blocking = False

    def __init__(self) -> None:
        super().__init__()
        self.title = "live training"
        self.feeds: dict[str, LiveFeed] = {}
        self._replicas: dict[str, Any] = {}

    def add(self, feed: LiveFeed) -> None:
        """Show ``feed``; the oldest finished trainings beyond :data:`MAX_LIVE_RUNS` are
        dropped (with their data and weight copies)."""
        self.feeds[feed.id] = feed
        done = [k for k, f in self.feeds.items() if f.status != "running"]
        for key in done[:max(0, len(self.feeds) - MAX_LIVE_RUNS)]:
            del self.feeds[key]
            self._replicas.pop(key, None)

    def _feed(self, run_id: str) -> LiveFeed:
        feed = self.feeds.get(check_run_id(run_id))
        if feed is None:
            raise NotFound(f"no training {run_id!r} in this process")
        return feed

    def _summary(self, feed: LiveFeed) -> dict:
        epochs = feed.epochs
        vals = [row.get("val_accuracy", accuracy_of(row, "val_")) for row in epochs]
        vals = [v for v in vals if v is not None]
        end = feed.finished or time.time()
        return {"id": feed.id, "name": feed.name or feed.id,
                "model": getattr(feed.model, "name", None),
                "recipe": None, "dataset": feed.dataset, "status": feed.status,
                "created": feed.created, "finished": feed.finished, "epochs": len(epochs),
                "epochs_planned": feed.epochs_planned,
                "best_val_accuracy": max(vals) if vals else None, "test_accuracy": None,
                "seconds": end - feed.created, "updated": feed.updated, "error": None}

    def runs(self) -> list[dict]:
        return [self._summary(feed) for feed in reversed(list(self.feeds.values()))]

    def run(self, run_id: str) -> dict:
        feed = self._feed(run_id)
        out = self._summary(feed)
        out["config"] = {"steps per epoch": feed.steps, "epochs": feed.epochs_planned}
        out["epoch_rows"] = [epoch_row(row["epoch"] - 1, row) for row in feed.epoch_rows(0)]
        out["batches"], out["batch_count"] = feed.batch_points(0)
        out["live"] = True
        return out

    def signature(self, run_id: str | None) -> Any:
        if run_id is None:  # the run list changes with runs, epochs and statuses only
            return tuple((f.id, f.status, len(f.epochs)) for f in self.feeds.values())
        feed = self._feed(run_id)
        return feed.version, feed.status

    def updates(self, run_id: str, epochs: int, batches: int) -> dict | None:
        feed = self._feed(run_id)
        rows = feed.epoch_rows(epochs)
        points, count = feed.batch_points(batches)
        return {"summary": self._summary(feed),
                "epoch_rows": [epoch_row(r["epoch"] - 1, r) for r in rows],
                "batches": points, "cursor": [epochs + len(rows), count]}

    def model(self, run_id: str, weights: bool = True) -> tuple[Any, Any]:
        feed = self._feed(run_id)
        replica = self._replicas.get(run_id)
        if replica is None:
            replica = _replica(feed.model)
            self._replicas[run_id] = replica
        if not weights:
            return replica, "architecture"
        snapshot = feed.weights()
        if getattr(replica, "_dashboard_version", None) != snapshot.version:
            replica.load_state_dict(snapshot.state)
            replica.eval()
            replica._dashboard_version = snapshot.version
        return replica, snapshot.version

    def images(self, run_id: str) -> tuple[np.ndarray, np.ndarray | None, list[str] | None, str]:
        feed = self._feed(run_id)
        source = feed.images
        x = getattr(source, "x", None)
        if x is None or isinstance(x, (list, tuple)):
            raise NotFound("this fit got a generator or several inputs: no images to show")
        x = x[:CONFUSION_IMAGES].detach().cpu().numpy().astype(np.float32)
        y = getattr(source, "y", None)
        if y is not None and not isinstance(y, (list, tuple)):
            y = y[:CONFUSION_IMAGES].detach().cpu().numpy()
            y = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))
            y = y.astype(np.int64)
        else:
            y = None
        return x, y, feed.class_names, feed.images_what


def _replica(model: Any) -> Any:
    """A second model of the same architecture (built from its config), for the server thread:
    the training model itself is never run, hooked or switched to eval mode by the dashboard."""
    try:
        config = json.loads(model.to_json())
        cls = registered_class(config["class_name"])
        return cls.from_config(config["config"])
    except (TypeError, ValueError, KeyError, NotImplementedError, AttributeError) as err:
        raise NotFound(f"the dashboard draws pictures with a copy of the model built from its "
                       f"config, and {type(model).__name__} cannot be rebuilt ({err})") from None
