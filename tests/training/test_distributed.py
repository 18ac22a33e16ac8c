"""Data-parallel training (cnnlab.training.distributed).

The multi-process tests start real jobs of 2 processes (gloo on 127.0.0.1, through torchrun's
``--standalone`` rendezvous on a free port); this file is also the script each process runs
(``python test_distributed.py SCENARIO OUT``). The reference is the same training in one
process: DDP must reproduce it up to float rounding.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import layers, optimizers, regularizers, utils
from cnnlab.callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint
from cnnlab.layers.registry import clear_session
from cnnlab.training import distributed
from cnnlab.training.data_adapter import ArrayData, StreamData
from cnnlab.training.objectives import Objectives

EPOCHS, BATCH = 2, 8  # 21 samples: global batches of 8, 8, 5 (5 = 3 + 2 over 2 processes)
SURVIVE_TIMEOUT = 10  # seconds a process waits for a silent peer in the "survive" job


# ------------------------------------------------------------------------ shared set-up
def _data() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(21, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=21)
    weights = rng.uniform(0.5, 1.5, size=21).astype(np.float32)
    x_val = rng.normal(size=(7, 6, 6, 2)).astype(np.float32)
    y_val = rng.integers(0, 3, size=7)
    return x, y, weights, x_val, y_val


def _model(optimizer: str, seed: int = 0, trainable: bool = True) -> cnnlab.Sequential:
    clear_session()
    utils.set_random_seed(seed)
    model = cnnlab.Sequential([
        layers.Conv2D(3, 3, activation="relu", input_shape=(6, 6, 2)),
        layers.Flatten(),
        layers.Dense(3, activation="softmax", kernel_regularizer=regularizers.l2(1e-3))])
    model.trainable = trainable  # before compile, which fixes the trained weights (as Keras)
    rule = optimizers.SGD(0.1, momentum=0.9) if optimizer == "sgd" else optimizers.Adam(0.01)
    model.compile(rule, "sparse_categorical_crossentropy", ["accuracy"])
    return model


def _train(optimizer: str, distribute: str | None = None, seed: int = 0, trainable: bool = True,
           **fit_args) -> tuple[list, dict]:
    """Fit the small conv net; SGD without, Adam with sample weights. Processes other than 0
    start from other weights (``seed``): DDP must copy process 0's."""
    x, y, weights, x_val, y_val = _data()
    model = _model(optimizer, seed, trainable)
    history = model.fit(x, y, batch_size=BATCH, epochs=fit_args.pop("epochs", EPOCHS), seed=3,
                        sample_weight=weights if optimizer == "adam" else None,
                        validation_data=(x_val, y_val), verbose=fit_args.pop("verbose", 0),
                        distribute=distribute, **fit_args)
    return model.get_weights(), history.history


def _save(path: Path, weights: list, history: dict) -> None:
    np.savez(path, *weights, **{f"h_{k}": np.asarray(v) for k, v in history.items()})


def _load(path: Path) -> tuple[list, dict]:
    with np.load(path) as saved:
        weights = [saved[f"arr_{i}"] for i in range(sum(k.startswith("arr_") for k in saved))]
        history = {k[2:]: saved[k].tolist() for k in saved if k.startswith("h_")}
    return weights, history


class _FailOnRank1(Callback):
    def on_train_batch_begin(self, batch, logs=None):
        if distributed.rank() == 1 and batch == 1:
            raise ValueError("rank 1 fails on purpose")


