"""``check_targets``: clear errors for labels that do not fit a cross-entropy loss and output."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from cnnlab.losses._utils import TensorLike
from cnnlab.losses.loss import Loss
from cnnlab.losses.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)
from cnnlab.losses.registry import get


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
