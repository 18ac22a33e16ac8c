"""Faults during training and saving (issue 14, item 3): SIGKILL at random points and inside
checkpoint writes, full disks, read-only folders, NaN/inf losses.

References: an uninterrupted run of the same training (a resumed run must end with the same
weights bit for bit, and the same per-epoch losses in the run store); the bytes of the file that
was there before a failed write; the weights captured at the end of the last good epoch.

Kill trials run in children forked from a multiprocessing forkserver that has imported cnnlab
once (``fault_child.py``), so each trial costs a few tenths of a second. Full disks are a 64 KiB
tmpfs (needs root and mount; skipped with the reason otherwise) and, everywhere, a write that
raises ``ENOSPC`` (monkeypatched); read-only folders are a read-only remounted tmpfs, a
``chmod 0o555`` folder (not for root, which ignores permissions) and a monkeypatched
``PermissionError``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import fault_child
import numpy as np
import pytest
import tally
import torch

from cnnlab import Sequential
from cnnlab.callbacks import Callback, ModelCheckpoint, TerminateOnNaN
from cnnlab.io import load_model
from cnnlab.layers import Dense
from cnnlab.runs.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from cnnlab.runs.recorder import InvalidLossError
from cnnlab.runs.store import RunStore, RunStoreError

KILLS = "kill-resume trials / bit-identical"
DISK = "disk faults / clean"


# ------------------------------------------------------------------------- kill and resume
def run_child(ctx, home: Path, inject: tuple | None = None, kill_after: float | None = None,
              timeout: float = 60.0) -> tuple[int, float]:
    """Train in a child under ``home``; SIGKILL it after ``kill_after`` seconds if still
    running. Returns the exit code (``-SIGKILL`` if killed) and the seconds it ran."""
    home.mkdir(exist_ok=True)
    proc = ctx.Process(target=fault_child.train, args=(str(home), str(home / "w.npy"), inject))
    start = time.perf_counter()
    proc.start()
    proc.join(timeout if kill_after is None else kill_after)
    if proc.is_alive():
        if kill_after is None:
            proc.kill()
            proc.join()
            raise AssertionError(f"the child training under {home} hung")
        proc.kill()
        proc.join()
    return proc.exitcode, time.perf_counter() - start


@pytest.fixture
def ram_path(tmp_path):
    """A folder in RAM (``/dev/shm``) when there is one, else ``tmp_path``: a SIGKILL leaves
    files as it leaves them on a disk (the page cache is the same), minus fsync's seconds."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="cnnlab-faults-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def hidden_temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp"))


def after_kill_problems(home: Path, inject: tuple | None) -> list[str]:
    """What is wrong on disk right after a kill: every model file (no temporary one) must load
    whole; a kill inside the k-th checkpoint write must leave checkpoint k-1 (or none)."""
    problems = []
    for path in home.rglob("*.cnnlab"):
        if path.name.startswith("."):
            continue
        try:
            if path.name == fault_child.CHECKPOINT:
                load_checkpoint(path)
            else:
                load_model(path)
        except Exception as err:  # noqa: BLE001 - any failure to load is the finding
            problems.append(f"{path.relative_to(home)} does not load after the kill: {err}")
    if inject is not None and inject[0] in ("member", "replace"):
        (checkpoint, *more) = list(home.glob(f"runs/*/{fault_child.CHECKPOINT}")) or [None]
        expected = int(inject[1]) - 1
        if expected == 0 and checkpoint is not None:
            problems.append("a checkpoint exists although the first write was killed")
        if expected > 0:
            state = load_checkpoint(checkpoint)[1] if checkpoint is not None else None
            if state is None or state.epoch != expected:
                problems.append(f"the checkpoint after a kill inside write {inject[1]} holds "
                                f"epoch {state and state.epoch}, expected {expected}")
        if not hidden_temps(home):
            problems.append("no temporary file: the kill did not land inside the write")
    return problems


