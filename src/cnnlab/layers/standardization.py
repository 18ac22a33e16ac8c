"""``Normalization``: the standard score with statistics fitted once by ``adapt`` (Keras's
preprocessing layer)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnlab.layers.base import Layer
from cnnlab.layers.registry import register
from cnnlab.layers.weight_layout import SAME_LAYOUT, WeightLayout

EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by


@register()
class Normalization(Layer):
    """Standardize features with a mean and variance computed once, from training data::

        y = (x − mean) / max(sqrt(variance), 1e-7)        (invert=True: x · std + mean)

    ``mean``/``variance`` are per index of the kept ``axis`` (default −1: per channel of
    channels-last images), over every other axis. Learn them with ``layer.adapt(x_train)`` —
    once, on the training data only — and the layer applies *those* statistics to any later
    data (validation, test), in training and inference alike; or give them as arguments.

    Args (Keras's names and defaults):
        axis: int, tuple of ints, or None (one mean and variance for all values).
        mean, variance: fixed statistics (numbers or arrays that broadcast to the kept axes);
            give both or neither.
        invert: map standardized values back (``x · std + mean``).

    Input shape: any, with known sizes on the kept axes. Output shape: the same.

    Weights (``get_weights()`` order, non-trainable): ``mean``, ``variance``, each of the
    kept axes' shape. Example: ``Normalization()`` on ``(28, 28, 3)`` images has 6 parameters.
    Difference from Keras: Keras 2's extra ``count`` weight is not kept (adapt runs once).

    Example::

        norm = Normalization()
        norm.adapt(x_train)                  # mean/variance per channel of x_train
        model = Sequential([Input((32, 32, 3)), norm, Conv2D(32, 3), ...])
    """

    def __init__(self, axis: int | tuple[int, ...] | None = -1, mean: Any = None,
                 variance: Any = None, invert: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError(f"{self.owner}: give both `mean` and `variance` or neither (they "
                             f"must come together), got mean={mean!r}, variance={variance!r}")
        if axis is not None and not isinstance(axis, (int, tuple, list)):
            raise TypeError(f"{self.owner}: `axis` must be an int, a tuple of ints or None, "
                            f"got {axis!r}")
        self.axis = (axis,) if isinstance(axis, int) else None if axis is None else tuple(axis)
        self.invert = bool(invert)
        self.fixed = None if mean is None else (np.asarray(mean, np.float32),
                                                np.asarray(variance, np.float32))
        self.register_buffer("mean", None)
        self.register_buffer("variance", None)
        self._build_if_declared()

    def kept_axes(self, rank: int) -> tuple[int, ...]:
        """The axes that keep their own statistics (never the batch axis 0)."""
        if self.axis is None:
            return ()
        axes = tuple(a % rank for a in self.axis if -rank <= a < rank)
        if len(axes) != len(self.axis) or 0 in axes or len(set(axes)) != len(axes):
            raise ValueError(f"{self.owner}: `axis` {self.axis} must name non-batch axes of a "
                             f"{rank}-D input, each once")
        return tuple(sorted(axes))

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        self.kept = self.kept_axes(rank)
        shape = tuple(input_shape[a] for a in self.kept)
        if any(size is None for size in shape):
            raise ValueError(f"{self.owner}: the kept axes {self.kept} of input shape "
                             f"{input_shape} must have known sizes")
        if self.kept:  # the statistics fix the rank and the kept sizes (fixed_axes)
            self.input_ndim = rank
        self.broadcast = tuple(input_shape[a] if a in self.kept else 1 for a in range(1, rank))
        mean, variance = np.zeros(shape, np.float32), np.ones(shape, np.float32)
        if self.fixed is not None:
            try:
                mean = np.broadcast_to(self.fixed[0], shape).copy()
                variance = np.broadcast_to(self.fixed[1], shape).copy()
            except ValueError:
                raise ValueError(f"{self.owner}: `mean`/`variance` of shapes "
                                 f"{self.fixed[0].shape}/{self.fixed[1].shape} do not "
                                 f"broadcast to the kept axes' shape {shape} (they must: one "
                                 f"value, or one per kept index)") from None
        self.mean, self.variance = torch.from_numpy(mean), torch.from_numpy(variance)

    def fixed_axes(self) -> tuple[int, ...]:
        return self.kept if self.built else ()

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Set ``mean`` and ``variance`` (population variance, as Keras) from ``data``: an
        array/tensor, or an iterable of batches (arrays or ``(x, y)`` pairs), read in one
        pass with float64 sums (``steps`` batches at most)."""
        if self.fixed is not None:
            raise ValueError(f"{self.owner}: `mean` and `variance` were given; adapt() would "
                             f"overwrite them")
        batches = _batches(data, batch_size, steps)
        count, total, squares = 0, None, None
        for batch in batches:
            x = torch.as_tensor(np.asarray(batch) if not isinstance(batch, torch.Tensor)
                                else batch).double()
            if not self.built:
                self.ensure_built((None, *x.shape[1:]))
            reduce = tuple(a for a in range(x.ndim) if a not in self.kept)
            total = x.sum(reduce) + (0 if total is None else total)
            squares = (x * x).sum(reduce) + (0 if squares is None else squares)
            count += x.numel() // max(1, int(np.prod([x.shape[a] for a in self.kept])))
        if count == 0:
            raise ValueError(f"{self.owner}: adapt() got no data")
        mean = total / count
        variance = (squares / count - mean * mean).clamp_min(0.0)
        self.mean.copy_(mean.reshape(self.mean.shape))
        self.variance.copy_(variance.reshape(self.variance.shape))

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not inputs.is_floating_point():
            inputs = inputs.float()
        mean = self.mean.reshape(self.broadcast).to(inputs.dtype)
        std = self.variance.sqrt().clamp_min(EPSILON).reshape(self.broadcast).to(inputs.dtype)
        return inputs * std + mean if self.invert else (inputs - mean) / std

    def keras_weights(self) -> list[tuple[str, torch.Tensor, WeightLayout]]:
        return [(name, getattr(self, name), SAME_LAYOUT) for name in ("mean", "variance")]

    def get_config(self) -> dict:
        axis = self.axis[0] if self.axis is not None and len(self.axis) == 1 else self.axis
        config = {**super().get_config(), "axis": axis, "invert": self.invert}
        if self.fixed is not None:
            config.update(mean=self.fixed[0].tolist(), variance=self.fixed[1].tolist())
        return config


def _batches(data: Any, batch_size: int | None, steps: int | None) -> Any:
    """``data`` as an iterable of input batches (targets dropped)."""
    if isinstance(data, (np.ndarray, torch.Tensor)):
        size = batch_size or len(data)
        parts = [data[i:i + size] for i in range(0, len(data), size)]
    else:
        parts = (item[0] if isinstance(item, (tuple, list)) else item for item in data)
    for index, part in enumerate(parts):
        if steps is not None and index >= steps:
            return
        yield part
