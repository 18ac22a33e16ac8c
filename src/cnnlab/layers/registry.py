"""The layer class registry and the automatic layer names of a session.

Every public layer class registers itself by class name (and Keras's legacy aliases) with
``@register()``, so that a saved model's JSON architecture, which names its classes, loads
without importing anything from the file. Automatic names (``conv2d``, ``conv2d_1``, ...) are
counted per session; ``clear_session()`` starts them afresh, as Keras's does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["clear_session", "is_registered", "kept_names", "register", "registered_class",
           "registered_names", "registered_while", "snake_case", "unique_name"]

_LAYER_REGISTRY: dict[str, type] = {}
_NAME_COUNTS: dict[str, int] = {}


def register(*aliases: str) -> Callable[[type], type]:
    """Class decorator: make a layer loadable by class name (and legacy aliases) from JSON.

    Example: ``@register("Convolution2D")`` on ``class Conv2D`` registers both names.
    """

    def decorate(cls: type) -> type:
        for name in (cls.__name__, *aliases):
            _LAYER_REGISTRY[name] = cls
        return cls

    return decorate


def registered_class(class_name: str) -> type:
    """The layer class registered under ``class_name``; never imports anything.

    Raises ``ValueError`` naming the known classes for an unknown name.
    """
    try:
        return _LAYER_REGISTRY[class_name]
    except KeyError:
        raise ValueError(
            f"unknown layer class {class_name!r}; known layers: "
            f"{', '.join(registered_names())}"
        ) from None


def is_registered(class_name: str) -> bool:
    """Whether a layer or model class is registered under ``class_name``."""
    return class_name in _LAYER_REGISTRY


def registered_names() -> list[str]:
    """Every registered class name, sorted."""
    return sorted(_LAYER_REGISTRY)


@contextmanager
def registered_while(classes: dict[str, type]) -> Iterator[None]:
    """Register ``classes`` by the given names, for names not registered yet, inside the
    ``with`` block only (``load_model(custom_objects=...)``; process-wide: not thread-safe)."""
    added = [name for name in classes if name not in _LAYER_REGISTRY]
    _LAYER_REGISTRY.update({name: classes[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            _LAYER_REGISTRY.pop(name, None)


@contextmanager
def kept_names() -> Iterator[None]:
    """Automatic layer names made inside the ``with`` block are not counted afterwards (a
    throw-away build leaves ``conv2d``, ``conv2d_1``, ... where they were)."""
    counts = dict(_NAME_COUNTS)
    try:
        yield
    finally:
        _NAME_COUNTS.clear()
        _NAME_COUNTS.update(counts)


def clear_session() -> None:
    """Reset automatic layer names (``conv2d``, ``conv2d_1``, ...), as Keras's does."""
    _NAME_COUNTS.clear()


def snake_case(name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d``, ``Conv2D`` -> ``conv2d`` (Keras's naming)."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str, one_based: bool = False) -> str:
    """``base``, ``base_1``, ``base_2``, ... per session (``base_1``, ``base_2`` if one-based,
    as Keras 2 names inputs ``input_1``)."""
    count = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = count + 1
    if one_based:
        return f"{base}_{count + 1}"
    return base if count == 0 else f"{base}_{count}"
