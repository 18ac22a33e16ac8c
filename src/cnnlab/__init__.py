"""cnnlab: build, train, evaluate and see inside convolutional neural networks.

A Keras-compatible API (channels-last) on PyTorch::

    import cnnlab
    from cnnlab.layers import Conv2D, MaxPooling2D, Flatten, Dense

    model = cnnlab.Sequential([
        Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D(2), Flatten(), Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
"""

__version__ = "0.1.0"

from cnnlab import (  # noqa: E402
    activations,
    backend,
    callbacks,
    constraints,
    dashboard,  # registers fit(dashboard=True)
    datasets,
    explain,  # registers summary(explain=True)
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    runs,  # registers fit(run=...)
    utils,
)
from cnnlab.io import load_model  # noqa: E402
from cnnlab.layers import Input  # noqa: E402
from cnnlab.models import Model, Sequential  # noqa: E402
from cnnlab.utils import set_random_seed, to_categorical  # noqa: E402

__all__ = [
    "Input", "Model", "Sequential", "activations", "backend", "callbacks", "constraints",
    "dashboard", "datasets", "explain", "initializers", "layers", "load_model", "losses",
    "metrics", "models", "optimizers", "regularizers", "runs", "set_random_seed",
    "to_categorical", "utils",
]
