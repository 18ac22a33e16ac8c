"""Training and prediction speed: cnnlab vs a hand-written PyTorch loop vs Keras 3.

Trains the same networks from the same initial weights on the same batches, each
implementation in its own process, and interleaves them finely: for each network all the
workers start and warm up, then the driver asks each in turn (the order rotated by one every
round) to train the next chunk of ``--steps`` batches, for ``--rounds`` rounds, then to
predict the test images, ``--predict-rounds`` times. Every ratio is the median of the
per-round ratios (chunk k of one implementation against chunk k of the other, measured
seconds apart), which cancels most of a shared VM's drift; fresh processes run one after the
other (this script's first version) differed by up to +-30 % from each other.

- ``cnnlab``: ``model.fit(x, y, batch_size, epochs=1, shuffle=False, verbose=0)`` per chunk;
- ``pytorch``: an idiomatic PyTorch loop (channels_last, torch.optim) — the reference;
- ``keras-tensorflow``, ``keras-torch`` (with ``--keras``): Keras 3 on each backend, run
  from ``bench/.venv-keras``, which this script creates on first use (``keras`` and
  ``tensorflow-cpu`` from PyPI, torch 2.13.0 from local disk; about 2.4 GB);
- ``cnnlab-jit``, ``cnnlab-bf16`` (with ``--variants``): cnnlab's opt-ins.

Reports per network and implementation the median time per step and per epoch-equivalent
(time per step x steps in one epoch of the real data set), images/s, prediction throughput
(batch 1000), the worker's peak RSS, each as a ratio to the PyTorch loop. Usage::

    .venv/bin/python bench/train_speed.py                       # cnnlab vs PyTorch
    .venv/bin/python bench/train_speed.py --keras --variants jit --json out.json
    .venv/bin/python bench/train_speed.py --nets lenet,cifar --steps 10 --rounds 3

Networks and hyper-parameters: ``bench/_nets.py``; the workers: ``_keras_worker.py``
(cnnlab and Keras: the same code), ``_torch_worker.py``; the protocol: ``_measure.py``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

BENCH = Path(__file__).resolve().parent
SRC = BENCH.parent / "src"
sys.path.insert(0, str(SRC))

import _measure  # noqa: E402
import _nets  # noqa: E402

import cnnlab  # noqa: E402
from cnnlab.datasets import fashion_mnist  # noqa: E402

KERAS_VENV = BENCH / ".venv-keras"
# torch first, from local disk: otherwise keras's torch backend would pull a CUDA build.
KERAS_INSTALL = (("torch==2.13.0",), ("keras==3.15.1", "tensorflow-cpu==2.21.0"))
WORKERS = {"cnnlab": "_keras_worker.py", "pytorch": "_torch_worker.py",
           "keras-tensorflow": "_keras_worker.py", "keras-torch": "_keras_worker.py",
           "cnnlab-jit": "_keras_worker.py", "cnnlab-bf16": "_keras_worker.py"}
VARIANTS = ("jit", "bf16")  # cnnlab opt-ins: compile(jit_compile=True), 'mixed_bfloat16'
REFERENCE = "pytorch"
TEST_IMAGES = 10_000


def keras_python() -> Path:
    """The python of ``bench/.venv-keras``, creating the venv first if needed."""
    python, done = KERAS_VENV / "bin" / "python", KERAS_VENV / ".installed"
    if not done.exists():
        print(f"creating {KERAS_VENV} (Keras 3, TensorFlow, torch 2.13.0; a few minutes)",
              flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(KERAS_VENV)], check=True)
        for group in KERAS_INSTALL:
            subprocess.run([str(python), "-m", "pip", "install", "-q", *group], check=True)
        done.touch()
    return python


def _take(array: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` samples, cycling through ``array`` when it has fewer."""
    return array[np.arange(n) % len(array)]


def write_datasets(nets: list[_nets.Net], steps: int, warmup: int, folder: Path) -> None:
    """``<dataset>_{x,y,test_x}.npy``: as many training samples as the largest job needs."""
    for dataset in sorted({net.dataset for net in nets}):
        n = max(max(steps, warmup) * net.batch_size for net in nets if net.dataset == dataset)
        if dataset == "fashion_mnist":
            (x, y), (x_test, _) = fashion_mnist.load_data()
            x, y = _take(x, n), _take(y, n)
            scale = np.float32(1 / 255)
            x, x_test = (x[..., None] * scale), (x_test[..., None] * scale)
        else:  # CIFAR-shaped noise: the speed does not depend on the pixel values
            rng = np.random.default_rng(0)
            x = rng.random((n, *_nets.CIFAR), dtype=np.float32)
            y = rng.integers(0, 10, n)
            x_test = rng.random((TEST_IMAGES, *_nets.CIFAR), dtype=np.float32)
        for part, array in (("x", x), ("y", y), ("test_x", x_test)):
            np.save(folder / f"{dataset}_{part}.npy",
                    array.astype(np.int64 if part == "y" else np.float32))