def _worker(scenario: str, out: str) -> None:
    """What each process of a job runs."""
    rank, out_dir = int(os.environ["RANK"]), Path(out)
    if scenario == "train":
        for optimizer in ("sgd", "adam"):
            _save(out_dir / f"{optimizer}-{rank}.npz",
                  *_train(optimizer, "ddp", rank, verbose=2 if optimizer == "sgd" else 0))
        _save(out_dir / f"frozen-{rank}.npz", *_train("sgd", "ddp", rank, trainable=False))
        _train("adam", "ddp", rank, run="ddp-run", epochs=1)  # process 0 records, checkpoints
        weights, history = _train("adam", "ddp", rank, run="ddp-run", resume=True)  # fresh model
        _save(out_dir / f"resumed-{rank}.npz", weights, history)
    elif scenario == "crash":
        _model("sgd").fit(*_data()[:2], batch_size=BATCH, verbose=0, distribute="ddp",
                          callbacks=[_FailOnRank1()])
    elif scenario == "survive":  # rank 1 catches its error and keeps its process alive
        distributed.init_from_env(timeout=SURVIVE_TIMEOUT)
        try:
            _model("sgd").fit(*_data()[:2], batch_size=BATCH, verbose=0, distribute="ddp",
                              callbacks=[_FailOnRank1()])
        except ValueError as err:
            print(f"rank {rank} caught: {err}", flush=True)
            time.sleep(120)


