"""Features that ``Model``'s methods offer but packages above ``models`` own.

``fit(run=...)`` records into the run store (:mod:`cnnlab.runs`), ``fit(dashboard=True)``
serves the live dashboard (:mod:`cnnlab.dashboard`) and ``summary(explain=True)`` prints the
explained arithmetic (:mod:`cnnlab.explain`). Those packages sit above ``models`` in the
layering (docs/architecture.md), so ``models`` never imports them: each registers its
implementation here when it is imported, and ``import cnnlab`` imports them all.

The contracts (what each name must be):

- ``"run_recorder"``: ``start(model, run, resume, generator, info) -> (callback, first_epoch)``;
  the callback has ``run_id`` and ``end(error=None)``; ``first_epoch`` is ``None`` for a new run.
- ``"dashboard"``: ``start(model, train, val, recorder) -> callback``.
- ``"explained_summary"``: ``format(model) -> str``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_OWNERS = {"run_recorder": "cnnlab.runs", "dashboard": "cnnlab.dashboard",
           "explained_summary": "cnnlab.explain"}
_registered: dict[str, Callable[..., Any]] = {}


def register(name: str, implementation: Callable[..., Any]) -> None:
    """Make ``implementation`` the one ``Model`` calls for ``name`` (a key of the contracts)."""
    if name not in _OWNERS:
        raise ValueError(f"unknown model extension {name!r}; known: {sorted(_OWNERS)}")
    _registered[name] = implementation


def extension(name: str) -> Callable[..., Any]:
    """The registered implementation of ``name``; a clear error if its package is not loaded."""
    try:
        return _registered[name]
    except KeyError:
        raise RuntimeError(f"{name!r} is provided by {_OWNERS[name]}, which is not imported; "
                           f"`import {_OWNERS[name]}` (or `import cnnlab`) first") from None
