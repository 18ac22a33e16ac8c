"""Keras 3 update rules as ``torch.optim.Optimizer`` subclasses, written with ``torch._foreach_*``.

These are the engines behind ``cnnlab.optimizers``; they can also be used directly in a plain
PyTorch loop. Hyper-parameters carry Keras's names. Unlike torch's optimizers, the step count ``t``
used by bias corrections is one count per group (Keras's ``iterations``), stored in
``group['step']``, so a parameter that was frozen for a while is corrected like Keras does.
Each ``step()`` costs a handful of fused list ops over all parameters: no per-element Python and
no host syncs. Weight decay and gradient clipping are not here: ``cnnlab.optimizers`` applies them
before the rule, as Keras does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import Tensor

Params = Iterable[Tensor] | Iterable[dict]


class KerasRule(torch.optim.Optimizer):
    """Base: ``step()`` gathers parameters with gradients and calls ``_update`` per group.

    Subclasses list their per-parameter state in ``_slots(group)`` (name -> initial fill value)
    and implement ``_update(group, params, grads, *slot_lists)``.
    """

    def __init__(self, params: Params, defaults: dict) -> None:
        super().__init__(params, {**defaults, "step": 0})

    def _slots(self, group: dict) -> dict[str, float]:
        raise NotImplementedError

    def _update(self, group: dict, params: list[Tensor], grads: list[Tensor], *slots) -> None:
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            group["step"] += 1
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            slots = self._slots(group)
            states = [self._state_of(p, slots) for p in params]
            slot_lists = [[s[name] for s in states] for name in slots]
            self._update(group, params, [p.grad for p in params], *slot_lists)
        return loss

    def _state_of(self, p: Tensor, slots: dict[str, float]) -> dict[str, Tensor]:
        state = self.state[p]
        for name, fill in slots.items():
            if name not in state:
                state[name] = torch.full_like(p, fill, memory_format=torch.preserve_format)
        return state


class KerasSGD(KerasRule):
    """``m = momentum * m - lr * g; w += m`` (Nesterov: ``w += momentum * m - lr * g``).

    Differs from ``torch.optim.SGD``, which keeps ``b = momentum * b + g`` and steps ``lr * b``:
    the two agree while ``lr`` is constant, but Keras's velocity carries the learning rates it
    was built with, so a learning-rate change acts gradually, not at once.
    """

    def __init__(self, params: Params, lr: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "nesterov": nesterov})

    def _slots(self, group: dict) -> dict[str, float]:
        return {"momentum_buffer": 0.0} if group["momentum"] != 0 else {}

    def _update(self, group, params, grads, velocities=None) -> None:
        lr, mu = group["lr"], group["momentum"]
        if velocities is None:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        torch._foreach_mul_(velocities, mu)
        torch._foreach_add_(velocities, grads, alpha=-lr)
        if group["nesterov"]:
            torch._foreach_add_(params, grads, alpha=-lr)
            torch._foreach_add_(params, velocities, alpha=mu)
        else:
            torch._foreach_add_(params, velocities)


class KerasRMSprop(KerasRule):
    """``v = rho * v + (1 - rho) * g**2``; ``delta = lr * g / sqrt(v + epsilon)``;
    with momentum ``m = momentum * m + delta; w -= m``, else ``w -= delta``.

    Centered: ``a = rho * a + (1 - rho) * g`` and the root is ``sqrt(v - a**2 + epsilon)``.
    Differs from ``torch.optim.RMSprop``: epsilon is inside the square root and ``lr`` is inside
    the momentum buffer. ``initial_velocity`` (0 in Keras) is 1 for TF1's ``RMSPropOptimizer``.
    """

    def __init__(self, params: Params, lr: float = 0.001, rho: float = 0.9,
                 momentum: float = 0.0, epsilon: float = 1e-7, centered: bool = False,
                 initial_velocity: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "rho": rho, "momentum": momentum, "epsilon": epsilon,
                                  "centered": centered, "initial_velocity": initial_velocity})

    def _slots(self, group: dict) -> dict[str, float]:
        slots = {"velocity": group["initial_velocity"]}
        if group["centered"]:
            slots["average_gradient"] = 0.0
        if group["momentum"] > 0:
            slots["momentum"] = 0.0
        return slots

    def _update(self, group, params, grads, velocities, *rest) -> None:
        lr, rho, eps = group["lr"], group["rho"], group["epsilon"]
        rest = list(rest)
        torch._foreach_mul_(velocities, rho)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - rho)
        if group["centered"]:
            averages = rest.pop(0)
            torch._foreach_lerp_(averages, grads, 1 - rho)
            root = torch._foreach_addcmul(velocities, averages, averages, value=-1)
            torch._foreach_add_(root, eps)
        else:
            root = torch._foreach_add(velocities, eps)
        torch._foreach_sqrt_(root)
        if group["momentum"] > 0:
            momentums = rest.pop(0)
            torch._foreach_mul_(momentums, group["momentum"])
            torch._foreach_addcdiv_(momentums, grads, root, value=lr)
            torch._foreach_sub_(params, momentums)
        else:
            torch._foreach_addcdiv_(params, grads, root, value=-lr)


class KerasAdagrad(KerasRule):
    """``acc += g**2; w -= lr * g / sqrt(acc + epsilon)``, ``acc`` starting at
    ``initial_accumulator_value``. Differs from ``torch.optim.Adagrad``, which adds epsilon
    outside the root. ``epsilon=0`` gives TF1's ``AdagradOptimizer``."""

    def __init__(self, params: Params, lr: float = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7) -> None:
        super().__init__(params, {"lr": lr, "initial_accumulator_value": initial_accumulator_value,
                                  "epsilon": epsilon})

    def _slots(self, group: dict) -> dict[str, float]:
        return {"accumulator": group["initial_accumulator_value"]}

    def _update(self, group, params, grads, accumulators) -> None:
        torch._foreach_addcmul_(accumulators, grads, grads)
        root = torch._foreach_add(accumulators, group["epsilon"])
        torch._foreach_sqrt_(root)
        torch._foreach_addcdiv_(params, grads, root, value=-group["lr"])


