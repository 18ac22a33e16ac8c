"""Exact resume: a training process killed (SIGKILL) mid-epoch continues from its last
checkpoint and ends with weights bit-identical to an uninterrupted run (issue 4, item 4)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from cnnlab.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import os, sys, time
    import numpy as np, torch
    import cnnlab
    from cnnlab.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from cnnlab.callbacks import Callback

    class PauseForKill(Callback):
        # Writes a marker in the middle of epoch 2 and waits there to be killed.
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if os.environ.get("PAUSE") and self.epoch == 2 and batch == 3:
                open(os.environ["PAUSE"], "w").close()
                time.sleep(120)

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((256, 12, 12, 1), dtype=np.float32)
    y = rng.integers(0, 4, 256)
    model = cnnlab.Sequential([
        Conv2D(6, 3, activation="relu", input_shape=(12, 12, 1)), MaxPooling2D(2),
        Flatten(), Dropout(0.3), Dense(4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=4, verbose=0, validation_split=0.25,
              run="killme", resume=True, callbacks=[PauseForKill()])
    np.save(sys.argv[1], np.concatenate([w.ravel() for w in model.get_weights()]))
""")


def launch(home: Path, out: Path, pause: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "CNNLAB_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    if pause is not None:
        env["PAUSE"] = str(pause)
    script = home / "train.py"
    script.write_text(SCRIPT)
    return subprocess.Popen([sys.executable, str(script), str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> None:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    straight.mkdir()
    killed.mkdir()
    finish(launch(straight, straight / "w.npy"))

    marker = killed / "paused"
    proc = launch(killed, killed / "w.npy", pause=marker)
    deadline = time.time() + 300
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.time() < deadline, "training never reached the middle of epoch 3"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    store = RunStore(killed / "runs" / "cnnlab.db")
    (run,) = store.list()
    assert run.status == "interrupted" and run.epochs == 2  # 2 epochs checkpointed, 3rd lost
    finish(launch(killed, killed / "w.npy"))

    run = store.get(run.id)
    assert run.status == "finished" and run.epochs == 4 and len(run.history) == 4
    np.testing.assert_array_equal(np.load(killed / "w.npy"), np.load(straight / "w.npy"))


def test_fit_run_records_epochs_and_checkpoint(tmp_path, monkeypatch):
    import cnnlab
    from cnnlab.layers import Dense
    from cnnlab.runs.checkpoint import load_checkpoint

    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    rng = np.random.default_rng(1)
    x, y = rng.random((64, 5), dtype=np.float32), rng.integers(0, 3, 64)
    model = cnnlab.Sequential([Dense(3, activation="softmax", input_shape=(5,))])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, run="tiny")
    run = RunStore().get(model.run_id)
    assert run.status == "finished" and run.epochs == 3
    assert [h["loss"] for h in run.history] == pytest.approx(history.history["loss"])
    assert run.best_val_accuracy == pytest.approx(max(history.history["val_accuracy"]))
    assert [h["learning_rate"] for h in run.history] == pytest.approx([0.01] * 3)  # SGD's
    assert "learning_rate" not in history.history  # stored in the run, not added to History
    saved, state = load_checkpoint(run.checkpoint)
    assert state.epoch == 3
    for a, b in zip(saved.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # Resuming a finished run trains nothing more and keeps the weights.
    before = model.get_weights()
    model.fit(x, y, epochs=3, verbose=0, run=model.run_id, resume=True)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="resume=True needs run"):
        model.fit(x, y, resume=True)
