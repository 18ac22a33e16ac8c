"""The training that the fault tests kill (not a test module: its functions run in children).

The children are forked from a multiprocessing *forkserver* that has imported this module (and
so cnnlab and torch) once: a child starts in milliseconds instead of the seconds of a fresh
interpreter, which is what lets the kill-resume test run dozens of trials. Each child trains
the same tiny model (a few hundred weights, 6 batches an epoch, dropout and shuffling so that
random states matter) with ``fit(run=..., resume=True)``: run again after a kill it resumes.

``inject`` stops the child at a chosen point by SIGKILL-ing itself (no cleanup can run, as
with a real kill): ``("member", k, name)`` inside the k-th checkpoint write, before the archive
member ``name``; ``("replace", k)`` with the k-th checkpoint complete in its temporary file,
before the rename; ``("log_epoch", k)`` after the k-th checkpoint's rename, before the store
records the epoch. ``k`` counts from 1 in this child.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch._dynamo  # noqa: F401  (imported by torch.optim on first use: 2 s, paid once here)

import cnnlab
from cnnlab.callbacks import Callback, ModelCheckpoint
from cnnlab.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from cnnlab.runs import recorder  # what fit(run=...) imports lazily
from cnnlab.runs.store import RunStore

PRELOAD = ["torch._dynamo", "cnnlab", "cnnlab.callbacks", "cnnlab.layers", "cnnlab.runs.recorder",
           "fault_child"]
EPOCHS = 5
RUN = "trial"
CHECKPOINT = "checkpoint.cnnlab"


def forkserver() -> multiprocessing.context.BaseContext:
    """The multiprocessing context whose children start from the preloaded server."""
    ctx = multiprocessing.get_context("forkserver")
    # effective when the server starts. Python 3.11's server ignores the caller's sys.path, so
    # it preloads what this module imports from the installed packages (and pytest, which the
    # children import as their __main__); each child imports this module from this folder.
    ctx.set_forkserver_preload([*PRELOAD, "pytest"])
    return ctx


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.random((64, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 64)


def model() -> cnnlab.Sequential:
    net = cnnlab.Sequential([
        Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), MaxPooling2D(2), Flatten(),
        Dropout(0.25), Dense(3, activation="softmax")])
    net.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _inject(point: tuple) -> None:
    """Patch this child so that it kills itself at ``point`` (module docstring)."""
    kind, target = point[0], int(point[1])
    writes = {"n": 0, "inside": False}

    real_save, real_writestr = recorder.save_checkpoint, zipfile.ZipFile.writestr
    real_replace, real_log_epoch = os.replace, RunStore.log_epoch

    def save_checkpoint(*args, **kwargs):
        writes["n"] += 1
        writes["inside"] = True
        try:
            return real_save(*args, **kwargs)
        finally:
            writes["inside"] = False

    def this_write() -> bool:
        return writes["inside"] and writes["n"] == target

    def writestr(self, name, data, *args, **kwargs):
        if kind == "member" and name == point[2] and this_write():
            self.fp.flush()  # what was written so far reaches the temporary file
            _die()
        return real_writestr(self, name, data, *args, **kwargs)

    def replace(src, dst, *args, **kwargs):
        if kind == "replace" and this_write():
            _die()
        return real_replace(src, dst, *args, **kwargs)

    def log_epoch(self, run_id, epoch, *args, **kwargs):
        if kind == "log_epoch" and writes["n"] == target:
            _die()
        return real_log_epoch(self, run_id, epoch, *args, **kwargs)

    recorder.save_checkpoint, zipfile.ZipFile.writestr = save_checkpoint, writestr
    os.replace, RunStore.log_epoch = replace, log_epoch


class _Started(Callback):
    """Writes ``started`` when training begins (the parent times its kill from there)."""

    def __init__(self, home: Path):
        super().__init__()
        self.home = home

    def on_train_begin(self, logs=None):
        (self.home / "started").touch()


def train(home: str, out: str, inject: tuple | None = None, epochs: int = EPOCHS) -> None:
    """Train (or resume) run ``trial`` under ``home``; save the final weights to ``out``."""
    home_path = Path(home)
    os.environ["CNNLAB_HOME"] = home
    torch.set_num_threads(1)
    if inject is not None:
        _inject(inject)
    torch.manual_seed(0)
    np.random.seed(0)
    x, y = data()
    net = model()
    net.fit(x, y, batch_size=8, epochs=epochs, verbose=0, validation_split=0.25, run=RUN,
            resume=True, callbacks=[_Started(home_path),
                                    ModelCheckpoint(home_path / "mc.cnnlab", save_freq=3)])
    np.save(out, np.concatenate([w.ravel() for w in net.get_weights()]))


def train_run(home: str, name: str, epochs: int) -> None:
    """A training of ``epochs`` one-batch epochs recorded as run ``name`` (store load test)."""
    os.environ["CNNLAB_HOME"] = home
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x, y = data()
    net = model()
    net.fit(x[:8], y[:8], batch_size=8, epochs=epochs, verbose=0, run=name)
