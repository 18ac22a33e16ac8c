"""``clone_model``: the same architecture with new, freshly initialized weights (Keras's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnlab.layers.base import Layer
from cnnlab.layers.core import InputLayer, Lambda
from cnnlab.layers.keras_tensor import KerasTensor
from cnnlab.layers.nest import flatten, map_structure
from cnnlab.models.model import Model
from cnnlab.models.sequential import Sequential


def clone_layer(layer: Layer) -> Layer:
    """The default ``clone_function``: ``type(layer).from_config(layer.get_config())``, a new
    layer with the same configuration and name and new weights (a ``Lambda`` gets the same
    function, since its code has no config)."""
    if isinstance(layer, Lambda):
        return Lambda(layer.function, output_shape=layer.fixed_output_shape, name=layer.name,
                      trainable=layer.trainable)
    return type(layer).from_config(layer.get_config())


def clone_model(model: Model, input_tensors: Any = None,
                clone_function: Callable[[Layer], Layer] | None = None) -> Model:
    """A new model with ``model``'s architecture and new weights (initialized afresh, not
    copied: ``clone.set_weights(model.get_weights())`` copies them), as ``keras.models
    .clone_model``. The clone is not compiled.

    Args:
        model: a ``Sequential`` or functional ``Model``. A subclassed model is refused: its
            architecture is Python code (create a new instance instead), as in Keras.
        input_tensors: symbolic tensor(s) to build the clone on, instead of new ``Input``s
            with the original shapes; the clone's inputs are the ``Input``s they come from
            (layers applied before them stay in the model). A ``Sequential`` then comes back
            as a functional ``Model`` (as in Keras 3).
        clone_function: ``layer -> new layer``, called once per layer (a layer shared by
            several calls stays shared); default :func:`clone_layer`. Returning the layer
            itself shares it (and its weights) with ``model``. Input layers are never passed.

    Example: ``clone = clone_model(model); clone.compile(...)`` trains an independent copy.
    """
    if not isinstance(model, Model):
        raise TypeError(f"clone_model: `model` must be a cnnlab Model or Sequential, got "
                        f"{type(model).__name__}")
    clone_function = clone_function or clone_layer
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_function)
    if model.graph is None:
        raise ValueError(f"clone_model: {model.owner} is a subclassed model, whose architecture "
                         f"is its Python code; create a new {type(model).__name__}(...) instead "
                         f"(Keras's clone_model also takes only Sequential and functional models)")
    return _clone_functional(model, input_tensors, clone_function)


def _new_layer(layer: Layer, clone_function: Callable[[Layer], Layer]) -> Layer:
    new = clone_function(layer)
    if not isinstance(new, Layer):
        raise TypeError(f"clone_model: `clone_function` must return a cnnlab layer, got "
                        f"{type(new).__name__} for {layer.owner}")
    return new


def _given_inputs(input_tensors: Any, expected: int, owner: str) -> list[KerasTensor]:
    tensors = flatten(input_tensors)
    if len(tensors) != expected:
        raise ValueError(f"clone_model: {owner} has {expected} input(s), but `input_tensors` "
                         f"holds {len(tensors)}")
    for t in tensors:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"clone_model: `input_tensors` must be symbolic tensors (from "
                            f"Input(...) or a layer called on one), got {t!r}")
    return tensors


def source_inputs(tensors: list[KerasTensor]) -> list[KerasTensor]:
    """The ``Input`` tensors that ``tensors`` are computed from, in first-seen order."""
    found: dict[int, KerasTensor] = {}
    stack, seen = list(reversed(tensors)), set()
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if isinstance(t.node.layer, InputLayer):
            found[id(t)] = t
        else:
            stack.extend(reversed(t.node.input_tensors))
    return list(found.values())


def _model_on(inputs: list[KerasTensor], outputs: Any, name: str) -> Model:
    """A functional model from the sources of ``inputs`` (so layers applied before them,
    e.g. preprocessing, stay in the model) to ``outputs``."""
    sources = source_inputs(inputs)
    return Model(sources if len(sources) > 1 else sources[0], outputs, name=name)


def _clone_sequential(model: Sequential, input_tensors: Any,
                      clone_function: Callable[[Layer], Layer]) -> Model:
    layers = [_new_layer(layer, clone_function) for layer in model.layers]
    if input_tensors is not None:
        x = inputs = _given_inputs(input_tensors, 1, model.owner)
        x = x[0]
        for layer in layers:
            x = layer(x)
        return _model_on(inputs, x, model.name)
    start = []
    if model.built and isinstance(model.input_shape_built, tuple):
        start = [InputLayer(batch_shape=model.input_shape_built)]
    return Sequential(start + layers, name=model.name, trainable=model.trainable)


def _clone_functional(model: Model, input_tensors: Any,
                      clone_function: Callable[[Layer], Layer]) -> Model:
    graph = model.graph
    if input_tensors is not None:
        new_inputs = _given_inputs(input_tensors, len(graph.inputs), model.owner)
    else:
        new_inputs = [InputLayer.from_config(t.node.layer.get_config()).output
                      for t in graph.inputs]
    tensors: dict[int, KerasTensor] = {id(old): new for old, new in zip(graph.inputs,
                                                                         new_inputs, strict=True)}
    clones: dict[int, Layer] = {}
    for node in graph.nodes:
        if isinstance(node.layer, InputLayer):
            continue
        layer = node.layer
        if id(layer) not in clones:
            clones[id(layer)] = _new_layer(layer, clone_function)
        args = map_structure(lambda t: tensors[id(t)], node.inputs)
        result = clones[id(layer)](args, **node.kwargs)
        for old, new in zip(node.outputs, flatten(result), strict=True):
            tensors[id(old)] = new
    outs = [tensors[id(t)] for t in graph.outputs]
    if input_tensors is not None:
        return _model_on(new_inputs, outs if model._multi_out else outs[0], model.name)
    return Model(new_inputs if model._multi_in else new_inputs[0],
                 outs if model._multi_out else outs[0], name=model.name)
