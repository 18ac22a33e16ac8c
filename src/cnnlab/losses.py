"""Loss functions with Keras 3 names, arguments, defaults and numerics.

Two forms, as in Keras:

* functions ``fn(y_true, y_pred) -> per-sample losses`` (one value per sample, the last axis
  reduced), e.g. ``categorical_crossentropy(y, p)``;
* ``Loss`` objects, ``loss(y_true, y_pred, sample_weight=None) -> scalar``, which reduce the
  per-sample losses Keras's ``'sum_over_batch_size'`` way:
  ``sum(per_sample * sample_weight) / number_of_per_sample_values`` (the weights do *not*
  change the divisor).

Cross-entropy numerics follow Keras. When ``y_pred`` came straight out of
``activations.softmax`` / ``activations.sigmoid`` it carries its logits and the loss is computed
from them (``log_softmax`` / ``binary_cross_entropy_with_logits``), which stays finite for any
logits. Otherwise probabilities are clipped to ``[1e-7, 1 - 1e-7]`` (categorical ones first
normalized to sum to 1 along the class axis), so the loss is at most ``-log(1e-7) = 16.12``.

    >>> loss = get("sparse_categorical_crossentropy")
    >>> loss(torch.tensor([2, 0]), activations.softmax(torch.randn(2, 3)))   # scalar tensor
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

EPSILON = 1e-7  # keras.backend.epsilon()
_REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "none", None)

TensorLike = torch.Tensor | np.ndarray | Sequence[Any] | float


# --- shared helpers -------------------------------------------------------------------------


def to_float(y_pred: TensorLike) -> torch.Tensor:
    """``y_pred`` as a floating tensor; half precision is computed in float32, as Keras does."""
    y_pred = torch.as_tensor(y_pred)
    if not y_pred.is_floating_point() or y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.float()
    return y_pred


def match_rank(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Equalize ranks differing by one trailing axis of size 1: ``(N,)`` vs ``(N, 1)``.

    The rank-1 side is expanded; otherwise the size-1 axis is squeezed (Keras's
    ``squeeze_or_expand_to_same_rank``). Prevents ``(N,) - (N, 1)`` broadcasting to ``(N, N)``.
    """
    if a.dim() == b.dim() + 1 and a.shape[-1] == 1:
        return (a, b.unsqueeze(-1)) if b.dim() == 1 else (a.squeeze(-1), b)
    if b.dim() == a.dim() + 1 and b.shape[-1] == 1:
        return (a.unsqueeze(-1), b) if a.dim() == 1 else (a, b.squeeze(-1))
    return a, b


def align(y_true: TensorLike, y_pred: TensorLike) -> tuple[torch.Tensor, torch.Tensor]:
    """``(y_true, y_pred)`` as float tensors of ``y_pred``'s dtype and device, ranks matched."""
    y_pred = to_float(y_pred)
    y_true = torch.as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return match_rank(y_true, y_pred)


def _logits(
    y_pred: TensorLike, from_logits: bool, activation: str, axis: int = -1
) -> tuple[TensorLike, bool]:
    """``(tensor, from_logits)``: the cached logits if ``y_pred`` is an ``activation`` output.

    Like tf.keras, the cached logits win even when ``from_logits=True`` was passed by mistake.
    """
    if getattr(y_pred, "_keras_activation", None) != activation:
        return y_pred, from_logits
    if activation == "softmax" and axis not in (-1, y_pred.dim() - 1):
        return y_pred, from_logits
    if from_logits:
        warnings.warn(
            f"from_logits=True, but y_pred is the output of a {activation} activation, so it "
            f"holds probabilities, not logits; computing the loss from the {activation}'s "
            "input instead.",
            stacklevel=3,
        )
    return y_pred._keras_logits, True


def _same_shape(name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{name}: y_true and y_pred must have the same shape; got "
            f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}."
        )


# --- per-sample loss functions --------------------------------------------------------------


