"""``model.summary()``: the table Keras 2 prints, with the same numbers.

Columns: ``Layer (type)``, ``Output Shape``, ``Param #`` (and ``Connected to`` for functional
models), then ``Total params``, ``Trainable params``, ``Non-trainable params``. Columns widen
when a name is longer than Keras's default width instead of cutting it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cnnlab.layers.base import Layer, format_shape


def shape_text(layer: Layer) -> str:
    """A layer's output shape as Keras prints it (``multiple`` for a shared layer)."""
    from cnnlab.layers.core import InputLayer

    if len(layer._inbound_nodes) > 1 and not isinstance(layer, InputLayer):
        return "multiple"
    try:
        shape = layer.output_shape
    except AttributeError:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    text = format_shape(shape)
    return f"[{text}]" if isinstance(layer, InputLayer) else text


def param_count(layer: Layer) -> int:
    """Scalars in a layer's weights (0 until it is built)."""
    return sum(t.numel() for t in layer.weights) if layer.built else 0


def connections(model: Any, layer: Layer) -> list[str]:
    """``['conv2d[0][0]', ...]``: the inbound tensors of each of the layer's nodes."""
    if model.graph is None:
        return []
    texts = []
    for node in model.graph.nodes:
        if node.layer is layer:
            texts += [f"{name}[{n}][{i}]" for name, n, i in model.graph.inbound_layers(node)]
    return texts


def print_summary(model: Any, line_length: int | None = None,
                  positions: Sequence[float] | None = None,
                  print_fn: Callable[[str], Any] | None = None,
                  show_trainable: bool = False) -> None:
    """Print Keras's table: layer (type), output shape, param #, connections of a functional
    model, and the totals (trainable / non-trainable)."""
    if not model.built:
        raise ValueError(
            f"{model.owner} has not been built yet, so it has no shapes to show. Give the first "
            f"layer `input_shape=`, call `build((None, ...))`, or `fit` the model first."
        )
    print_fn = print_fn or print
    functional = model.graph is not None
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional
                                                            else [])
    if show_trainable:
        headers.append("Trainable")
    rows = []
    for layer in model.layers:
        links = connections(model, layer) if functional else []
        kind = getattr(layer, "class_name", type(layer).__name__)
        row = [f"{layer.name} ({kind})", shape_text(layer), str(param_count(layer))]
        if functional:
            row.append(links[0] if links else "")
        if show_trainable:
            row.append("Y" if layer.trainable else "N")
        rows.append((row, links[1:]))
    line_length = line_length or (98 if functional else 65)
    fractions = positions or ([.33, .55, .67, 1.] if functional else [.45, .85, 1.])
    stops = [int(line_length * p) if p <= 1 else int(p) for p in fractions][:len(headers)]
    while len(stops) < len(headers):
        stops.append(stops[-1] + 12)
    widths = _widths(stops, [r for r, _ in rows], headers)
    total = sum(widths)

    def line(fields: Sequence[str]) -> str:
        return "".join(f.ljust(w) for f, w in zip(fields, widths, strict=False)).rstrip()

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * total)
    print_fn(line(headers))
    print_fn("=" * total)
    for i, (row, extra_links) in enumerate(rows):
        print_fn(line(row))
        for link in extra_links:
            print_fn(line(["", "", ""] + [link]))
        print_fn("=" * total if i == len(rows) - 1 else "_" * total)
    weights = model.weights
    trainable_ids = {id(t) for t in model.trainable_weights}
    n_all = sum(t.numel() for t in weights)
    n_trainable = sum(t.numel() for t in weights if id(t) in trainable_ids)
    print_fn(f"Total params: {n_all:,}")
    print_fn(f"Trainable params: {n_trainable:,}")
    print_fn(f"Non-trainable params: {n_all - n_trainable:,}")
    print_fn("_" * total)


def _widths(stops: list[int], rows: list[list[str]], headers: list[str]) -> list[int]:
    """Column widths from Keras's stop positions, widened so no field is cut."""
    widths = [stops[0]] + [b - a for a, b in zip(stops, stops[1:], strict=False)]
    for fields in [headers, *rows]:
        for i, field in enumerate(fields):
            widths[i] = max(widths[i], len(field) + 1)
    return widths
