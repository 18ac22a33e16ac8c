"""Probabilistic losses: the cross-entropies and the Kullback-Leibler divergence.

Cross-entropy numerics follow Keras. When ``y_pred`` came straight out of
``activations.softmax`` / ``activations.sigmoid`` it carries its logits and the loss is computed
from them (``log_softmax`` / ``binary_cross_entropy_with_logits``), which stays finite for any
logits. Otherwise probabilities are clipped to ``[1e-7, 1 - 1e-7]`` (categorical ones first
normalized to sum to 1 along the class axis), so the loss is at most ``-log(1e-7) = 16.12``.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from cnnlab.losses._utils import EPSILON, TensorLike, align, to_float
from cnnlab.losses.loss import LossFunctionWrapper


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


def kl_divergence(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``sum(t * log(t / p), axis=-1)`` with ``t``, ``p`` clipped to ``[1e-7, 1]``."""
    y_true, y_pred = align(y_true, y_pred)
    t = y_true.clamp(EPSILON, 1.0)
    return (t * (t / y_pred.clamp(EPSILON, 1.0)).log()).sum(dim=-1)


# --- Loss objects ---------------------------------------------------------------------------


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
        """``y_true != ignore_class`` in the shape of ``values`` (``None`` without one)."""
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


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "kl_divergence"):
        super().__init__(kl_divergence, name, reduction)
