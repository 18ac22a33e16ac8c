"""The compile arguments of a model as JSON data (``compile_config`` in ``config.json``).

``{"optimizer": optimizers.serialize(...), "loss", "metrics", "weighted_metrics",
"loss_weights"}``. Losses and metrics are stored as names, as ``{"class_name", "config"}`` or,
for the user's own functions, as ``{"custom_object": name}`` that ``custom_objects`` must map
back when loading; a dict by output name is ``{"by_output": {...}}``.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from cnnlab import losses, metrics, optimizers
from cnnlab.io._utils import warn

_UNSAVABLE = object()  # a loss/metric that has no JSON form


def compile_config(model: Any) -> dict | None:
    """The compile arguments as JSON data; ``None`` when not compiled or not storable."""
    if model.optimizer is None or model.objectives is None:
        return None
    objectives = model.objectives
    try:
        optimizer = optimizers.serialize(model.optimizer)
        json.dumps(optimizer)
    except (TypeError, ValueError) as exc:
        warn(f"{model.owner}: the optimizer cannot be saved ({exc}); the model is saved "
             f"uncompiled: call compile() again after loading")
        return None
    loss, dropped = _encode_objectives(objectives.loss_ids, losses, (losses,))
    if dropped:
        warn(f"{model.owner}: the loss {', '.join(dropped)} cannot be saved (only built-in "
             f"losses and named functions can); the model is saved uncompiled: call compile() "
             f"again after loading")
        return None
    config = {"optimizer": optimizer, "loss": loss}
    for key, value in (("metrics", objectives.metric_ids),
                       ("weighted_metrics", objectives.weighted_metric_ids)):
        config[key], dropped = _encode_objectives(value, metrics, (metrics, losses))
        if dropped:
            warn(f"{model.owner}: the metric(s) {', '.join(dropped)} cannot be saved (only "
                 f"built-in metrics and named functions can); saved without them")
    config["loss_weights"] = _numbers(objectives.loss_weight_ids)
    return config


def _numbers(value: Any) -> Any:
    """``loss_weights`` (a number, list or dict of numbers, NumPy's included) as JSON data."""
    if isinstance(value, dict):
        return {str(k): _numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numbers(v) for v in value]
    return None if value is None else float(value)


def _encode_objectives(value: Any, module: Any, builtins: tuple) -> tuple[Any, list[str]]:
    """JSON form of a ``loss``/``metrics`` compile argument, and the entries left out.

    Leaves: names stay strings; objects that ``module.get`` rebuilds from
    ``{"class_name", "config"}`` become that; functions of the ``builtins`` modules their name;
    other named functions ``{"custom_object": name}``. A dict by
    output name becomes ``{"by_output": {...}}``. Unsavable leaves are dropped from lists and
    become ``None`` in dicts.
    """
    dropped: list[str] = []

    def encode(item: Any) -> Any:
        if isinstance(item, dict):
            return {"by_output": {str(k): _or_none(encode(v)) for k, v in item.items()}}
        if isinstance(item, (list, tuple)):
            return [e for e in (encode(v) for v in item) if e is not _UNSAVABLE]
        encoded = _encode_leaf(item, module, builtins)
        if encoded is _UNSAVABLE:
            dropped.append(repr(item))
        return encoded

    return _or_none(encode(value)), dropped


def _or_none(value: Any) -> Any:
    return None if value is _UNSAVABLE else value


def _encode_leaf(item: Any, module: Any, builtins: tuple) -> Any:
    if item is None or isinstance(item, str):
        return item
    if inspect.isfunction(item):
        if any(getattr(m, item.__name__, None) is item for m in builtins):
            return item.__name__
        return {"custom_object": item.__name__} if item.__name__.isidentifier() else _UNSAVABLE
    try:
        entry = {"class_name": type(item).__name__, "config": item.get_config()}
        json.dumps(entry)
        if type(module.get(entry)) is type(item):
            return entry
    except (AttributeError, TypeError, ValueError):
        pass
    return _UNSAVABLE


def compile_from_config(model: Any, config: dict, custom_objects: dict[str, Any],
                        source: str) -> None:
    """``model.compile(...)`` with the arguments of a ``compile_config`` (inverse of
    :func:`compile_config`); ``ValueError`` naming ``source`` when they do not compile."""
    try:
        optimizer = optimizers.deserialize(config["optimizer"])
        loss = _decode_objectives(config["loss"], custom_objects)
        model.compile(optimizer=optimizer, loss=loss,
                      metrics=_decode_objectives(config.get("metrics"), custom_objects),
                      weighted_metrics=_decode_objectives(config.get("weighted_metrics"),
                                                          custom_objects),
                      loss_weights=config.get("loss_weights"))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError,
            RecursionError) as exc:
        raise ValueError(f"{source}: cannot compile the model from its compile_config ({exc}); "
                         f"load with compile=False and compile it yourself") from None


def _decode_objectives(value: Any, custom_objects: dict[str, Any]) -> Any:
    """Inverse of :func:`_encode_objectives`, taking custom functions from custom_objects."""
    if isinstance(value, list):
        return [_decode_objectives(v, custom_objects) for v in value]
    if isinstance(value, dict) and set(value) == {"by_output"} and isinstance(
            value["by_output"], dict):
        return {k: _decode_objectives(v, custom_objects) for k, v in value["by_output"].items()}
    if isinstance(value, dict) and set(value) == {"custom_object"}:
        name = value["custom_object"]
        if name not in custom_objects:
            raise ValueError(f"the model was compiled with the custom function {name!r}: pass "
                             f"custom_objects={{{name!r}: {name}}}")
        return custom_objects[name]
    if value is None or isinstance(value, str) or (
            isinstance(value, dict) and set(value) == {"class_name", "config"}):
        return value
    raise ValueError(f"bad loss or metric entry {str(value)[:120]}")

