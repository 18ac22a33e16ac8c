"""Run owners (interrupted runs, schema migration) and runs side by side (table, curves)."""

import os
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
from PIL import Image

from cnnlab.plots import curves
from cnnlab.runs import process
from cnnlab.runs.compare import comparison, format_table, write_curves
from cnnlab.runs.recorder import check_not_running
from cnnlab.runs.store import RunStore

LINUX = os.path.isdir("/proc/self")

OLD_SCHEMA = """
CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT, model TEXT, dataset TEXT,
    config TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL DEFAULT 'running',
    created REAL NOT NULL, finished REAL, epochs INTEGER NOT NULL DEFAULT 0,
    best_val_accuracy REAL, test_loss REAL, test_accuracy REAL,
    seconds REAL NOT NULL DEFAULT 0, checkpoint TEXT, error TEXT);
CREATE TABLE epochs (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL, logs TEXT NOT NULL, seconds REAL NOT NULL,
    PRIMARY KEY (run_id, epoch));
"""


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def set_owner(store, run_id, pid, host=None, start=None):
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET pid = ?, host = ?, pid_start = ? WHERE id = ?",
                   (pid, host or socket.gethostname(), start, run_id))


def stored_status(store, run_id):
    with sqlite3.connect(store.path) as db:
        return db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()[0]


def test_old_database_gets_the_owner_columns(tmp_path):
    path = tmp_path / "cnnlab.db"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO runs (id, name, status, created) VALUES ('old-1', 'old', "
                   "'running', 1.0)")
    store = RunStore(path)
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    assert {"pid", "host", "pid_start"} <= columns
    old = store.get("old-1")
    assert old.pid is None and old.status == "running"  # no owner recorded: cannot tell
    RunStore(path)  # opening again adds nothing (no duplicate-column error)
    new = store.create("new")
    assert store.get(new).pid == os.getpid() and store.get(new).host == socket.gethostname()


def test_running_run_whose_process_died_reads_as_interrupted(tmp_path):
    store = RunStore(tmp_path / "cnnlab.db")
    mine, dead, elsewhere = store.create("mine"), store.create("dead"), store.create("away")
    set_owner(store, dead, dead_pid())
    set_owner(store, elsewhere, dead_pid(), host="another-host.invalid")
    assert store.get(mine).status == "running"  # this process is alive
    assert store.get(dead).status == "interrupted"
    assert store.get(elsewhere).status == "running"  # another host's pid cannot be checked
    assert {r.id: r.status for r in store.list()}[dead] == "interrupted"
    assert stored_status(store, dead) == "running"  # computed on read, not written
    store.finish(dead)
    assert store.get(dead).status == "finished"


@pytest.mark.skipif(not LINUX, reason="process start times come from /proc")
def test_reused_pid_and_zombie_count_as_dead():
    me = process.current()
    assert process.state(me.pid, me.host, me.start) == process.ALIVE
    assert process.state(me.pid, me.host, me.start + 1) == process.DEAD  # pid reused
    assert process.state(None, me.host) == process.UNKNOWN
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(200):  # until it has exited but is not reaped yet
            if process._stat(zombie.pid)[0] == "Z":
                break
            time.sleep(0.02)
        assert process.state(zombie.pid, me.host) == process.DEAD
    finally:
        zombie.wait()


def test_claim_makes_this_process_the_owner_of_a_resumed_run(tmp_path):
    store = RunStore(tmp_path / "cnnlab.db")
    run_id = store.create("r")
    set_owner(store, run_id, dead_pid())
    store.finish(run_id, "failed", error="boom")
    store.claim(run_id)
    run = store.get(run_id)
    assert (run.status, run.finished, run.error, run.pid) == ("running", None, None, os.getpid())


@pytest.mark.skipif(not LINUX, reason="needs /proc to know the other process is alive")
def test_resuming_a_run_whose_process_is_alive_is_refused(tmp_path):
    store = RunStore(tmp_path / "cnnlab.db")
    run_id = store.create("busy")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        set_owner(store, run_id, other.pid, start=process._stat(other.pid)[1])
        with pytest.raises(ValueError, match=f"run '{run_id}' is still running"):
            check_not_running(store.get(run_id))
    finally:
        other.kill()
        other.wait()
    check_not_running(store.get(run_id))  # now interrupted: resuming is fine


def two_runs(store):
    a = store.create("a", model="lenet", dataset="digits",
                     config={"epochs": 3, "batch_size": 64, "optimizer": "adam", "lr": None,
                             "seed": 0, "augment": False, "class_names": ["0", "1"]})
    b = store.create("b", model="lenet", dataset="digits",
                     config={"epochs": 2, "batch_size": 64, "optimizer": "adam", "lr": 0.01,
                             "seed": 1, "augment": False, "class_names": ["x", "y"]})
    for epoch in range(3):
        store.log_epoch(a, epoch, {"loss": 1.0 / (epoch + 1), "accuracy": 0.5 + epoch / 10,
                                   "val_loss": 1.2 / (epoch + 1), "val_accuracy": 0.4}, 1.0)
    store.log_epoch(b, 0, {"loss": float("nan"), "accuracy": 0.3, "val_loss": 0.9,
                           "val_accuracy": 0.35}, 2.5)
    store.finish(a, test_accuracy=0.61)
    return store.get(a), store.get(b)


def test_comparison_marks_the_settings_that_differ(tmp_path):
    a, b = two_runs(RunStore(tmp_path / "cnnlab.db"))
    rows = {row.label: row for row in comparison([a, b])}
    assert rows["run"].values == [a.id, b.id]
    assert rows["epochs"].values == ["3/3", "1/2"] and rows["epochs"].differs
    assert rows["lr"].values == ["default", "0.01"] and rows["lr"].differs
    assert rows["seed"].differs  # not a key setting, shown because it differs
    assert not rows["batch size"].differs and not rows["optimizer"].differs
    assert "augment" not in rows and "class names" not in rows  # equal / hidden
    assert rows["test acc"].values == ["0.6100", "-"] and not rows["test acc"].differs
    assert rows["status"].values == ["finished", "running"]
    lines = format_table(list(rows.values())).splitlines()
    assert lines[0].split() == ["run", a.id, b.id]
    assert [line.split()[1] for line in lines if line.startswith("*")] == \
        ["epochs", "lr", "seed", "differs"]
    bold = format_table(list(rows.values()), bold=True)
    assert bold.count("\033[1m") == 3


def test_write_curves_overlays_the_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    store = RunStore()
    a, b = two_runs(store)
    figures = []
    save = curves.save_png
    monkeypatch.setattr(curves, "save_png", lambda fig, path: figures.append(fig) or
                        save(fig, path))
    path = write_curves([a, b])
    assert path == str(tmp_path / "runs" / "compare" / f"{a.id}--{b.id}.png")
    assert Image.open(path).size == (1000, 400)  # loss and accuracy panels
    loss, accuracy = figures[0].axes
    styles = [(line.get_color(), line.get_linestyle(), len(line.get_xdata()))
              for line in loss.lines]
    assert styles == [("C0", "--", 3), ("C0", "-", 3), ("C1", "--", 1), ("C1", "-", 1)]
    assert len(accuracy.lines) == 4
    out = write_curves([a, b], tmp_path / "mine.png")
    assert out == str(tmp_path / "mine.png") and Image.open(out).size == (1000, 400)
    assert write_curves([store.get(store.create("empty"))]) is None
