"""``TorchOptimizer``: a ``torch.optim`` optimizer behind the Keras optimizer interface."""

from __future__ import annotations

import inspect
from typing import Any

import torch

from cnnlab.optimizers.optimizer import LearningRate, Optimizer


class TorchOptimizer(Optimizer):
    """A ``torch.optim`` optimizer behind the Keras interface (``optimizers.get(torch_opt)``).

    ``optimizer`` is a ready instance (used as is: its parameters were fixed when it was made,
    so ``build`` keeps it) or the name of a ``torch.optim`` class, built at ``build`` with
    ``torch_config``. The update rule is torch's; clipping, ``weight_decay`` and schedules work
    as for the Keras classes; setting ``learning_rate`` writes every group's ``lr``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer | str,
                 torch_config: dict[str, Any] | None = None,
                 learning_rate: LearningRate | None = None, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None) -> None:
        if isinstance(optimizer, torch.optim.Optimizer):
            self._instance, self._torch_class = optimizer, type(optimizer)
            config, lr = optimizer.defaults, optimizer.param_groups[0]["lr"]
        else:
            self._instance, self._torch_class = None, _torch_optimizer_class(optimizer)
            config = torch_config or {}
            lr = config.get("lr", inspect.signature(self._torch_class).parameters["lr"].default)
        self.torch_config = _json_config(config)
        if learning_rate is not None:
            lr = learning_rate
        super().__init__(float(lr) if isinstance(lr, torch.Tensor) else lr, weight_decay,
                         clipnorm, clipvalue, global_clipnorm, name)
        if self._instance is not None:
            self.torch_optimizer = self._instance

    def _make_torch_optimizer(self, params: list[torch.Tensor]) -> torch.optim.Optimizer:
        if self._instance is not None:
            return self._instance
        return self._torch_class(params, lr=self._step_lr(), **self.torch_config)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "optimizer": self._torch_class.__name__,
                "torch_config": dict(self.torch_config)}


def _torch_optimizer_class(name: str) -> type[torch.optim.Optimizer]:
    cls = getattr(torch.optim, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ValueError(f"TorchOptimizer: `optimizer` must be a torch.optim.Optimizer or the name "
                         f"of a torch.optim class such as 'SGD'; received {name!r}")
    return cls


def _json_config(config: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able entries of a torch optimizer's config except ``lr`` (tuples -> lists)."""
    out = {}
    for key, value in config.items():
        if key == "lr":
            continue
        if isinstance(value, bool | int | float | str):
            out[key] = value
        elif isinstance(value, tuple | list) and all(isinstance(v, int | float) for v in value):
            out[key] = list(value)
    return out
