"""Keras 3 model configs (``config.json`` of a ``.keras`` file) translated into cnnlab's.

Classes are looked up by name in cnnlab's layer registry only: nothing named in a config is
imported or executed. A ``Lambda`` (Python code), a custom registered object or a ``module``
outside ``keras.*`` is refused with a ``ValueError`` naming the layer and class.
"""

from __future__ import annotations

import inspect
from typing import Any

from cnnlab.layers.base import Layer
from cnnlab.layers.registry import is_registered, registered_class, registered_names

MODELS = ("Sequential", "Functional", "Model")
REFUSED = ("Lambda", "TFOpLambda", "SlicingOpLambda", "TorchModuleWrapper", "JaxLayer",
           "FlaxLayer", "TFSMLayer")
# Keras 3 options cnnlab layers lack, dropped when they hold these (off) values.
NEUTRAL: dict[str, tuple] = {
    "activity_regularizer": (None,), "synchronized": (False,), "sparse": (False, None),
    "ragged": (False, None), "optional": (False,), "lora_rank": (None,), "lora_alpha": (None,),
    "quantization_config": (None,), "renorm": (False,), "rms_scaling": (False,),
    "groups": (1,), "seed": (None,), "pad_to_aspect_ratio": (False,),
}


def config_from_keras3(config: dict) -> dict:
    """``{"class_name": "Sequential" | "Functional", "config": {...}}`` in cnnlab's format
    (:mod:`cnnlab.models.config`; ``registered_class(r["class_name"]).from_config(r["config"])``)
    for a Keras 3 model config (``config.json``; a bare inner config is accepted too).

    Strips ``module``/``registered_name``/``build_config``, turns nested objects
    (initializers, regularizers, constraints) into ``{"class_name", "config"}``, a DTypePolicy
    into its name, ``__tuple__`` into a list, Keras 3 inbound nodes (``args``/``kwargs`` with
    ``__keras_tensor__`` references) into ``[layer, node, tensor, kwargs]`` lists, and drops
    Keras 3 options that are off (``groups=1``, ``synchronized=False``, ...). Raises
    ``ValueError`` naming the layer and class for an unknown class, a ``Lambda`` (code is never
    executed), a custom registered object or a ``module`` outside ``keras.*``.
    """
    if not isinstance(config, dict):
        raise ValueError(f"Keras 3 config: expected a dict, got {type(config).__name__}")
    if "class_name" not in config:
        kind = "Functional" if "input_layers" in config else "Sequential"
        config = {"class_name": kind, "config": config}
    return _model_entry(config, "the model")


def _model_entry(entry: dict, owner: str) -> dict:
    _check_origin(entry, owner)
    kind = entry["class_name"]
    if kind not in MODELS:
        raise ValueError(f"{owner}: a model of class {kind!r} is not supported (cnnlab reads "
                         f"Sequential and Functional models; a subclassed model is Python code)")
    config = entry.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"{owner}: expected a 'config' with a 'layers' list")
    name = config.get("name")
    where = f"{kind} {name!r}"
    layers = [_layer_entry(layer, where) for layer in config["layers"]]
    out: dict[str, Any] = {"name": name, "trainable": bool(config.get("trainable", True)),
                           "layers": layers}
    if kind == "Sequential":
        shape = config.get("build_input_shape") or (entry.get("build_config") or {}).get(
            "input_shape")
        if shape is not None:
            out["build_input_shape"] = plain(shape, where)
        return {"class_name": "Sequential", "config": out}
    for layer, raw in zip(layers, config["layers"], strict=True):
        nodes = [_node(n, f"{layer['class_name']} {layer['name']!r}")
                 for n in raw.get("inbound_nodes") or []]
        layer["inbound_nodes"] = [refs for refs, _ in nodes]
        layer["inbound_structure"] = [structure for _, structure in nodes]
    out["input_layers"] = _tensor_refs(config.get("input_layers"), f"{where} input_layers")
    out["output_layers"] = _tensor_refs(config.get("output_layers"), f"{where} output_layers")
    out["multi_input"] = len(out["input_layers"]) > 1
    out["multi_output"] = len(out["output_layers"]) > 1
    return {"class_name": "Functional", "config": out}


def _layer_entry(entry: Any, where: str) -> dict:
    if isinstance(entry, dict):  # refuse foreign classes before looking further
        inner = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        _check_origin(entry, f"{entry.get('class_name')} "
                             f"{entry.get('name') or inner.get('name')!r} in {where}")
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise ValueError(f"{where}: bad layer entry, expected {{'class_name': str, 'config': "
                         f"dict}}, got {str(entry)[:200]}")
    kind, config = entry["class_name"], entry["config"]
    name = entry.get("name") or config.get("name")
    owner = f"{kind} {name!r}"
    if not isinstance(name, (str, type(None))):
        raise ValueError(f"{where}: {owner}: a layer name must be a string")
    if kind in MODELS:
        translated = _model_entry(entry, owner)
    else:
        _check_origin(entry, owner)
        if kind in REFUSED:
            raise ValueError(f"{owner}: the {kind} layer holds Python code (or a reference to "
                             f"it), which cnnlab never executes; it is not supported. Rebuild "
                             f"this part with built-in layers")
        if not is_registered(kind):
            raise ValueError(f"{owner}: layer class {kind!r} is not supported by cnnlab (it "
                             f"reads only its registered layers, never imports code named in "
                             f"a file); known: {', '.join(registered_names())}")
        layer_class = registered_class(kind)
        translated = {"class_name": kind,
                      "config": _layer_config(layer_class, config, owner)}
    translated["name"] = name if name is not None else translated["config"].get("name")
    return translated


