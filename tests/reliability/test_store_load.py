"""The run store under load (issue 14, item 4, runs part): two trainings writing one store at
once lose no rows; 1,000 recorded runs are listed by ``cnnlab runs`` in under a second.

References: the rows each training must have written (one per epoch, counted by the training
itself), SQLite's own ``integrity_check``, and the wall clock.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import time

import fault_child
import pytest
import tally

from cnnlab.runs import process
from cnnlab.runs.store import RunStore

LOAD = "load checks / within bounds"


def test_two_trainings_writing_one_store_at_once_lose_no_rows(tmp_path):
    """Two processes train and record 40 epochs each (a checkpoint and a store transaction per
    epoch) into one database while this process keeps listing it: every row arrives, both
    runs end finished, the file stays sound. (tests/runs/test_store.py covers bare writers;
    this is the fit(run=...) path: claim, log_epoch, finish, update_config.)"""
    epochs = 40
    ctx = fault_child.forkserver()
    procs = [ctx.Process(target=fault_child.train_run, args=(str(tmp_path), f"t{i}", epochs))
             for i in range(2)]
    for proc in procs:
        proc.start()
    reads = 0
    while any(proc.is_alive() for proc in procs):
        with contextlib.suppress(FileNotFoundError):  # before the first child made it
            if (tmp_path / "runs" / "cnnlab.db").exists():
                RunStore(tmp_path / "runs" / "cnnlab.db").list()
                reads += 1
        time.sleep(0.01)
    for proc in procs:
        proc.join()
        assert proc.exitcode == 0
    store = RunStore(tmp_path / "runs" / "cnnlab.db")
    runs = sorted(store.list(), key=lambda r: r.name)
    assert [r.name for r in runs] == ["t0", "t1"] and reads > 0
    assert runs[0].created < runs[1].finished and runs[1].created < runs[0].finished  # at once
    for run in runs:
        history = store.get(run.id).history
        assert run.status == "finished" and run.epochs == epochs
        assert len(history) == epochs and all("loss" in row for row in history)
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == 2 * epochs


def fill_store(path, count: int, epochs: int) -> None:
    """``count`` runs as cnnlab records them (a quarter still ``running``, owned by this live
    process or by a dead one, so the listing checks their owners) with ``epochs`` rows each,
    written in one transaction (``RunStore.create`` would spend a commit on each)."""
    store = RunStore(path)
    me = process.current()
    start = time.time() - count
    rows, epoch_rows = [], []
    for i in range(count):
        status = ("finished", "failed", "running", "stopped")[i % 4]
        owner = (me.pid, me.host, me.start) if i % 8 == 2 else (2**22 + i, me.host, 1)
        run_id = f"run{i:04d}-{i:06x}"
        rows.append((run_id, f"run{i}", "lenet", "mnist",
                     json.dumps({"epochs": epochs, "batch_size": 128, "optimizer": "Adam"}),
                     status, start + i, start + i + 60, epochs, 0.9, 0.3, 0.88, 60.0,
                     f"runs/{run_id}/checkpoint.cnnlab", None, *owner))
        epoch_rows += [(run_id, e, json.dumps({"loss": 1.0 / (e + 1), "accuracy": 0.9,
                                               "val_loss": 0.5, "val_accuracy": 0.85,
                                               "learning_rate": 0.001}), 3.0)
                       for e in range(epochs)]
    with sqlite3.connect(store.path) as db:
        db.executemany(f"INSERT INTO runs (id, name, model, dataset, config, status, created, "
                       f"finished, epochs, best_val_accuracy, test_loss, test_accuracy, "
                       f"seconds, checkpoint, error, pid, host, pid_start) VALUES "
                       f"({', '.join('?' * 18)})", rows)
        db.executemany("INSERT INTO epochs VALUES (?, ?, ?, ?)", epoch_rows)


def test_a_thousand_runs_are_listed_by_cnnlab_runs_in_under_a_second(tmp_path, monkeypatch):
    """Measured here: about 0.03 s for the list and 0.04 s for the command's table (1,000 runs,
    20,000 epoch rows); no index needed (the query reads the runs table once, sorted)."""
    from cnnlab.cli import main

    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    fill_store(tmp_path / "runs" / "cnnlab.db", 1000, 20)
    started = time.perf_counter()
    runs = RunStore().list()
    listed = time.perf_counter() - started
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(["runs"])
    shown = time.perf_counter() - started
    lines = out.getvalue().splitlines()
    statuses = {r.status for r in runs}
    checks = {"RunStore.list": listed < 1.0, "cnnlab runs": shown < 1.0}
    for held in checks.values():
        tally.record(LOAD, held=held)
    assert len(runs) == 1000 and code == 0 and len(lines) == 1001
    assert lines[1].startswith("run0999-") and lines[-1].startswith("run0000-")  # newest first
    assert statuses == {"finished", "failed", "running", "stopped", "interrupted"}
    assert all(checks.values()), f"list {listed:.3f} s, cnnlab runs {shown:.3f} s"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="owner checks need /proc")
def test_listing_reads_each_owner_once_per_run_not_per_epoch(tmp_path, monkeypatch):
    """The listing's cost grows with runs, not epochs: the owner check is one /proc read per
    running run (counted), and the epochs table is not read at all."""
    fill_store(tmp_path / "runs.db", 200, 50)
    probes = []
    real_state = process.state
    monkeypatch.setattr(process, "state", lambda *a: probes.append(a) or real_state(*a))
    runs = RunStore(tmp_path / "runs.db").list()
    assert len(runs) == 200 and len(probes) == 50  # the 'running' quarter
    assert all(r.history == [] for r in runs)
