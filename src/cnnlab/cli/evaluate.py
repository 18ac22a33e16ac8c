"""``cnnlab evaluate`` and ``cnnlab predict``: a recorded run's model on its test set, or on
image files."""

from __future__ import annotations

import argparse

import numpy as np

from cnnlab.cli._options import at_least
from cnnlab.cli._store import run_model, run_test_labels


def cmd_evaluate(args: argparse.Namespace) -> None:
    """``cnnlab evaluate RUN``: test loss and accuracy of the run's checkpoint on its
    dataset's test set, printed and recorded in the run store."""
    from cnnlab.data.catalog import load_dataset
    from cnnlab.runs.store import RunStore

    record, model = run_model(args.run)
    data = load_dataset(record.config["data"])
    loss, accuracy = model.evaluate(data.x_test, run_test_labels(record.config, data),
                                    batch_size=512, verbose=0)
    RunStore().finish(record.id, record.status if record.status != "running" else "finished",
                      test_loss=loss, test_accuracy=accuracy)
    print(f"run {record.id}: test loss {loss:.4f}, test accuracy {accuracy:.4f}")


def cmd_predict(args: argparse.Namespace) -> None:
    """``cnnlab predict RUN IMAGE...``: the ``--top`` classes of each image with their
    probabilities; an image is resized to the run's ``(height, width)`` and scaled to [0, 1]."""
    from cnnlab.data.image_files import img_to_array, load_img

    at_least(1, top=args.top)
    record, model = run_model(args.run)
    height, width, channels = record.config["input_shape"]
    names = record.config.get("class_names") or [str(i) for i in range(10)]
    mode = "grayscale" if channels == 1 else "rgb"
    for path in args.images:
        image = img_to_array(load_img(path, color_mode=mode, target_size=(height, width)))
        probabilities = model.predict(image[None] / 255.0, verbose=0)[0]
        top = np.argsort(probabilities)[::-1][: args.top]
        ranked = ", ".join(f"{names[i]} {probabilities[i]:.3f}" for i in top)
        print(f"{path}: {ranked}")
