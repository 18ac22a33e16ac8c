"""Framework overhead: cnnlab ``fit``/``predict`` against the hand-written PyTorch loop, in ONE
process, interleaved, on every benchmark net.

``bench/train_speed.py`` runs each implementation in its own process, which is the fair way to
compare frameworks but on this kind of VM mixes in a process-to-process spread of up to ±30 %
(the same worker, started twice, runs at 66 or 86 ms/step). This script removes that spread
for the one comparison where both sides are PyTorch: the cnnlab model and the PyTorch module of
``bench/_torch_nets.py`` start from the same weights, train on the same batches (no shuffling)
and predict the same images, alternating cnnlab / PyTorch / cnnlab / ... ``--rounds`` times.
It reports the median of the per-round time ratios (cnnlab / PyTorch; below 1 is faster).

    .venv/bin/python bench/overhead.py                        # all nets, ~6 min
    .venv/bin/python bench/overhead.py --nets cifar --steps 40 --rounds 7
    .venv/bin/python bench/overhead.py --nets lenet --steps 50 --rounds 15   # per-call cost

Each round is one ``fit`` call of ``--steps`` steps (with ``metrics=['accuracy']``), so a small
``--steps`` shows what a ``fit`` call costs beyond its steps (input checks, sources, callbacks,
metric state): ``--steps 1`` against ``--steps 50``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))

import _measure  # noqa: E402
import _nets  # noqa: E402
import _torch_nets  # noqa: E402
import _torch_worker  # noqa: E402

import cnnlab  # noqa: E402

PREDICT_IMAGES, PREDICT_BATCH = 5000, _measure.PREDICT_BATCH


def pair(net: _nets.Net, jit_compile: bool = False) -> tuple:
    """The cnnlab model (compiled; with ``jit_compile``, its forward pass through
    ``torch.compile``) and the PyTorch module + optimizer, same initial weights."""
    cnnlab.set_random_seed(0)
    model, _ = _nets.build(net, cnnlab)
    weights = {layer.name: layer.get_weights() for layer in model.layers if layer.get_weights()}
    for name, arrays in weights.items():  # as bench/_keras_worker.py loads the initial weights
        model.get_layer(name).set_weights(arrays)
    module = _torch_nets.build(net.name, weights)
    optimizer = _torch_worker.make_optimizer(net, module.parameters())
    model.compile(optimizer=_nets.optimizer(net, cnnlab), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit_compile)
    return model, module, optimizer


def timings(net: _nets.Net, steps: int, rounds: int) -> dict[str, list[float]]:
    """Per round: seconds per training step and per predicted image, for both sides."""
    model, module, optimizer = pair(net)
    batch = net.batch_size
    rng = np.random.default_rng(0)
    shape = (28, 28, 1) if net.dataset == "fashion_mnist" else _nets.CIFAR
    x = rng.random((steps * batch, *shape), dtype=np.float32)
    y = rng.integers(0, 10, steps * batch)
    x_test = rng.random((PREDICT_IMAGES, *shape), dtype=np.float32)

    def torch_fit() -> None:
        _torch_worker.train_pass(module, optimizer, x, y, batch)

    def torch_predict() -> None:
        _torch_worker.predict_all(module, x_test)

    sides = {
        "cnnlab_train": lambda: model.fit(x, y, batch_size=batch, shuffle=False, verbose=0),
        "torch_train": torch_fit,
        "cnnlab_predict": lambda: model.predict(x_test, batch_size=PREDICT_BATCH, verbose=0),
        "torch_predict": torch_predict,
    }
    for run in sides.values():  # warm-up: oneDNN primitives, allocator, lazy optimizer state
        run()
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, run in sides.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", default=",".join(_nets.NETS))
    parser.add_argument("--steps", type=int, default=30, help="training steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.steps} steps "
          f"and {PREDICT_IMAGES} predicted images per round, {args.rounds} rounds, medians")
    print(f"{'net':<10}{'cnnlab ms/step':>15}{'torch ms/step':>15}{'train ratio':>13}"
          f"{'cnnlab img/s':>14}{'torch img/s':>13}{'predict ratio':>15}")
    for name in args.nets.split(","):
        net = _nets.NETS[name]
        s = timings(net, args.steps, args.rounds)
        train = statistics.median(a / b for a, b in zip(s["cnnlab_train"], s["torch_train"],
                                                        strict=True))
        predict = statistics.median(a / b for a, b in zip(s["cnnlab_predict"],
                                                          s["torch_predict"], strict=True))
        ms = {k: 1000 * statistics.median(v) / args.steps for k, v in s.items()}
        rate = {k: PREDICT_IMAGES / statistics.median(v) for k, v in s.items()}
        print(f"{name:<10}{ms['cnnlab_train']:>15.1f}{ms['torch_train']:>15.1f}{train:>13.3f}"
              f"{rate['cnnlab_predict']:>14,.0f}{rate['torch_predict']:>13,.0f}{predict:>15.3f}",
              flush=True)


if __name__ == "__main__":
    main()
