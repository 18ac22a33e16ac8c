"""Model architecture as JSON data, and back — by registered class names only.

Sequential: ``{"name", "layers": [{"class_name", "config"}, ...], "build_input_shape"}``.
Functional (Keras's format): each layer entry adds ``"name"`` and ``"inbound_nodes"`` (a list
per call of ``[layer_name, node_index, tensor_index, kwargs]``), plus ``"input_layers"`` and
``"output_layers"``. Loading looks class names up in the layer registry and never imports or
evaluates anything named in the file.
"""

from __future__ import annotations

from typing import Any

from cnnlab.layers.base import Layer
from cnnlab.layers.keras_tensor import KerasTensor
from cnnlab.layers.registry import registered_class


def layer_entry(layer: Layer) -> dict:
    """``{"class_name", "config"}`` of one layer (Keras's serialized form)."""
    return {"class_name": getattr(layer, "class_name", type(layer).__name__),
            "config": layer.get_config()}


def layer_from_entry(entry: Any) -> Layer:
    """A new layer from :func:`layer_entry`'s data, its class looked up in the registry."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise ValueError(f"bad layer entry in model config: expected {{'class_name': str, "
                         f"'config': dict}}, got {str(entry)[:200]}")
    return registered_class(entry["class_name"]).from_config(entry["config"])


def sequential_config(model: Any) -> dict:
    """A ``Sequential``'s layers in order, and the input shape it was built for."""
    config: dict[str, Any] = {"name": model.name, "trainable": model.trainable,
                              "layers": [layer_entry(layer) for layer in model.layers]}
    if model.built:
        config["build_input_shape"] = list(model.input_shape_built)
    return config


def functional_config(model: Any) -> dict:
    """A functional model's layers with the calls that connect them (Keras's format)."""
    if model.graph is None:
        raise NotImplementedError(
            f"{model.owner}: a subclassed model's architecture is its Python code, which a "
            f"config cannot hold. Save the weights with save_weights() and rebuild the model "
            f"in code, or give {type(model).__name__} get_config() and from_config() as Keras "
            f"requires")
    graph = model.graph
    node_index = {}
    for node in graph.nodes:
        node_index[id(node)] = sum(1 for n in graph.nodes[:graph.nodes.index(node)]
                                   if n.layer is node.layer)

    def ref(tensor: KerasTensor) -> list:
        return [tensor.node.layer.name, node_index[id(tensor.node)], tensor.index]

    layers = []
    for layer in graph.layers:
        entry = layer_entry(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            [[*ref(t), node.kwargs] for t in node.input_tensors]
            for node in graph.nodes if node.layer is layer and node.input_tensors
        ]
        entry["inbound_structure"] = [_structure(node.inputs) for node in graph.nodes
                                      if node.layer is layer and node.input_tensors]
        layers.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": [ref(t) for t in graph.inputs],
            "output_layers": [ref(t) for t in graph.outputs],
            "multi_input": model._multi_in, "multi_output": model._multi_out}


def _structure(inputs: Any) -> str:
    """Whether a node was called on one tensor or a list (``Add()([a, b])``)."""
    return "list" if isinstance(inputs, (list, tuple)) else "single"


def model_from_config(config: dict, cls: type) -> Any:
    """Rebuild a ``Sequential`` or functional model from :func:`sequential_config`'s or
    :func:`functional_config`'s data."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError("bad model config: expected a dict with a 'layers' list")
    if "input_layers" not in config:
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config["layers"]:
            model.add(layer_from_entry(entry))
        if not model.built and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        return model
    return _functional_from_config(config, cls)


def _functional_from_config(config: dict, cls: type) -> Any:
    layers = {}
    pending = []
    for entry in config["layers"]:
        layer = layer_from_entry(entry)
        layers[entry["name"]] = layer
        structures = entry.get("inbound_structure") or []
        for i, inbound in enumerate(entry.get("inbound_nodes", [])):
            pending.append((layer, inbound, structures[i] if i < len(structures) else "list"))
    outputs: dict[tuple[str, int], list[KerasTensor]] = {}
    for name, layer in layers.items():
        if getattr(layer, "output", None) is not None and type(layer).__name__ == "InputLayer":
            outputs[(name, 0)] = [layer.output]
    counts: dict[str, int] = {}
    while pending:
        progressed = False
        for item in list(pending):
            layer, inbound, structure = item
            keys = [(ref[0], ref[1]) for ref in inbound]
            if not all(k in outputs for k in keys):
                continue
            tensors = [outputs[(r[0], r[1])][r[2]] for r in inbound]
            kwargs = inbound[0][3] if inbound and len(inbound[0]) > 3 else {}
            args = tensors if structure == "list" else tensors[0]
            result = layer(args, **(kwargs or {}))
            index = counts.get(layer.name, 0)
            counts[layer.name] = index + 1
            outputs[(layer.name, index)] = result if isinstance(result, list) else [result]
            pending.remove(item)
            progressed = True
        if not progressed:
            raise ValueError("bad model config: some layers' inputs are never produced")

    def pick(refs: list) -> list:
        try:
            return [outputs[(r[0], r[1])][r[2]] for r in refs]
        except (KeyError, IndexError, TypeError):
            raise ValueError(f"bad model config: unknown tensor reference in {refs}") from None

    ins, outs = pick(config["input_layers"]), pick(config["output_layers"])
    return cls(inputs=ins if config.get("multi_input", len(ins) > 1) else ins[0],
               outputs=outs if config.get("multi_output", len(outs) > 1) else outs[0],
               name=config.get("name"))


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """Rebuild a model (new weights) from ``model.to_json()``."""
    import json

    try:
        data = json.loads(json_string)
    except json.JSONDecodeError as err:
        raise ValueError(f"model_from_json: not valid JSON ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("class_name"), str):
        raise ValueError("model_from_json: expected {'class_name': ..., 'config': ...}")
    cls = (custom_objects or {}).get(data["class_name"]) or registered_class(data["class_name"])
    return cls.from_config(data.get("config") or {})
