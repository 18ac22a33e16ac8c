"""Keras-style optimizers: configured first, built on the model's parameters at ``compile``.

    opt = cnnlab.optimizers.Adam(learning_rate=1e-3)   # or 'adam', or a config dict
    model.compile(optimizer=opt, ...)                  # calls opt.build(model.parameters())
    # each training step:  loss.backward(); opt.step(); opt.zero_grad()

Every class has Keras 3's defaults and update rule (the rules live in ``optimizers.rules`` as
``torch.optim.Optimizer`` subclasses on ``torch._foreach_*`` ops). One ``step()`` does, as Keras:

1. gradient clipping: ``clipvalue`` (each element to ``[-v, v]``), ``clipnorm`` (each tensor to
   L2 norm <= c) or ``global_clipnorm`` (all gradients together to global L2 norm <= c);
2. the learning rate ``lr_t``: ``learning_rate`` (a float or ``schedule(iterations)``), divided by
   ``1 + decay * iterations`` when the legacy Keras 2 argument ``decay`` is given;
3. decoupled weight decay ``w -= lr_t * weight_decay * w`` if ``weight_decay`` is set;
4. the optimizer's update rule with ``lr_t``.

Parameters whose ``grad`` is ``None`` (frozen layers) are left untouched.
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch

from cnnlab.optimizers import rules, schedules

__all__ = [
    "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Nadam", "Adamax",
    "Optimizer", "TorchOptimizer", "deserialize", "get", "register", "schedules", "serialize",
]

LearningRate = float | schedules.LearningRateSchedule | Callable[[], float]

# Keras config keys that cnnlab reads but does not implement: ignored, or accepted only when off.
_IGNORED_KERAS_KEYS = ("ema_momentum", "ema_overwrite_frequency", "jit_compile",
                       "is_legacy_optimizer")
_OFF_ONLY_KERAS_KEYS = ("use_ema", "loss_scale_factor", "gradient_accumulation_steps")


class _Default(float):
    """A signature default that ``lr=`` may replace (an explicit ``learning_rate`` may not)."""


class LearningRateValue(float):
    """What ``optimizer.learning_rate`` returns: a float that remembers its optimizer.

    It is a plain number in arithmetic, comparisons and logs, and it lets Keras-2 code write
    ``K.set_value(model.optimizer.lr, 0.001)`` (see :func:`cnnlab.backend.set_value`) and
    Keras-3 code ``model.optimizer.learning_rate.assign(0.001)``, as a Keras variable does.
    Copies and pickles are plain floats (they do not drag the optimizer along).
    """

    def __new__(cls, value: float, optimizer: Optimizer) -> LearningRateValue:
        number = super().__new__(cls, value)
        number.optimizer = optimizer
        return number

    def assign(self, value: LearningRate) -> None:
        """Set the optimizer's learning rate (``optimizer.learning_rate = value``)."""
        self.optimizer.learning_rate = value

    def numpy(self) -> float:
        return float(self)

    def __reduce_ex__(self, protocol: Any) -> tuple:
        return float, (float(self),)


_LR_0_01 = _Default(0.01)
_LR_0_001 = _Default(0.001)


def _snake_case(name: str) -> str:
    """Keras's default optimizer names: ``'Adam' -> 'adam'``, ``'RMSprop' -> 'rm_sprop'``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _check_range(owner: str, name: str, value: Any, low: float = 0.0,
                 high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: `{name}` must be a number; received {name}={value!r}")
    if not low <= value <= high:
        raise ValueError(f"{owner}: `{name}` must be in [{low}, {high}]; received {name}={value!r}")
    return float(value)


def _check_epsilon(owner: str, epsilon: float | None) -> float:
    """``epsilon=None`` meant Keras 2's ``K.epsilon()``, 1e-7."""
    return 1e-7 if epsilon is None else _check_range(owner, "epsilon", epsilon)


