"""The run store: every training run recorded in an embedded SQLite database.

``runs/cnnlab.db`` under ``$CNNLAB_HOME`` (default: the current folder). WAL journal mode and a
busy timeout let several trainings write at once without corrupting the file; every write is
one short transaction. Tables::

    runs(id, name, model, dataset, config JSON, status, created, finished, epochs,
         best_val_accuracy, test_loss, test_accuracy, seconds, checkpoint, error,
         pid, host, pid_start)                    -- the owner: see cnnlab.runs.process
    epochs(run_id, epoch, logs JSON, seconds)      -- one row per finished epoch

Status is ``running`` until the run ends (``finished``/``failed``/``stopped``). A process
killed outright (SIGKILL, power loss) cannot write its end, so its run stays ``running`` in the
database, with its last checkpoint, which is what ``resume`` continues. Reading therefore
checks the owner: a ``running`` run whose training process no longer exists on this host is
returned as ``interrupted``. This is computed on read, never written back: a read-only look
changes nothing, and there is no race with a process that resumes the run at the same moment
(``claim`` makes the resuming process the owner). A run owned by another host, or recorded
before owners were, shows ``running`` as stored. ``finish`` may also store ``interrupted``
(``cnnlab evaluate`` keeps the status it read). Databases from before the owner columns get
them added on open (``ALTER TABLE``).

A store that cannot be written or read (disk full, read-only folder, I/O error, a file that is
not a database) raises :class:`RunStoreError`, an ``OSError`` naming the database; a write that
fails changes nothing (each write is one transaction, rolled back).
"""

from __future__ import annotations