def after_resume_problems(home: Path, reference: dict) -> list[str]:
    problems = []
    weights = np.load(home / "w.npy")
    if not np.array_equal(weights, reference["weights"]):
        problems.append(f"weights differ from the uninterrupted run (max |diff| "
                        f"{np.abs(weights - reference['weights']).max():.3g})")
    store = RunStore(home / "runs" / "cnnlab.db")
    (run,) = store.list()
    run = store.get(run.id)
    losses = [row.get("loss") for row in run.history]
    if run.status != "finished" or run.epochs != fault_child.EPOCHS:
        problems.append(f"run {run.status} after {run.epochs} epochs")
    if losses != reference["losses"]:
        problems.append(f"stored losses {losses} != uninterrupted {reference['losses']}")
    if hidden_temps(home):  # a killed write's temporary file goes at the file's next write
        problems.append(f"temporary files left after the resume: {hidden_temps(home)}")
    return problems


# what a kill may hit inside the k-th checkpoint write: before each archive member, with the
# file complete but not renamed, and after the rename before the store records the epoch
INJECTED = [("member", 1, "weights.safetensors"), ("member", 2, "optimizer.safetensors"),
            ("member", 3, "training_state.safetensors"), ("member", 4, "config.json"),
            ("member", 5, "optimizer.json"), ("replace", 1), ("replace", 3), ("replace", 5),
            ("log_epoch", 1), ("log_epoch", 2), ("log_epoch", 4), ("log_epoch", 5)]
TIMED = 16


def test_sigkill_at_random_points_then_resume_is_bit_identical(ram_path):
    """28 trials: 16 kills after a random delay spread over a whole training (stratified, so
    each part of it, setup, batches, checkpoint writes, store writes, gets some) and 12 kills at
    chosen points inside checkpoint writes; each is resumed and compared with the
    uninterrupted run."""
    tmp_path = ram_path
    ctx = fault_child.forkserver()
    code, _ = run_child(ctx, tmp_path / "warm-up")  # starts the forkserver
    assert code == 0
    code, seconds = run_child(ctx, tmp_path / "reference")
    assert code == 0
    store = RunStore(tmp_path / "reference" / "runs" / "cnnlab.db")
    (run,) = store.list()
    reference = {"weights": np.load(tmp_path / "reference" / "w.npy"),
                 "losses": [row["loss"] for row in store.get(run.id).history]}
    assert len(reference["losses"]) == fault_child.EPOCHS

    rng = random.Random(14)
    trials = [(None, seconds * (i + rng.random()) / TIMED) for i in range(TIMED)]
    trials += [(point, None) for point in INJECTED]
    failures = []
    for number, (inject, delay) in enumerate(trials):
        home = tmp_path / f"trial{number:02d}"
        for _ in range(4):  # a delay past the child's end (a fast run) is shortened
            code, _ = run_child(ctx, home, inject=inject, kill_after=delay)
            if code == -signal.SIGKILL or delay is None:
                break
            shutil.rmtree(home)
            delay /= 2
        what = f"trial {number} ({inject or f'killed after {delay:.3f} s'})"
        problems = [] if code == -signal.SIGKILL else [f"exit code {code}, not killed"]
        problems += after_kill_problems(home, inject)
        code, _ = run_child(ctx, home)
        problems += [f"the resume exited with {code}"] if code else after_resume_problems(
            home, reference)
        tally.record(KILLS, held=not problems)
        if problems:
            failures.append(f"{what}: {'; '.join(problems)}")
    assert len(trials) >= 20
    assert not failures, "\n".join(failures)


def test_a_checkpoint_one_epoch_ahead_of_the_store_gives_back_the_missing_row(ram_path):
    """Killed after the checkpoint's rename, before the store's row: the resume takes the
    (complete) checkpoint and writes the epoch's row from its history (regression: the row
    was lost, the stored history had a hole)."""
    tmp_path = ram_path
    ctx = fault_child.forkserver()
    code, _ = run_child(ctx, tmp_path, inject=("log_epoch", 2))
    assert code == -signal.SIGKILL
    store = RunStore(tmp_path / "runs" / "cnnlab.db")
    (run,) = store.list()
    assert run.epochs == 1 and run.status == "interrupted"
    assert load_checkpoint(run.checkpoint)[1].epoch == 2
    code, _ = run_child(ctx, tmp_path)
    assert code == 0
    history = store.get(run.id).history
    assert len(history) == fault_child.EPOCHS and all(row["loss"] > 0 for row in history)


