"""Receptive field and jump of every layer's output, in input pixels, per spatial axis.

The field ``r`` is how many input pixels one output can see; the jump ``j`` is the distance in
input pixels between two neighbouring outputs. The input has ``r = 1, j = 1``; then

- convolution / pooling (``shapes.receptive_field``): ``r += (F' − 1)·j``, ``j ·= S``;
- transposed convolution / upsampling (``shapes.transposed_receptive_field``):
  ``r += (ceil(F'/S) − 1)·j``, ``j /= S`` — the jump becomes a fraction of a pixel and later
  fields are upper bounds, shown rounded up;
- zero padding, cropping and every layer that keeps the spatial grid (activations, batch
  normalization, dropout, ``Dense`` on the channel axis, ...): unchanged;
- merged branches (``Add``, ``Concatenate``): the largest field and jump over the incoming
  paths, axis by axis — the widest region that can influence the output (a ResNet identity
  path never shrinks it);
- ``Flatten``, global pooling, ``Reshape`` and anything that leaves the grid: the whole input.

A model whose input has no spatial axes (vectors) has no receptive fields.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from cnnlab import shapes
from cnnlab.layers.base import Layer
from cnnlab.layers.conv import BaseConv
from cnnlab.layers.conv_transpose import ConvTranspose
from cnnlab.layers.core import InputLayer
from cnnlab.layers.cropping import Cropping
from cnnlab.layers.pooling import Pooling
from cnnlab.layers.up_sampling import UpSampling
from cnnlab.layers.zero_padding import ZeroPadding
from cnnlab.models.model import Model
from cnnlab.models.sequential import Sequential

Field = tuple[tuple[int | Fraction, int | Fraction], ...]  # (r, j) per spatial axis
WHOLE = "whole input"  # the field of an output that sees every input pixel


def input_field(shape: tuple) -> Field:
    """``r = 1, j = 1`` on each spatial axis of a Keras input shape ``(N, *spatial, C)``."""
    return ((1, 1),) * max(len(shape) - 2, 0)


def merge_fields(fields: list[Field | str]) -> Field | str:
    """The field of a merge: per axis the largest ``r`` and ``j`` of the incoming paths."""
    if any(f == WHOLE for f in fields) or len({len(f) for f in fields}) > 1:
        return WHOLE
    return tuple((max(r for r, _ in axis), max(j for _, j in axis))
                 for axis in zip(*fields, strict=True))


def _keeps_grid(input_shape: Any, output_shape: Any) -> bool:
    """Same rank and sizes except possibly the channel axis (last, or 1 for channels_first)."""
    if isinstance(input_shape, list):
        input_shape = input_shape[0]
    if not isinstance(input_shape, tuple) or not isinstance(output_shape, tuple) \
            or len(input_shape) != len(output_shape):
        return False
    changed = [i for i, (a, b) in enumerate(zip(input_shape, output_shape, strict=True))
               if a != b]
    return changed in ([], [len(output_shape) - 1], [1])


def layer_field(layer: Layer, field: Field | str, input_shape: Any,
                output_shape: Any) -> Field | str:
    """The field of ``layer``'s output given the field of its input (see the module rules)."""
    if field == WHOLE or not field:
        return field
    if isinstance(layer, ConvTranspose):
        return tuple(shapes.transposed_receptive_field(r, j, k, s, d) for (r, j), k, s, d in zip(
            field, layer.kernel_size, layer.strides, layer.dilation_rate, strict=True))
    if isinstance(layer, BaseConv):
        return tuple(shapes.receptive_field(r, j, k, s, d) for (r, j), k, s, d in zip(
            field, layer.kernel_size, layer.strides, layer.dilation_rate, strict=True))
    if isinstance(layer, Pooling):
        return tuple(shapes.receptive_field(r, j, k, s) for (r, j), k, s in zip(
            field, layer.pool_size, layer.strides, strict=True))
    if isinstance(layer, UpSampling):
        taps = 2 if getattr(layer, "interpolation", "nearest") == "bilinear" else 1
        return tuple(shapes.transposed_receptive_field(r, j, taps * s, s)
                     for (r, j), s in zip(field, layer.size, strict=True))
    if isinstance(layer, (ZeroPadding, Cropping)) or _keeps_grid(input_shape, output_shape):
        return field
    return WHOLE


def model_fields(model: Model, inputs: list[Field | str] | None = None
                 ) -> tuple[dict[str, Field | str], list[Field | str]]:
    """Fields of every layer of ``model`` (by name, first call of a shared layer) and of its
    outputs. ``inputs`` gives the fields arriving at a nested model's inputs.

    A subclassed model (its own ``call``) has no layer graph to follow: its layers get no
    field and its output counts as seeing the whole input.
    """
    if isinstance(model, Sequential):
        return _sequential_fields(model, inputs)
    if model.graph is None:
        return {}, [WHOLE]
    graph = model.graph
    values: dict[int, Field | str] = {}
    per_layer: dict[str, Field | str] = {}
    for position, tensor in enumerate(graph.inputs):
        given = inputs[position] if inputs is not None else input_field(tensor.shape)
        values[id(tensor)] = given
    for node in graph.nodes:
        if isinstance(node.layer, InputLayer):
            per_layer.setdefault(node.layer.name, values[id(node.outputs[0])])
            continue
        arriving = [values[id(t)] for t in node.input_tensors]
        in_shapes = [t.shape for t in node.input_tensors]
        field = _through(node.layer, arriving, in_shapes if len(in_shapes) > 1 else in_shapes[0],
                         node.outputs[0].shape)
        for tensor in node.outputs:
            values[id(tensor)] = field
        per_layer.setdefault(node.layer.name, field)
    return per_layer, [values[id(t)] for t in graph.outputs]


def _sequential_fields(model: Sequential, inputs: list[Field | str] | None
                       ) -> tuple[dict[str, Field | str], list[Field | str]]:
    shape = model.input_shape
    field = inputs[0] if inputs is not None else input_field(shape)
    per_layer: dict[str, Field | str] = {}
    for layer in model.layers:
        out_shape = layer.compute_output_shape(shape)
        field = _through(layer, [field], shape, out_shape)
        per_layer[layer.name] = field
        shape = out_shape
    return per_layer, [field]


def _through(layer: Layer, arriving: list[Field | str], input_shape: Any,
             output_shape: Any) -> Field | str:
    """One layer call: nested models recurse, merges combine their inputs first."""
    if isinstance(layer, Model):
        return model_fields(layer, arriving)[1][0]
    return layer_field(layer, merge_fields(arriving), input_shape, output_shape)