def write_initial_weights(net: _nets.Net, path: Path) -> dict[str, Any]:
    """Build the cnnlab model (seed 0) and save ``{'<layer>/<i>': Keras array}``."""
    cnnlab.set_random_seed(0)
    model, source = _nets.build(net, cnnlab)
    arrays = {f"{layer.name}/{i}": w for layer in model.layers
              for i, w in enumerate(layer.get_weights())}
    np.savez(path, **arrays)
    return {"model_source": source, "params": model.count_params()}


class Worker:
    """One implementation's worker process for one network, driven over stdin/stdout."""

    def __init__(self, impl: str, job: dict[str, Any], python: Path, log: Path):
        env = {**os.environ, "OMP_NUM_THREADS": str(job["threads"]),
               "TF_CPP_MIN_LOG_LEVEL": "2",
               "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
        self.impl, self.log = impl, log
        self.error: str | None = None
        with log.open("w") as stderr:  # a file: a chatty framework cannot fill a pipe
            self.process = subprocess.Popen(
                [str(python), str(BENCH / WORKERS[impl]), json.dumps(job)], env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True)

    def ask(self, command: str | None) -> dict[str, Any] | None:
        """Send ``command`` (``None``: just read), return the answer; ``None`` once failed."""
        if self.error is not None:
            return None
        try:
            if command is not None:
                self.process.stdin.write(command + "\n")
                self.process.stdin.flush()
            for line in self.process.stdout:
                if line.startswith(_measure.RESULT_PREFIX):
                    return json.loads(line[len(_measure.RESULT_PREFIX):])
        except BrokenPipeError:
            pass
        self.process.wait()
        tail = "\n".join(self.log.read_text().strip().splitlines()[-15:])
        self.error = f"exit code {self.process.returncode}:\n{tail}"
        return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def measure_net(net: _nets.Net, impls: dict[str, Path], args: argparse.Namespace,
                folder: Path, weights: Path) -> dict[str, dict[str, Any]]:
    """All workers of one network, interleaved: ``{impl: {"train": [per-round answers],
    "predict": [...], "finish": {...}} or {"error": ...}}``."""
    workers: dict[str, Worker] = {}
    try:
        for impl, python in impls.items():
            job = {"net": net.name, "impl": impl, "seed": 0, "data": str(folder),
                   "weights": str(weights), "dataset": net.dataset,
                   "batch_size": net.batch_size, "steps": args.steps, "warmup": args.warmup,
                   "threads": args.threads}
            workers[impl] = Worker(impl, job, python, folder / f"{net.name}-{impl}.log")
        for worker in workers.values():  # they load and warm up at the same time
            worker.ask(None)
        runs = {impl: {"train": [], "predict": []} for impl in workers}
        order = list(workers)
        for round_ in range(args.rounds + args.predict_rounds):
            shift = round_ % len(order)  # rotate: no implementation always goes first
            kind = "train" if round_ < args.rounds else "predict"
            command = f"train {round_}" if kind == "train" else "predict"
            for impl in order[shift:] + order[:shift]:
                runs[impl][kind].append(workers[impl].ask(command))
            print(f"  {net.name} {kind} round {len(runs[order[0]][kind])}: " + ", ".join(
                f"{impl} {_round_text(runs[impl][kind][-1], args.steps)}" for impl in order),
                flush=True)
        for impl, worker in workers.items():
            runs[impl]["finish"] = worker.ask("finish")
            if worker.error is not None:
                runs[impl] = {"error": worker.error}
        return runs
    finally:
        for worker in workers.values():
            worker.close()


def _round_text(answer: dict[str, Any] | None, steps: int) -> str:
    if answer is None:
        return "failed"
    if "loss" in answer:
        return f"{1000 * answer['seconds'] / steps:.1f} ms/step"
    return f"{answer['images'] / answer['seconds']:,.0f} img/s"


def paired_ratio(ours: list[dict], theirs: list[dict]) -> tuple[float, float, float]:
    """Median, min and max over the rounds of ``ours[k].seconds / theirs[k].seconds``."""
    ratios = [a["seconds"] / b["seconds"] for a, b in zip(ours, theirs, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def summarize(runs: dict[str, dict[str, Any]], net: _nets.Net, steps: int) -> dict:
    """Per implementation: medians over the rounds, the peak RSS, the last chunk's loss and
    accuracy, and the paired ratios to the PyTorch loop, all as costs (below 1 is better)."""
    rows: dict[str, dict[str, Any]] = {}
    for impl, run in runs.items():
        if "error" in run:
            rows[impl] = {"error": run["error"]}
            continue
        step = statistics.median(r["seconds"] for r in run["train"]) / steps
        predict = statistics.median(r["images"] / r["seconds"] for r in run["predict"])
        rows[impl] = {
            "seconds_per_step": step, "seconds_per_epoch": step * net.steps_per_epoch,
            "cpu_seconds_per_step": statistics.median(
                r["cpu_seconds"] for r in run["train"]) / steps,
            "images_per_second": net.batch_size / step,
            "predict_images_per_second": predict,
            "peak_rss_mb": run["finish"]["peak_rss_mb"],
            "loss": run["train"][-1]["loss"], "accuracy": run["train"][-1]["accuracy"],
        }
    ref = runs.get(REFERENCE, {})
    for impl, row in rows.items():
        if "error" not in row and "error" not in ref:
            row["train_ratio"], *row["train_ratio_range"] = paired_ratio(
                runs[impl]["train"], ref["train"])
            row["predict_ratio"], *row["predict_ratio_range"] = paired_ratio(
                runs[impl]["predict"], ref["predict"])
            row["rss_ratio"] = row["peak_rss_mb"] / rows[REFERENCE]["peak_rss_mb"]
    return rows


def table(net: _nets.Net, info: dict[str, Any], rows: dict[str, dict[str, Any]]) -> str:
    """A Markdown table of one network's summary."""
    head = (f"**{net.name}** — {net.title}, {net.dataset}, batch {net.batch_size}, "
            f"{net.optimizer_text()}, {info['params']:,} parameters, "
            f"{net.steps_per_epoch} steps/epoch (cnnlab model: {info['model_source']})\n\n"
            "| implementation | ms/step | s/epoch | images/s | train ×PT | predict images/s "
            "| predict ×PT | peak RSS MB | RSS ×PT | loss | accuracy |\n"
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
    lines = []
    for impl, r in rows.items():
        if "error" in r:
            lines.append(f"| {impl} | failed: see the log | | | | | | | | | |")
            continue
        ratios = [_ratio_text(r, k) for k in ("train_ratio", "predict_ratio", "rss_ratio")]
        lines.append(
            f"| {impl} | {1000 * r['seconds_per_step']:.1f} | {r['seconds_per_epoch']:.1f} | "
            f"{r['images_per_second']:,.0f} | {ratios[0]} | "
            f"{r['predict_images_per_second']:,.0f} | {ratios[1]} | {r['peak_rss_mb']:,.0f} | "
            f"{ratios[2]} | {r['loss']:.4f} | {r['accuracy']:.4f} |")
    return head + "\n".join(lines)


def _ratio_text(row: dict[str, Any], key: str) -> str:
    """``median (min-max)`` of a paired ratio, or just the value."""
    if key not in row:
        return "—"
    spread = row.get(f"{key}_range")
    return f"{row[key]:.2f}" + (f" ({spread[0]:.2f}-{spread[1]:.2f})" if spread else "")


def best_settings_text(summaries: dict[str, Any]) -> str:
    """Per network: cnnlab's fastest setting against the fastest Keras backend (epoch time),
    and cnnlab's best ``predict`` against Keras on TensorFlow's (the issue-5 targets)."""
    lines = ["| network | cnnlab best (s/epoch) | Keras best (s/epoch) | ratio (target <= 0.5) "
             "| cnnlab best predict (images/s) | Keras-TF predict | ratio (target >= 1) |",
             "|---|---|---|--:|---|--:|--:|"]
    for name, summary in summaries.items():
        rows, runs = summary["rows"], summary["runs"]
        ours = [k for k, v in rows.items() if k.startswith("cnnlab") and "error" not in v]
        theirs = [k for k, v in rows.items() if k.startswith("keras") and "error" not in v]
        if not ours or not theirs:
            continue
        train = min(ours, key=lambda k: rows[k]["seconds_per_epoch"])
        keras = min(theirs, key=lambda k: rows[k]["seconds_per_epoch"])
        train_ratio = paired_ratio(runs[train]["train"], runs[keras]["train"])[0]
        predict = max(ours, key=lambda k: rows[k]["predict_images_per_second"])
        tf_text, tf_ratio = "—", "—"
        if "keras-tensorflow" in theirs:
            tf_text = f"{rows['keras-tensorflow']['predict_images_per_second']:,.0f}"
            tf_ratio = "{:.2f}".format(paired_ratio(runs["keras-tensorflow"]["predict"],
                                                    runs[predict]["predict"])[0])
        lines.append(
            f"| {name} | {train} {rows[train]['seconds_per_epoch']:.1f} | {keras} "
            f"{rows[keras]['seconds_per_epoch']:.1f} | {train_ratio:.2f} | "
            f"{predict} {rows[predict]['predict_images_per_second']:,.0f} | {tf_text} | "
            f"{tf_ratio} |")
    return "\n".join(lines)


def environment_text(env: dict[str, Any]) -> str:
    """The run's conditions as Markdown bullet points (for bench/README.md)."""
    m = env["machine"] or {}
    lines = [f"- started {env['started']}; {env['rounds']} interleaved rounds of {env['steps']} "
             f"timed steps after {env['warmup']} warm-up steps, {env['predict_rounds']} "
             "interleaved predict rounds",
             f"- load average (1, 5, 15 min) before {_loads(env['load_average_before'])}, "
             f"after {_loads(env['load_average_after'])}",
             f"- CPU: {m.get('cpu')} ({', '.join(m.get('cpu_flags', []))}), "
             f"{m.get('cores')} cores, {m.get('threads')} threads per worker; "
             f"Python {m.get('python')}, NumPy {m.get('numpy')}"]
    for impl, versions in env["versions"].items():
        text = ", ".join(f"{k} {v}" for k, v in (versions or {}).items())
        lines.append(f"- {impl}: {text or 'no successful run'}")
    return "\n".join(lines)


def _loads(loads: tuple[float, ...]) -> str:
    return " / ".join(f"{v:.2f}" for v in loads)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", default=",".join(_nets.NETS),
                        help=f"comma-separated, from {','.join(_nets.NETS)} (default: all)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--rounds", type=int, default=6,
                        help="interleaved training rounds (chunks of --steps batches)")
    parser.add_argument("--predict-rounds", type=int, default=3,
                        help="interleaved predictions of the 10,000 test images")
    parser.add_argument("--keras", action="store_true",
                        help="also Keras 3 on TensorFlow and on torch (creates the venv)")
    parser.add_argument("--variants", default="",
                        help="comma-separated cnnlab opt-ins to run as well: jit "
                             "(compile(jit_compile=True)), bf16 (policy 'mixed_bfloat16')")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="intra-op threads in every worker (default: torch's default)")
    parser.add_argument("--json", type=Path, help="write all results and summaries here")
    args = parser.parse_args()
    unknown = sorted(set(args.nets.split(",")) - set(_nets.NETS))
    if unknown:
        parser.error(f"--nets: unknown {unknown}; choose from {sorted(_nets.NETS)}")
    for name in ("steps", "rounds", "predict_rounds", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    variants = [v for v in args.variants.split(",") if v]
    if sorted(set(variants) - set(VARIANTS)):
        parser.error(f"--variants: unknown {sorted(set(variants) - set(VARIANTS))}; choose "
                     f"from {list(VARIANTS)}")
    args.variants = variants
    if args.warmup < 0:
        parser.error(f"--warmup must be >= 0, got {args.warmup}")
    return args


def main() -> None:
    args = parse_args()
    nets = [_nets.NETS[name] for name in args.nets.split(",")]
    pythons = {"cnnlab": Path(sys.executable), "pytorch": Path(sys.executable)}
    pythons.update({f"cnnlab-{variant}": Path(sys.executable) for variant in args.variants})
    if args.keras:
        pythons["keras-tensorflow"] = pythons["keras-torch"] = keras_python()
    started = datetime.datetime.now().astimezone()
    load_before = os.getloadavg()
    summaries: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cnnlab-bench-") as folder:
        write_datasets(nets, args.steps * args.rounds, args.warmup, Path(folder))
        for net in nets:
            weights = Path(folder) / f"{net.name}_weights.npz"
            info = write_initial_weights(net, weights)
            runs = measure_net(net, pythons, args, Path(folder), weights)
            rows = summarize(runs, net, args.steps)
            summaries[net.name] = {**info, "rows": rows, "runs": runs}
            print("\n" + table(net, info, rows) + "\n", flush=True)
    finished = [run["finish"] for summary in summaries.values()
                for run in summary["runs"].values() if "finish" in run]
    environment = {
        "started": started.isoformat(timespec="seconds"),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "steps": args.steps, "warmup": args.warmup, "rounds": args.rounds,
        "predict_rounds": args.predict_rounds,
        "machine": finished[0]["machine"] if finished else None,
        "versions": {impl: next((run["finish"]["versions"] for summary in summaries.values()
                                 for name, run in summary["runs"].items()
                                 if name == impl and "finish" in run), None)
                     for impl in pythons},
    }
    print(best_settings_text(summaries) + "\n")
    print(environment_text(environment))
    if args.json:
        args.json.write_text(json.dumps({"environment": environment, "summaries": summaries},
                                        indent=1))


if __name__ == "__main__":
    main()
