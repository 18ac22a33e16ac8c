"""The explained summary: every number of ``model.summary()`` with the arithmetic behind it.

Per layer: the output size per spatial axis (``(28 + 2·0 − 3)/1 + 1 = 26``; for ``'same'``
TensorFlow's ``ceil(28/2) = 14`` and the padding it chooses), the parameter formula
(``(1·3·3 + 1)·32 = 320``), the receptive field and jump in input pixels (rules in
:mod:`cnnlab.explain.receptive`), the multiply-accumulates per sample and the activation memory
of one sample's output in float32. Totals: parameters (equal to ``model.count_params()``),
MACs and activation memory (every layer's output, the input excluded).

Example::

    >>> print(format_explained_summary(model))          # or model.summary(explain=True)
    conv2d (Conv2D) -> (None, 26, 26, 32)
      output size  H, W: (28 + 2·0 − 3)/1 + 1 = 26
      parameters   (1·3·3 + 1)·32 = 320
      receptive    3×3 input pixels, jump 1
      ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from cnnlab.explain import formulas, receptive
from cnnlab.layers.base import Layer, format_shape
from cnnlab.layers.conv import BaseConv
from cnnlab.layers.conv_utils import spatial_shape
from cnnlab.layers.core import InputLayer
from cnnlab.layers.cropping import Cropping
from cnnlab.layers.merging import Concatenate
from cnnlab.layers.pooling import GlobalPooling, Pooling
from cnnlab.layers.reshaping import Flatten
from cnnlab.layers.up_sampling import UpSampling
from cnnlab.layers.zero_padding import ZeroPadding
from cnnlab.models.model import Model


@dataclass(frozen=True)
class LayerExplanation:
    """The numbers of one layer and the arithmetic behind them (all per sample).

    ``receptive_field``: input pixels one output sees per spatial axis (the input size after
    ``Flatten``/global pooling, ``None`` when unknown or when the input has no spatial axes);
    ``jump``: input pixels between neighbouring outputs (``None`` off the grid).
    ``macs``/``activation_bytes`` are ``None`` when an input size is unknown.
    """

    name: str
    class_name: str
    output_shape: str
    size_lines: tuple[str, ...]
    params: int
    params_formula: str
    non_trainable_params: int
    receptive_field: tuple[int, ...] | None
    jump: tuple[int | Fraction, ...] | None
    receptive_text: str
    macs: int | None
    macs_formula: str
    activation_bytes: int | None
    memory_formula: str


def explain_model(model: Model) -> list[LayerExplanation]:
    """One :class:`LayerExplanation` per entry of ``model.layers`` (Sequential or functional)."""
    if not model.built:
        raise ValueError(f"{model.owner} has not been built yet, so it has no shapes to explain. "
                         f"Give the first layer `input_shape=`, call `build((None, ...))`, or "
                         f"`fit` the model first.")
    fields, _ = receptive.model_fields(model)
    input_shape = model.input_shape
    if isinstance(input_shape, list):
        input_shape = input_shape[0]
    image_size = tuple(input_shape[1:-1])
    return [explain_layer(layer, fields.get(layer.name), image_size) for layer in model.layers]


def explain_layer(layer: Layer, field: receptive.Field | str | None,
                  image_size: tuple = ()) -> LayerExplanation:
    """Explain one built layer, given the receptive field of its output (``None``: unknown).

    ``image_size`` is the model input's spatial size (the field of a whole-input output).
    """
    in_shape = layer.batch_input_shape if isinstance(layer, InputLayer) else layer.input_shape
    out_shape = layer.output_shape
    if isinstance(layer, Model):
        inner = explain_model(layer)
        params = sum(e.params for e in inner)
        params_text = f"sum over its {len(inner)} layers = {params:,}"
        known = [e.macs for e in inner]
        macs = None if None in known else sum(known)
        macs_text = "" if macs is None else f"sum over its layers = {macs:,}"
    else:
        params, params_text = formulas.param_formula(layer, in_shape)
        macs, macs_text = formulas.mac_formula(layer, in_shape, out_shape)
    memory, memory_text = formulas.memory_formula(out_shape)
    rf, jump, rf_text = _field_parts(field, image_size)
    return LayerExplanation(
        name=layer.name, class_name=getattr(layer, "class_name", type(layer).__name__),
        output_shape=_shape_text(out_shape), size_lines=tuple(size_lines(layer, in_shape)),
        params=params, params_formula=params_text,
        non_trainable_params=sum(t.numel() for t in layer.non_trainable_weights),
        receptive_field=rf, jump=jump, receptive_text=rf_text, macs=macs,
        macs_formula=macs_text, activation_bytes=memory, memory_formula=memory_text)


def size_lines(layer: Layer, input_shape: tuple | list) -> list[str]:
    """How the layer's output size follows from its input size, with the numbers filled in."""
    if isinstance(layer, (BaseConv, Pooling)):
        return formulas.conv_size_lines(layer, input_shape)
    if isinstance(layer, (ZeroPadding, Cropping, UpSampling)):
        return _spatial_layer_lines(layer, input_shape)
    if isinstance(layer, Flatten) and len(input_shape) > 2:
        dims = input_shape[1:]
        return [f"{formulas.dot(dims)} = {math.prod(dims):,}"]
    if isinstance(layer, GlobalPooling):
        spatial = spatial_shape(input_shape, layer.data_format)
        how = "max" if "Max" in type(layer).__name__ else "mean"
        return [f"{how} over {formulas.dot(spatial)} positions per channel"]
    if isinstance(layer, Concatenate):
        axis = layer.axis % len(input_shape[0])
        sizes = [s[axis] for s in input_shape]
        if None not in sizes:
            return [f"axis {layer.axis}: {' + '.join(map(str, sizes))} = {sum(sizes)}"]
    return []