def _check_learning_rate(owner: str, value: Any) -> LearningRate:
    if callable(value):
        return value
    return _check_range(owner, "learning_rate", value)


class Optimizer:
    """Base class: hyper-parameters now, ``build(params)`` at compile, then ``step()``.

    Args:
        learning_rate: float, a ``LearningRateSchedule`` (called with ``iterations``) or a
            zero-argument callable (as in Keras). Legacy alias ``lr=``.
        weight_decay: decoupled decay ``w -= lr * weight_decay * w`` before each update.
        clipnorm / clipvalue / global_clipnorm: gradient clipping (at most one of them).
        name: defaults to the snake-case class name, as in Keras.
        decay: legacy Keras 2 time decay, ``lr_t = lr / (1 + decay * iterations)``.

    Attributes: ``torch_optimizer`` (after ``build``), ``iterations`` (updates applied).
    """

    _rule: type[torch.optim.Optimizer]
    _hyper: tuple[str, ...] = ()  # subclass hyper-parameters, passed to ``_rule`` by name

    def __init__(self, learning_rate: LearningRate, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        owner = type(self).__name__
        lr = kwargs.pop("lr", None)
        decay = kwargs.pop("decay", None)
        if kwargs:
            raise TypeError(f"{owner}() got an unexpected keyword argument {next(iter(kwargs))!r}")
        if lr is not None:
            if not isinstance(learning_rate, _Default):
                raise TypeError(f"{owner}(): give `learning_rate` or its legacy alias `lr`, "
                                f"not both (learning_rate={learning_rate!r}, lr={lr!r})")
            learning_rate = lr
        self._learning_rate = _check_learning_rate(owner, learning_rate)
        self.decay = 0.0 if decay is None else _check_range(owner, "decay", decay)
        self.weight_decay = (None if weight_decay is None
                             else _check_range(owner, "weight_decay", weight_decay))
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = {key: _check_range(owner, key, value) for key, value in clips.items()
                 if value is not None}
        if len(given) > 1:
            raise ValueError(f"{owner}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` "
                             f"can be set; received {given}")
        if 0.0 in given.values():
            raise ValueError(f"{owner}: a clipping threshold must be > 0; received {given}")
        self.clipnorm = given.get("clipnorm")
        self.clipvalue = given.get("clipvalue")
        self.global_clipnorm = given.get("global_clipnorm")
        self.name = name if name is not None else _snake_case(owner)
        self.iterations = 0
        self.torch_optimizer: torch.optim.Optimizer | None = None

    # -- learning rate -------------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The rate as Keras reports it: ``schedule(iterations)`` for a schedule, else the base
        rate (without the legacy ``decay`` factor). Writing a float sets the base rate."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = lr(self.iterations)
        elif callable(lr):
            lr = lr()
        return LearningRateValue(float(lr), self)

    @learning_rate.setter
    def learning_rate(self, value: LearningRate) -> None:
        owner = type(self).__name__
        if isinstance(self._learning_rate, schedules.LearningRateSchedule) and not callable(value):
            raise TypeError(f"{owner} was created with a LearningRateSchedule, so its learning "
                            "rate cannot be set to a number; create it with a float instead")
        self._learning_rate = _check_learning_rate(owner, value)
        if self.torch_optimizer is not None:
            self._set_group_lr(self._step_lr())

    lr = learning_rate  # legacy Keras 2 alias

    def _step_lr(self) -> float:
        """``lr_t`` for the next update."""
        return self.learning_rate / (1.0 + self.decay * self.iterations)

    def _set_group_lr(self, lr: float) -> None:
        for group in self.torch_optimizer.param_groups:
            group["lr"] = lr

    # -- lifecycle -----------------------------------------------------------------------------
    def build(self, params: Iterable[torch.Tensor]) -> None:
        """Create ``torch_optimizer`` on ``params`` with fresh state (again on each call)."""
        unique = list({id(p): p for p in params}.values())
        owner = type(self).__name__
        if not unique:
            raise ValueError(f"{owner}.build(): got no parameters to optimize")
        for p in unique:
            if not isinstance(p, torch.Tensor):
                raise TypeError(f"{owner}.build(): expected tensors (torch.nn.Parameter), "
                                f"got {type(p).__name__}")
        self.iterations = 0
        self.torch_optimizer = self._make_torch_optimizer(unique)

    def _make_torch_optimizer(self, params: list[torch.Tensor]) -> torch.optim.Optimizer:
        return self._rule(params, lr=self._step_lr(),
                          **{key: getattr(self, key) for key in self._hyper})

    def _built(self) -> torch.optim.Optimizer:
        if self.torch_optimizer is None:
            raise RuntimeError(f"{type(self).__name__} is not built: call build(params) "
                               "(model.compile does) before step()")
        return self.torch_optimizer

    @torch.no_grad()
    def step(self) -> None:
        """Clip gradients, apply weight decay, then one update with ``lr_t`` (module docstring)."""
        optimizer = self._built()
        lr = self._step_lr()
        if self.decay or callable(self._learning_rate):
            self._set_group_lr(lr)
        params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        if params:
            self._clip([p.grad for p in params])
            if self.weight_decay:
                torch._foreach_mul_(params, 1.0 - lr * self.weight_decay)
        optimizer.step()
        self.iterations += 1

    def apply_gradients(self, grads_and_vars: Iterable[tuple[torch.Tensor | None, torch.Tensor]],
                        name: str | None = None, **kwargs: Any) -> int:
        """One update of the given variables with the given gradients, Keras's custom loop::

            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))

        The same update as :meth:`step` (clipping, ``lr_t``, weight decay, the rule) on these
        variables only; the gradients are not changed and the variables' ``.grad`` is left as
        it was. Pairs with a ``None`` gradient are skipped (with a warning, as Keras 2); all
        ``None`` is an error. The first call builds the optimizer on the variables (Keras
        builds lazily too); variables not seen before join as a new parameter group.
        Returns ``iterations`` after the update.
        """
        owner = type(self).__name__
        pairs = list(grads_and_vars)
        for pair in pairs:
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2
                    and isinstance(pair[1], torch.Tensor)):
                raise TypeError(f"{owner}.apply_gradients(): expected (gradient, variable) pairs "
                                f"such as zip(grads, model.trainable_weights), got {pair!r}")
        missing = [v for g, v in pairs if g is None]
        pairs = [(g, v) for g, v in pairs if g is not None]
        if not pairs:
            raise ValueError(f"{owner}.apply_gradients(): no gradients provided for any variable "
                             f"({len(missing)} given, all None): is the loss computed from the "
                             "model's output inside the GradientTape?")
        if missing:
            warnings.warn(f"{owner}.apply_gradients(): gradients do not exist for "
                          f"{len(missing)} variable(s) (shapes {[tuple(v.shape) for v in missing]})"
                          f"; they are left unchanged", stacklevel=2)
        for g, v in pairs:
            if tuple(g.shape) != tuple(v.shape):
                raise ValueError(f"{owner}.apply_gradients(): a gradient of shape "
                                 f"{tuple(g.shape)} was given for a variable of shape "
                                 f"{tuple(v.shape)}")
        variables = [v for _, v in pairs]
        if self.torch_optimizer is None:
            self.build(variables)
        else:
            self._add_variables(variables)
        everything = [p for group in self.torch_optimizer.param_groups for p in group["params"]]
        saved = [p.grad for p in everything]
        clipping = any(c is not None for c in (self.clipnorm, self.clipvalue,
                                               self.global_clipnorm))
        try:
            for p in everything:
                p.grad = None
            for g, v in pairs:  # clipping works in place: keep the caller's tensors intact
                v.grad = g.detach().clone() if clipping else g.detach()
            self.step()
        finally:
            for p, grad in zip(everything, saved, strict=True):
                p.grad = grad
        return self.iterations

    def apply(self, grads: Iterable[torch.Tensor | None],
              trainable_variables: Iterable[torch.Tensor]) -> int:
        """Keras 3's spelling: ``apply(grads, variables)`` = ``apply_gradients(zip(...))``."""
        return self.apply_gradients(zip(grads, trainable_variables, strict=True))

    def _add_variables(self, variables: list[torch.Tensor]) -> None:
        """Add variables the built optimizer does not hold yet as one more parameter group,
        with the current learning rate and step count."""
        optimizer = self.torch_optimizer
        known = {id(p) for group in optimizer.param_groups for p in group["params"]}
        new = list({id(v): v for v in variables if id(v) not in known}.values())
        if new:
            first = optimizer.param_groups[0]
            group: dict[str, Any] = {"params": new, "lr": first["lr"]}
            if "step" in first:
                group["step"] = first["step"]
            optimizer.add_param_group(group)

    def _clip(self, grads: list[torch.Tensor]) -> None:
        if self.clipvalue is not None:
            torch._foreach_clamp_min_(grads, -self.clipvalue)
            torch._foreach_clamp_max_(grads, self.clipvalue)
        elif self.clipnorm is not None:
            norms = torch.stack(torch._foreach_norm(grads))
            torch._foreach_mul_(grads, (self.clipnorm / norms.clamp(min=self.clipnorm)).unbind())
        elif self.global_clipnorm is not None:
            norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            scale = self.global_clipnorm / norm.clamp(min=self.global_clipnorm)
            torch._foreach_mul_(grads, scale + (norm - norm))  # an inf/NaN norm gives NaN, as Keras

    def zero_grad(self) -> None:
        """Set every gradient to ``None``."""
        self._built().zero_grad(set_to_none=True)

    # -- state and config ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A copy of everything training changes: ``iterations``, the base learning rate
        (``None`` for a schedule) and the torch optimizer's state (slots and step counts)."""
        base = self._learning_rate if isinstance(self._learning_rate, float) else None
        return {"iterations": self.iterations, "learning_rate": base,
                "torch": copy.deepcopy(self._built().state_dict())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` into this built optimizer; training continues exactly."""
        optimizer = self._built()
        missing = {"iterations", "learning_rate", "torch"} - set(state)
        if missing:
            raise ValueError(f"{type(self).__name__}.load_state_dict(): missing keys "
                             f"{sorted(missing)}; expected the output of state_dict()")
        optimizer.load_state_dict(copy.deepcopy(state["torch"]))
        self.iterations = int(state["iterations"])
        if state["learning_rate"] is not None and not callable(self._learning_rate):
            self._learning_rate = float(state["learning_rate"])

    def get_config(self) -> dict[str, Any]:
        """JSON-able hyper-parameters with Keras's keys (``decay`` only when set)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            raise TypeError(f"{type(self).__name__}.get_config(): a learning_rate function cannot "
                            "be serialized; use a LearningRateSchedule")
        config = {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                  "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                  "clipvalue": self.clipvalue}
        config.update({key: getattr(self, key) for key in self._hyper})
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """Inverse of :meth:`get_config`; also reads Keras 2 and Keras 3 optimizer configs."""
        config = dict(config)
        for key in _IGNORED_KERAS_KEYS:
            config.pop(key, None)
        for key in _OFF_ONLY_KERAS_KEYS:
            value = config.pop(key, None)
            if value:
                raise ValueError(f"{cls.__name__}: Keras option {key}={value!r} is not "
                                 "supported by cnnlab")
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, Keras 3 rule::

        m = momentum * m - lr * g;  w += m        (nesterov: w += momentum * m - lr * g)

    Defaults as Keras: ``learning_rate=0.01, momentum=0.0, nesterov=False``.
    ``torch.optim.SGD`` steps ``lr * b`` with ``b = momentum * b + g``: the same while ``lr`` is
    constant, but after a learning-rate change Keras's velocity still carries the old rates.
    Example: ``SGD(learning_rate=0.01, momentum=0.9, nesterov=True)``.
    """

    _rule = rules.KerasSGD
    _hyper = ("momentum", "nesterov")

    def __init__(self, learning_rate: LearningRate = _LR_0_01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        self.momentum = _check_range(type(self).__name__, "momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton), Keras 3 rule::

        v = rho * v + (1 - rho) * g**2
        delta = lr * g / sqrt(v + epsilon)            (centered: sqrt(v - a**2 + epsilon),
        w -= delta   (momentum: m = momentum * m + delta; w -= m)   a = rho*a + (1-rho)*g)

    Defaults as Keras: ``learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
    centered=False``. ``torch.optim.RMSprop`` adds epsilon outside the root and keeps ``lr``
    outside the momentum buffer.
    """

    _rule = rules.KerasRMSprop
    _hyper = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate: LearningRate = _LR_0_001, rho: float = 0.9,
                 momentum: float = 0.0, epsilon: float | None = 1e-7, centered: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        owner = type(self).__name__
        self.rho = _check_range(owner, "rho", rho, 0.0, 1.0)
        self.momentum = _check_range(owner, "momentum", momentum)
        self.epsilon = _check_epsilon(owner, epsilon)
        self.centered = bool(centered)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), Keras 3 rule::

        acc += g**2;  w -= lr * g / sqrt(acc + epsilon)      (acc starts at
                                                              initial_accumulator_value)

    Defaults as Keras: ``learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7``.
    ``torch.optim.Adagrad`` adds epsilon outside the root and starts ``acc`` at 0.
    """

    _rule = rules.KerasAdagrad
    _hyper = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate: LearningRate = _LR_0_001,
                 initial_accumulator_value: float = 0.1, epsilon: float | None = 1e-7,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        owner = type(self).__name__
        self.initial_accumulator_value = _check_range(owner, "initial_accumulator_value",
                                                      initial_accumulator_value)
        self.epsilon = _check_epsilon(owner, epsilon)


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012), Keras 3 rule::

        E[g2] = rho * E[g2] + (1 - rho) * g**2
        d = -sqrt(E[dx2] + epsilon) / sqrt(E[g2] + epsilon) * g
        E[dx2] = rho * E[dx2] + (1 - rho) * d**2;   w += lr * d

    Defaults as Keras 3: ``learning_rate=0.001, rho=0.95, epsilon=1e-7`` (Keras 2 used
    ``lr=1.0``). This is exactly ``torch.optim.Adadelta(lr, rho, eps=epsilon)``, which runs
    here with ``foreach=True``; only torch's defaults differ (``lr=1.0, rho=0.9, eps=1e-6``).
    """

    _hyper = ("rho", "epsilon")

    def __init__(self, learning_rate: LearningRate = _LR_0_001, rho: float = 0.95,
                 epsilon: float | None = 1e-7, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        owner = type(self).__name__
        self.rho = _check_range(owner, "rho", rho, 0.0, 1.0)
        self.epsilon = _check_epsilon(owner, epsilon)

    def _make_torch_optimizer(self, params: list[torch.Tensor]) -> torch.optim.Optimizer:
        return torch.optim.Adadelta(params, lr=self._step_lr(), rho=self.rho, eps=self.epsilon,
                                    foreach=True)


class _MomentEstimates(Optimizer):
    """Shared arguments of the Adam family: ``beta_1``, ``beta_2``, ``epsilon``."""

    _hyper = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate: LearningRate = _LR_0_001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float | None = 1e-7,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         **kwargs)
        owner = type(self).__name__
        self.beta_1 = _check_range(owner, "beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _check_range(owner, "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _check_epsilon(owner, epsilon)


class Adam(_MomentEstimates):
    """Adam (Kingma & Ba), Keras 3 rule with "epsilon hat"::

        m = beta_1 * m + (1 - beta_1) * g;   v = beta_2 * v + (1 - beta_2) * g**2
        lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w -= lr_t * m / (sqrt(v) + epsilon)          (amsgrad: v -> running max of v)

    Defaults as Keras: ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
    amsgrad=False``. ``torch.optim.Adam`` adds ``eps=1e-8`` to ``sqrt(v / (1 - beta_2**t))``
    instead, i.e. a smaller effective epsilon early in training.
    """

    _rule = rules.KerasAdam
    _hyper = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, learning_rate: LearningRate = _LR_0_001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float | None = 1e-7, amsgrad: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, clipnorm,
                         clipvalue, global_clipnorm, name, **kwargs)
        self.amsgrad = bool(amsgrad)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): before each Adam update
    ``w -= lr_t * weight_decay * w``. Keras default ``weight_decay=0.004`` (torch's is 0.01);
    other defaults as :class:`Adam`."""

    def __init__(self, learning_rate: LearningRate = _LR_0_001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float | None = 1e-7,
                 amsgrad: bool = False, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        if weight_decay is None:
            raise ValueError("AdamW: `weight_decay` must be a float; received weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm,
                         clipvalue, global_clipnorm, name, **kwargs)


class Nadam(_MomentEstimates):
    """Adam with Nesterov momentum (Dozat 2016), Keras 3 rule with
    ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` and ``P_t = u_1 * ... * u_t``::

        m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)
        w -= lr * m_hat / (sqrt(v / (1 - beta_2**t)) + epsilon)      (m, v as in Adam)

    Defaults as Keras: ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7``.
    ``torch.optim.NAdam`` uses ``0.96**(0.004 * t)`` and torch's epsilon placement.
    """

    _rule = rules.KerasNadam


class Adamax(_MomentEstimates):
    """Adam on the infinity norm (Kingma & Ba, section 7), Keras 3 rule::

        m = beta_1 * m + (1 - beta_1) * g;   u = max(beta_2 * u, |g|)
        w -= lr * m / ((1 - beta_1**t) * (u + epsilon))

    Defaults as Keras: ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7``.
    ``torch.optim.Adamax`` adds epsilon to ``|g|`` inside the maximum instead.
    """

    _rule = rules.KerasAdamax


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


_REGISTRY: dict[str, type[Optimizer]] = {}


def register(cls: type[Optimizer]) -> type[Optimizer]:
    """Make ``cls`` known to :func:`get` under its lower-cased class name (usable as decorator)."""
    _REGISTRY[cls.__name__.lower()] = cls
    return cls


for _cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Nadam, Adamax, TorchOptimizer):
    register(_cls)


def _lookup(name: str) -> type[Optimizer]:
    cls = _REGISTRY.get(name.lower()) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"Unknown optimizer {name!r}; known names: {sorted(_REGISTRY)}")
    return cls


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{'class_name': ..., 'config': optimizer.get_config()}``, Keras's format."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any]) -> Optimizer:
    """Inverse of :func:`serialize` (Keras's extra keys ``module``/``registered_name`` ignored)."""
    return _lookup(config.get("class_name")).from_config(config.get("config", {}))


def get(identifier: str | dict | Optimizer | torch.optim.Optimizer) -> Optimizer:
    """An :class:`Optimizer` from a name (``'adam'``, ``'SGD'``, case-insensitive, Keras
    defaults), a serialized config dict, an ``Optimizer`` (returned as is) or a ready
    ``torch.optim.Optimizer`` (wrapped in :class:`TorchOptimizer`)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, torch.optim.Optimizer):
        return TorchOptimizer(identifier)
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    raise TypeError("optimizer must be a name, a config dict with 'class_name', an Optimizer or a "
                    f"torch.optim.Optimizer; received {type(identifier).__name__}: {identifier!r}")
