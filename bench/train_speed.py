"""Training and prediction speed: cnnlab vs a hand-written PyTorch loop vs Keras 3.

Trains the same networks from the same initial weights on the same batches for a fixed number
of steps, each implementation in its own fresh process, interleaved over the rounds (the order
rotated by one each round, so that no implementation always runs first):

- ``cnnlab``: ``model.fit(x, y, batch_size, epochs=1, shuffle=False, verbose=0)``;
- ``pytorch``: an idiomatic PyTorch loop (channels_last, torch.optim) — the reference;
- ``keras-tensorflow``, ``keras-torch`` (with ``--keras``): Keras 3 on each backend, run
  from ``bench/.venv-keras``, which this script creates on first use (``keras`` and
  ``tensorflow-cpu`` from PyPI, torch 2.13.0 from local disk; about 2.4 GB).

Reports per network and implementation the median time per step and per epoch-equivalent
(time per step x steps in one epoch of the real data set), images/s, prediction throughput
(batch 1000), the worker's peak RSS, each as a ratio to the PyTorch loop. Usage::

    .venv/bin/python bench/train_speed.py                       # cnnlab vs PyTorch, ~10 min
    .venv/bin/python bench/train_speed.py --keras --json out.json
    .venv/bin/python bench/train_speed.py --nets lenet,cifar --steps 20 --rounds 1

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


def run_worker(impl: str, job: dict[str, Any], python: Path) -> dict[str, Any]:
    """One fresh process; its ``RESULT`` line as a dict, or ``{'error': ...}``."""
    env = {**os.environ, "OMP_NUM_THREADS": str(job["threads"]), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([str(python), str(BENCH / WORKERS[impl]), json.dumps(job)],
                          capture_output=True, text=True, env=env, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(_measure.RESULT_PREFIX):
            return json.loads(line[len(_measure.RESULT_PREFIX):])
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
    return {"net": job["net"], "impl": impl, "round": job["round"],
            "error": f"exit code {done.returncode}:\n{tail}"}


def summarize(results: list[dict[str, Any]], net: _nets.Net, impls: list[str]) -> dict:
    """Per implementation: medians over the rounds (peak RSS: the largest) and the ratios
    to the PyTorch loop, all as costs (time or memory: below 1 is better)."""
    rows: dict[str, dict[str, Any]] = {}
    for impl in impls:
        runs = [r for r in results if r["impl"] == impl and r["net"] == net.name]
        good = [r for r in runs if "error" not in r]
        if not good:
            rows[impl] = {"error": runs[-1]["error"] if runs else "not run"}
            continue
        step = statistics.median(r["seconds_per_step"] for r in good)
        rows[impl] = {
            "seconds_per_step": step, "seconds_per_epoch": step * net.steps_per_epoch,
            "cpu_seconds_per_step": statistics.median(r["cpu_seconds_per_step"] for r in good),
            "images_per_second": net.batch_size / step,
            "predict_images_per_second": statistics.median(
                r["predict_images_per_second"] for r in good),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in good),
            "loss": statistics.median(r["loss"] for r in good),
            "accuracy": statistics.median(r["accuracy"] for r in good),
            "runs_seconds_per_step": [r["seconds_per_step"] for r in good],
        }
    ref = rows.get(REFERENCE, {})
    for row in rows.values():
        if "error" not in row and "error" not in ref:
            row["train_ratio"] = row["seconds_per_step"] / ref["seconds_per_step"]
            row["predict_ratio"] = (ref["predict_images_per_second"]
                                    / row["predict_images_per_second"])
            row["rss_ratio"] = row["peak_rss_mb"] / ref["peak_rss_mb"]
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
        ratios = [f"{r[k]:.2f}" if k in r else "—"
                  for k in ("train_ratio", "predict_ratio", "rss_ratio")]
        lines.append(
            f"| {impl} | {1000 * r['seconds_per_step']:.1f} | {r['seconds_per_epoch']:.1f} | "
            f"{r['images_per_second']:,.0f} | {ratios[0]} | "
            f"{r['predict_images_per_second']:,.0f} | {ratios[1]} | {r['peak_rss_mb']:,.0f} | "
            f"{ratios[2]} | {r['loss']:.4f} | {r['accuracy']:.4f} |")
    return head + "\n".join(lines)


def best_settings_text(summaries: dict[str, Any]) -> str:
    """Per network: cnnlab's fastest setting against the fastest Keras backend (epoch time),
    and cnnlab's best ``predict`` against Keras on TensorFlow's (the issue-5 targets)."""
    lines = ["| network | cnnlab best (s/epoch) | Keras best (s/epoch) | ratio (target <= 0.5) "
             "| cnnlab best predict (images/s) | Keras-TF predict | ratio (target >= 1) |",
             "|---|---|---|--:|---|--:|--:|"]
    for name, summary in summaries.items():
        rows = {k: v for k, v in summary["rows"].items() if "error" not in v}
        ours = {k: v for k, v in rows.items() if k.startswith("cnnlab")}
        theirs = {k: v for k, v in rows.items() if k.startswith("keras")}
        if not ours or not theirs:
            continue
        train = min(ours, key=lambda k: ours[k]["seconds_per_epoch"])
        keras = min(theirs, key=lambda k: theirs[k]["seconds_per_epoch"])
        predict = max(ours, key=lambda k: ours[k]["predict_images_per_second"])
        tf = theirs.get("keras-tensorflow")
        tf_text, tf_ratio = ("—", "—") if tf is None else (
            f"{tf['predict_images_per_second']:,.0f}",
            f"{ours[predict]['predict_images_per_second'] / tf['predict_images_per_second']:.2f}")
        lines.append(
            f"| {name} | {train} {ours[train]['seconds_per_epoch']:.1f} | {keras} "
            f"{theirs[keras]['seconds_per_epoch']:.1f} | "
            f"{ours[train]['seconds_per_epoch'] / theirs[keras]['seconds_per_epoch']:.2f} | "
            f"{predict} {ours[predict]['predict_images_per_second']:,.0f} | {tf_text} | "
            f"{tf_ratio} |")
    return "\n".join(lines)


def environment_text(env: dict[str, Any]) -> str:
    """The run's conditions as Markdown bullet points (for bench/README.md)."""
    m = env["machine"] or {}
    lines = [f"- started {env['started']}; {env['steps']} timed steps after {env['warmup']} "
             f"warm-up steps, {env['rounds']} rounds, interleaved",
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
    parser.add_argument("--steps", type=int, default=100, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--rounds", type=int, default=2, help="runs per implementation")
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
    for name in ("steps", "rounds", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}")
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
    impls = list(pythons)
    started = datetime.datetime.now().astimezone()
    load_before = os.getloadavg()
    results: list[dict[str, Any]] = []
    summaries: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cnnlab-bench-") as folder:
        write_datasets(nets, args.steps, args.warmup, Path(folder))
        for net in nets:
            weights = Path(folder) / f"{net.name}_weights.npz"
            info = write_initial_weights(net, weights)
            for round_ in range(args.rounds):
                shift = round_ % len(impls)  # rotate the order: no impl always runs first
                for impl in impls[shift:] + impls[:shift]:
                    job = {"net": net.name, "impl": impl, "round": round_, "data": folder,
                           "weights": str(weights), "dataset": net.dataset,
                           "batch_size": net.batch_size, "steps": args.steps,
                           "warmup": args.warmup, "threads": args.threads}
                    result = run_worker(impl, job, pythons[impl])
                    results.append(result)
                    status = result.get("error") or (
                        f"{1000 * result['seconds_per_step']:.1f} ms/step "
                        f"({1000 * result['cpu_seconds_per_step']:.0f} CPU ms), "
                        f"{result['predict_images_per_second']:,.0f} predicted images/s, load "
                        f"{result['load_average'][0]:.2f}")
                    print(f"  {net.name} round {round_ + 1}/{args.rounds} {impl}: {status}",
                          flush=True)
            rows = summarize(results, net, impls)
            summaries[net.name] = {**info, "rows": rows}
            print("\n" + table(net, info, rows) + "\n", flush=True)
    environment = {
        "started": started.isoformat(timespec="seconds"),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "steps": args.steps, "warmup": args.warmup, "rounds": args.rounds,
        "machine": next((r["machine"] for r in results if "machine" in r), None),
        "versions": {impl: next((r["versions"] for r in results
                                 if r["impl"] == impl and "versions" in r), None)
                     for impl in impls},
    }
    print(best_settings_text(summaries) + "\n")
    print(environment_text(environment))
    if args.json:
        args.json.write_text(json.dumps({"environment": environment, "summaries": summaries,
                                         "results": results}, indent=1))


if __name__ == "__main__":
    main()
