"""A training with ``fit(dashboard=True)`` for the browser test (run as a separate process).

    python tests/dashboard/live_training.py IMAGES EPOCHS

Trains a small CNN on the first IMAGES Fashion-MNIST training images (the digits dataset when
Fashion-MNIST is not on this machine), prints the dashboard URL, then keeps serving until its
standard input closes, so the test can look at the finished run before the process ends.
"""

import sys

import numpy as np

import cnnlab
from cnnlab.data.catalog import load_dataset
from cnnlab.layers import Conv2D, Dense, Flatten, MaxPooling2D


def main() -> None:
    images, epochs = int(sys.argv[1]), int(sys.argv[2])
    try:
        data = load_dataset("fashion_mnist")
        x, y = data.x_train[:images], data.y_train[:images]
    except (OSError, ValueError):  # no Fashion-MNIST files here: the bundled digits, repeated
        data = load_dataset("digits")
        repeat = -(-images // len(data.x_train))
        x = np.tile(data.x_train, (repeat, 1, 1, 1))[:images]
        y = np.tile(data.y_train, repeat)[:images]
    cnnlab.set_random_seed(0)
    model = cnnlab.Sequential([
        Conv2D(8, 3, padding="same", activation="relu", input_shape=data.input_shape,
               name="conv_a"),
        MaxPooling2D(2),
        Conv2D(16, 3, padding="same", activation="relu", name="conv_b"),
        MaxPooling2D(2), Flatten(), Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=epochs,
              validation_split=0.1, verbose=0, dashboard=True)
    print("training done", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