import errno
import json
import math
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnlab.runs import process

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT,
    model TEXT,
    dataset TEXT,
    config TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'running',
    created REAL NOT NULL,
    finished REAL,
    epochs INTEGER NOT NULL DEFAULT 0,
    best_val_accuracy REAL,
    test_loss REAL,
    test_accuracy REAL,
    seconds REAL NOT NULL DEFAULT 0,
    checkpoint TEXT,
    error TEXT,
    pid INTEGER,
    host TEXT,
    pid_start INTEGER
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    logs TEXT NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
"""
# SQLite's primary result codes that mean the file or its disk, not the SQL, went wrong
_FILE_ERRORS = {3: (errno.EACCES, "no permission"), 5: (errno.EBUSY, "busy"),
                6: (errno.EBUSY, "locked"), 8: (errno.EROFS, "read-only"),
                10: (errno.EIO, "I/O error"), 11: (errno.EIO, "corrupt"),
                13: (errno.ENOSPC, "the disk is full"), 14: (errno.EACCES, "cannot open"),
                26: (errno.EIO, "not a database")}
STATUSES = ("running", "finished", "failed", "stopped", "interrupted")
OWNER_COLUMNS = {"pid": "INTEGER", "host": "TEXT", "pid_start": "INTEGER"}  # added later


def home() -> Path:
    """``$CNNLAB_HOME`` or the current folder: where ``runs/`` lives."""
    return Path(os.environ.get("CNNLAB_HOME", ".")).expanduser()


def default_path() -> Path:
    """``runs/cnnlab.db`` under :func:`home`: the run store every command uses."""
    return home() / "runs" / "cnnlab.db"


def run_folder(run_id: str) -> Path:
    """``runs/<id>/``: checkpoints, report and pictures of a run."""
    return home() / "runs" / run_id


@dataclass
class Run:
    """One row of ``runs`` plus its per-epoch logs and seconds (filled by
    :meth:`RunStore.get`)."""

    id: str
    name: str | None
    model: str | None
    dataset: str | None
    config: dict
    status: str
    created: float
    finished: float | None
    epochs: int
    best_val_accuracy: float | None
    test_loss: float | None
    test_accuracy: float | None
    seconds: float
    checkpoint: str | None
    error: str | None
    pid: int | None = None
    host: str | None = None
    pid_start: int | None = None
    history: list[dict] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)  # wall time of each epoch

    @property
    def folder(self) -> Path:
        return run_folder(self.id)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class RunStoreError(OSError):
    """The run database could not be read or written; the message names it. ``errno`` says
    why (``ENOSPC`` disk full, ``EROFS``/``EACCES`` read-only, ``EIO``, ``EBUSY``)."""


def _reraise(err: sqlite3.Error, path: Path) -> None:
    """Raise ``err`` as a :class:`RunStoreError` naming ``path`` when the file or its disk is
    at fault; an SQL error is raised as it is."""
    code = getattr(err, "sqlite_errorcode", None)
    known = _FILE_ERRORS.get(code & 0xFF) if isinstance(code, int) else None
    if known is None:
        raise err
    number, reason = known
    if number == errno.EIO and _free_bytes(path) < FULL_BELOW:  # SQLite's name for ENOSPC
        number, reason = errno.ENOSPC, "the disk is full"  # growing its -shm file, say
    name = getattr(err, "sqlite_errorname", "")
    raise RunStoreError(number, f"run store {os.fspath(path)!r}: {err} [{name}] ({reason}); "
                                f"nothing of this operation was stored") from err


FULL_BELOW = 1 << 20  # an I/O error with less free space than this is reported as disk full


def _free_bytes(path: Path) -> int:
    try:
        stats = os.statvfs(path.parent)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return FULL_BELOW
    return stats.f_bavail * stats.f_frsize


class RunStore:
    """Open (creating if needed) the SQLite run database at ``path``."""

    def __init__(self, path: str | os.PathLike | None = None, timeout: float = 30.0):
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            _migrate(db)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as err:
            _reraise(err, self.path)
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            yield db
        except sqlite3.Error as err:
            _reraise(err, self.path)
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or (on any error) none of it."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back itself (disk full)
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the error that brought us here is the one to report
                raise

    def _write(self, sql: str, args: tuple) -> None:
        with self._transaction() as db:
            db.execute(sql, args)

    # ------------------------------------------------------------------ writing
    def create(self, name: str | None = None, model: str | None = None,
               dataset: str | None = None, config: dict | None = None) -> str:
        """Start a run; returns its id (``<name>-<6 hex>`` or 8 hex digits)."""
        suffix = uuid.uuid4().hex[:6]
        run_id = f"{_slug(name)}-{suffix}" if name else uuid.uuid4().hex[:8]
        owner = process.current()
        self._write("INSERT INTO runs (id, name, model, dataset, config, status, created, pid, "
                    "host, pid_start) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
                    (run_id, name, model, dataset, json.dumps(config or {}, default=str),
                     time.time(), owner.pid, owner.host, owner.start))
        return run_id

    def claim(self, run_id: str) -> None:
        """This process now trains ``run_id`` (a resume): status ``running``, owner updated."""
        owner = process.current()
        self._write("UPDATE runs SET status = 'running', finished = NULL, error = NULL, "
                    "pid = ?, host = ?, pid_start = ? WHERE id = ?",
                    (owner.pid, owner.host, owner.start, run_id))

    def log_epoch(self, run_id: str, epoch: int, logs: dict, seconds: float,
                  checkpoint: str | None = None) -> None:
        """Record one finished epoch (0-based) and update the run's summary columns."""
        clean = {k: _finite(v) for k, v in logs.items() if isinstance(v, (int, float))}
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO epochs (run_id, epoch, logs, seconds) "
                       "VALUES (?, ?, ?, ?)", (run_id, epoch, json.dumps(clean), seconds))
            val = clean.get("val_accuracy", clean.get("val_acc"))
            db.execute(
                "UPDATE runs SET epochs = ?, seconds = seconds + ?, "
                "best_val_accuracy = CASE WHEN ? IS NULL THEN best_val_accuracy "
                "WHEN best_val_accuracy IS NULL OR ? > best_val_accuracy THEN ? "
                "ELSE best_val_accuracy END, checkpoint = COALESCE(?, checkpoint), "
                "status = 'running' WHERE id = ?",
                (epoch + 1, seconds, val, val, val, checkpoint, run_id))

    def finish(self, run_id: str, status: str = "finished", test_loss: float | None = None,
               test_accuracy: float | None = None, error: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        self._write("UPDATE runs SET status = ?, finished = ?, "
                    "test_loss = COALESCE(?, test_loss), "
                    "test_accuracy = COALESCE(?, test_accuracy), error = ? WHERE id = ?",
                    (status, time.time(), _finite(test_loss), _finite(test_accuracy), error,
                     run_id))

    def update_config(self, run_id: str, **values: Any) -> None:
        run = self.get(run_id)
        config = {**run.config, **values}
        self._write("UPDATE runs SET config = ? WHERE id = ?",
                    (json.dumps(config, default=str), run_id))

    def delete(self, run_id: str) -> None:
        self._write("DELETE FROM runs WHERE id = ?", (run_id,))

    # ------------------------------------------------------------------ reading
    def list(self, limit: int | None = None) -> list[Run]:
        """Runs, newest first (without their per-epoch history)."""
        sql = "SELECT * FROM runs ORDER BY created DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [_run(row) for row in db.execute(sql)]

    def get(self, run_id: str) -> Run:
        """A run with its history. ``run_id`` is a run id, a run's name (the newest run of that
        name) or a unique id prefix, tried in that order."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM runs WHERE id = ? OR id LIKE ? OR name = ? "
                              "ORDER BY created DESC", (run_id, f"{run_id}%", run_id)).fetchall()
            rows = ([r for r in rows if r["id"] == run_id]
                    or [r for r in rows if r["name"] == run_id] or rows)
            if not rows:
                raise KeyError(f"no run {run_id!r} in {self.path}")
            if len({r["id"] for r in rows}) > 1 and rows[0]["name"] != run_id:
                ids = ", ".join(r["id"] for r in rows[:5])
                raise KeyError(f"run {run_id!r} is ambiguous: {ids}")
            run = _run(rows[0])
            epochs = db.execute("SELECT logs, seconds FROM epochs WHERE run_id = ? "
                                "ORDER BY epoch", (run.id,)).fetchall()
            run.history = [json.loads(r["logs"]) for r in epochs]
            run.epoch_seconds = [r["seconds"] for r in epochs]
        return run


def _migrate(db: sqlite3.Connection) -> None:
    """Add the owner columns to a database created before them (checked again under the write
    lock, so two processes opening an old database at once add them once)."""
    def missing() -> list[str]:
        have = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        return [name for name in OWNER_COLUMNS if name not in have]

    if not missing():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for name in missing():
            db.execute(f"ALTER TABLE runs ADD COLUMN {name} {OWNER_COLUMNS[name]}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _run(row: sqlite3.Row) -> Run:
    """A row as a :class:`Run`; ``running`` becomes ``interrupted`` when its owner is dead."""
    data = dict(row)
    data["config"] = json.loads(data["config"] or "{}")
    if data["status"] == "running" and \
            process.state(data["pid"], data["host"], data["pid_start"]) == process.DEAD:
        data["status"] = "interrupted"
    return Run(**data)


def _slug(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.strip())
    return keep[:40] or "run"
