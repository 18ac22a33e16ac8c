"""The ``cnnlab`` command, run as users run it: a subprocess of ``python -m cnnlab``."""

import re
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


cnnlab = run_cli  # in this process; subprocess=True for a real `python -m cnnlab`


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short training run on scikit-learn's digits, shared by the tests below."""
    home = tmp_path_factory.mktemp("home")
    out = cnnlab(home, "train", "--data", "digits", "--model", "lenet", "--epochs", "2",
                 "--batch-size", "64", "--name", "digits-run", "--no-report").stdout
    run_id = out.splitlines()[0].split()[1].rstrip(":")
    return home, run_id, out


def test_train_prints_scores_and_records_the_run(trained):
    home, run_id, out = trained
    accuracy = float(out.strip().splitlines()[-1].split()[-1])
    assert "test accuracy" in out and accuracy > 0.5
    assert "Epoch 2/2" in out
    table = cnnlab(home, "runs").stdout
    assert run_id in table and "digits" in table and "finished" in table
    assert (home / "runs" / run_id / "checkpoint.cnnlab").exists()


def test_evaluate_and_predict(trained, tmp_path):
    home, run_id, out = trained
    evaluated = cnnlab(home, "evaluate", run_id).stdout
    assert f"run {run_id}: test loss" in evaluated
    from cnnlab.datasets import digits

    (_, _), (x_test, y_test) = digits.load_data()
    path = tmp_path / "digit.png"
    Image.fromarray((x_test[0] * 16).clip(0, 255).astype(np.uint8)).save(path)
    predicted = cnnlab(home, "predict", run_id, str(path), "--top", "2").stdout
    assert predicted.startswith(f"{path}: ") and predicted.count(",") == 1


def test_resume_of_a_finished_run_keeps_its_epochs(trained):
    home, run_id, _ = trained
    out = cnnlab(home, "train", "--resume", run_id, "--no-report").stdout
    assert "test accuracy" in out and "Epoch" not in out


def test_export_cnnlab_and_onnx(trained):
    home, run_id, _ = trained
    cnnlab(home, "export", run_id, "--format", "cnnlab", "--out", "m.cnnlab")
    assert (home / "m.cnnlab").stat().st_size > 0
    pytest.importorskip("onnxscript")
    cnnlab(home, "export", run_id, "--format", "onnx", "--out", "m.onnx")
    assert (home / "m.onnx").stat().st_size > 0


def test_summary_of_a_zoo_model(tmp_path):
    out = cnnlab(tmp_path, "summary", "lenet").stdout
    assert "Total params: 1,256,080" in out


def test_errors_are_one_line_without_traceback(tmp_path):
    done = cnnlab(tmp_path, "summary", "no-such-net", ok=False, subprocess=True)
    assert done.returncode == 1
    assert done.stderr.startswith("cnnlab: error:") and "Traceback" not in done.stderr
    done = cnnlab(tmp_path, "evaluate", "missing-run", ok=False)
    assert done.returncode == 1 and "no run 'missing-run'" in done.stderr
    done = cnnlab(tmp_path, "train", "--epochs", "many", ok=False)
    assert done.returncode == 2
    assert "argument --epochs: expected an integer, got 'many'" in done.stderr


@pytest.mark.parametrize("option, value, message", [
    ("--epochs", "-1", "--epochs must be at least 1, got -1"),
    ("--batch-size", "0", "--batch-size must be at least 1, got 0"),
    ("--limit", "0", "--limit must be at least 1, got 0"),
    ("--lr", "-0.1", "--lr must be a positive finite number, got -0.1"),
    ("--validation-split", "1", "--validation-split must be a fraction in [0, 1), got 1.0"),
])
def test_bad_train_numbers_are_refused_before_a_run_is_recorded(tmp_path, option, value,
                                                                 message):
    done = cnnlab(tmp_path, "train", option, value, ok=False)
    assert done.returncode == 1 and done.stderr == f"cnnlab: error: {message}\n"
    assert not (tmp_path / "runs").exists()


def test_debug_shows_the_traceback(tmp_path):
    done = cnnlab(tmp_path, "--debug", "evaluate", "missing-run", ok=False, subprocess=True)
    assert done.returncode == 1 and "Traceback" in done.stderr and "missing-run" in done.stderr


