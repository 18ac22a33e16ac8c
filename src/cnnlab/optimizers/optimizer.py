"""The optimizer base class: hyper-parameters, learning rate, clipping, state and config.

One ``step()`` does, as Keras:

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
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch

from cnnlab.optimizers import schedules
from cnnlab.optimizers._utils import DefaultRate, check_range, snake_case

LearningRate = float | schedules.LearningRateSchedule | Callable[[], float]

# Keras config keys that cnnlab reads but does not implement: ignored, or accepted only when off.
_IGNORED_KERAS_KEYS = ("ema_momentum", "ema_overwrite_frequency", "jit_compile",
                       "is_legacy_optimizer")
_OFF_ONLY_KERAS_KEYS = ("use_ema", "loss_scale_factor", "gradient_accumulation_steps")


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
        """The value as a plain float, as a Keras variable's ``numpy()``."""
        return float(self)

    def __reduce_ex__(self, protocol: Any) -> tuple:
        return float, (float(self),)


def _check_learning_rate(owner: str, value: Any) -> LearningRate:
    """A schedule or callable as is, else a number >= 0 as a float."""
    if callable(value):
        return value
    return check_range(owner, "learning_rate", value)


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
            if not isinstance(learning_rate, DefaultRate):
                raise TypeError(f"{owner}(): give `learning_rate` or its legacy alias `lr`, "
                                f"not both (learning_rate={learning_rate!r}, lr={lr!r})")
            learning_rate = lr
        self._learning_rate = _check_learning_rate(owner, learning_rate)
        self.decay = 0.0 if decay is None else check_range(owner, "decay", decay)
        self.weight_decay = (None if weight_decay is None
                             else check_range(owner, "weight_decay", weight_decay))
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = {key: check_range(owner, key, value) for key, value in clips.items()
                 if value is not None}
        if len(given) > 1:
            raise ValueError(f"{owner}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` "
                             f"can be set; received {given}")
        if 0.0 in given.values():
            raise ValueError(f"{owner}: a clipping threshold must be > 0; received {given}")
        self.clipnorm = given.get("clipnorm")
        self.clipvalue = given.get("clipvalue")
        self.global_clipnorm = given.get("global_clipnorm")
        self.name = name if name is not None else snake_case(owner)
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
