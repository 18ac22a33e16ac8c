"""Preprocessing of arrays: one-hot labels, L^p normalization, scaling to [0, 1], standard score.

Functions take NumPy arrays or torch tensors and give back the same kind (``to_categorical``
always returns NumPy, as Keras does for array input).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import torch

__all__ = ["Standardizer", "normalize", "scale_to_unit", "to_categorical"]

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def to_categorical(y: Any, num_classes: int | None = None, dtype: Any = "float32") -> np.ndarray:
    """One-hot encode integer class labels: ``out[..., k] = 1`` where ``y == k``, else 0.

    Shape ``y.shape + (num_classes,)``, except that a trailing axis of size 1 is dropped first,
    so labels ``(N, 1)`` (CIFAR) and ``(N,)`` (MNIST) both give ``(N, num_classes)``, as in
    Keras. ``num_classes`` defaults to ``max(y) + 1``.

    Unlike Keras, labels that are not whole numbers or lie outside ``[0, num_classes)`` raise
    ``ValueError`` instead of being truncated or wrapped around.

    Example:
        >>> to_categorical([0, 2, 1], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    labels = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    if labels.dtype.kind == "f" and np.all(np.isfinite(labels) & (labels == np.round(labels))):
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "biu":
        raise ValueError(f"to_categorical: y must hold whole-number class labels, got {y!r:.80}")
    shape = labels.shape[:-1] if labels.ndim > 1 and labels.shape[-1] == 1 else labels.shape
    flat = labels.reshape(-1).astype(np.int64)
    if num_classes is None:
        if flat.size == 0:
            raise ValueError("to_categorical: y is empty, so num_classes must be given")
        num_classes = int(flat.max()) + 1
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must lie in [0, {num_classes}) for num_classes="
            f"{num_classes}; got values from {flat.min()} to {flat.max()}"
        )
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(*shape, num_classes)


def normalize(x: ArrayT, axis: int = -1, order: int | float = 2) -> ArrayT:
    """Divide ``x`` by its L^order norm along ``axis``: ``x / ||x||_order`` (Keras's normalize).

    ``||x||_p = (sum |x_i|^p)^(1/p)``; a zero norm is replaced by 1, so all-zero vectors stay
    zero. NumPy input follows ``np.linalg.norm`` (``order=np.inf`` gives the max norm); integer
    NumPy input gives float64 like Keras, tensors keep their floating dtype. The result has the
    shape of ``x`` (Keras turns a 1-D ``x`` into ``(1, n)``).
    """
    if isinstance(x, torch.Tensor):
        x = x if x.is_floating_point() else x.double()
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    x = np.asarray(x)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)


def scale_to_unit(x: ArrayT, value_range: tuple[float, float] | None = None) -> ArrayT:
    """Feature scaling to [0, 1]: ``(x - lo) / (hi - lo)``, returned as float32.

    ``lo, hi`` are ``value_range`` if given (pass the training set's ``(min, max)`` to scale
    test data the same way), else ``(0, 255)`` for uint8 images (``x / 255``), else the
    minimum and maximum of ``x`` itself. A constant input (``hi == lo``) maps to 0.
    """
    if isinstance(x, torch.Tensor):
        is_uint8, data = x.dtype == torch.uint8, x.to(torch.float32)
    else:
        is_uint8, data = np.asarray(x).dtype == np.uint8, np.asarray(x, dtype=np.float32)
    if value_range is not None:
        lo, hi = (float(v) for v in value_range)
    elif is_uint8:
        lo, hi = 0.0, 255.0
    else:
        lo, hi = float(data.min()), float(data.max())
    span = hi - lo if hi != lo else 1.0
    return (data - lo) / span


class Standardizer:
    """Standard score per channel, fitted on the training data only: ``z = (x - mean) / std``.

    ``fit(x_train)`` computes the mean and the (population) standard deviation over every axis
    except ``axis`` (default: the last, the channels of channels-last images); ``transform(x)``
    applies *those* statistics to any data (validation, test), as Keras's ``Normalization``
    layer does after ``adapt``. A standard deviation below 1e-7 is replaced by 1e-7 (Keras's
    epsilon). The state is two plain float32 arrays, ``mean`` and ``std``, of shape
    ``(x.shape[axis],)`` (or the product shape for several axes); restore it with
    ``Standardizer(axis, mean=..., std=...)``.

    Example:
        >>> s = Standardizer().fit(x_train)          # x_train: (50000, 32, 32, 3) uint8
        >>> x_train, x_test = s.transform(x_train), s.transform(x_test)
    """

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        mean: Any = None,
        std: Any = None,
    ) -> None:
        self.axis = (axis,) if isinstance(axis, int) else tuple(axis)
        if (mean is None) != (std is None):
            raise ValueError("Standardizer: give both mean and std, or neither")
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.asarray(std, dtype=np.float32)

    def _kept_axes(self, ndim: int) -> tuple[int, ...]:
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError(f"Standardizer: axis {self.axis} out of range for {ndim}-D input")
        return tuple(sorted(a % ndim for a in self.axis))

    def fit(self, x: Any, chunk: int = 1024) -> Standardizer:
        """Compute ``mean`` and ``std`` from ``x`` (NumPy or tensor); returns ``self``.

        Two passes in float64 over chunks of ``chunk`` examples, so large uint8 datasets are
        never copied whole to float.
        """
        data = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        kept = self._kept_axes(data.ndim)
        if 0 in kept:
            raise ValueError("Standardizer: axis 0 is the example axis and cannot be kept")
        reduced = tuple(a for a in range(data.ndim) if a not in kept)
        count = data.size // max(1, int(np.prod([data.shape[a] for a in kept])))
        if count == 0:
            raise ValueError(f"Standardizer.fit: x is empty, shape {data.shape}")
        total = sum(
            np.sum(data[i : i + chunk], axis=reduced, dtype=np.float64)
            for i in range(0, len(data), chunk)
        )
        mean = total / count
        shaped = np.expand_dims(mean, reduced)
        squares = sum(
            np.sum(np.square(data[i : i + chunk] - shaped), axis=reduced)
            for i in range(0, len(data), chunk)
        )
        self.mean = mean.astype(np.float32)
        self.std = np.maximum(np.sqrt(squares / count), 1e-7).astype(np.float32)
        return self

    def transform(self, x: ArrayT) -> ArrayT:
        """``(x - mean) / std`` as float32, broadcast along the fitted axes."""
        if self.mean is None or self.std is None:
            raise ValueError("Standardizer.transform: call fit(x_train) first")
        kept = self._kept_axes(x.ndim)
        if tuple(x.shape[a] for a in kept) != self.mean.shape:
            raise ValueError(
                f"Standardizer.transform: fitted on shape {self.mean.shape} along axes "
                f"{self.axis}, got input of shape {tuple(x.shape)}"
            )
        shape = [x.shape[a] if a in kept else 1 for a in range(x.ndim)]
        mean, std = self.mean.reshape(shape), self.std.reshape(shape)
        if isinstance(x, torch.Tensor):
            mean_t = torch.from_numpy(mean).to(x.device)
            std_t = torch.from_numpy(std).to(x.device)
            return (x.to(torch.float32) - mean_t) / std_t
        return (np.asarray(x, dtype=np.float32) - mean) / std
