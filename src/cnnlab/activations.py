"""Activation functions on torch tensors, with Keras 3 names, arguments and defaults.

Every function maps a tensor to a tensor of the same shape, element by element (``softmax`` and
``log_softmax`` along ``axis``). ``get`` turns a Keras identifier into one of them:

    >>> relu_fn = get("relu")
    >>> relu_fn(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])

``softmax`` and ``sigmoid`` keep their input: ``out._keras_logits`` is the pre-activation ``x``
and ``out._keras_activation`` is ``"softmax"`` or ``"sigmoid"``. The cross-entropy losses use
them to compute from logits (numerically stable), exactly as Keras does with its cached logits.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Activation = Callable[[torch.Tensor], torch.Tensor]


def _keep_logits(out: torch.Tensor, x: torch.Tensor, activation: str) -> torch.Tensor:
    out._keras_logits = x
    out._keras_activation = activation
    return out


def relu(
    x: torch.Tensor,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> torch.Tensor:
    """Rectified linear unit, Keras's general form.

    ``f(x) = min(x, max_value)`` for ``x > threshold``, else ``negative_slope * (x - threshold)``.
    With the defaults this is ``max(x, 0)``. As in Keras, ``max_value`` also clips the part above
    the threshold from below at 0.
    """
    if threshold == 0.0 and negative_slope == 0.0:
        return F.relu(x) if max_value is None else F.hardtanh(x, 0.0, max_value)
    if threshold == 0.0 and max_value is None:
        return F.leaky_relu(x, negative_slope)
    positive = torch.where(x > threshold, x, torch.zeros_like(x))
    if max_value is not None:
        positive = positive.clamp(0.0, max_value)
    if negative_slope == 0.0:
        return positive
    return positive + negative_slope * (x - threshold).clamp(max=0.0)


def relu6(x: torch.Tensor) -> torch.Tensor:
    """``min(max(x, 0), 6)``."""
    return F.relu6(x)


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.2) -> torch.Tensor:
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Keras 3's function default is 0.2; the ``LeakyReLU`` *layer* defaults to 0.3 (Keras 2 called
    that argument ``alpha``).
    """
    return F.leaky_relu(x, negative_slope)


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    return F.elu(x, alpha)


def selu(x: torch.Tensor) -> torch.Tensor:
    """``scale * elu(x, alpha)`` with ``alpha = 1.67326324``, ``scale = 1.05070098``."""
    return F.selu(x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """``1 / (1 + exp(-x))``; the output carries ``x`` as ``_keras_logits``."""
    return _keep_logits(torch.sigmoid(x), x, "sigmoid")


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """``0`` for ``x <= -3``, ``1`` for ``x >= 3``, ``x / 6 + 0.5`` between.

    This is Keras 3's definition; Keras 2 used ``0.2 * x + 0.5`` clipped at ``|x| = 2.5``.
    """
    return F.hardsigmoid(x)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent ``(exp(x) - exp(-x)) / (exp(x) + exp(-x))``."""
    return torch.tanh(x)


def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """``exp(x) / sum(exp(x), axis)``.

    When ``axis`` is the last axis the output carries ``x`` as ``_keras_logits`` (the losses
    reduce over the last axis, so only then are the logits theirs to use).
    """
    out = torch.softmax(x, dim=axis)
    if axis in (-1, x.dim() - 1):
        _keep_logits(out, x, "softmax")
    return out


def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """``x - log(sum(exp(x), axis))``, computed stably."""
    return F.log_softmax(x, dim=axis)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """``log(exp(x) + 1)``."""
    return F.softplus(x)


def softsign(x: torch.Tensor) -> torch.Tensor:
    """``x / (|x| + 1)``."""
    return F.softsign(x)


def silu(x: torch.Tensor) -> torch.Tensor:
    """Swish / SiLU: ``x * sigmoid(x)``."""
    return F.silu(x)


swish = silu


def hard_silu(x: torch.Tensor) -> torch.Tensor:
    """Hard swish: ``x * hard_sigmoid(x)``."""
    return F.hardswish(x)


hard_swish = hard_silu


def mish(x: torch.Tensor) -> torch.Tensor:
    """``x * tanh(softplus(x))``."""
    return F.mish(x)


def gelu(x: torch.Tensor, approximate: bool = False) -> torch.Tensor:
    """Gaussian error linear unit ``x * P(X <= x)``, ``X ~ N(0, 1)``.

    ``approximate=True`` uses ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.
    """
    return F.gelu(x, approximate="tanh" if approximate else "none")


def exponential(x: torch.Tensor) -> torch.Tensor:
    """``exp(x)``."""
    return torch.exp(x)


def linear(x: torch.Tensor) -> torch.Tensor:
    """Identity: ``f(x) = x`` (the activation of ``activation=None``)."""
    return x


_BY_NAME: dict[str, Activation] = {
    fn.__name__: fn
    for fn in (
        relu, relu6, leaky_relu, elu, selu, sigmoid, hard_sigmoid, tanh, softmax, log_softmax,
        softplus, softsign, silu, hard_silu, mish, gelu, exponential, linear,
    )
}
_ALIASES = {"swish": silu, "hard_swish": hard_silu, "leakyrelu": leaky_relu}
_LOOKUP = {**_BY_NAME, **_ALIASES}


# In-place kernels of the default-argument activations (same values, no new tensor).
_IN_PLACE: dict[Activation, Activation] = {
    relu: torch.relu_, relu6: lambda x: F.hardtanh_(x, 0.0, 6.0), elu: F.elu_,
    selu: torch.selu_, tanh: torch.tanh_, silu: lambda x: F.silu(x, inplace=True),
    linear: linear,
}


def apply_to_fresh(activation: Activation, x: torch.Tensor) -> torch.Tensor:
    """``activation(x)`` for an ``x`` the caller has just computed and nobody else holds.

    Outside autograd (``torch.no_grad`` / ``torch.inference_mode``: predict, evaluate) the
    built-in element-wise activations overwrite ``x`` instead of allocating a second tensor of
    its size, so a layer's output costs one buffer, as with ``nn.ReLU(inplace=True)``. In
    training, while ``torch.jit.trace`` records (its graph must not depend on the grad mode),
    and for other activations, this is ``activation(x)``.
    """
    in_place = _IN_PLACE.get(activation)
    if in_place is None or torch.is_grad_enabled() or torch.jit.is_tracing():
        return activation(x)
    return in_place(x)


def get(identifier: str | Activation | None) -> Activation:
    """The activation function for a Keras identifier.

    ``identifier`` is a name (case-insensitive, e.g. ``'relu'``, ``'LeakyReLU'``), ``None``
    (meaning ``linear``) or a callable, returned unchanged.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _LOOKUP.get(identifier.lower())
        if fn is None:
            raise ValueError(
                f"Unknown activation {identifier!r}; expected one of {sorted(_LOOKUP)}, "
                "None or a callable."
            )
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(
        f"activation must be a name, None or a callable; got {type(identifier).__name__} "
        f"{identifier!r}."
    )


def serialize(activation: Activation) -> str:
    """The Keras name of a built-in activation function (``relu`` -> ``'relu'``)."""
    name = getattr(activation, "__name__", None)
    if _BY_NAME.get(name) is not activation:
        raise ValueError(
            f"Cannot serialize activation {activation!r}: only the built-in activations "
            f"{sorted(_BY_NAME)} have a name to save."
        )
    return name


__all__ = [
    "apply_to_fresh",
    "elu",
    "exponential",
    "gelu",
    "get",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]