def test_a_kill_inside_the_first_checkpoint_write_leaves_no_checkpoint_and_resumes(ram_path):
    """The run is recorded, its first checkpoint half written in a hidden temporary file: the
    resume starts the run over (same id) and removes the temporary file."""
    tmp_path = ram_path
    ctx = fault_child.forkserver()
    code, _ = run_child(ctx, tmp_path, inject=("member", 1, "optimizer.json"))
    assert code == -signal.SIGKILL
    (folder,) = (tmp_path / "runs").glob("trial-*")
    assert not (folder / fault_child.CHECKPOINT).exists()
    (temp,) = hidden_temps(folder)
    assert temp.startswith(f".{fault_child.CHECKPOINT}.") and (folder / temp).stat().st_size
    code, _ = run_child(ctx, tmp_path)
    assert code == 0 and hidden_temps(folder) == []
    assert load_checkpoint(folder / fault_child.CHECKPOINT)[1].epoch == fault_child.EPOCHS


# ------------------------------------------------------------------------------ full disks
def small_model(units: int = 2, inputs: int = 3) -> Sequential:
    model = Sequential([Dense(units, input_shape=(inputs,))])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).random((8, inputs), dtype=np.float32)
    model.fit(x, x[:, :units], epochs=1, verbose=0)
    return model


BIG = (128, 128)  # 16,512 weights and twice that in Adam's state: about 200 KiB on disk


def mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (the monkeypatched tests below cover the "
                    "same faults without it)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                           str(path)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"mount -t tmpfs is not permitted here: {done.stderr.strip()}")


@pytest.fixture
def tmpfs(tmp_path):
    """A mounter: ``tmpfs(size)`` mounts a fresh tmpfs of that size and returns its folder."""
    mounted = []

    def mount(size: str = "64k") -> Path:
        path = tmp_path / f"tmpfs{len(mounted)}"
        mount_tmpfs(path, size)
        mounted.append(path)
        return path

    yield mount
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the file system of ``folder`` but ``leave`` bytes; returns the filler file."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 4096)
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0")
        f.truncate(max(0, f.tell() - leave))
    return filler


def clean_failure(err: BaseException, path: Path, before: bytes | None,
                  expected_errno: int | tuple[int, ...]) -> list[str]:
    """What is wrong with a failed write of ``path``: the error must name the path, carry the
    file system's errno, the file must keep its bytes (or not exist) and no temporary file of
    it may remain."""
    problems = []
    if str(path) not in str(err):
        problems.append(f"the error does not name {path}: {err}")
    expected = expected_errno if isinstance(expected_errno, tuple) else (expected_errno,)
    if getattr(err, "errno", None) not in expected:
        problems.append(f"errno {getattr(err, 'errno', None)}, expected {expected}: {err!r}")
    if before is None and path.exists():
        problems.append(f"{path} was created")
    if before is not None and (not path.exists() or path.read_bytes() != before):
        problems.append(f"{path} lost its previous content")
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.")]
    if leftovers:
        problems.append(f"temporary files left: {leftovers}")
    return problems


def expect_clean(write, path: Path, before: bytes | None, errnos: int | tuple) -> None:
    """Run ``write()``: it must fail cleanly (:func:`clean_failure`); recorded in the tally."""
    try:
        write()
    except OSError as err:
        problems = clean_failure(err, path, before, errnos)
    else:
        problems = [f"writing {path} did not fail"]
    tally.record(DISK, held=not problems)
    assert not problems, problems


def test_full_tmpfs_model_save_and_save_weights_fail_cleanly(tmpfs):
    disk = tmpfs("64k")
    model, path, weights = small_model(*BIG), disk / "m.cnnlab", disk / "w.safetensors"
    small_model().save(path)
    small_model().save_weights(weights)
    before, before_weights = path.read_bytes(), weights.read_bytes()
    expect_clean(lambda: model.save(path), path, before, errno.ENOSPC)
    expect_clean(lambda: model.save_weights(weights), weights, before_weights, errno.ENOSPC)
    expect_clean(lambda: model.save(disk / "new.cnnlab"), disk / "new.cnnlab", None,
                 errno.ENOSPC)
    load_model(path)  # the previous file is whole


def test_full_tmpfs_checkpoint_writes_fail_cleanly(tmpfs, monkeypatch):
    """Disk full at the epoch's checkpoint (room left for the store's rows only): fit raises
    the write's error naming the checkpoint, the previous checkpoint stays whole, the run is
    recorded as failed with that error."""
    home = tmpfs("1m")
    monkeypatch.setenv("CNNLAB_HOME", str(home))
    rng = np.random.default_rng(0)
    x = rng.random((32, 128), dtype=np.float32)
    model = small_model(*BIG)
    model.fit(x, x, epochs=1, verbose=0, run="full", seed=1)
    (run,) = RunStore().list()
    path = Path(run.checkpoint)
    before = path.read_bytes()
    filler = fill(home, leave=64 * 1024)
    expect_clean(lambda: model.fit(x, x, epochs=3, verbose=0, run="full", resume=True),
                 path, before, errno.ENOSPC)
    assert load_checkpoint(path)[1].epoch == 1
    failed = RunStore().get(run.id)
    assert failed.status == "failed" and "disk is full" in failed.error
    state = TrainingState.capture(1, {}, None)
    expect_clean(lambda: save_checkpoint(model, path, state), path, before, errno.ENOSPC)
    filler.unlink()
    with sqlite3.connect(RunStore().path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert RunStore().get(run.id).epochs == 1


def test_full_tmpfs_model_checkpoint_callback_fails_cleanly(tmpfs):
    disk = tmpfs("256k")
    path = disk / "best.cnnlab"
    model = small_model(*BIG)
    x = np.random.default_rng(0).random((16, 128), dtype=np.float32)
    model.fit(x, x, epochs=1, verbose=0, callbacks=[ModelCheckpoint(path, monitor="loss")])
    before = path.read_bytes()
    fill(disk)
    expect_clean(lambda: model.fit(x, x, epochs=1, verbose=0,
                                   callbacks=[ModelCheckpoint(path, monitor="loss")]),
                 path, before, errno.ENOSPC)


def test_full_tmpfs_run_store_write_fails_naming_the_database(tmpfs):
    home = tmpfs("512k")
    store = RunStore(home / "runs" / "cnnlab.db")
    kept = store.create("kept")
    store.log_epoch(kept, 0, {"loss": 1.0}, 0.1)
    fill(home)
    problems = []
    try:
        store.create("big", config={"notes": "x" * 300_000})
    except RunStoreError as err:
        if str(store.path) not in str(err) or err.errno != errno.ENOSPC:
            problems.append(f"unclear error: {err!r}")
    else:
        problems.append("a 300 kB row fitted on a full disk")
    (home / "filler").unlink()
    if [r.name for r in store.list()] != ["kept"] or len(store.get(kept).history) != 1:
        problems.append(f"rows changed: {[r.name for r in store.list()]}")
    with sqlite3.connect(store.path) as db:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("database damaged")
    tally.record(DISK, held=not problems)
    assert not problems, problems


# --------------------------------------------------------------------- read-only folders
def test_read_only_mount_refuses_every_write_cleanly(tmpfs):
    folder = tmpfs("1m")
    model = small_model()
    path, weights, checkpoint = folder / "m.cnnlab", folder / "w.safetensors", folder / "c.cnnlab"
    model.save(path)
    model.save_weights(weights)
    save_checkpoint(model, checkpoint, TrainingState.capture(1, {}, None))
    store = RunStore(folder / "runs.db")
    store.create("kept")
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    state = TrainingState.capture(2, {}, None)
    for target, write in ((path, lambda: model.save(path)),
                          (weights, lambda: model.save_weights(weights)),
                          (checkpoint, lambda: save_checkpoint(model, checkpoint, state)),
                          (folder / "new.cnnlab", lambda: model.save(folder / "new.cnnlab"))):
        before = target.read_bytes() if target.exists() else None
        expect_clean(write, target, before, errno.EROFS)
    problems = []
    try:
        store.create("refused")
    except RunStoreError as err:
        if str(store.path) not in str(err):
            problems.append(f"unclear error: {err!r}")
    else:
        problems.append("a run was written on a read-only file system")
    tally.record(DISK, held=not problems)
    assert not problems, problems


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions: the read-only "
                    "mount and the monkeypatched test cover read-only folders for root")
def test_chmod_read_only_folder_refuses_writes_cleanly(tmp_path):
    model, path = small_model(), tmp_path / "m.cnnlab"
    model.save(path)
    before = path.read_bytes()
    tmp_path.chmod(0o555)
    try:
        expect_clean(lambda: model.save(path), path, before, errno.EACCES)
        expect_clean(lambda: model.save_weights(tmp_path / "w"), tmp_path / "w", None,
                     errno.EACCES)
    finally:
        tmp_path.chmod(0o755)


# ------------------------------------------------------- the same faults, monkeypatched
class _FullFile:
    """A file object that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, f, room: int):
        self._f, self._room = f, room

    def write(self, data) -> int:
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()


@pytest.mark.parametrize("room", [0, 100, 5000])
def test_enospc_during_any_write_fails_cleanly(tmp_path, monkeypatch, room):
    model = small_model(*BIG)
    path, weights, checkpoint = (tmp_path / "m.cnnlab", tmp_path / "w.safetensors",
                                 tmp_path / "c.cnnlab")
    small_model().save(path)
    small_model().save_weights(weights)
    save_checkpoint(small_model(), checkpoint, TrainingState.capture(1, {}, None))
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FullFile(real_fdopen(fd, *a, **k),
                                                                     room))
    state = TrainingState.capture(2, {}, None)
    for target, write in ((path, lambda: model.save(path)),
                          (weights, lambda: model.save_weights(weights)),
                          (checkpoint, lambda: save_checkpoint(model, checkpoint, state))):
        expect_clean(write, target, target.read_bytes(), errno.ENOSPC)


def test_fit_raises_the_checkpoint_error_when_the_store_fails_too(tmp_path, monkeypatch):
    """A full disk fails the checkpoint and then the store's record of the failure: fit raises
    the checkpoint's error, the store's is a note on it (regression: the store's error
    replaced it, and the CLI, which does not catch sqlite3 errors, printed a traceback)."""
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    model, x = small_model(), np.ones((8, 3), dtype=np.float32)
    model.fit(x, x[:, :2], epochs=1, verbose=0, run="both")
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FullFile(real_fdopen(fd, *a, **k), 0))

    def store_full(self, *args, **kwargs):
        raise RunStoreError(errno.ENOSPC, f"run store {str(self.path)!r}: database or disk is "
                                          f"full")

    monkeypatch.setattr(RunStore, "finish", store_full)
    with pytest.raises(OSError) as err:
        model.fit(x, x[:, :2], epochs=2, verbose=0, run="both", resume=True)
    assert not isinstance(err.value, RunStoreError) and err.value.errno == errno.ENOSPC
    assert "checkpoint.cnnlab" in str(err.value)
    assert any("could not record this failure" in note for note in err.value.__notes__)


def test_fsync_error_fails_cleanly(tmp_path, monkeypatch):
    """Delayed allocation: the data is taken, the disk fails at fsync."""
    model, path = small_model(), tmp_path / "m.cnnlab"
    model.save(path)

    def failing_fsync(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    expect_clean(lambda: model.save(path), path, path.read_bytes(), errno.EIO)


def test_permission_denied_folder_fails_cleanly(tmp_path, monkeypatch):
    model, path = small_model(), tmp_path / "m.cnnlab"
    model.save(path)
    real_open = os.open

    def refusing_open(file, flags, *args, **kwargs):
        if flags & os.O_CREAT and os.path.dirname(os.fspath(file)) == str(tmp_path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    expect_clean(lambda: model.save(path), path, path.read_bytes(), errno.EACCES)
    expect_clean(lambda: model.save_weights(tmp_path / "w"), tmp_path / "w", None,
                 errno.EACCES)


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_run_store_faults_without_root(tmp_path, monkeypatch, fault):
    """SQLite's own 'disk full' (a page limit) and 'read-only database' (a read-only
    connection): a RunStoreError naming the database, nothing changed."""
    store = RunStore(tmp_path / "runs.db")
    kept = store.create("kept")
    real_connect = sqlite3.connect

    def faulty_connect(path, *args, **kwargs):
        if fault == "read-only":
            return real_connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)
        db = real_connect(path, *args, **kwargs)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(sqlite3, "connect", faulty_connect)
    problems = []
    for write in (lambda: store.create("big", config={"notes": "x" * 50_000}),
                  lambda: store.log_epoch(kept, 0, {"loss": 1.0, "notes": 1.0}, 0.1)
                  if fault == "read-only" else None):
        try:
            write()
        except RunStoreError as err:
            if str(store.path) not in str(err):
                problems.append(f"unclear error: {err!r}")
        else:
            if fault == "read-only":
                problems.append("a write to a read-only database succeeded")
    monkeypatch.undo()
    if [r.name for r in store.list()] != ["kept"] or store.get(kept).history:
        problems.append("the store changed")
    tally.record(DISK, held=not problems)
    assert not problems, problems


# ---------------------------------------------------------------------------- NaN and inf
class PoisonAt(Callback):
    """Makes the loss of batch ``batch`` of epoch ``epoch`` (0-based) ``value``: the output
    bias becomes ``value`` just before the batch. Keeps the weights of the epoch before."""

    def __init__(self, epoch: int, batch: int, value: float):
        super().__init__()
        self.at, self.value, self.good = (epoch, batch), value, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            with torch.no_grad():
                self.model.layers[-1].bias.fill_(self.value)

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at[0] - 1:
            self.good = self.model.get_weights()


def regression() -> tuple[Sequential, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.random((48, 4), dtype=np.float32)
    model = Sequential([Dense(3, activation="relu", input_shape=(4,)), Dense(1)])
    model.compile("sgd", "mse")
    return model, x, x.sum(1, keepdims=True)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_terminate_on_nan_stops_at_the_batch_and_model_checkpoint_keeps_the_good_model(
        tmp_path, capsys, value):
    model, x, y = regression()
    poison, stop = PoisonAt(2, 3, value), TerminateOnNaN()
    path = tmp_path / "model.cnnlab"
    with pytest.warns(UserWarning, match=r"Epoch 3: the loss is (nan|inf); not saving"):
        history = model.fit(x, y, batch_size=8, epochs=5, verbose=0, shuffle=False,
                            callbacks=[poison, stop, ModelCheckpoint(path, monitor="loss")])
    assert "Batch 3: Invalid loss, terminating training" in capsys.readouterr().out
    assert (stop.stopped_epoch, stop.stopped_batch) == (2, 3)
    assert len(history.history["loss"]) == 3 and not np.isfinite(history.history["loss"][-1])
    for saved, good in zip(load_model(path).get_weights(), poison.good, strict=True):
        np.testing.assert_array_equal(saved, good)


@pytest.mark.parametrize("terminate", [True, False], ids=["TerminateOnNaN", "alone"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_recorded_run_stops_on_invalid_loss_naming_the_batch_and_keeps_its_checkpoint(
        tmp_path, monkeypatch, terminate, value):
    """Regression: the run recorder wrote the NaN weights over the last good checkpoint and the
    run ended 'finished' (the CLI then evaluated and reported a NaN model)."""
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    model, x, y = regression()
    poison = PoisonAt(2, 4, value)
    callbacks = [poison, TerminateOnNaN()] if terminate else [poison]
    with pytest.raises(InvalidLossError, match=r"loss is (nan|inf) at batch 4 of epoch 3") as err:
        model.fit(x, y, batch_size=8, epochs=5, verbose=0, run="nan", callbacks=callbacks)
    assert (err.value.epoch, err.value.batch) == (2, 4)
    assert "checkpoint of epoch 2 is kept" in str(err.value)
    run = RunStore().get("nan")
    assert run.status == "failed" and "batch 4 of epoch 3" in run.error
    assert run.epochs == 2 and len(run.history) == 2
    saved, state = load_checkpoint(run.checkpoint)
    assert state.epoch == 2
    for kept, good in zip(saved.get_weights(), poison.good, strict=True):
        np.testing.assert_array_equal(kept, good)


def test_cli_train_with_a_diverging_learning_rate_fails_with_the_batch(tmp_path, monkeypatch,
                                                                       capsys):
    """``cnnlab train`` (fit with run=): exit 1 with the batch in the message, the run
    'failed', no NaN checkpoint (before: a 'finished' run with NaN weights and scores)."""
    from cnnlab.cli import main

    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    code = main(["train", "--data", "digits", "--optimizer", "sgd", "--lr", "1e8", "--limit",
                 "256", "--epochs", "2", "--batch-size", "32", "--no-report", "--verbose", "0"])
    message = capsys.readouterr().err
    assert code == 1 and "cnnlab: error: run" in message and " at batch " in message
    (run,) = RunStore().list()
    assert run.status == "failed" and " at batch " in run.error
    checkpoint = tmp_path / "runs" / run.id / "checkpoint.cnnlab"
    assert not checkpoint.exists() or all(
        np.isfinite(w).all() for w in load_checkpoint(checkpoint)[0].get_weights())


def test_stale_temporary_files_of_live_writers_are_kept(tmp_path):
    """Cleaning up after killed writers never touches a write in progress (this process's, or
    another host's)."""
    from cnnlab.files.atomic import _host_tag, remove_stale_temps

    target = tmp_path / "m.cnnlab"
    dead = subprocess.Popen(["true"])
    dead.wait()
    names = {"dead": f".m.cnnlab.{_host_tag()}.{dead.pid}.0a0b0c0d.tmp",
             "live": f".m.cnnlab.{_host_tag()}.{os.getpid()}.0a0b0c0d.tmp",
             "other host": f".m.cnnlab.ffffffff.{dead.pid}.0a0b0c0d.tmp",
             "other file": f".n.cnnlab.{_host_tag()}.{dead.pid}.0a0b0c0d.tmp"}
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    assert remove_stale_temps(target) == [str(tmp_path / names["dead"])]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        v for k, v in names.items() if k != "dead")


def test_checkpoint_archive_is_never_partial_after_a_failed_member(tmp_path, monkeypatch):
    """A write error in the middle of the archive (after config.json went in) names the file
    and leaves the old checkpoint (complements test_saving's generic failure test with the
    training-state member and the error's wording)."""
    model, path = small_model(), tmp_path / "c.cnnlab"
    save_checkpoint(model, path, TrainingState.capture(1, {"loss": [1.0]}, None))
    before = path.read_bytes()
    real_writestr = zipfile.ZipFile.writestr

    def failing(self, name, data, *args, **kwargs):
        if name == "training_state.safetensors":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_writestr(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    expect_clean(lambda: save_checkpoint(model, path, TrainingState.capture(2, {}, None)),
                 path, before, errno.ENOSPC)
    assert json.loads(zipfile.ZipFile(path).read("config.json"))["format"] == "cnnlab-model"
