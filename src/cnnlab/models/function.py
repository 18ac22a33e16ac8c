"""``keras.backend.function``: run part of a layer graph, from symbolic inputs to outputs.

The Keras-2 way to read intermediate activations::

    get_3rd_layer_output = K.function([model.layers[0].input], [model.layers[3].output])
    layer_output = get_3rd_layer_output([x])[0]

With ``K.learning_phase()`` among the inputs, its value (0 = inference, 1 = training) picks
the mode: ``K.function([model.input, K.learning_phase()], [out])([x, 1])`` runs dropout.

Outputs may be symbolic expressions (``K.mean(layer.output[..., 0])``) and the symbolic
gradients of ``K.gradients``: the graph then runs with autograd, the inputs requiring gradients
(Deep Learning with Python, 1st ed., 5.4: filter visualization and class activation maps).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from cnnlab.layers.keras_tensor import KerasTensor
from cnnlab.layers.symbolic import Gradients


class LearningPhase:
    """The placeholder ``K.learning_phase()`` returns: an input of ``K.function`` that takes
    0 (inference) or 1 (training)."""

    def __repr__(self) -> str:
        return "<learning_phase>"


_LEARNING_PHASE = LearningPhase()


def learning_phase() -> LearningPhase:
    """The learning-phase placeholder for :func:`function`'s inputs."""
    return _LEARNING_PHASE


def function(inputs: Any, outputs: Any, updates: Any = None, name: str | None = None,
             **kwargs: Any) -> Callable[[Sequence[Any]], Any]:
    """A callable ``f(values) -> arrays`` computing ``outputs`` from ``inputs``.

    ``inputs``/``outputs`` are symbolic tensors (``model.input``, ``layer.output``), one or a
    list; the callable takes one array per input (a list, in order) and returns NumPy arrays
    (a list when ``outputs`` is a list). It runs in inference mode unless a
    ``learning_phase()`` input is given 1. ``updates`` (graph-mode variable updates) cannot
    be supported: use ``model.fit`` or ``tf.GradientTape`` with an optimizer instead.
    """
    from cnnlab.models.model import Model

    if updates:
        raise NotImplementedError("K.function: `updates` (TF1 graph-mode updates) is not "
                                  "supported; train with model.fit or tf.GradientTape + "
                                  "optimizer.apply_gradients")
    if kwargs:
        raise TypeError(f"K.function: unexpected keyword argument(s) {sorted(kwargs)}")
    input_list = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    many_outputs = isinstance(outputs, (list, tuple))
    output_list = list(outputs) if many_outputs else [outputs]
    phase_at = [i for i, t in enumerate(input_list) if isinstance(t, LearningPhase)]
    tensors = [t for t in input_list if not isinstance(t, LearningPhase)]
    for role, group in (("inputs", tensors), ("outputs", output_list)):
        for t in group:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"K.function: `{role}` must be symbolic tensors such as "
                                f"model.input or layer.output, got {type(t).__name__}")
    graph_model = Model(tensors, output_list, name=name or "function")
    differentiates = any(isinstance(node.layer, Gradients) for node in graph_model.graph.nodes)

    def run(values: Sequence[Any]) -> Any:
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if len(values) != len(input_list):
            raise ValueError(f"K.function: expected {len(input_list)} input value(s), got "
                             f"{len(values)}")
        training = bool(values[phase_at[0]]) if phase_at else False
        arrays = [torch.as_tensor(np.asarray(v, dtype=np.float32), device=graph_model.device)
                  for i, v in enumerate(values) if i not in phase_at]
        if differentiates:
            with torch.enable_grad():
                arrays = [a.requires_grad_(True) if a.is_floating_point() else a
                          for a in arrays]
                results = [r.detach() for r in graph_model.graph.run(arrays, training=training)]
        else:
            with torch.inference_mode():
                results = graph_model.graph.run(arrays, training=training)
        results = [r.cpu().numpy() for r in results]
        return results if many_outputs else results[0]

    return run
