"""Transfer learning, measured offline: a CNN pretrained on Fashion-MNIST classes 0-4
(T-shirt, trouser, pullover, dress, coat) is reused for classes 5-9 (sandal, shirt, sneaker,
bag, ankle boot) with only 100 labelled images per class.

Three ways to learn the new classes from the same 500 images are compared on the full test set
of classes 5-9 (5,000 images):

* scratch: the same architecture, randomly initialized, trained on the 500 images;
* feature extraction: the frozen pretrained base runs once (``predict``), a small classifier
  is trained on its features;
* fine-tuning: frozen base + new head trained, then the last conv block is unfrozen and the
  model recompiled at a 10x lower learning rate for a few more epochs.

Run: ``python examples/transfer_fashion_mnist.py [--seeds 0 1 2] [--quick]``
(about a minute per seed on 2 CPU cores; figures in ``examples/README.md``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cnnlab.keras.datasets import fashion_mnist
from cnnlab.keras.layers import Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from cnnlab.keras.models import Sequential
from cnnlab.keras.optimizers import Adam
from cnnlab.keras.utils import set_random_seed

PER_CLASS = 100  # labelled images per new class
LOSS = "sparse_categorical_crossentropy"


def conv_base(name: str = "base") -> Sequential:
    """Two VGG-style conv blocks, 28x28x1 -> 7x7x64 (fine-tuning unfreezes ``block2_*``)."""
    return Sequential([
        Input((28, 28, 1)),
        Conv2D(32, 3, padding="same", activation="relu", name="block1_conv1"),
        Conv2D(32, 3, padding="same", activation="relu", name="block1_conv2"),
        MaxPooling2D(2, name="block1_pool"),
        Conv2D(64, 3, padding="same", activation="relu", name="block2_conv1"),
        Conv2D(64, 3, padding="same", activation="relu", name="block2_conv2"),
        MaxPooling2D(2, name="block2_pool"),
    ], name=name)


def head(classes: int = 5) -> list:
    """The classifier on top of the base: Flatten, Dense 64 ReLU, Dropout, Dense softmax."""
    return [Flatten(), Dense(64, activation="relu"), Dropout(0.5),
            Dense(classes, activation="softmax")]


def load_split(seed: int, quick: bool) -> dict[str, np.ndarray]:
    """Old classes (all training images), 100 images per new class, and both test sets."""
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train = x_train[..., None].astype("float32") / 255.0
    x_test = x_test[..., None].astype("float32") / 255.0
    old, new_test = y_train < 5, y_test >= 5
    rng = np.random.default_rng(seed)
    few = np.concatenate([rng.choice(np.flatnonzero(y_train == c), PER_CLASS, replace=False)
                          for c in range(5, 10)])
    x_old, y_old = x_train[old], y_train[old]
    if quick:  # half of the pretraining images
        x_old, y_old = x_old[:15000], y_old[:15000]
    return {"x_old": x_old, "y_old": y_old,
            "x_old_test": x_test[y_test < 5], "y_old_test": y_test[y_test < 5],
            "x_few": x_train[few], "y_few": y_train[few] - 5,
            "x_new_test": x_test[new_test], "y_new_test": y_test[new_test] - 5}


def accuracy(model: Sequential, x: np.ndarray, y: np.ndarray) -> float:
    return float(model.evaluate(x, y, batch_size=500, verbose=0)[1])


def pretrain(d: dict, epochs: int) -> tuple[Sequential, float]:
    """Train base + head on the old classes; return the base and the old-class test accuracy."""
    base = conv_base("pretrained_base")
    model = Sequential([base, *head()])
    model.compile(Adam(1e-3), LOSS, metrics=["accuracy"])
    model.fit(d["x_old"], d["y_old"], epochs=epochs, batch_size=64, verbose=0)
    return base, accuracy(model, d["x_old_test"], d["y_old_test"])


def from_scratch(d: dict, epochs: int) -> float:
    model = Sequential([conv_base("scratch_base"), *head()])
    model.compile(Adam(1e-3), LOSS, metrics=["accuracy"])
    model.fit(d["x_few"], d["y_few"], epochs=epochs, batch_size=32, verbose=0)
    return accuracy(model, d["x_new_test"], d["y_new_test"])


def feature_extraction(base: Sequential, d: dict, epochs: int) -> float:
    """The frozen base runs once over the images; only the classifier is trained."""
    features = base.predict(d["x_few"], batch_size=500, verbose=0)
    test_features = base.predict(d["x_new_test"], batch_size=500, verbose=0)
    classifier = Sequential([Input(features.shape[1:]), *head()])
    classifier.compile(Adam(1e-3), LOSS, metrics=["accuracy"])
    classifier.fit(features, d["y_few"], epochs=epochs, batch_size=32, verbose=0)
    return accuracy(classifier, test_features, d["y_new_test"])


def fine_tuning(base: Sequential, d: dict, head_epochs: int, tune_epochs: int) -> float:
    """Head on the frozen base, then the last conv block unfrozen at a lower learning rate."""
    base.trainable = False
    model = Sequential([base, *head()])
    model.compile(Adam(1e-3), LOSS, metrics=["accuracy"])
    model.fit(d["x_few"], d["y_few"], epochs=head_epochs, batch_size=32, verbose=0)
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith("block2")
    model.compile(Adam(1e-4), LOSS, metrics=["accuracy"])  # recompile: the flags take effect
    model.fit(d["x_few"], d["y_few"], epochs=tune_epochs, batch_size=32, verbose=0)
    return accuracy(model, d["x_new_test"], d["y_new_test"])


def main(seed: int = 0, quick: bool = False) -> dict[str, float]:
    """One run: the pretraining accuracy (old classes) and the three new-class accuracies.

    Every phase starts from ``set_random_seed(seed)``, so scratch does not depend on how the
    pretraining went. ``quick`` pretrains 2 epochs on 15,000 images instead of 3 on 30,000.
    """
    d = load_split(seed, quick)
    set_random_seed(seed)
    base, pretrained = pretrain(d, epochs=2 if quick else 3)
    head_epochs, tune_epochs = 20, 10
    # every way to learn the new classes gets the same number of epochs over the 500 images
    set_random_seed(seed)
    scratch = from_scratch(d, head_epochs + tune_epochs)
    set_random_seed(seed)
    extracted = feature_extraction(base, d, head_epochs + tune_epochs)
    set_random_seed(seed)
    tuned = fine_tuning(base, d, head_epochs, tune_epochs)
    return {"pretraining": pretrained, "scratch": scratch, "feature_extraction": extracted,
            "fine_tuning": tuned}


def print_table(runs: dict[int, dict[str, float]], seconds: dict[int, float]) -> None:
    names = ["pretraining", "scratch", "feature_extraction", "fine_tuning"]
    print(f"{'seed':>6} " + " ".join(f"{n:>18}" for n in names) + f" {'seconds':>8}")
    for seed, result in runs.items():
        print(f"{seed:>6} " + " ".join(f"{result[n]:>18.4f}" for n in names)
              + f" {seconds[seed]:>8.1f}")
    for label, reduce in (("mean", np.mean), ("min", np.min)):
        print(f"{label:>6} " + " ".join(f"{reduce([r[n] for r in runs.values()]):>18.4f}"
                                        for n in names))
    gaps = [min(r["feature_extraction"], r["fine_tuning"]) - r["scratch"] for r in runs.values()]
    print(f"smallest gap over scratch (feature extraction or fine-tuning): {min(gaps):.4f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--quick", action="store_true",
                        help="pretrain 2 epochs on 15,000 images instead of 3 on 30,000")
    args = parser.parse_args()
    runs, seconds = {}, {}
    for s in args.seeds:
        start = time.perf_counter()
        runs[s] = main(seed=s, quick=args.quick)
        seconds[s] = time.perf_counter() - start
    print_table(runs, seconds)
