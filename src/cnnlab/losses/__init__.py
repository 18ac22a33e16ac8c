"""Loss functions with Keras 3 names, arguments, defaults and numerics.

Two forms, as in Keras:

* functions ``fn(y_true, y_pred) -> per-sample losses`` (one value per sample, the last axis
  reduced), e.g. ``categorical_crossentropy(y, p)``;
* ``Loss`` objects, ``loss(y_true, y_pred, sample_weight=None) -> scalar``, which reduce the
  per-sample losses Keras's ``'sum_over_batch_size'`` way:
  ``sum(per_sample * sample_weight) / number_of_per_sample_values`` (the weights do *not*
  change the divisor).

Cross-entropies use the logits an ``activations.softmax`` / ``sigmoid`` output carries, and
otherwise clip probabilities to ``[1e-7, 1 - 1e-7]``, as Keras does (see ``probabilistic``).

    >>> loss = get("sparse_categorical_crossentropy")
    >>> loss(torch.tensor([2, 0]), activations.softmax(torch.randn(2, 3)))   # scalar tensor

Modules, one family each: ``loss`` (``Loss``, reductions, ``LossFunctionWrapper``),
``probabilistic`` (cross-entropies, KL divergence), ``regression`` (MSE, MAE, MAPE, Huber),
``margin`` (hinge), ``registry`` (``get``, ``serialize``), ``targets`` (``check_targets``).
"""

# EPSILON and TensorLike stay importable from here, as before, but are not in ``__all__``.
from cnnlab.losses._utils import EPSILON as EPSILON
from cnnlab.losses._utils import TensorLike as TensorLike
from cnnlab.losses._utils import align, match_rank, to_float
from cnnlab.losses.loss import Loss, LossFunctionWrapper
from cnnlab.losses.margin import Hinge, hinge
from cnnlab.losses.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    kl_divergence,
    sparse_categorical_crossentropy,
)
from cnnlab.losses.registry import get, serialize
from cnnlab.losses.regression import (
    Huber,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    huber,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
)
from cnnlab.losses.targets import check_targets

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
