"""The measuring protocol shared by the benchmark workers (no framework imported here).

A worker gets one job (a JSON object on its command line), builds its network with the
initial weights of the job's weights file, and calls :func:`serve` with two closures:

- ``fit(x, y) -> (loss, accuracy)``: one pass over ``x`` in batches of the net's batch size,
  in order (no shuffling), returning the epoch's mean loss and accuracy;
- ``predict(x)``: outputs for ``x`` in batches of 1000.

:func:`serve` warms up (``warmup`` steps and one prediction batch, not timed) and then times
``fit`` on one chunk of ``steps x batch`` samples, or ``predict`` on the test images, each
time the driver asks (wall-clock and the process's CPU time, which other tenants of a busy
machine inflate much less).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

PREDICT_BATCH = 1000
RESULT_PREFIX = "RESULT "

Fit = Callable[[np.ndarray, np.ndarray], tuple[float, float]]
Predict = Callable[[np.ndarray], Any]


def job_from_argv() -> dict[str, Any]:
    """The job: ``net``, ``impl``, ``data`` (folder), ``weights`` (.npz), ``steps``,
    ``warmup``, ``batch_size``, ``dataset``, ``threads``, ``seed``."""
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} '<job as JSON>' (run by bench/train_speed.py)")
    return json.loads(sys.argv[1])


def load_data(job: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test)``: channels-last float32 images, int64 labels."""
    folder = Path(job["data"])
    return tuple(np.load(folder / f"{job['dataset']}_{part}.npy")
                 for part in ("x", "y", "test_x"))


def load_weights(path: str) -> dict[str, list[np.ndarray]]:
    """``{layer name: [arrays in Keras layout and order]}`` from keys ``'<layer>/<index>'``."""
    with np.load(path) as archive:
        keys = sorted(archive.files, key=lambda k: (k.rsplit("/", 1)[0], int(k.rsplit("/")[1])))
        weights: dict[str, list[np.ndarray]] = {}
        for key in keys:
            weights.setdefault(key.rsplit("/", 1)[0], []).append(archive[key])
    return weights


def machine(threads: int) -> dict[str, Any]:
    """CPU model and the flags that matter for these kernels, cores, threads, Python, NumPy."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    return {"cpu": fields.get("model name", platform.processor()),
            "cpu_flags": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "amx_bf16",
                                         "amx_tile"}),
            "cores": os.cpu_count(), "threads": threads,
            "python": platform.python_version(), "numpy": np.__version__}


def peak_rss_mb() -> float:
    """The process's peak resident set size: ``VmHWM`` of ``/proc/self/status`` (the high-water
    mark of this program's memory since its ``exec``). ``ru_maxrss`` would not do: Linux
    carries it over ``exec`` from the parent (a forked worker of a driver holding 800 MB of
    data reports at least 800 MB)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(job: dict[str, Any], fit: Fit, predict: Predict, versions: dict[str, str],
          **extra: Any) -> None:
    """Warm up, print ``READY``, then answer the driver's commands on stdin, one per line:

    - ``train <k>``: ``fit`` on chunk ``k`` (batches ``k*steps`` to ``(k+1)*steps - 1`` of the
      data, in order) -> ``{"seconds", "cpu_seconds", "loss", "accuracy"}``;
    - ``predict``: ``predict`` on all test images -> ``{"seconds", "images"}``;
    - ``finish``: -> the peak RSS, load average, versions and machine; then exit.

    Each answer is one line ``RESULT {json}``. The driver keeps every implementation's worker
    alive and alternates the commands between them, so that they all meet the same machine
    conditions (``bench/train_speed.py``).
    """
    x, y, x_test = load_data(job)
    batch, steps, warmup = job["batch_size"], job["steps"], job["warmup"]
    if warmup:
        fit(x[:warmup * batch], y[:warmup * batch])
    predict(x_test[:PREDICT_BATCH])
    reply({"ready": True})
    n = steps * batch
    for line in sys.stdin:
        command, *args = line.split()
        if command == "train":
            part = slice(int(args[0]) * n, (int(args[0]) + 1) * n)
            start, cpu_start = time.perf_counter(), time.process_time()
            loss, accuracy = fit(x[part], y[part])
            reply({"seconds": time.perf_counter() - start,
                   "cpu_seconds": time.process_time() - cpu_start,
                   "loss": float(loss), "accuracy": float(accuracy)})
        elif command == "predict":
            start = time.perf_counter()
            predict(x_test)
            reply({"seconds": time.perf_counter() - start, "images": len(x_test)})
        elif command == "finish":
            reply({"peak_rss_mb": peak_rss_mb(), "load_average": os.getloadavg(),
                   "versions": versions, "machine": machine(job["threads"]), **extra})
            return
        else:
            raise SystemExit(f"unknown command {line!r}")


def reply(answer: dict[str, Any]) -> None:
    """One answer line for the driver (anything else a framework prints is ignored)."""
    print(RESULT_PREFIX + json.dumps(answer), flush=True)
