"""Benchmark worker for the Keras API: cnnlab (and its opt-ins ``cnnlab-jit``,
``cnnlab-bf16``), Keras 3 on TensorFlow, Keras 3 on torch.

The same code trains all three (cnnlab is Keras-compatible: only the import differs):
``model.fit(x, y, batch_size, epochs=1, shuffle=False, verbose=0)`` and
``model.predict(x, batch_size=1000, verbose=0)``. Run by ``bench/train_speed.py``; the Keras
implementations run with the python of ``bench/.venv-keras``.
"""

from __future__ import annotations

import os
from typing import Any

import _measure
import _nets
import numpy as np


def load_api(impl: str, threads: int) -> tuple[Any, dict[str, str]]:
    """The package (``cnnlab`` or ``keras``) and the versions that matter, with ``threads``
    intra-op threads (TensorFlow: intra- and inter-op pools)."""
    if impl.startswith("cnnlab"):
        import torch

        import cnnlab
        from cnnlab import mixed_precision
        torch.set_num_threads(threads)
        if impl == "cnnlab-bf16":
            mixed_precision.set_global_policy("mixed_bfloat16")
        return cnnlab, {"cnnlab": cnnlab.__version__, "torch": torch.__version__}
    backend = {"keras-tensorflow": "tensorflow", "keras-torch": "torch"}[impl]
    os.environ["KERAS_BACKEND"] = backend  # read when keras is first imported
    if backend == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        versions = {"tensorflow": tf.__version__}
    else:
        import torch
        torch.set_num_threads(threads)
        versions = {"torch": torch.__version__}
    import keras
    return keras, {"keras": keras.__version__, **versions}


def set_initial_weights(model: Any, weights: dict[str, list[np.ndarray]]) -> None:
    """Copy ``{layer name: Keras arrays}`` into the model, checking the layers match."""
    weighted = {layer.name for layer in model.layers if layer.weights}
    if weighted != set(weights):
        raise ValueError(f"the model's weighted layers {sorted(weighted)} differ from the "
                         f"weights file's {sorted(weights)}")
    for name, arrays in weights.items():
        model.get_layer(name).set_weights(arrays)


def main() -> None:
    job = _measure.job_from_argv()
    api, versions = load_api(job["impl"], job["threads"])
    net = _nets.NETS[job["net"]]
    api.utils.set_random_seed(job["seed"])
    model, source = _nets.build(net, api)
    set_initial_weights(model, _measure.load_weights(job["weights"]))
    model.compile(optimizer=_nets.optimizer(net, api), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"],
                  **({"jit_compile": True} if job["impl"] == "cnnlab-jit" else {}))

    def fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        logs = model.fit(x, y, batch_size=net.batch_size, epochs=1, shuffle=False,
                         verbose=0).history
        return logs["loss"][-1], logs["accuracy"][-1]

    def predict(x: np.ndarray) -> Any:
        return model.predict(x, batch_size=_measure.PREDICT_BATCH, verbose=0)

    _measure.serve(job, fit, predict, versions, model_source=source)


if __name__ == "__main__":
    main()