def test_export_keras_h5_and_import_weights_round_trip(trained):
    h5py = pytest.importorskip("h5py")
    home, run_id, _ = trained
    cnnlab(home, "export", run_id, "--format", "keras-h5", "--out", "w.h5")
    with h5py.File(home / "w.h5") as f:
        assert f.attrs["layer_names"][0] == b"conv2d"  # Keras 2's layout
    out = cnnlab(home, "import-weights", "w.h5", "--model", "lenet", "--input-shape", "8,8,1",
                 "--out", "imported.cnnlab").stdout
    assert "(keras2-h5)" in out and (home / "imported.cnnlab").stat().st_size > 0
    from cnnlab import load_model
    from cnnlab.runs.store import RunStore

    original = load_model(RunStore(home / "runs" / "cnnlab.db").get(run_id).checkpoint)
    for a, b in zip(original.get_weights(), load_model(home / "imported.cnnlab").get_weights(),
                    strict=True):
        np.testing.assert_array_equal(a, b)


def test_help_for_every_command(tmp_path, capsys):
    from cnnlab import cli

    assert "usage: cnnlab train" in cnnlab(tmp_path, "train", "--help", subprocess=True).stdout
    for command in ("evaluate", "predict", "summary", "explain", "kernel", "runs",
                    "report", "export", "serve", "import-weights"):  # the rest in-process
        assert cli.main([command, "--help"]) == 0
        assert f"usage: cnnlab {command}" in capsys.readouterr().out


def test_summary_explain_shows_the_arithmetic(tmp_path):
    out = cnnlab(tmp_path, "summary", "keras_mnist", "--explain").stdout
    assert "Total params: 305,194" in out
    assert "(28 + 2·0 − 3)/1 + 1 = 26" in out and "(1·3·3 + 1)·32 = 320" in out


def test_explain_conv_reproduces_the_lecture_example(tmp_path):
    out = cnnlab(tmp_path, "explain", "conv").stdout
    assert "[[4, 3, 4], [2, 4, 3], [2, 3, 4]]" in out.replace(".0", "") or \
        all(row in out for row in ("4 3 4", "2 4 3", "2 3 4"))
    pooled = cnnlab(tmp_path, "explain", "pool", "--image", "[[1,2],[3,4]]").stdout
    assert "4" in pooled


def test_kernel_writes_the_filtered_image(tmp_path):
    image = np.zeros((16, 16, 3), dtype=np.uint8)
    image[:, :8] = 255  # bright left half: the left Sobel responds to the edge at column 8
    Image.fromarray(image).save(tmp_path / "edge.png")
    out = cnnlab(tmp_path, "kernel", "edge.png", "--kernel", "sobel-left", "--raw").stdout
    result = np.asarray(Image.open(tmp_path / "edge-sobel-left.png"))
    assert "wrote" in out and result.shape == (16, 16, 3)
    assert result[1:-1, 7:9].min() == 255 and result[1:-1, :6].max() == 0
    assert result[1:-1, 10:].max() == 0


def test_report_command_writes_html(trained):
    home, run_id, _ = trained
    out = cnnlab(home, "report", run_id).stdout
    path = Path(out.strip().split("report: ")[-1])
    assert path.exists() and "<section id=\"gradcam\">" in path.read_text()


def test_train_with_a_recipe_records_it_and_evaluates(tmp_path):
    out = cnnlab(tmp_path, "train", "--recipe", "fast", "--data", "digits", "--epochs", "1",
                 "--limit", "256", "--no-report").stdout
    run_id = out.splitlines()[0].split()[1].rstrip(":")
    assert "2/2 - " in out and "training time" in out  # 256 images: 231 train, batch 128
    assert re.search(r"\((float32|mixed_bfloat16)\)", out)
    from cnnlab.runs.store import RunStore

    config = RunStore(tmp_path / "runs" / "cnnlab.db").get(run_id).config
    assert config["recipe"] == "fast" and config["model"] == "recipe:fast"
    assert config["batch_size"] == 128 and config["epochs"] == 1
    evaluated = cnnlab(tmp_path, "evaluate", run_id).stdout  # one-hot test labels
    assert f"run {run_id}: test loss" in evaluated


@pytest.mark.parametrize("args, message", [
    (["--recipe", "slow"], "--recipe: unknown recipe 'slow'"),
    (["--recipe", "fast", "--augment"], "drop --augment and --lr"),
])
def test_bad_recipe_arguments_are_one_line_errors(tmp_path, args, message):
    done = cnnlab(tmp_path, "train", "--data", "digits", *args, ok=False)
    assert done.returncode == 1 and message in done.stderr
    assert "Traceback" not in done.stderr