class KerasAdam(KerasRule):
    """Adam with Keras's "epsilon hat" (also TF1's ``AdamOptimizer``)::

        m = m + (1 - beta_1) * (g - m);  v = v + (1 - beta_2) * (g**2 - v)
        lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w -= lr_t * m / (sqrt(v) + epsilon)          # AMSGrad: v replaced by max over time

    Differs from ``torch.optim.Adam``, which adds epsilon to ``sqrt(v / (1 - beta_2**t))``:
    Keras's epsilon is effectively ``sqrt(1 - beta_2**t)`` times larger.
    """

    def __init__(self, params: Params, lr: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False) -> None:
        super().__init__(params, {"lr": lr, "beta_1": beta_1, "beta_2": beta_2,
                                  "epsilon": epsilon, "amsgrad": amsgrad})

    def _slots(self, group: dict) -> dict[str, float]:
        slots = {"momentum": 0.0, "velocity": 0.0}
        if group["amsgrad"]:
            slots["velocity_hat"] = 0.0
        return slots

    def _update(self, group, params, grads, momentums, velocities, velocity_hats=None) -> None:
        b1, b2, t = group["beta_1"], group["beta_2"], group["step"]
        alpha = group["lr"] * math.sqrt(1 - b2**t) / (1 - b1**t)
        torch._foreach_lerp_(momentums, grads, 1 - b1)
        torch._foreach_mul_(velocities, b2)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - b2)
        if velocity_hats is not None:
            torch._foreach_maximum_(velocity_hats, velocities)
            velocities = velocity_hats
        root = torch._foreach_sqrt(velocities)
        torch._foreach_add_(root, group["epsilon"])
        torch._foreach_addcdiv_(params, momentums, root, value=-alpha)


class KerasNadam(KerasRule):
    """Nadam (Dozat 2016) as Keras 3 computes it, with ``u_t = beta_1 * (1 - 0.5 * 0.96**t)``
    and ``P_t = u_1 * ... * u_t``::

        m, v as in Adam
        m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)
        w -= lr * m_hat / (sqrt(v / (1 - beta_2**t)) + epsilon)

    Differs from ``torch.optim.NAdam``, whose schedule is ``0.96**(0.004 * t)`` and whose
    epsilon is added like torch's Adam.
    """

    def __init__(self, params: Params, lr: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7) -> None:
        super().__init__(params, {"lr": lr, "beta_1": beta_1, "beta_2": beta_2,
                                  "epsilon": epsilon, "u_product": 1.0})

    def _slots(self, group: dict) -> dict[str, float]:
        return {"momentum": 0.0, "velocity": 0.0}

    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        for group in self.param_groups:
            t = group["step"] + 1
            group["u_product"] *= group["beta_1"] * (1 - 0.5 * 0.96**t)
        return super().step(closure)

    def _update(self, group, params, grads, momentums, velocities) -> None:
        b1, b2, t = group["beta_1"], group["beta_2"], group["step"]
        u_t = b1 * (1 - 0.5 * 0.96**t)
        u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        product = group["u_product"]
        torch._foreach_lerp_(momentums, grads, 1 - b1)
        torch._foreach_mul_(velocities, b2)
        torch._foreach_addcmul_(velocities, grads, grads, value=1 - b2)
        # w -= lr * m_hat / (sqrt(v) / s + eps) with s = sqrt(1 - beta_2**t), as two addcdivs
        # over root = sqrt(v) + eps * s: no temporary for m_hat or v_hat.
        s = math.sqrt(1 - b2**t)
        root = torch._foreach_sqrt(velocities)
        torch._foreach_add_(root, group["epsilon"] * s)
        scale = -group["lr"] * s
        m_weight = scale * u_next / (1 - product * u_next)
        torch._foreach_addcdiv_(params, momentums, root, value=m_weight)
        torch._foreach_addcdiv_(params, grads, root, value=scale * (1 - u_t) / (1 - product))


class KerasAdamax(KerasRule):
    """``m = m + (1 - beta_1) * (g - m); u = max(beta_2 * u, |g|)``;
    ``w -= lr * m / ((1 - beta_1**t) * (u + epsilon))``.

    Differs from ``torch.optim.Adamax``, which adds epsilon to ``|g|`` inside the maximum.
    """

    def __init__(self, params: Params, lr: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7) -> None:
        super().__init__(params, {"lr": lr, "beta_1": beta_1, "beta_2": beta_2,
                                  "epsilon": epsilon})

    def _slots(self, group: dict) -> dict[str, float]:
        return {"momentum": 0.0, "norm": 0.0}

    def _update(self, group, params, grads, momentums, norms) -> None:
        b1, t = group["beta_1"], group["step"]
        torch._foreach_lerp_(momentums, grads, 1 - b1)
        torch._foreach_mul_(norms, group["beta_2"])
        torch._foreach_maximum_(norms, torch._foreach_abs(grads))
        root = torch._foreach_add(norms, group["epsilon"])
        torch._foreach_addcdiv_(params, momentums, root, value=-group["lr"] / (1 - b1**t))
