"""``LayerNormalization`` (Ba, Kiros & Hinton 2016) with Keras's arguments and defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab.layers.base import Layer
from cnnlab.layers.registry import register
from cnnlab.layers.scale_shift import ScaleShift
from cnnlab.layers.weight_layout import SAME_LAYOUT, WeightLayout


@register()
class LayerNormalization(ScaleShift, Layer):
    """Normalize each sample over ``axis`` (not over the batch, unlike ``BatchNormalization``).

    For each sample, over the ``k`` values along ``axis``::

        mean = Σ x / k,   var = Σ (x − mean)² / k
        y = gamma · (x − mean) / sqrt(var + epsilon) + beta

    The same in training and inference: there are no moving statistics.

    Args (Keras's names and defaults):
        axis: −1 (the last axis: features, or channels of an ``(N, H, W, C)`` image), or a
            list of non-batch axes normalized together, e.g. ``[1, 2, 3]`` for whole images.
        epsilon: 1e-3, added to the variance.
        center / scale: learn ``beta`` / ``gamma`` (default True).
        beta_initializer='zeros', gamma_initializer='ones', beta_regularizer=None,
        gamma_regularizer=None, beta_constraint=None, gamma_constraint=None.

    Input shape: any rank ≥ 2. Output shape: the same.

    Weights (``get_weights()`` order, as Keras): ``gamma``, ``beta``, each of shape
    ``[input_shape[a] for a in axis]``: ``2·features`` parameters, all trainable. Example:
    ``LayerNormalization()`` after ``Dense(64)`` has 128 parameters.
    """

    min_ndim = 2

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise TypeError(f"{self.owner}: `axis` must be an int or a non-empty list of ints, "
                            f"got {axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"{self.owner}: `epsilon` must be a positive number, got "
                             f"{epsilon!r}")
        self.axis: int | list[int] = axes if isinstance(axis, (list, tuple)) else axes[0]
        self.epsilon = float(epsilon)
        self.init_scale_shift(center, scale, beta_initializer, gamma_initializer,
                              beta_regularizer, gamma_regularizer, beta_constraint,
                              gamma_constraint)
        self._build_if_declared()

    def _axes(self) -> list[int]:
        return self.axis if isinstance(self.axis, list) else [self.axis]

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        axes = []
        for a in self._axes():
            if not -rank <= a < rank or a % rank == 0:
                raise ValueError(f"{self.owner}: `axis` must name non-batch axes of the "
                                 f"{rank}-D input {input_shape}, got axis={self.axis}")
            axes.append(a % rank)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{self.owner}: `axis` must name each axis once, got {self.axis} "
                             f"for a {rank}-D input")
        self.axes = sorted(axes)
        sizes = [input_shape[a] for a in self.axes]
        if any(s is None for s in sizes):
            raise ValueError(f"{self.owner}: the normalized axes {self.axis} of the input must "
                             f"have known sizes, got input shape {input_shape}")
        self.input_ndim = rank
        # F.layer_norm's fast path normalizes trailing axes; others broadcast by hand.
        self.trailing = self.axes == list(range(rank - len(self.axes), rank))
        self.build_scale_shift(tuple(int(s) for s in sizes))
        self.trainable = self.trainable

    def fixed_axes(self) -> list[int]:
        return list(self.axes) if self.built else []

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        x = inputs if inputs.is_floating_point() else inputs.float()
        if self.trailing:
            shape = [x.shape[a] for a in self.axes]
            return F.layer_norm(x, shape, self.gamma, self.beta, self.epsilon)
        variance, mean = torch.var_mean(x, dim=self.axes, correction=0, keepdim=True)
        y = (x - mean) * torch.rsqrt(variance + self.epsilon)
        broadcast = [x.shape[d] if d in self.axes else 1 for d in range(x.ndim)]
        if self.gamma is not None:
            y = y * self.gamma.reshape(broadcast)
        if self.beta is not None:
            y = y + self.beta.reshape(broadcast)
        return y

    def keras_weights(self) -> list[tuple[str, torch.Tensor, WeightLayout]]:
        return [(name, getattr(self, name), SAME_LAYOUT) for name in ("gamma", "beta")
                if getattr(self, name) is not None]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(axis=self.axis, epsilon=self.epsilon, **self.scale_shift_config())
        return config
