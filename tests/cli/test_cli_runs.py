"""``cnnlab runs compare``, killed runs shown as interrupted, and ``train --resume --epochs``
extending a finished run, through ``cnnlab.cli.main`` (the killed run in a real process)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import run_cli
from PIL import Image

from cnnlab.cli import main
from cnnlab.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
QUICK = ("--data", "digits", "--limit", "256", "--no-report", "--verbose", "0")


def environment(home: Path) -> dict:
    return {**os.environ, "CNNLAB_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}


cnnlab = run_cli  # in this process; subprocess=True for a real `python -m cnnlab`


def train(home: Path, *args: str) -> str:
    """Train a quick run; returns its id (from the first line, ``run ID: ...``)."""
    out = cnnlab(home, "train", *QUICK, *args).stdout
    return out.splitlines()[0].split()[1].rstrip(":")


def store(home: Path) -> RunStore:
    return RunStore(home / "runs" / "cnnlab.db")


def error_of(home: Path, monkeypatch, capsys, *args: str) -> str:
    """The stderr of ``cnnlab ARGS`` run in this process, which must fail with exit code 1
    (for errors found before any training: quicker than a subprocess)."""
    monkeypatch.setenv("CNNLAB_HOME", str(home))
    monkeypatch.chdir(home)
    assert main(list(args)) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("cnnlab: error:") and captured.err.count("\n") == 1
    return captured.err


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    a = train(home, "--epochs", "2", "--batch-size", "64", "--name", "alpha")
    b = train(home, "--epochs", "1", "--batch-size", "32", "--lr", "0.002", "--name", "beta")
    return home, a, b


def test_runs_compare_prints_a_table_and_writes_overlaid_curves(two_runs):
    home, a, b = two_runs
    out = cnnlab(home, "runs", "compare", a[:8], "beta").stdout.splitlines()
    assert out[0].split() == ["run", a, b]
    rows = {line[2:].split("  ")[0]: (line.startswith("*"), line[2:].split()[-2:])
            for line in out[1:-2]}
    assert rows["epochs"] == (True, ["2/2", "1/1"])
    assert rows["batch size"] == (True, ["64", "32"])
    assert rows["lr"] == (True, ["default", "0.002"])
    assert rows["model"] == (False, ["lenet", "lenet"])
    assert rows["status"] == (False, ["finished", "finished"])
    assert out[-2] == "* differs between the runs"
    path = Path(out[-1].removeprefix("curves: "))
    assert path == home / "runs" / "compare" / f"{a}--{b}.png"
    assert Image.open(path).size == (1000, 400)
    custom = cnnlab(home, "runs", "compare", a, b, "--out", "both.png").stdout
    assert custom.splitlines()[-1] == "curves: both.png" and (home / "both.png").exists()


def test_runs_still_lists_and_compare_errors_are_one_line(two_runs, monkeypatch, capsys):
    home, a, b = two_runs
    for args in (("runs",), ("runs", "list")):
        table = cnnlab(home, *args).stdout.splitlines()
        assert table[0].split()[0] == "id" and {a, b} <= {line.split()[0] for line in table}
    for args, message in ((("nosuch", a), "no run 'nosuch'"), ((a,), "at least 2 runs"),
                          ((a, a[:10]), f"run {a} is given twice"),
                          ((a, b, "--out", "."), "--out must be a PNG file name")):
        assert message in error_of(home, monkeypatch, capsys, "runs", "compare", *args)


def test_resume_with_more_epochs_extends_a_finished_run(tmp_path, monkeypatch, capsys):
    run_id = train(tmp_path, "--epochs", "1", "--batch-size", "64")
    assert store(tmp_path).get(run_id).status == "finished"
    # the same values of fixed options are allowed; the run's settings are kept
    out = cnnlab(tmp_path, "train", "--resume", run_id, "--epochs", "2", "--data", "digits",
                 "--batch-size", "64", "--no-report").stdout
    assert "Epoch 2/2" in out and "Epoch 1/2" not in out and "test accuracy" in out
    run = store(tmp_path).get(run_id)
    assert run.status == "finished" and run.epochs == 2 and len(run.history) == 2
    assert run.config["epochs"] == 2 and run.test_accuracy is not None
    err = error_of(tmp_path, monkeypatch, capsys, "train", "--resume", run_id, "--epochs", "2")
    assert f"run {run_id} already trained 2 epochs; --epochs must be larger to extend it" in err
    err = error_of(tmp_path, monkeypatch, capsys, "train", "--resume", run_id, "--epochs", "3",
                   "--batch-size", "32", "--model", "vgg16")
    assert "cannot change --batch-size (recorded 64, got 32), --model (recorded lenet, got " \
           "vgg16)" in err
    assert store(tmp_path).get(run_id).epochs == 2  # nothing trained by the refused calls


def test_sigkilled_training_shows_interrupted_and_resumes(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "cnnlab", "train", *QUICK, "--epochs", "500",
                             "--batch-size", "64", "--name", "killme"],
                            env=environment(tmp_path), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (tmp_path / "runs" / "cnnlab.db").exists() or \
                not [r for r in store(tmp_path).list() if r.epochs >= 1]:
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.time() < deadline, "no epoch recorded in time"
            time.sleep(0.05)
        (run,) = store(tmp_path).list()
        assert run.status == "running" and run.pid == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    table = cnnlab(tmp_path, "runs").stdout
    (line,) = [line for line in table.splitlines() if line.startswith(run.id)]
    assert line.split()[-1] == "interrupted"
    done = store(tmp_path).get(run.id).epochs
    out = cnnlab(tmp_path, "train", "--resume", "killme", "--epochs", str(done + 1),
                 "--no-report", "--verbose", "0").stdout
    assert f"resuming run {run.id} (interrupted) at epoch {done + 1} of {done + 1}" in out
    resumed = store(tmp_path).get(run.id)
    assert resumed.status == "finished" and resumed.epochs == done + 1
    assert resumed.pid != proc.pid and len(resumed.history) == done + 1
