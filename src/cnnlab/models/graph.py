"""The layer graph of a functional model: built from symbolic tensors, run on real ones.

``Graph(inputs, outputs)`` walks back from the outputs through the nodes recorded when layers
were called on :class:`KerasTensor`s, orders them so that every node comes after the nodes it
reads (a topological order), and can then run that order on tensors or on shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnlab.layers.base import Layer
from cnnlab.layers.core import InputLayer
from cnnlab.layers.keras_tensor import KerasTensor, Node
from cnnlab.layers.nest import flatten, map_structure


class Graph:
    """Topologically ordered nodes from ``inputs`` (from ``Input``) to ``outputs``."""

    def __init__(self, inputs: Sequence[KerasTensor], outputs: Sequence[KerasTensor],
                 owner: str):
        for role, tensors in (("inputs", inputs), ("outputs", outputs)):
            for t in tensors:
                if not isinstance(t, KerasTensor):
                    raise TypeError(f"{owner}: `{role}` must be symbolic tensors from Input() "
                                    f"and layer calls, got {type(t).__name__}")
        for t in inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"{owner}: every entry of `inputs` must come from Input(), got "
                                 f"the output of {t.node.layer.owner}")
        self.inputs, self.outputs = list(inputs), list(outputs)
        self.nodes = self._ordered_nodes(owner)
        self.release_after = self._last_readers()
        self.layers: list[Layer] = []
        for node in self.nodes:
            if all(node.layer is not seen for seen in self.layers):
                self.layers.append(node.layer)

    def _ordered_nodes(self, owner: str) -> list[Node]:
        """Depth-first post-order from the outputs; checks every path reaches an input."""
        order: list[Node] = []
        done: set[int] = set()
        given_inputs = {id(t.node) for t in self.inputs}

        def visit(node: Node, path: tuple[int, ...]) -> None:
            if id(node) in done:
                return
            if id(node) in path:
                raise ValueError(f"{owner}: the layer graph has a cycle at {node.layer.owner}")
            if isinstance(node.layer, InputLayer) and id(node) not in given_inputs:
                raise ValueError(f"{owner}: the outputs depend on {node.layer.owner}, which is "
                                 f"not listed in `inputs`")
            for tensor in node.input_tensors:
                visit(tensor.node, (*path, id(node)))
            done.add(id(node))
            order.append(node)

        for tensor in self.inputs:
            visit(tensor.node, ())
        for tensor in self.outputs:
            visit(tensor.node, ())
        return order

    def _last_readers(self) -> dict[int, list[int]]:
        """Node index -> ids of the tensors no later node reads (freed after that node), so
        a forward pass holds only the live intermediates, not all of them."""
        last: dict[int, int] = {}
        for index, node in enumerate(self.nodes):
            for tensor in node.input_tensors:
                last[id(tensor)] = index
        keep = {id(t) for t in self.outputs}
        release: dict[int, list[int]] = {}
        for tensor_id, index in last.items():
            if tensor_id not in keep:
                release.setdefault(index, []).append(tensor_id)
        return release

    def run(self, inputs: Sequence[torch.Tensor], training: bool) -> list[torch.Tensor]:
        """Compute the outputs from real input tensors (one per ``Input``)."""
        values: dict[int, Any] = {id(k): v for k, v in zip(self.inputs, inputs, strict=True)}
        for index, node in enumerate(self.nodes):
            if isinstance(node.layer, InputLayer):
                continue
            args = map_structure(lambda t: values[id(t)], node.inputs)
            result = node.layer(args, **node.call_kwargs(training))
            for tensor, value in zip(node.outputs, flatten(result), strict=True):
                values[id(tensor)] = value
            for tensor_id in self.release_after.get(index, ()):
                del values[tensor_id]
        return [values[id(t)] for t in self.outputs]

    def output_shapes(self, input_shapes: Sequence[tuple]) -> list:
        """Shape inference along the graph with each layer's ``compute_output_shape``."""
        shapes: dict[int, Any] = {id(k): s for k, s in zip(self.inputs, input_shapes,
                                                            strict=True)}
        for node in self.nodes:
            if isinstance(node.layer, InputLayer):
                continue
            out = node.layer.compute_output_shape(map_structure(lambda t: shapes[id(t)],
                                                                node.inputs))
            outs = out if isinstance(out, list) else [out]
            for tensor, shape in zip(node.outputs, outs, strict=True):
                shapes[id(tensor)] = shape
        return [shapes[id(t)] for t in self.outputs]

    def inbound_layers(self, node: Node) -> list[tuple[str, int, int]]:
        """``(layer name, node index, tensor index)`` of each input of ``node``."""
        return [(t.node.layer.name, t.node.layer._inbound_nodes.index(t.node), t.index)
                for t in node.input_tensors]
