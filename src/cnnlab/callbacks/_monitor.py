"""The quantity a callback watches (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau).

Semantics, messages and warnings follow tf.keras 2.15. Deliberate differences: an unknown
``mode`` raises ``ValueError`` (Keras warns and falls back to 'auto'); ``mode='auto'`` means
'max' when the monitor name contains ``'acc'`` or ``'auc'`` in every callback (Keras's three
callbacks each test slightly different substrings).
"""

from __future__ import annotations

import math
import warnings

from cnnlab.training.callback import Logs


class Monitor:
    """The quantity a callback watches: its name, direction, and the warning when it is
    missing from the logs."""

    def __init__(self, owner: str, monitor: str, mode: str) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor or "auc" in monitor else "min"
        self.name = monitor
        self.sign = 1.0 if mode == "max" else -1.0  # the direction of improvement

    @property
    def worst(self) -> float:
        """The starting 'best' value: ``-inf`` in 'max' mode, ``+inf`` in 'min' mode."""
        return -self.sign * math.inf

    def better(self, a: float, b: float) -> bool:
        """``a > b`` in 'max' mode, ``a < b`` in 'min' mode."""
        return a > b if self.sign > 0 else a < b

    def read(self, logs: Logs | None, missing: str) -> float | None:
        """``logs[monitor]``, or None after warning ``missing`` (with the available keys)."""
        logs = logs or {}
        value = logs.get(self.name)
        if value is None:
            available = ",".join(logs)
            warnings.warn(missing.format(self.name, available), stacklevel=3)
        return value
