"""``bench/time_to_accuracy.py`` reads recorded runs: minutes are the running sum of the epoch
times, the table gives the minutes to each target, and the plot is a PNG."""

import sys
from pathlib import Path

import pytest
from PIL import Image

from cnnlab.runs.store import RunStore

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import time_to_accuracy  # noqa: E402


def record(store, name, recipe, seed, epochs, test):
    """A finished run with ``epochs`` = [(seconds, val_accuracy), ...]."""
    run_id = store.create(name, model=f"recipe:{recipe}", dataset="fashion_mnist",
                          config={"recipe": recipe, "seed": seed})
    for epoch, (seconds, val) in enumerate(epochs):
        store.log_epoch(run_id, epoch, {"loss": 0.5, "val_accuracy": val}, seconds)
    store.finish(run_id, test_accuracy=test)
    return run_id


def test_curves_table_and_plot_of_recorded_runs(tmp_path, capsys):
    store = RunStore(tmp_path / "runs" / "cnnlab.db")
    record(store, "a", "fast", 0, [(30, 0.80), (60, 0.931), (90, 0.94)], 0.936)
    record(store, "b", "fast", 1, [(45, 0.85), (45, 0.92)], 0.925)
    lenet = store.create("c", model="lenet", dataset="fashion_mnist", config={"seed": 0})
    store.log_epoch(lenet, 0, {"val_acc": 0.88}, 120)
    out = tmp_path / "plot.png"
    time_to_accuracy.main(["a", "b", "c", "--store", str(store.path), "--out", str(out)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "| fast (seed 0) | 3.0 | 0.9360 | 1.5 | - |"
    assert lines[3] == "| fast (seed 1) | 1.5 | 0.9250 | - | - |"
    assert lines[4] == "| lenet (seed 0) | 2.0 | - | - | - |"
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (800, 500)


def test_a_run_without_validation_accuracy_is_refused(tmp_path):
    store = RunStore(tmp_path / "runs" / "cnnlab.db")
    run_id = store.create("x", model="lenet", config={})
    store.log_epoch(run_id, 0, {"loss": 1.0}, 10)
    with pytest.raises(ValueError, match="no validation accuracy"):
        time_to_accuracy.curve_of(store.get(run_id))
    with pytest.raises(SystemExit):
        time_to_accuracy.main(["--store", str(store.path)])


def test_bad_targets_and_train_specs_are_named(capsys):
    for argv, message in ((["x", "--targets", "0.93,high"], "--targets must be"),
                          (["--train", "fast"], "--train must be recipe-or-model:seed"),
                          (["--train", "fast:zero"], "got 'fast:zero'")):
        with pytest.raises(SystemExit):
            time_to_accuracy.main(argv)
        assert message in capsys.readouterr().err