def _spatial_layer_lines(layer: ZeroPadding | Cropping | UpSampling,
                         input_shape: tuple) -> list[str]:
    spatial = spatial_shape(input_shape, layer.data_format)
    rank = len(spatial)

    def text(i: int, sides: list[tuple[str, str]]) -> str:
        size = spatial[i]
        if size is None:
            return formulas.UNKNOWN_SIZE
        if isinstance(layer, UpSampling):
            return f"{size}·{layer.size[i]} = {size * layer.size[i]}"
        before, after = layer.padding[i] if isinstance(layer, ZeroPadding) else layer.cropping[i]
        sign = "+" if isinstance(layer, ZeroPadding) else "−"
        out = size + before + after if sign == "+" else size - before - after
        return f"{size} {sign} {before} {sign} {after} = {out}"

    if isinstance(layer, UpSampling):
        keys = list(zip(spatial, layer.size, strict=True))
    else:
        pairs = layer.padding if isinstance(layer, ZeroPadding) else layer.cropping
        keys = list(zip(spatial, pairs, strict=True))
    return formulas.axis_lines(rank, keys, text)


def _field_parts(field: receptive.Field | str | None, image_size: tuple
                 ) -> tuple[tuple[int, ...] | None, tuple | None, str]:
    if field is None:
        return None, None, "?"
    if field == receptive.WHOLE:
        known = bool(image_size) and None not in image_size
        return (tuple(image_size) if known else None), None, "whole input"
    if not field:
        return None, None, ""
    rf = tuple(math.ceil(r) for r, _ in field)
    jump = tuple(j if isinstance(j, int) or j.denominator != 1 else int(j) for _, j in field)
    jump_text = str(jump[0]) if len(set(jump)) == 1 else "×".join(map(str, jump))
    return rf, jump, f"{'×'.join(map(str, rf))} input pixels, jump {jump_text}"


def _shape_text(shape: tuple | list) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return format_shape(shape)


def format_explained_summary(model: Model, line_length: int = 78) -> str:
    """The explained summary as text: one block per layer, then the totals."""
    rows = explain_model(model)
    lines = [f'Model: "{model.name}" (explained; all numbers per sample)', "=" * line_length]
    for i, row in enumerate(rows):
        lines.append(f"{row.name} ({row.class_name}) -> {row.output_shape}")
        for label, text in _detail(row):
            lines.append(f"  {label:<12} {text}")
        lines.append("=" * line_length if i == len(rows) - 1 else "_" * line_length)
    lines += _totals(rows)
    return "\n".join(lines)


def _detail(row: LayerExplanation) -> list[tuple[str, str]]:
    details = [("output size", text) for text in row.size_lines]
    if row.class_name != "InputLayer":
        details.append(("parameters", row.params_formula))
    if row.receptive_text:
        details.append(("receptive", row.receptive_text))
    if row.macs_formula:
        details.append(("MACs", row.macs_formula))
    if row.class_name != "InputLayer":
        details.append(("memory", row.memory_formula))
    return details


def _totals(rows: list[LayerExplanation]) -> list[str]:
    counted = [r for r in rows if r.class_name != "InputLayer"]
    params = sum(r.params for r in rows)
    frozen = sum(r.non_trainable_params for r in rows)
    lines = [f"Total params: {params:,}", f"Trainable params: {params - frozen:,}",
             f"Non-trainable params: {frozen:,}"]
    macs = [r.macs for r in counted]
    memory = [r.activation_bytes for r in counted]
    unknown = " (layers of unknown size left out)"
    lines.append(f"Multiply-accumulates: {sum(m for m in macs if m is not None):,}"
                 + (unknown if None in macs else ""))
    lines.append(f"Activation memory (float32 outputs): "
                 f"{formulas.human_bytes(sum(m for m in memory if m is not None))}"
                 + (unknown if None in memory else ""))
    return lines
