"""Memory of ``predict`` / ``evaluate`` on a long stream of images (issue 14, load checks).

``probe(method, images)`` runs a tiny CNN over ``images`` 28x28x1 float32 images that a Python
generator (``source="generator"``) or a ``Sequence`` (``source="sequence"``) makes fresh, batch
by batch (nothing is reused, so anything the library keeps shows in the process's memory), and
samples the resident set size (``VmRSS`` of ``/proc/self/status``) at every batch. It returns a
:class:`LoadFigures` ``(images, rss_start_mb, rss_peak_mb, seconds)``: the RSS after the warm-up
batches and its peak afterwards. :func:`allowed_growth_mb` is the bound the test asserts: a
slack plus twice the outputs ``predict`` returns (its per-batch outputs, then their
concatenation)::

    python tests/reliability/load_probe.py 1000000     # both methods, both sources, printed

``bench/reliability.py`` prints these figures; ``test_load_stream.py`` asserts the bounds.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

BATCH = 1000
CLASSES = 10
WARMUP_BATCHES = 10
SHAPE = (28, 28, 1)


SLACK_MB = 50.0


class LoadFigures(NamedTuple):
    images: int
    rss_start_mb: float  # after the warm-up batches
    rss_peak_mb: float  # highest RSS sampled after the warm-up
    seconds: float

    @property
    def growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_start_mb


def output_mb(method: str, images: int) -> float:
    """What ``predict`` returns (images x 10 float32); nothing for ``evaluate``."""
    return images * CLASSES * 4 / 2**20 if method == "predict" else 0.0


def allowed_growth_mb(method: str, images: int) -> float:
    """:data:`SLACK_MB` plus twice the outputs (the batches' outputs, then their
    concatenation, are alive together at the end of ``predict``)."""
    return SLACK_MB + 2 * output_mb(method, images)


def rss_mb() -> float:
    """This process's resident set size in MB (``VmRSS``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise OSError("no VmRSS in /proc/self/status")


class _Meter:
    """RSS sampled once per batch: the value after warm-up and the peak after it."""

    def __init__(self) -> None:
        self.batches, self.start, self.peak = 0, 0.0, 0.0

    def sample(self) -> None:
        self.batches += 1
        rss = rss_mb()
        if self.batches == WARMUP_BATCHES:
            self.start = self.peak = rss
        elif self.batches > WARMUP_BATCHES:
            self.peak = max(self.peak, rss)


def _batch(index: int) -> tuple[np.ndarray, np.ndarray]:
    """A fresh batch: images in [0, 1) and integer labels (seeded by the batch index)."""
    rng = np.random.default_rng(index)
    x = rng.random((BATCH, *SHAPE), dtype=np.float32)
    return x, rng.integers(0, CLASSES, BATCH)


def _generator(batches: int, meter: _Meter) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for index in range(batches):
        meter.sample()
        yield _batch(index)


def _sequence(batches: int, meter: _Meter):
    from cnnlab.utils import Sequence

    class Batches(Sequence):
        def __len__(self) -> int:
            return batches

        def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
            meter.sample()  # on a read-ahead thread: still this process's RSS
            return _batch(index)

    return Batches()


def tiny_model():
    """A small CNN (Conv2D 4x3x3 stride 2, max pooling, Dense 10): ~7,000 parameters."""
    from cnnlab import Sequential, layers

    model = Sequential([
        layers.Input(SHAPE),
        layers.Conv2D(4, 3, strides=2, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def probe(method: str, images: int, source: str = "generator") -> LoadFigures:
    """Stream ``images`` images through ``model.predict`` or ``model.evaluate``."""
    if method not in ("predict", "evaluate"):
        raise ValueError(f"method must be 'predict' or 'evaluate', got {method!r}")
    if images % BATCH or images // BATCH <= WARMUP_BATCHES:
        raise ValueError(f"images must be a multiple of {BATCH} above "
                         f"{BATCH * WARMUP_BATCHES}, got {images}")
    import torch

    batches, meter = images // BATCH, _Meter()
    model = tiny_model()
    data = _generator(batches, meter) if source == "generator" else _sequence(batches, meter)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops on a shared machine: 3x quicker; memory is the same
    started = time.perf_counter()
    try:
        if method == "predict":
            outputs = model.predict(data, verbose=0)
            if outputs.shape != (images, CLASSES):
                raise AssertionError(f"predict returned shape {outputs.shape}, expected "
                                     f"{(images, CLASSES)}")
        else:
            loss, accuracy = model.evaluate(data, verbose=0)
            if not (np.isfinite(loss) and 0.0 <= accuracy <= 1.0):
                raise AssertionError(f"evaluate returned loss {loss}, accuracy {accuracy}")
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - started
    meter.peak = max(meter.peak, rss_mb())  # the returned outputs too
    return LoadFigures(images, round(meter.start, 1), round(meter.peak, 1), round(seconds, 2))


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"pid {os.getpid()}: {count:,} images, batch {BATCH}")
    for kind in ("generator", "sequence"):
        for name in ("evaluate", "predict"):
            figures = probe(name, count, kind)
            print(f"{name:8} {kind:9} RSS {figures.rss_start_mb:7.1f} -> "
                  f"{figures.rss_peak_mb:7.1f} MB (+{figures.growth_mb:.1f}, allowed "
                  f"{allowed_growth_mb(name, count):.1f}) in {figures.seconds:.1f} s")
