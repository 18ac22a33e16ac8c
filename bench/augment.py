"""Augmentation throughput: cnnlab's ``ImageDataGenerator.flow`` vs Keras's legacy generator.

The generator of the lectures, on CIFAR-shaped uint8 data (50,000 x 32x32x3, random)::

    ImageDataGenerator(rotation_range=90, width_shift_range=0.1, height_shift_range=0.1,
                       horizontal_flip=True).flow(x, y, batch_size=64)

Measured in the same run (medians reported):

- ``cnnlab``: images/s of ``next(it)`` (batched warp on torch tensors);
- ``keras``: the same with Keras's legacy ``ImageDataGenerator`` (per-image SciPy) in a worker
  process run by the python of ``bench/.venv-keras``. The two are measured in alternating
  bursts, so that both meet the same machine conditions. That venv is shared with
  ``bench/train_speed.py``; when it does not exist this script creates a light one (Keras 3 on
  JAX + SciPy), which ``train_speed.py`` later completes with its own installs;
- ``train``: images/s at which the CIFAR-10 lecture model (``cnnlab.zoo.keras_cifar10_example``:
  conv32-conv32-pool-conv64-conv64-pool-dense512, BN + ELU + dropout; Adam, batch 50) trains
  with ``fit`` on random arrays here, and ``train+flow`` the same fed by the generator above.

Targets (issue 3): cnnlab >= 20x Keras, and >= 5x the training rate. Usage::

    .venv/bin/python bench/augment.py                 # ~1 min (+ the venv the first time)
    .venv/bin/python bench/augment.py --no-keras      # cnnlab figures only
    .venv/bin/python bench/augment.py --threads 1     # cnnlab on one core, as Keras's code
    .venv/bin/python bench/augment.py --keras-python /path/to/python  # a python with Keras
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
SRC = BENCH.parent / "src"
KERAS_VENV = BENCH / ".venv-keras"
LIGHT_INSTALL = ("keras==3.15.1", "jax", "scipy", "pillow")
SAMPLES, SHAPE, BATCH, TRAIN_BATCH = 50_000, (32, 32, 3), 64, 50
GENERATOR = {"rotation_range": 90, "width_shift_range": 0.1, "height_shift_range": 0.1,
             "horizontal_flip": True}


def cifar_like() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.integers(0, 256, (SAMPLES, *SHAPE), dtype=np.uint8),
            rng.integers(0, 10, (SAMPLES, 1)))


def burst_rate(iterator, batches: int) -> float:
    """Images/s of ``next(iterator)`` over ``batches`` batches."""
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * BATCH / (time.perf_counter() - start)


def keras_worker() -> None:
    """Run inside the Keras venv: build the legacy generator's iterator, print ``ready``, then
    answer each line ``<batches>`` on stdin with the images/s of that many batches."""
    import importlib.util

    if "KERAS_BACKEND" not in os.environ:  # any backend will do: the generator is NumPy code
        has_tf = importlib.util.find_spec("tensorflow") is not None
        os.environ["KERAS_BACKEND"] = "tensorflow" if has_tf else "jax"
    try:  # Keras 2 / tf.keras spelling first, then where Keras 3 keeps the legacy code
        from tf_keras.preprocessing.image import ImageDataGenerator
    except ImportError:
        try:
            from keras.preprocessing.image import ImageDataGenerator
        except ImportError:
            from keras.src.legacy.preprocessing.image import ImageDataGenerator
    import keras

    x, y = cifar_like()
    iterator = ImageDataGenerator(**GENERATOR).flow(x, y, batch_size=BATCH)
    burst_rate(iterator, 3)
    print(json.dumps({"ready": f"{keras.__version__} ({ImageDataGenerator.__module__})"}),
          flush=True)
    for line in sys.stdin:
        print(json.dumps({"rate": burst_rate(iterator, int(line))}), flush=True)


def keras_python(explicit: str | None) -> Path:
    """A python that has Keras and SciPy: ``explicit``, else the shared bench venv."""
    if explicit:
        return Path(explicit)
    python = KERAS_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {KERAS_VENV} ({' '.join(LIGHT_INSTALL)})", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(KERAS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *LIGHT_INSTALL], check=True)
    has_scipy = subprocess.run([str(python), "-c", "import scipy, PIL"],
                               capture_output=True).returncode == 0
    if not has_scipy:  # the legacy generator needs SciPy and Pillow; keep the venv's NumPy
        numpy = subprocess.run([str(python), "-c", "import numpy; print(numpy.__version__)"],
                               capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run([str(python), "-m", "pip", "install", "-q", "scipy", "pillow",
                        f"numpy=={numpy}"], check=True)
    return python


class KerasWorker:
    """The Keras generator in its own process, measured in bursts on request."""

    def __init__(self, python: Path):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        self.process = subprocess.Popen([str(python), __file__, "--keras-worker"], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.version = self._reply()["ready"]

    def _reply(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the Keras worker failed:\n{self.process.stderr.read()[-3000:]}")
        return json.loads(line)

    def rate(self, batches: int) -> float:
        self.process.stdin.write(f"{batches}\n")
        self.process.stdin.flush()
        return self._reply()["rate"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def training_rates(x: np.ndarray, y: np.ndarray, steps: int) -> dict[str, float]:
    """Images/s at which the CIFAR-10 lecture model trains with ``fit`` (Adam, batch 50) on
    arrays, and fed by the generator (``rescale=1/255`` added)."""
    import cnnlab
    from cnnlab.data import ImageDataGenerator
    from cnnlab.zoo import keras_cifar10_example

    cnnlab.set_random_seed(0)
    model = keras_cifar10_example()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    n = steps * TRAIN_BATCH
    data = (x[:n] / np.float32(255)).astype(np.float32)
    model.fit(data[:2 * TRAIN_BATCH], y[:2 * TRAIN_BATCH], batch_size=TRAIN_BATCH, verbose=0)
    start = time.perf_counter()
    model.fit(data, y[:n], batch_size=TRAIN_BATCH, shuffle=False, verbose=0)
    arrays = n / (time.perf_counter() - start)
    flow = ImageDataGenerator(rescale=1 / 255, **GENERATOR).flow(x, y, batch_size=TRAIN_BATCH)
    start = time.perf_counter()
    model.fit(flow, steps_per_epoch=steps, verbose=0)
    return {"train": arrays, "train_flow": n / (time.perf_counter() - start)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bursts", type=int, default=15, help="alternating bursts per side")
    parser.add_argument("--batches", type=int, default=100, help="cnnlab batches per burst")
    parser.add_argument("--keras-batches", type=int, default=10, help="Keras batches per burst")
    parser.add_argument("--train-rounds", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--keras-python", help="python with Keras + SciPy (default: the venv)")
    parser.add_argument("--keras-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keras_worker:
        keras_worker()
        return
    sys.path.insert(0, str(SRC))
    import torch

    from cnnlab.data import ImageDataGenerator

    if args.threads:
        torch.set_num_threads(args.threads)
    keras = None if args.no_keras else KerasWorker(keras_python(args.keras_python))
    x, y = cifar_like()
    iterator = ImageDataGenerator(**GENERATOR).flow(x, y, batch_size=BATCH)
    burst_rate(iterator, 5)
    rates: dict[str, list[float]] = {"flow": [], "keras": [], "train": [], "train_flow": []}
    for _ in range(args.bursts):  # alternate, so that both meet the same machine conditions
        rates["flow"].append(burst_rate(iterator, args.batches))
        if keras is not None:
            rates["keras"].append(keras.rate(args.keras_batches))
    if keras is not None:
        keras.close()
    for _ in range(args.train_rounds):
        for key, value in training_rates(x, y, args.train_steps).items():
            rates[key].append(value)
    median = {k: statistics.median(v) for k, v in rates.items() if v}
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, {torch.get_num_threads()} "
          f"threads; Keras {keras.version if keras else '-'}")
    print(f"{'measure (median)':<56}{'images/s':>10}")
    rows = [("cnnlab ImageDataGenerator.flow, batch 64", "flow"),
            ("Keras legacy ImageDataGenerator.flow, batch 64", "keras"),
            ("CIFAR-10 lecture model, fit on arrays, batch 50", "train"),
            ("CIFAR-10 lecture model, fit on cnnlab flow, batch 50", "train_flow")]
    for label, key in rows:
        if key in median:
            print(f"{label:<56}{median[key]:>10,.0f}")
    if keras is not None:
        pairs = [a / b for a, b in zip(rates["flow"], rates["keras"], strict=True)]
        print(f"cnnlab / Keras: {median['flow'] / median['keras']:.1f}x (median of the "
              f"{len(pairs)} burst pairs {statistics.median(pairs):.1f}x; target >= 20x)")
    print(f"cnnlab flow / training rate: {median['flow'] / median['train']:.0f}x "
          f"(target >= 5x)")


if __name__ == "__main__":
    main()
