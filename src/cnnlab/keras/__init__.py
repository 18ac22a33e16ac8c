"""Keras compatibility namespace: ``import keras`` -> ``from cnnlab import keras``.

Mirrors the module paths lecture programs import (``keras.models``, ``keras.layers``,
``keras.optimizers``, ``keras.utils.np_utils``, ``keras.preprocessing.image``, ``keras.backend``,
...). It only re-exports cnnlab; no logic lives here beyond legacy-argument shims.
"""

from cnnlab.keras import (
    activations,
    applications,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    preprocessing,
    regularizers,
    utils,
)
from cnnlab.layers import Input
from cnnlab.models import Model, Sequential

__version__ = "2.15.0"  # the Keras API level cnnlab follows (with Keras 3 defaults)

__all__ = ["Input", "Model", "Sequential", "activations", "applications", "backend", "callbacks",
           "constraints", "datasets", "initializers", "layers", "losses", "metrics", "models",
           "optimizers", "preprocessing", "regularizers", "utils"]
