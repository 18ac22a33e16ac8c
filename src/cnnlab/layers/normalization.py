"""``BatchNormalization`` with Keras's semantics, on PyTorch's fused ``F.batch_norm`` kernel."""

from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab import initializers
from cnnlab.layers.base import Layer
from cnnlab.layers.registry import register
from cnnlab.layers.scale_shift import ScaleShift
from cnnlab.layers.weight_layout import SAME_LAYOUT, WeightLayout

WEIGHT_NAMES = ("gamma", "beta", "moving_mean", "moving_variance")  # Keras's order


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@register()
class BatchNormalization(ScaleShift, Layer):
    """Normalize each channel (feature) with batch statistics in training, moving ones after.

    Training (``layer(x, training=True)`` or inside ``fit``), per channel c over every other
    axis (batch and spatial, ``n`` values)::

        mean = Σ x / n,   var = Σ (x − mean)² / n
        y = gamma · (x − mean) / sqrt(var + epsilon) + beta
        moving_mean     = moving_mean · momentum + mean · (1 − momentum)
        moving_variance = moving_variance · momentum + var · (1 − momentum)

    Inference (``training=False``, ``evaluate``, ``predict``) uses ``moving_mean`` and
    ``moving_variance`` in place of ``mean`` and ``var``. As in Keras 2.x/3, a frozen layer
    (``trainable=False``) always runs in inference mode, even inside ``fit``.

    The moving variance blends the *biased* batch variance, as Keras 3 does (tf.keras 2's fused
    kernel for 4-D inputs used the unbiased ``n/(n − 1)`` one; PyTorch's ``BatchNorm`` too).

    Args (Keras's names and defaults):
        axis: the channel axis (int, default −1: channels-last; use 1 after channels_first).
        momentum: 0.99, weight of the old value in the moving averages.
        epsilon: 1e-3, added to the variance.
        center / scale: learn ``beta`` / ``gamma`` (default True).
        beta_initializer='zeros', gamma_initializer='ones', moving_mean_initializer='zeros',
        moving_variance_initializer='ones', beta_regularizer=None, gamma_regularizer=None.
        beta_constraint=None, gamma_constraint=None (applied after each optimizer step).

    Input shape: any rank ≥ 2, e.g. ``(N, units)`` after ``Dense`` or ``(N, H, W, C)`` after
    ``Conv2D``. Output shape: the same.

    Weights (``get_weights()`` order): ``gamma``, ``beta`` (trainable, if scale/center),
    ``moving_mean``, ``moving_variance`` (non-trainable buffers): ``4·C`` parameters of which
    ``2·C`` non-trainable. Example: after ``Conv2D(32, 3)``, ``BatchNormalization()`` has 128
    parameters (64 non-trainable).
    """

    min_ndim = 2

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"{self.owner}: `axis` must be an int, got {axis!r}")
        if not _is_number(momentum) or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{self.owner}: `momentum` must be in [0, 1], got {momentum!r}")
        if not _is_number(epsilon) or not epsilon > 0.0:
            raise ValueError(f"{self.owner}: `epsilon` must be positive, got {epsilon!r}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.init_scale_shift(center, scale, beta_initializer, gamma_initializer,
                              beta_regularizer, gamma_regularizer, beta_constraint,
                              gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.register_buffer("moving_mean", None)
        self.register_buffer("moving_variance", None)
        self._build_if_declared()

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"{self.owner}: `axis` must name a non-batch axis of the "
                             f"{rank}-D input {input_shape}, got axis={self.axis}")
        self.axis_index = self.axis % rank
        channels = input_shape[self.axis_index]
        if channels is None:
            raise ValueError(f"{self.owner}: axis {self.axis} of the input must have a known "
                             f"size, got input shape {input_shape}")
        self.input_ndim = rank
        shape = (int(channels),)
        self.build_scale_shift(shape)
        self.moving_mean = self.moving_mean_initializer(shape, dtype=torch.float32)
        self.moving_variance = self.moving_variance_initializer(shape, dtype=torch.float32)
        self.trainable = self.trainable

    def fixed_axes(self) -> tuple[int, ...]:
        return (self.axis,)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        x = inputs.movedim(self.axis_index, 1)  # a view; NHWC -> NCHW is channels_last memory
        if x.shape[1] != self.moving_mean.shape[0]:
            self.check_input_shape((None, *inputs.shape[1:]),
                                   given=f"a batch of shape {tuple(inputs.shape)}")
        if training and self.trainable:
            y = self._normalize_with_batch_stats(x)
        else:
            y = F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                             False, 0.0, self.epsilon)
        return y.movedim(1, self.axis_index)

    def _normalize_with_batch_stats(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize ``(N, C, ...)`` with its own statistics and update the moving ones."""
        n = x.numel() // x.shape[1]
        if n == 1:  # one value per channel: var = 0 (PyTorch's kernel refuses this case)
            return self._normalize_single(x)
        # The kernel blends in the unbiased var·n/(n−1); it updates a scratch copy (which
        # autograd keeps), then the buffer gets Keras's biased blend by removing the 1/n share.
        blended = self.moving_variance.clone()
        y = F.batch_norm(x, self.moving_mean, blended, self.gamma, self.beta, True,
                         1.0 - self.momentum, self.epsilon)
        with torch.no_grad():
            self.moving_variance.copy_(
                blended - (blended - self.momentum * self.moving_variance) / n)
        return y

    def _normalize_single(self, x: torch.Tensor) -> torch.Tensor:
        """The formula written out (mean = x, var = 0, so y = beta), with the moving update."""
        dims = [d for d in range(x.ndim) if d != 1]
        variance, mean = torch.var_mean(x, dim=dims, correction=0, keepdim=True)
        y = (x - mean) * torch.rsqrt(variance + self.epsilon)
        channel = (1, -1) + (1,) * (x.ndim - 2)
        if self.gamma is not None:
            y = y * self.gamma.view(channel)
        if self.beta is not None:
            y = y + self.beta.view(channel)
        with torch.no_grad():
            self.moving_mean.lerp_(mean.flatten(), 1.0 - self.momentum)
            self.moving_variance.lerp_(variance.flatten(), 1.0 - self.momentum)
        return y

    def keras_weights(self) -> list[tuple[str, torch.Tensor, WeightLayout]]:
        return [(name, getattr(self, name), SAME_LAYOUT) for name in WEIGHT_NAMES
                if getattr(self, name) is not None]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            axis=self.axis, momentum=self.momentum, epsilon=self.epsilon,
            moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
            moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
            **self.scale_shift_config(),
        )
        return config
