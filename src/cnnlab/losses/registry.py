"""Loss lookup by Keras identifier (``get``) and the config form it reads (``serialize``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from cnnlab.losses.loss import Loss, LossFunctionWrapper
from cnnlab.losses.margin import Hinge
from cnnlab.losses.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    SparseCategoricalCrossentropy,
)
from cnnlab.losses.regression import (
    Huber,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
)

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
