"""What bf16 mixed precision costs in accuracy: the SPEC §7 LeNet on Fashion-MNIST, trained
twice in this process from the same initial weights on the same batch order, once in float32
and once under ``set_global_policy('mixed_bfloat16')`` (CPU autocast to bfloat16, float32
weights and optimizer state). Reports test accuracy, test loss and training time of each.

Where the CPU has no native bf16 (no AVX-512-BF16 / AMX; ``mixed_precision.native_bfloat16``
tells) bf16 is emulated and several times slower than float32: the accuracy figure still holds,
the time does not carry over to a bf16 CPU. Usage::

    .venv/bin/python bench/bf16_accuracy.py                  # 2 epochs, Adam, batch 128
    .venv/bin/python bench/bf16_accuracy.py --epochs 1 --limit 20000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import cnnlab  # noqa: E402
from cnnlab import mixed_precision  # noqa: E402
from cnnlab.datasets import fashion_mnist  # noqa: E402
from cnnlab.zoo import lenet_lecture as lenet  # noqa: E402


def train(policy: str, weights: list[np.ndarray], data: tuple, epochs: int) -> dict:
    """Train from ``weights`` under ``policy``; test accuracy/loss and seconds."""
    (x, y), (x_test, y_test) = data
    mixed_precision.set_global_policy(policy)
    cnnlab.set_random_seed(0)  # the same shuffling for both policies
    model = lenet(input_shape=(28, 28, 1), classes=10)
    model.set_weights(weights)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, batch_size=128, epochs=epochs, verbose=2)
    seconds = time.perf_counter() - start
    mixed_precision.set_global_policy("float32")  # evaluate both the same way, in float32
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    return {"policy": policy, "accuracy": accuracy, "loss": loss, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="first N training images")
    args = parser.parse_args()
    (x, y), (x_test, y_test) = fashion_mnist.load_data()
    x, y = x[: args.limit], y[: args.limit]
    scale = np.float32(1 / 255)
    data = ((x[..., None] * scale, y), (x_test[..., None] * scale, y_test))
    cnnlab.set_random_seed(0)
    weights = lenet(input_shape=(28, 28, 1), classes=10).get_weights()
    results = [train(policy, weights, data, args.epochs)
               for policy in ("float32", "mixed_bfloat16")]
    print(f"\nLeNet, Fashion-MNIST, {len(x):,} training images, {args.epochs} epochs, Adam, "
          f"batch 128; native bf16 here: {mixed_precision.native_bfloat16('cpu')}")
    print(f"{'policy':<16}{'test accuracy':>14}{'test loss':>11}{'train s':>9}")
    for r in results:
        print(f"{r['policy']:<16}{r['accuracy']:>14.4f}{r['loss']:>11.4f}{r['seconds']:>9.1f}")
    print(f"bf16 - float32 test accuracy: {results[1]['accuracy'] - results[0]['accuracy']:+.4f}")


if __name__ == "__main__":
    main()
