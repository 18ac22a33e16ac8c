"""The SQLite run store: records, summaries, lookups, and concurrent writers."""

import multiprocessing
import sqlite3

import pytest

from cnnlab.runs.store import RunStore


def test_run_lifecycle_and_summary_columns(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    run_id = store.create("lenet fashion", model="lenet", dataset="fashion_mnist",
                          config={"epochs": 3, "batch_size": 128})
    assert run_id.startswith("lenet-fashion-")
    for epoch, (acc, val) in enumerate([(0.8, 0.82), (0.85, 0.87), (0.9, 0.86)]):
        store.log_epoch(run_id, epoch, {"accuracy": acc, "val_accuracy": val, "loss": 1 / (epoch
                                        + 1)}, seconds=2.0, checkpoint=f"ckpt{epoch}")
    store.finish(run_id, test_loss=0.3, test_accuracy=0.88)
    run = store.get(run_id)
    assert run.status == "finished" and run.epochs == 3 and run.seconds == pytest.approx(6.0)
    assert run.best_val_accuracy == pytest.approx(0.87)
    assert run.test_accuracy == pytest.approx(0.88) and run.checkpoint == "ckpt2"
    assert [h["val_accuracy"] for h in run.history] == [0.82, 0.87, 0.86]
    assert run.config == {"epochs": 3, "batch_size": 128}


def test_lookup_by_prefix_and_name_and_errors(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    a = store.create("alpha")
    store.create("beta")
    assert store.get(a[:8]).id == a
    assert store.get("beta").name == "beta"
    with pytest.raises(KeyError, match="no run"):
        store.get("gamma")
    with pytest.raises(ValueError, match="status"):
        store.finish(a, status="done")
    assert [r.name for r in store.list()] == ["beta", "alpha"]


def test_an_exact_name_wins_over_id_prefixes_and_the_newest_run_of_a_name_is_taken(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    first = store.create("lenet")
    other = store.create("lenet fashion")  # id lenet-fashion-..., also starts with "lenet"
    newest = store.create("lenet")
    assert store.get("lenet").id == newest != first
    # a unique prefix still works ('s' is no hex digit: "lenet-f" was also the start of the
    # other ids one time in eight, which made this test fail as often)
    assert store.get("lenet-fas").id == other
    with pytest.raises(KeyError, match="ambiguous"):
        store.get("lenet-")  # prefix of all three ids, name of none


def test_nan_metrics_are_stored_as_null(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    run_id = store.create()
    store.log_epoch(run_id, 0, {"loss": float("nan"), "val_accuracy": 0.5}, 1.0)
    assert store.get(run_id).history == [{"loss": None, "val_accuracy": 0.5}]


def _writer(path, name, epochs):
    store = RunStore(path)
    run_id = store.create(name)
    for epoch in range(epochs):
        store.log_epoch(run_id, epoch, {"loss": epoch, "val_accuracy": epoch / epochs}, 0.01)
    store.finish(run_id)


def test_two_processes_writing_at_once_do_not_corrupt_the_database(tmp_path):
    path = tmp_path / "runs.db"
    RunStore(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, f"w{i}", 60)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = RunStore(path)
    runs = store.list()
    assert sorted(r.name for r in runs) == ["w0", "w1"]
    assert all(r.epochs == 60 and len(store.get(r.id).history) == 60 for r in runs)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
