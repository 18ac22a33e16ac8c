"""Augmentation throughput: cnnlab's ``ImageDataGenerator.flow`` vs Keras's legacy generator.

The generator of the lectures, on CIFAR-shaped uint8 data (50,000 x 32x32x3, random)::

    ImageDataGenerator(rotation_range=90, width_shift_range=0.1, height_shift_range=0.1,
                       horizontal_flip=True).flow(x, y, batch_size=64)

Measured in the same run, interleaved over the rounds (medians reported):

- ``cnnlab``: images/s of ``next(it)`` (batched warp on torch tensors);
- ``keras``: the same with Keras's legacy ``ImageDataGenerator`` (per-image SciPy), in a
  subprocess with the python of ``bench/.venv-keras``. That venv is shared with
  ``bench/train_speed.py``; when it does not exist this script creates a light one (Keras 3 on
  JAX + SciPy), which ``train_speed.py`` later completes with its own installs;
- ``train``: images/s at which the CIFAR-10 lecture model (``cnnlab.zoo.keras_cifar10_example``:
  conv32-conv32-pool-conv64-conv64-pool-dense512, BN + ELU + dropout; Adam, batch 50) trains
  with ``fit`` on random arrays here, and ``train+flow`` the same fed by the generator above.

Targets (issue 3): cnnlab >= 20x Keras, and >= 5x the training rate. Usage::

    .venv/bin/python bench/augment.py                 # ~2 min (+ the venv the first time)
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


def images_per_second(iterator, batches: int) -> float:
    """Images/s of ``next(iterator)`` over ``batches`` batches, after 3 untimed ones."""
    for _ in range(3):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * BATCH / (time.perf_counter() - start)


def keras_worker(batches: int) -> None:
    """Run inside the Keras venv: print the legacy generator's images/s as JSON."""
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
    rate = images_per_second(iterator, batches)
    version = f"{keras.__version__} ({ImageDataGenerator.__module__})"
    print(json.dumps({"rate": rate, "keras": version}))


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


def run_keras(python: Path, batches: int) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([str(python), __file__, "--keras-worker", str(batches)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"the Keras worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cnnlab_rates(x: np.ndarray, y: np.ndarray, batches: int, train_steps: int) -> dict:
    """Generator images/s and the lecture model's training images/s (arrays, and flow)."""
    sys.path.insert(0, str(SRC))
    import cnnlab
    from cnnlab.data import ImageDataGenerator
    from cnnlab.zoo import keras_cifar10_example

    iterator = ImageDataGenerator(**GENERATOR).flow(x, y, batch_size=BATCH)
    flow_rate = images_per_second(iterator, batches)
    cnnlab.set_random_seed(0)
    model = keras_cifar10_example()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    n = train_steps * TRAIN_BATCH
    data = (x[:n] / np.float32(255)).astype(np.float32)
    model.fit(data[:2 * TRAIN_BATCH], y[:2 * TRAIN_BATCH], batch_size=TRAIN_BATCH,
              verbose=0)  # warm-up
    start = time.perf_counter()
    model.fit(data, y[:n], batch_size=TRAIN_BATCH, epochs=1, shuffle=False, verbose=0)
    train_rate = n / (time.perf_counter() - start)
    generator = ImageDataGenerator(rescale=1 / 255, **GENERATOR)
    start = time.perf_counter()
    model.fit(generator.flow(x, y, batch_size=TRAIN_BATCH), steps_per_epoch=train_steps,
              epochs=1, verbose=0)
    return {"flow": flow_rate, "train": train_rate,
            "train_flow": n / (time.perf_counter() - start)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=200, help="cnnlab batches per round")
    parser.add_argument("--keras-batches", type=int, default=40)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--keras-python", help="python with Keras + SciPy (default: the venv)")
    parser.add_argument("--keras-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keras_worker is not None:
        keras_worker(args.keras_worker)
        return
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    python = None if args.no_keras else keras_python(args.keras_python)
    x, y = cifar_like()
    results: dict[str, list[float]] = {"flow": [], "train": [], "train_flow": [], "keras": []}
    keras_version = None
    for round_ in range(args.rounds):
        for key, value in cnnlab_rates(x, y, args.batches, args.train_steps).items():
            results[key].append(value)
        if python is not None:
            keras = run_keras(python, args.keras_batches)
            results["keras"].append(keras["rate"])
            keras_version = keras["keras"]
        print(f"round {round_ + 1}: " + ", ".join(
            f"{k} {v[-1]:,.0f}/s" for k, v in results.items() if v), flush=True)
    median = {k: statistics.median(v) for k, v in results.items() if v}
    print(f"\ntorch {torch.__version__}, {os.cpu_count()} CPUs, {torch.get_num_threads()} "
          f"threads; Keras {keras_version or '-'}; medians of {args.rounds} rounds")
    print(f"{'measure':<52}{'images/s':>12}")
    rows = [("cnnlab ImageDataGenerator.flow (batch 64)", "flow"),
            ("Keras legacy ImageDataGenerator.flow (batch 64)", "keras"),
            ("CIFAR-10 lecture model, fit on arrays (batch 50)", "train"),
            ("CIFAR-10 lecture model, fit on cnnlab flow (batch 50)", "train_flow")]
    for label, key in rows:
        if key in median:
            print(f"{label:<52}{median[key]:>12,.0f}")
    if "keras" in median:
        print(f"cnnlab / Keras: {median['flow'] / median['keras']:.1f}x (target >= 20x)")
    print(f"cnnlab flow / training rate: {median['flow'] / median['train']:.1f}x "
          f"(target >= 5x)")


if __name__ == "__main__":
    main()
