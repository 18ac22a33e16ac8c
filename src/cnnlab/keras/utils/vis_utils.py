"""``keras.utils.plot_model`` / ``model_to_dot``: the layer graph drawn with Graphviz.

One box per layer (``name (ClassName)``, optionally the input/output shapes, dtype,
activation, trainable flag), one arrow per connection; a ``Sequential`` model starts with its
input layer, as Keras draws it. Needs ``pydot`` (``pip install pydot``) and, to render an
image, Graphviz's ``dot`` program (``apt-get install graphviz``).

Difference from Keras: ``model_to_dot`` needs only pydot (Keras also requires Graphviz), so
the DOT source can be inspected where Graphviz is not installed; ``to_file='model.dot'``
writes that source without Graphviz too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from cnnlab import activations
from cnnlab.layers.base import Layer, format_shape
from cnnlab.models import Model, Sequential

INSTALL = ("pip install pydot (Python side) and Graphviz's dot program (apt-get install "
           "graphviz, or https://graphviz.org/download/)")


def _pydot() -> Any:
    try:
        import pydot
    except ImportError:
        raise ImportError(f"plot_model/model_to_dot need pydot and Graphviz: {INSTALL}") from None
    return pydot


def _graph(model: Model) -> tuple[list[Layer], list[tuple[Layer, Layer]]]:
    """The model's layers in computing order and its ``(from, to)`` connections."""
    if getattr(model, "graph", None) is not None:
        edges = []
        for node in model.graph.nodes:
            for tensor in node.input_tensors:
                edge = (tensor.node.layer, node.layer)
                if all(edge[0] is not a or edge[1] is not b for a, b in edges):
                    edges.append(edge)
        return list(model.graph.layers), edges
    if isinstance(model, Sequential):
        layers = list(model.layers)
        try:
            layers.insert(0, model.inputs[0].node.layer)
        except (AttributeError, IndexError):
            pass  # not built yet: no input layer to draw
        return layers, list(zip(layers, layers[1:], strict=False))
    raise ValueError(f"plot_model: {model.owner} is a subclassed model, whose graph is its "
                     f"Python code; draw a Sequential or functional model")


def _shape_text(layer: Layer, which: str) -> str:
    try:
        shape = getattr(layer, which)
    except (AttributeError, ValueError):
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return format_shape(shape) if isinstance(shape, tuple) else str(shape)


def _label(layer: Layer, show_shapes: bool, show_dtype: bool, show_layer_names: bool,
           show_layer_activations: bool, show_trainable: bool) -> str:
    name = getattr(layer, "class_name", None) if isinstance(layer, Model) else None
    kind = name or type(layer).__name__
    lines = [f"{layer.name} ({kind})" if show_layer_names else kind]
    if show_dtype:
        lines.append(f"dtype: {layer.dtype_policy or 'float32'}")
    if show_layer_activations and callable(getattr(layer, "activation", None)):
        lines.append(f"activation: {activations.serialize(layer.activation)}")
    if show_shapes:
        lines.append(f"input: {_shape_text(layer, 'input_shape')}")
        lines.append(f"output: {_shape_text(layer, 'output_shape')}")
    if show_trainable:
        lines.append(f"trainable: {'Y' if layer.trainable else 'N'}")
    return "\\n".join(lines)


def _in_range(layers: list[Layer], layer_range: Sequence[str] | None) -> list[Layer]:
    if layer_range is None:
        return layers
    if len(layer_range) != 2 or not all(isinstance(p, str) for p in layer_range):
        raise ValueError(f"plot_model: `layer_range` must be two layer-name patterns "
                         f"[first, last], got {layer_range!r}")
    indices = []
    for pattern in layer_range:
        found = [i for i, layer in enumerate(layers) if re.match(pattern, layer.name)]
        if not found:
            raise ValueError(f"plot_model: no layer name matches {pattern!r} of `layer_range`; "
                             f"layers: {[layer.name for layer in layers]}")
        indices.append(found[0])
    return layers[indices[0]:indices[1] + 1]


def model_to_dot(model: Model, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB",
                 expand_nested: bool = False, dpi: int = 96, subgraph: bool = False,
                 layer_range: Sequence[str] | None = None, show_layer_activations: bool = False,
                 show_trainable: bool = False) -> Any:
    """A ``pydot.Dot`` graph of ``model`` (Keras's arguments; ``rankdir='TB'`` top to bottom
    or ``'LR'`` left to right). ``expand_nested`` draws a nested model's layers inside a
    cluster instead of one box; ``subgraph`` returns a ``pydot.Cluster`` (used for that)."""
    pydot = _pydot()
    options = (show_shapes, show_dtype, show_layer_names, show_layer_activations,
               show_trainable)
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name, label=model.name)
    else:
        dot = pydot.Dot(graph_type="digraph")
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set_node_defaults(shape="box")
    layers, edges = _graph(model)
    kept = _in_range(layers, layer_range)
    ends: dict[int, tuple[list[str], list[str]]] = {}  # layer -> (entry ids, exit ids)
    for layer in kept:
        if expand_nested and isinstance(layer, Model):
            inner = model_to_dot(layer, *options[:3], rankdir, True, dpi, True, None,
                                 *options[3:])
            dot.add_subgraph(inner)
            inner_layers, inner_edges = _graph(layer)
            targets = {id(b) for _, b in inner_edges}
            sources = {id(a) for a, _ in inner_edges}
            ends[id(layer)] = ([str(id(x)) for x in inner_layers if id(x) not in targets],
                               [str(id(x)) for x in inner_layers if id(x) not in sources])
        else:
            dot.add_node(pydot.Node(str(id(layer)), label=_label(layer, *options)))
            ends[id(layer)] = ([str(id(layer))], [str(id(layer))])
    for a, b in edges:
        if id(a) in ends and id(b) in ends:
            for tail in ends[id(a)][1]:
                for head in ends[id(b)][0]:
                    dot.add_edge(pydot.Edge(tail, head))
    return dot


def plot_model(model: Model, to_file: str | os.PathLike = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 96,
               layer_range: Sequence[str] | None = None, show_layer_activations: bool = False,
               show_trainable: bool = False) -> Any:
    """Draw ``model`` to ``to_file``; the extension picks the format (``.png``, ``.svg``,
    ``.pdf``, ``.dot`` for the source). For a PNG, returns an ``IPython.display.Image`` when
    IPython is installed (a notebook then shows it), as Keras; else ``None``."""
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi, layer_range=layer_range,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable)
    path = os.fspath(to_file)
    extension = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    if extension in ("dot", "gv"):
        with open(path, "w", encoding="utf-8") as f:
            f.write(dot.to_string())
        return None
    try:
        data = dot.create(format=extension)
    except FileNotFoundError:
        raise ImportError(f"plot_model: Graphviz's dot program was not found, so it cannot "
                          f"write {path!r}: {INSTALL}") from None
    with open(path, "wb") as f:
        f.write(data)
    if extension == "png":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=path)
    return None
