"""Nested structures: a model's inputs or outputs as one leaf or nested lists/tuples of leaves.

``flatten`` lists the leaves in order; ``map_structure`` maps them, keeping the nesting (what
``tf.nest.flatten`` and ``tf.nest.map_structure`` do for lists and tuples).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["flatten", "map_structure"]


def flatten(structure: Any) -> list:
    """Leaves of nested lists/tuples (a single leaf becomes a one-element list).

    Example: ``flatten([a, (b, [c])]) == [a, b, c]``; ``flatten(a) == [a]``.
    """
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def map_structure(fn: Callable, structure: Any) -> Any:
    """Apply ``fn`` to the leaves of nested lists/tuples, keeping the nesting.

    Example: ``map_structure(len, [a, (b,)]) == [len(a), (len(b),)]``.
    """
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, item) for item in structure)
    return fn(structure)