def _check_origin(entry: dict, owner: str) -> None:
    """Refuse classes that come from outside Keras or from a custom registration."""
    kind, module = entry.get("class_name"), entry.get("module")
    if module is not None and (not isinstance(module, str)
                               or not (module == "keras" or module.startswith("keras."))):
        raise ValueError(f"{owner}: class {kind!r} from module {module!r} is not supported: "
                         f"cnnlab reads only Keras's own classes and never imports or executes "
                         f"code named in a file")
    registered = entry.get("registered_name")
    if registered is not None and registered != kind:
        raise ValueError(f"{owner}: {registered!r} is a custom registered object, which is "
                         f"not supported (never imported or executed)")


def _accepted(layer_class: type) -> set[str]:
    """Argument names the layer class takes (its ``__init__``/``_init`` and its bases')."""
    names: set[str] = set()
    for cls in layer_class.__mro__:
        for method in ("__init__", "_init"):
            if method in cls.__dict__:
                names |= {p.name for p in inspect.signature(cls.__dict__[method]).parameters
                          .values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if cls is Layer:
            break
    return names - {"self"}


def _layer_config(layer_class: type, config: dict, owner: str) -> dict:
    accepted = _accepted(layer_class)
    out = {}
    for key, value in config.items():
        value = plain(value, f"{owner} `{key}`")
        if key == "dtype" and not (value is None or isinstance(value, str)):
            raise ValueError(f"{owner}: dtype {str(value)[:120]} is not supported (a dtype "
                             f"name or a DTypePolicy is)")
        if key in accepted:
            out[key] = value
        elif key.startswith("renorm_") and not config.get("renorm"):
            continue
        elif value not in NEUTRAL.get(key, ()):
            raise ValueError(f"{owner}: Keras option {key}={value!r} is not supported by "
                             f"cnnlab's {layer_class.__name__}")
    return out


def plain(value: Any, where: str) -> Any:
    """A config value with Keras 3's serialized objects made plain cnnlab data: nested
    objects as ``{"class_name", "config"}``, ``__tuple__`` as a list, a DTypePolicy as its
    name; ``ValueError`` for anything that is code or comes from outside Keras."""
    if isinstance(value, list):
        return [plain(v, where) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("class_name")
    if not (isinstance(kind, str) and "config" in value and (
            "module" in value or "registered_name" in value or kind.startswith("__"))):
        return {k: plain(v, where) for k, v in value.items()}
    _check_origin(value, where)
    config = value["config"]
    if kind in ("__tuple__", "__numpy__") and isinstance(config, dict):
        return plain(config.get("value"), where)
    if kind.startswith("__"):
        raise ValueError(f"{where}: a serialized {kind} value is not supported (code and "
                         f"tensors in a config are never executed)")
    if kind == "function" and isinstance(config, str):
        return config  # a built-in function by name: 'relu', 'sparse_categorical_crossentropy'
    if kind.endswith("DTypePolicy"):
        if kind not in ("DTypePolicy", "FloatDTypePolicy") or not isinstance(config, dict):
            raise ValueError(f"{where}: dtype policy {kind!r} (quantized weights) is not "
                             f"supported")
        return config.get("name")
    return {"class_name": kind, "config": plain(config, where)}


def _node(node: Any, owner: str) -> tuple[list, str]:
    """One call of a layer as cnnlab's ``([[layer, node, tensor, kwargs], ...], structure)``."""
    if isinstance(node, list):  # Keras 2 form (Keras 2.13-2.15 .keras files)
        refs = [[*ref[:3], ref[3] if len(ref) > 3 else {}] for ref in node]
        return refs, "single" if len(refs) == 1 else "list"
    if not isinstance(node, dict) or not isinstance(node.get("args"), list):
        raise ValueError(f"{owner}: bad inbound node {str(node)[:200]}")
    args = node["args"]
    if len(args) != 1:
        raise ValueError(f"{owner}: called with {len(args)} positional arguments; cnnlab layers "
                         f"take one input (a tensor or a list of tensors)")
    kwargs = {}
    for key, value in (node.get("kwargs") or {}).items():
        if value is None:
            continue
        if key != "training" or not isinstance(value, bool):
            raise ValueError(f"{owner}: call argument {key}={str(value)[:80]} is not supported")
        kwargs[key] = value
    first = args[0]
    if isinstance(first, dict) and first.get("class_name") == "__tuple__":
        first = (first.get("config") or {}).get("value")
    tensors = first if isinstance(first, list) else [first]
    refs = [[*_history(t, owner), kwargs] for t in tensors]
    return refs, "list" if isinstance(first, list) else "single"


def _history(tensor: Any, owner: str) -> list:
    if isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__":
        history = (tensor.get("config") or {}).get("keras_history")
        if _is_ref(history):
            return list(history[:3])
    raise ValueError(f"{owner}: expected a Keras tensor reference as input, got "
                     f"{str(tensor)[:200]}")


def _is_ref(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str) \
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:3])


def _tensor_refs(value: Any, where: str) -> list:
    if _is_ref(value):
        return [list(value[:3])]
    if isinstance(value, list) and value and all(_is_ref(v) for v in value):
        return [list(v[:3]) for v in value]
    raise ValueError(f"{where}: expected [layer, node, tensor] references (a dict of named "
                     f"inputs/outputs is not supported), got {str(value)[:200]}")