def categorical_crossentropy(
    y_true: TensorLike,
    y_pred: TensorLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """``-sum(y_true * log(p), axis)`` for one-hot (or soft) labels ``y_true``.

    ``label_smoothing = s`` replaces ``y_true`` by ``y_true * (1 - s) + s / num_classes``.
    """
    y_pred, from_logits = _logits(y_pred, from_logits, "softmax", axis)
    y_pred = to_float(y_pred)
    y_true = torch.as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    _same_shape("categorical_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        log_p = F.log_softmax(y_pred, dim=axis)
    else:
        p = y_pred / y_pred.sum(dim=axis, keepdim=True)
        log_p = p.clamp(EPSILON, 1.0 - EPSILON).log()
    return -(y_true * log_p).sum(dim=axis)


def sparse_categorical_crossentropy(
    y_true: TensorLike,
    y_pred: TensorLike,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> torch.Tensor:
    """``-log(p[y_true])`` for integer class labels of shape ``(N,)`` or ``(N, 1)``.

    Labels equal to ``ignore_class`` get loss 0 (``SparseCategoricalCrossentropy`` also leaves
    them out of the mean). Uses ``F.cross_entropy``: no one-hot matrix is built.
    """
    y_pred, from_logits = _logits(y_pred, from_logits, "softmax", axis)
    y_pred = to_float(y_pred)
    labels = torch.as_tensor(y_true, device=y_pred.device)
    if labels.dim() == y_pred.dim() and labels.shape[axis] == 1:
        labels = labels.squeeze(axis)
    expected = y_pred.shape[:axis % y_pred.dim()] + y_pred.shape[axis % y_pred.dim() + 1:]
    if labels.shape != expected:
        raise ValueError(
            "sparse_categorical_crossentropy: y_true must hold one class index per "
            f"prediction, shape {tuple(expected)} (or with a trailing 1); got "
            f"y_true.shape={tuple(labels.shape)} for y_pred.shape={tuple(y_pred.shape)}."
        )
    if y_pred.dim() > 1:
        y_pred = y_pred.movedim(axis, 1)
    ignore_index = -100 if ignore_class is None else ignore_class
    if from_logits:
        return F.cross_entropy(y_pred, labels.long(), reduction="none", ignore_index=ignore_index)
    class_axis = 1 if y_pred.dim() > 1 else 0
    p = (y_pred / y_pred.sum(dim=class_axis, keepdim=True)).clamp(EPSILON, 1.0 - EPSILON)
    return F.nll_loss(p.log(), labels.long(), reduction="none", ignore_index=ignore_index)


def binary_crossentropy(
    y_true: TensorLike,
    y_pred: TensorLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """``mean(-(y log p + (1 - y) log(1 - p)), axis)`` for labels in ``[0, 1]``.

    ``label_smoothing = s`` replaces ``y`` by ``y * (1 - s) + s / 2``.
    """
    y_pred, from_logits = _logits(y_pred, from_logits, "sigmoid")
    y_true, y_pred = align(y_true, y_pred)
    _same_shape("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        losses = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        losses = F.binary_cross_entropy(p, y_true, reduction="none")
    return losses.mean(dim=axis)


def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean((y_true - y_pred) ** 2, axis=-1)``."""
    y_true, y_pred = align(y_true, y_pred)
    return (y_true - y_pred).square().mean(dim=-1)


def mean_absolute_error(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(|y_true - y_pred|, axis=-1)``."""
    y_true, y_pred = align(y_true, y_pred)
    return (y_true - y_pred).abs().mean(dim=-1)


def mean_absolute_percentage_error(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)``."""
    y_true, y_pred = align(y_true, y_pred)
    return 100.0 * ((y_true - y_pred).abs() / y_true.abs().clamp(min=EPSILON)).mean(dim=-1)


def huber(y_true: TensorLike, y_pred: TensorLike, delta: float = 1.0) -> torch.Tensor:
    """``mean(0.5 e^2 if |e| <= delta else delta * (|e| - 0.5 delta), axis=-1)``, ``e = y - p``."""
    y_true, y_pred = align(y_true, y_pred)
    return F.huber_loss(y_pred, y_true, reduction="none", delta=delta).mean(dim=-1)


def hinge(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; labels in ``{0, 1}`` become ``{-1, 1}``."""
    y_true, y_pred = align(y_true, y_pred)
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    y_true = torch.where(is_binary, 2.0 * y_true - 1.0, y_true)
    return (1.0 - y_true * y_pred).clamp(min=0.0).mean(dim=-1)


def kl_divergence(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``sum(t * log(t / p), axis=-1)`` with ``t``, ``p`` clipped to ``[1e-7, 1]``."""
    y_true, y_pred = align(y_true, y_pred)
    t = y_true.clamp(EPSILON, 1.0)
    return (t * (t / y_pred.clamp(EPSILON, 1.0)).log()).sum(dim=-1)


# --- Loss objects ---------------------------------------------------------------------------


def _reduce(
    values: torch.Tensor,
    sample_weight: TensorLike | None,
    mask: torch.Tensor | None,
    reduction: str | None,
) -> torch.Tensor:
    """Weight per-sample ``values`` by ``sample_weight`` (and ``mask``) and reduce them.

    With a mask and ``'sum_over_batch_size'`` the masked-out values leave the divisor too.
    """
    weight = None
    if mask is not None:
        weight = mask.to(values.dtype)
        if reduction in ("sum_over_batch_size", "mean"):
            weight = weight * (weight.numel() / weight.sum().clamp(min=1.0))
    if sample_weight is not None:
        sw = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
        weight = sw if weight is None else torch.mul(*match_rank(weight, sw))
    if weight is not None:
        values = torch.mul(*match_rank(values, weight))
    if reduction in ("none", None):
        return values
    total = values.sum()
    return total if reduction == "sum" else total / max(values.numel(), 1)


class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None) -> scalar tensor``.

    Subclasses implement ``call(y_true, y_pred) -> per-sample losses``. ``reduction`` is
    ``'sum_over_batch_size'`` (Keras's default; ``'mean'`` is the same), ``'sum'`` or
    ``'none'``.
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}; got {reduction!r}.")
        self.name = name or type(self).__name__
        self.reduction = reduction

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
        raise NotImplementedError

    def mask(self, y_true: TensorLike, values: torch.Tensor) -> torch.Tensor | None:
        """Which per-sample values count (``None``: all of them)."""
        return None

    def __call__(
        self, y_true: TensorLike, y_pred: TensorLike, sample_weight: TensorLike | None = None
    ) -> torch.Tensor:
        values = self.call(y_true, y_pred)
        return _reduce(values, sample_weight, self.mask(y_true, values), self.reduction)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(
        self,
        fn: Callable[..., torch.Tensor],
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        **kwargs: Any,
    ):
        super().__init__(name or getattr(fn, "__name__", None), reduction)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.fn_kwargs}


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot labels; see ``categorical_crossentropy``."""

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
    ):
        super().__init__(
            categorical_crossentropy, name, reduction,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels; see ``sparse_categorical_crossentropy``.

    Samples whose label is ``ignore_class`` are left out of the mean (Keras's masking).
    """

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        name: str = "sparse_categorical_crossentropy",
    ):
        super().__init__(
            sparse_categorical_crossentropy, name, reduction,
            from_logits=from_logits, ignore_class=ignore_class,
        )
        self.ignore_class = ignore_class

    def mask(self, y_true: TensorLike, values: torch.Tensor) -> torch.Tensor | None:
        if self.ignore_class is None:
            return None
        labels = torch.as_tensor(y_true, device=values.device).reshape(values.shape)
        return labels != self.ignore_class


class BinaryCrossentropy(LossFunctionWrapper):
    """Cross-entropy for 0/1 labels; see ``binary_crossentropy``."""

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
    ):
        super().__init__(
            binary_crossentropy, name, reduction,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )


class MeanSquaredError(LossFunctionWrapper):
    """``mean((y_true - y_pred) ** 2)`` (L2 loss)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_squared_error"):
        super().__init__(mean_squared_error, name, reduction)


class MeanAbsoluteError(LossFunctionWrapper):
    """``mean(|y_true - y_pred|)`` (L1 loss)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_error"):
        super().__init__(mean_absolute_error, name, reduction)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 * mean(|y_true - y_pred| / |y_true|)``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_percentage_error"):
        super().__init__(mean_absolute_percentage_error, name, reduction)


class Huber(LossFunctionWrapper):
    """Quadratic for errors up to ``delta``, linear beyond; see ``huber``."""

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "huber_loss"):
        super().__init__(huber, name, reduction, delta=delta)


class Hinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0))`` for labels in ``{-1, 1}`` (or ``{0, 1}``)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "hinge"):
        super().__init__(hinge, name, reduction)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "kl_divergence"):
        super().__init__(kl_divergence, name, reduction)


# --- lookup ---------------------------------------------------------------------------------

_CLASSES: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (
        CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
        MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, Huber, Hinge,
        KLDivergence,
    )
}
# Function names and Keras's short aliases; ``get`` names the instance after them.
_NAMES: dict[str, type[Loss]] = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "huber": Huber, "huber_loss": Huber, "hinge": Hinge,
    "kl_divergence": KLDivergence, "kld": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
}


def get(identifier: str | dict | Loss | Callable[..., torch.Tensor] | None) -> Loss | None:
    """The ``Loss`` for a Keras identifier.

    Accepts a name (``'categorical_crossentropy'``, ``'mse'``/``'MSE'``, ``'mae'``, ...; the loss
    is named after it), a class name (``'CategoricalCrossentropy'``), a config dict
    ``{'class_name': ..., 'config': {...}}``, a ``Loss`` (or subclass), a function
    ``fn(y_true, y_pred) -> per-sample losses`` (wrapped, named ``fn.__name__``), or ``None``.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        cls = _NAMES.get(identifier, _NAMES.get(identifier.lower()))
        if cls is None:
            raise ValueError(
                f"Unknown loss {identifier!r}; expected one of {sorted(_NAMES)}, "
                f"{sorted(_CLASSES)}, a Loss or a function fn(y_true, y_pred)."
            )
        return cls(name=identifier)
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(
                "A loss config dict needs 'class_name' naming one of "
                f"{sorted(_CLASSES)}; got {identifier!r}."
            )
        return cls.from_config(identifier.get("config") or {})
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise TypeError(
        f"loss must be a name, config dict, Loss or callable; got "
        f"{type(identifier).__name__} {identifier!r}."
    )


def serialize(loss: Loss) -> dict[str, Any]:
    """``{'class_name': ..., 'config': ...}``, the form ``get`` reads back."""
    if type(loss).__name__ not in _CLASSES:
        raise ValueError(
            f"Cannot serialize {loss!r}: only the built-in losses {sorted(_CLASSES)} "
            "have a name to save."
        )
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


# --- label checks ---------------------------------------------------------------------------


def _fits(shape: tuple, expected: tuple) -> bool:
    """``shape`` equals ``expected``, where ``None`` in ``expected`` matches any size."""
    return len(shape) == len(expected) and all(
        e is None or s == e for s, e in zip(shape, expected, strict=True)
    )


def _fmt(dims: tuple) -> str:
    """A shape without its batch axis, printed with it: ``(10,)`` -> ``'(N, 10)'``."""
    return "(" + ", ".join(["N", *map(str, dims)]) + ("," if not dims else "") + ")"


def check_targets(
    loss: str | Loss | Callable[..., torch.Tensor],
    y_true: TensorLike,
    y_pred_shape: Sequence[int | None],
) -> None:
    """Raise a ``ValueError`` if labels ``y_true`` cannot be used with ``loss``.

    ``y_pred_shape`` is the model output shape (batch axis first, may be ``None``); only the
    axes after the batch axis are compared. Checks the cross-entropy losses: label shape
    (one-hot vs integer), class indices within ``[0, units)``, binary labels within ``[0, 1]``.
    Call it once before training on the whole label array (it reads the values).
    """
    loss = get(loss)
    labels = torch.as_tensor(y_true)
    got, out = tuple(labels.shape)[1:], tuple(y_pred_shape)[1:]
    intro = (f"loss={loss.name!r} got labels of shape {_fmt(got)} for a model output of "
             f"shape {_fmt(out)}")
    if isinstance(loss, SparseCategoricalCrossentropy):
        _check_sparse(intro, labels, got, out, loss.ignore_class)
    elif isinstance(loss, CategoricalCrossentropy):
        _check_categorical(intro, got, out)
    elif isinstance(loss, BinaryCrossentropy):
        _check_binary(intro, labels, got, out)


def _check_sparse(intro: str, labels: torch.Tensor, got: tuple, out: tuple,
                  ignore_class: int | None) -> None:
    units = out[-1] if out else None
    if not (_fits(got, out[:-1]) or _fits(got, (*out[:-1], 1))):
        hint = ""
        if _fits(got, out) and units != 1:
            hint = (" They look one-hot encoded: use loss='categorical_crossentropy', or turn "
                    "them into class indices with y.argmax(axis=-1).")
        raise ValueError(
            f"{intro}; it expects one integer class index per sample, shape "
            f"{_fmt(out[:-1])} or {_fmt((*out[:-1], 1))}.{hint}"
        )
    values = labels if ignore_class is None else labels[labels != ignore_class]
    if values.numel() == 0:
        return
    if values.is_floating_point() and not bool((values == values.round()).all()):
        raise ValueError(f"{intro}; class indices must be whole numbers, but some labels "
                         "have fractions.")
    low, high = values.min().item(), values.max().item()
    if low < 0 or (units is not None and high >= units):
        raise ValueError(
            f"{intro}; class indices must lie in [0, {units}) for an output with {units} "
            f"units, but the labels range over [{low:g}, {high:g}]. If there are "
            f"{int(high) + 1} classes, the output layer needs {int(high) + 1} units."
        )


def _check_categorical(intro: str, got: tuple, out: tuple) -> None:
    if _fits(got, out):
        return
    units = out[-1] if out else None
    if _fits(got, out[:-1]) or (_fits(got, (*out[:-1], 1)) and units != 1):
        raise ValueError(
            f"{intro}; it expects one-hot labels of shape {_fmt(out)}, and these look like "
            "integer class indices. Use loss='sparse_categorical_crossentropy', or one-hot "
            f"encode them with to_categorical(y, {units})."
        )
    if len(got) == len(out) and _fits(got[:-1], out[:-1]):
        raise ValueError(
            f"{intro}; one-hot labels of width {got[-1]} do not fit an output of {units} "
            f"units: the output layer needs {got[-1]} units (one per class)."
        )
    raise ValueError(f"{intro}; it expects labels of shape {_fmt(out)}.")


def _check_binary(intro: str, labels: torch.Tensor, got: tuple, out: tuple) -> None:
    if not (_fits(got, out) or _fits((*got, 1), out) or _fits(got, (*out, 1))):
        hint = ""
        if _fits(got, out[:-1]) and out and out[-1] != 1:
            hint = (f" For {out[-1]} classes with integer labels use a softmax output and "
                    "loss='sparse_categorical_crossentropy'.")
        raise ValueError(f"{intro}; it expects labels of shape {_fmt(out)}.{hint}")
    if labels.numel() == 0:
        return
    low, high = labels.min().item(), labels.max().item()
    if low < 0 or high > 1:
        raise ValueError(
            f"{intro}; binary labels must lie in [0, 1], but they range over "
            f"[{low:g}, {high:g}]."
        )


__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Hinge",
    "Huber",
    "KLDivergence",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "align",
    "binary_crossentropy",
    "categorical_crossentropy",
    "check_targets",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "match_rank",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "serialize",
    "sparse_categorical_crossentropy",
    "to_float",
]
