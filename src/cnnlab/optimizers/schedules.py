"""Learning-rate schedules ``schedule(step) -> learning rate``, as ``keras.optimizers.schedules``.

An optimizer created with ``learning_rate=schedule`` calls ``schedule(iterations)`` before each
update, where ``iterations`` counts the updates already applied (0 for the first one)::

    lr = ExponentialDecay(initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.96)
    opt = cnnlab.optimizers.SGD(learning_rate=lr)     # also cnnlab.optimizers.schedules

Schedules are plain Python arithmetic on an ``int`` step (no tensors, no device syncs). Each has
Keras's arguments, defaults and ``get_config()`` keys; ``serialize``/``deserialize`` use Keras's
``{'class_name': ..., 'config': ...}`` form.
"""

from __future__ import annotations

import bisect
import math
from typing import Any


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step) -> float`` and ``get_config()``."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step)")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement get_config()")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)


def _check_decay_steps(decay_steps: float) -> None:
    if decay_steps <= 0:
        raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")


class ExponentialDecay(LearningRateSchedule):
    """``lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is floored, so the rate drops in steps.
    Example: ``ExponentialDecay(0.1, 10, 0.5)(20) == 0.025``.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after ``boundaries[-1]``.

    Example: ``PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])`` gives 1.0 at step 100,
    0.5 at step 101.
    """

    def __init__(
        self, boundaries: list[float], values: list[float], name: str = "PiecewiseConstant"
    ) -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, "
                f"and values={values} of length {len(values)}."
            )
        if any(b >= c for b, c in zip(boundaries[:-1], boundaries[1:], strict=True)):
            raise ValueError(f"`boundaries` must be strictly increasing. Received: {boundaries}")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: int) -> float:
        return self.values[bisect.bisect_left(self.boundaries, step)]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True`` the quotient ``step / decay_steps`` is floored.
    Example: ``InverseTimeDecay(0.1, 1, 0.5)(2) == 0.05``.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warmup (Loshchilov & Hutter, SGDR).

    Without warmup (``warmup_target=None``), with ``s = min(step, decay_steps)``::

        lr(step) = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps))
                                            + alpha)

    With ``warmup_target``, the rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps``, then decays as above from ``warmup_target``
    (``s = min(step - warmup_steps, decay_steps)``). Example: ``CosineDecay(1.0, 10)(5) == 0.5``.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        _check_decay_steps(decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decayed(self, step: float, from_lr: float) -> float:
        fraction = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return from_lr * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decayed(step, self.initial_learning_rate)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + delta * step / self.warmup_steps
        return self._decayed(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


_SCHEDULES = {
    cls.__name__: cls
    for cls in (ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay, CosineDecay)
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{'class_name': ..., 'config': ...}``, the form Keras stores in optimizer configs."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """Inverse of :func:`serialize`; Keras's extra keys (``module``, ``registered_name``) are
    ignored."""
    name = config.get("class_name")
    if name not in _SCHEDULES:
        raise ValueError(
            f"Unknown learning rate schedule {name!r}; known: {sorted(_SCHEDULES)}."
        )
    return _SCHEDULES[name].from_config(dict(config.get("config", {})))


__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "deserialize",
    "serialize",
]