def _job(tmp_path: Path, scenario: str, timeout: float = 90) -> subprocess.CompletedProcess:
    """Run a 2-process job through ``distributed.launch`` in a child Python. On timeout the
    launcher gets SIGTERM, on which torchrun stops its processes (SIGKILL would orphan them)."""
    src = str(Path(cnnlab.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
           "CNNLAB_HOME": str(tmp_path), "OMP_NUM_THREADS": "1"}
    code = "import sys; from cnnlab.training.distributed import launch; launch(2, sys.argv[1:])"
    args = [sys.executable, "-c", code, __file__, scenario, str(tmp_path)]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as launcher:
        try:
            stdout, stderr = launcher.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            launcher.terminate()
            launcher.communicate(timeout=30)
            raise
    return subprocess.CompletedProcess(args, launcher.returncode, stdout, stderr)


# ------------------------------------------------------------------------ 2-process jobs
@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One 2-process job for the training tests (scenario ``train``); its folder and stdout."""
    folder = tmp_path_factory.mktemp("ddp")
    job = _job(folder, "train")
    assert job.returncode == 0, job.stderr[-3000:]
    (folder / "stdout.txt").write_text(job.stdout)
    return folder


def test_two_processes_train_exactly_like_one(trained, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    for optimizer in ("sgd", "adam"):
        want_weights, want_history = _train(optimizer)
        for rank in (0, 1):
            weights, history = _load(trained / f"{optimizer}-{rank}.npz")
            for got, want in zip(weights, want_weights, strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
            assert history.keys() == want_history.keys() == {
                "loss", "accuracy", "val_loss", "val_accuracy"}
            for key, values in want_history.items():
                np.testing.assert_allclose(history[key], values, rtol=1e-5, err_msg=key)


def test_a_frozen_model_gets_process_0s_weights_and_the_single_process_logs(trained):
    with pytest.warns(UserWarning, match="no trainable weights"):
        want_weights, want_history = _train("sgd", trainable=False)
    for rank in (0, 1):
        weights, history = _load(trained / f"frozen-{rank}.npz")
        for got, want in zip(weights, want_weights, strict=True):
            np.testing.assert_array_equal(got, want)
        for key, values in want_history.items():
            np.testing.assert_allclose(history[key], values, rtol=1e-5, err_msg=key)


def test_only_process_0_prints(trained):
    stdout = (trained / "stdout.txt").read_text()  # the SGD run had verbose=2
    assert stdout.count("Epoch 1/2") == 1 and stdout.count("Epoch 2/2") == 1


def test_resumed_distributed_run_continues_from_process_0s_state(trained, tmp_path,
                                                                  monkeypatch):
    """Epoch 1 recorded by process 0; a fresh model on every process resumes it: process 1
    receives weights, Adam's slots, the data order and the epoch from process 0."""
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    want_weights, want_history = _train("adam")  # 2 epochs without interruption
    for rank in (0, 1):
        weights, history = _load(trained / f"resumed-{rank}.npz")
        for got, want in zip(weights, want_weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(history["loss"], want_history["loss"][1:], rtol=1e-5)
    from cnnlab.runs.store import RunStore

    runs = RunStore(trained / "runs" / "cnnlab.db").list()
    assert [(r.name, r.epochs) for r in runs] == [("ddp-run", 2)]  # one writer: process 0
    assert (trained / "runs" / runs[0].id / "checkpoint.cnnlab").exists()


def test_a_crashing_process_ends_the_job_with_its_name(tmp_path):
    start = time.monotonic()
    job = _job(tmp_path, "crash", timeout=60)
    assert job.returncode != 0
    assert "ValueError: rank 1 fails on purpose" in job.stderr
    assert re.search(r"the job of 2 processes failed \(.*process 1 exit code 1", job.stderr)
    assert time.monotonic() - start < 60


@pytest.mark.slow
def test_a_failing_process_that_stays_alive_stops_the_others_after_the_timeout(tmp_path):
    """Rank 1 catches its error and sleeps 120 s; rank 0's all-reduce gives up after the
    timeout, rank 0 fails, and torchrun stops rank 1."""
    start = time.monotonic()
    job = _job(tmp_path, "survive", timeout=60)
    assert job.returncode != 0
    assert "rank 1 caught: rank 1 fails on purpose" in job.stdout
    assert f"Timed out waiting {SURVIVE_TIMEOUT * 1000}ms" in job.stderr
    assert re.search(r"the job of 2 processes failed \(process 0 exit code 1", job.stderr)
    assert SURVIVE_TIMEOUT < time.monotonic() - start < 60


@pytest.mark.slow
def test_cli_nproc_per_node_trains_like_one_process(tmp_path):
    """`cnnlab train --nproc-per-node 2`: one recorded run, printed once, with the numbers of
    the same command in one process."""
    command = [sys.executable, "-m", "cnnlab", "train", "--data", "digits", "--limit", "300",
               "--epochs", "2", "--batch-size", "32", "--no-report"]
    src = str(Path(cnnlab.__file__).parents[1])
    runs = {}
    for name, extra in (("one", []), ("two", ["--nproc-per-node", "2"])):
        env = {**os.environ, "CNNLAB_HOME": str(tmp_path / name), "OMP_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
        job = subprocess.run(command + extra, capture_output=True, text=True, timeout=120,
                             env=env)
        assert job.returncode == 0, job.stderr[-3000:]
        assert job.stdout.count("test accuracy") == 1 and job.stdout.count("Epoch 2/2") == 1
        from cnnlab.runs.store import RunStore

        store = RunStore(tmp_path / name / "runs" / "cnnlab.db")
        (run,) = store.list()
        runs[name] = store.get(run.id)
    one, two = runs["one"], runs["two"]
    assert two.status == "finished" and two.epochs == 2
    assert two.test_accuracy == pytest.approx(one.test_accuracy, rel=1e-5)
    for got, want in zip(two.history, one.history, strict=True):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert got[key] == pytest.approx(want[key], rel=1e-5), key


# ------------------------------------------------------------------------ sharding
def _ids(n: int, batch_size: int, shuffle: bool = True) -> ArrayData:
    """Samples whose value is their index, so a batch shows which samples it holds."""
    return ArrayData(np.arange(n, dtype=np.float32)[:, None], np.arange(n), None, batch_size,
                     shuffle)


@pytest.mark.parametrize("n, batch_size, world", [(21, 8, 2), (21, 8, 3), (40, 10, 4)])
def test_process_parts_form_the_single_process_batches(n, batch_size, world):
    source = _ids(n, batch_size)
    want = [y.tolist() for _, y, _ in source.batches(torch.Generator().manual_seed(5))]
    parts, shares = [], []
    for r in range(world):
        sharded = distributed.ShardedArrays(source, r, world)
        batches = []
        for x, y, _ in sharded.batches(torch.Generator().manual_seed(5)):
            assert x[:, 0].long().tolist() == y.tolist()
            batches.append(y.tolist())
            shares.append((r, len(batches) - 1, sharded.share))
        assert len(batches) == sharded.num_batches
        parts.append(batches)
    for step, batch in enumerate(want):
        pieces = [parts[r][step] for r in range(world)]
        assert sum(pieces, []) == batch  # the parts, in rank order, are the global batch
        assert max(map(len, pieces)) - min(map(len, pieces)) <= 1
    for r, step, share in shares:
        assert share == pytest.approx(len(parts[r][step]) / len(want[step]))
    seen = [i for r in range(world) for batch in parts[r] for i in batch]
    assert sorted(seen) == list(range(n))  # disjoint, and every sample once per epoch


def test_a_last_batch_smaller_than_the_world_is_skipped_in_training_only():
    source = _ids(17, 8, shuffle=False)  # global batches of 8, 8, 1
    train = [distributed.ShardedArrays(source, r, 2) for r in (0, 1)]
    assert [[y.tolist() for _, y, _ in s.batches()] for s in train] == [
        [[0, 1, 2, 3], [8, 9, 10, 11]], [[4, 5, 6, 7], [12, 13, 14, 15]]]
    assert [s.num_batches for s in train] == [2, 2]
    test = [distributed.ShardedArrays(source, r, 2, training=False) for r in (0, 1)]
    assert [[y.tolist() for _, y, _ in s.batches()] for s in test] == [
        [[0, 1, 2, 3], [8, 9, 10, 11], [16]], [[4, 5, 6, 7], [12, 13, 14, 15]]]


def test_sharding_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match=r"`batch_size`=1 is the global batch.*at least 2"):
        distributed.ShardedArrays(_ids(10, 1), 0, 2)
    with pytest.raises(TypeError, match=r"got `x` \(generator\): pass arrays"):
        distributed.ShardedArrays(StreamData(iter([]), what="`x` (generator)"), 0, 2)
    with pytest.raises(ValueError, match=r"`rank` must be in \[0, 2\), got 2"):
        distributed.ShardedArrays(_ids(10, 4), 2, 2)


# ------------------------------------------------------------------------ one process
def test_outside_a_job_everything_is_the_single_process_case():
    assert not distributed.is_distributed()
    assert (distributed.rank(), distributed.world_size()) == (0, 1)
    assert distributed.is_main_process()
    assert distributed.broadcast_object({"a": 1}) == {"a": 1}
    objectives = Objectives("mse", ["mae"])
    objectives.resolve(["out"], [(None, 1)])
    objectives.update(torch.tensor(2.0), [None], [torch.zeros(2, 1)], [torch.ones(2, 1)], None, 2)
    assert distributed.reduce_metrics(objectives, "val_") == {"val_loss": 2.0, "val_mae": 1.0}


def test_init_from_env_explains_what_is_missing(monkeypatch):
    for name in distributed.TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(RuntimeError, match="missing WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, "
                                           "MASTER_PORT.*--nproc-per-node"):
        distributed.init_from_env()
    with pytest.raises(ValueError, match="`backend` must be one of .*got 'mpi'"):
        distributed.init_from_env("mpi")
    with pytest.raises(ValueError, match="`timeout` must be a positive number.*got 0"):
        distributed.init_from_env(timeout=0)
    with pytest.raises(RuntimeError, match="missing"):
        _model("sgd").fit(*_data()[:2], distribute="ddp", verbose=0)
    with pytest.raises(ValueError, match="`distribute` must be None or 'ddp', got 'dp'"):
        _model("sgd").fit(*_data()[:2], distribute="dp", verbose=0)


def test_only_process_0_keeps_the_file_writing_callbacks(monkeypatch, tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "m.cnnlab"))
    log, stop = CSVLogger(str(tmp_path / "log.csv")), EarlyStopping()
    assert distributed.local_callbacks([checkpoint, log, stop]) == [checkpoint, log, stop]
    monkeypatch.setattr(distributed, "rank", lambda: 1)
    assert distributed.local_callbacks([checkpoint, log, stop]) == [stop]


def test_launch_checks_its_arguments():
    with pytest.raises(ValueError, match="`nproc_per_node` must be an int >= 1, got 0"):
        distributed.launch(0, ["-m", "cnnlab"])
    with pytest.raises(ValueError, match="`argv` must name a script"):
        distributed.launch(2, [])


if __name__ == "__main__":
    _worker(*sys.argv[1:])
