"""Regularization layers: ``Dropout``, ``SpatialDropout1D/2D/3D``, ``GaussianNoise``,
``GaussianDropout``, ``ActivityRegularization``.

The random layers act only in training (``layer(x, training=True)`` or inside ``fit``) and are
the identity otherwise. Dropout is *inverted*: kept units are scaled by ``1/(1 − rate)`` during
training, so the expected activation is unchanged and inference needs no rescaling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab.layers import conv_utils as cu
from cnnlab.layers._messages import format_shape
from cnnlab.layers.base import Layer
from cnnlab.layers.registry import register


def check_rate(rate: Any, owner: str) -> float:
    """``rate`` must be a number in ``[0, 1)`` (1 would drop everything and divide by 0)."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
        raise ValueError(f"{owner}: `rate` must be a float in [0, 1), got {rate!r}")
    return float(rate)


def inverted_dropout(x: torch.Tensor, rate: float, mask_shape: Sequence[int],
                     generator: torch.Generator | None) -> torch.Tensor:
    """``x · keep / (1 − rate)`` with ``keep ~ Bernoulli(1 − rate)`` of ``mask_shape``.

    ``mask_shape`` broadcasts against ``x``: a 1 shares one draw along that axis.
    """
    keep = torch.empty(tuple(mask_shape), dtype=x.dtype, device=x.device)
    keep.bernoulli_(1.0 - rate, generator=generator)
    return x * keep.div_(1.0 - rate)


class SeededLayer(Layer):
    """A layer drawing random numbers in training; ``seed`` makes the draws reproducible.

    With ``seed=None`` the global torch generator is used (``torch.manual_seed`` controls it);
    with an int the layer owns a generator seeded once, so successive calls differ but the
    whole sequence repeats from run to run (as Keras's seeded layers do).
    """

    def __init__(self, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"{self.owner}: `seed` must be an int or None, got {seed!r}")
        self.seed = seed
        self._generator: torch.Generator | None = None

    def generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def get_config(self) -> dict:
        config = super().get_config()
        config["seed"] = self.seed
        return config


@register()
class Dropout(SeededLayer):
    """Randomly zero a fraction ``rate`` of the inputs in training; scale the rest.

    ``y = x · m / (1 − rate)`` with ``m ~ Bernoulli(1 − rate)`` in training, ``y = x`` otherwise.

    Args:
        rate: fraction of units to drop, in ``[0, 1)``.
        noise_shape: shape of the mask, broadcast against the input; ``None`` entries take the
            input's size. E.g. ``(None, 1, features)`` on ``(N, steps, features)`` drops the same
            features at every step. Default: the input's shape.
        seed: int for reproducible masks.

    Input shape: any. Output shape: the same.

    Example: ``Dropout(0.5)`` after ``Dense(64)``: in ``fit`` about half the 64 activations of
    each sample are 0 and the others doubled; ``predict`` returns the input unchanged.
    """

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        self.rate = check_rate(rate, self.owner)
        if noise_shape is not None:
            given = noise_shape
            try:
                noise_shape = tuple(noise_shape)
            except TypeError:
                raise TypeError(f"{self.owner}: `noise_shape` must be a tuple of positive ints "
                                f"or None, got {given!r}") from None
            if not all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0)
                       for d in noise_shape):
                raise ValueError(f"{self.owner}: `noise_shape` must hold positive ints or None, "
                                 f"got {given!r}")
        self.noise_shape = noise_shape
        self._build_if_declared()

    def build(self, input_shape: tuple) -> None:
        """Check ``noise_shape`` against the sizes known now (the rest at each call)."""
        if self.noise_shape is not None:
            self.check_noise_shape(input_shape)

    def check_noise_shape(self, shape: tuple) -> None:
        if len(self.noise_shape) != len(shape) or not all(
                d is None or s is None or d in (1, s)
                for d, s in zip(self.noise_shape, shape, strict=True)):
            raise ValueError(f"{self.owner}: `noise_shape` {self.noise_shape} does not broadcast "
                             f"to the input shape {format_shape(tuple(shape))}: it must have "
                             f"one entry per input axis, each 1, None or the input's size")

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not training or self.rate == 0.0:
            return inputs
        if self.noise_shape is None and self.seed is None:
            return F.dropout(inputs, self.rate, training=True)
        return inverted_dropout(inputs, self.rate, self.mask_shape(inputs.shape),
                                self.generator(inputs.device))

    def mask_shape(self, shape: torch.Size) -> tuple[int, ...]:
        """``noise_shape`` with ``None`` filled from ``shape``; it must broadcast to ``shape``."""
        if self.noise_shape is None:
            return tuple(shape)
        self.check_noise_shape(tuple(shape))
        return tuple(s if d is None else d for d, s in zip(self.noise_shape, shape, strict=True))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(rate=self.rate,
                      noise_shape=None if self.noise_shape is None else list(self.noise_shape))
        return config


class SpatialDropout(SeededLayer):
    """Dropout of whole feature maps: one draw per sample and channel, shared over space."""

    rank = 2

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        self.rate = check_rate(rate, self.owner)
        self.data_format = cu.normalize_data_format(data_format, self.owner)
        self.input_ndim = self.rank + 2
        self.dims_hint = cu.dims_hint(self.rank, self.data_format)
        self._build_if_declared()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not training or self.rate == 0.0:
            return inputs
        n, channels = inputs.shape[0], inputs.shape[cu.channel_axis(self.data_format)]
        ones = (1,) * self.rank
        mask = ((n, *ones, channels) if self.data_format == "channels_last"
                else (n, channels, *ones))
        return inverted_dropout(inputs, self.rate, mask, self.generator(inputs.device))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(rate=self.rate, data_format=self.data_format)
        return config


@register()
class SpatialDropout1D(SpatialDropout):
    """Drop whole channels of ``(N, steps, C)`` sequences: mask shape ``(N, 1, C)``.

    Args: ``rate`` in ``[0, 1)``, ``seed=None``. Like Keras, no ``data_format`` argument: the
    input is channels-last. Input and output shape: ``(N, steps, C)``.

    Example: ``SpatialDropout1D(0.2)`` after ``Conv1D(64, 3)`` zeroes about 13 of the 64
    feature sequences of each sample in training (the others are scaled by 1/0.8).
    """

    rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(rate, seed=seed, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["data_format"]
        return config


@register()
class SpatialDropout2D(SpatialDropout):
    """Drop whole feature maps of ``(N, H, W, C)`` images: mask shape ``(N, 1, 1, C)``.

    Args: ``rate`` in ``[0, 1)``, ``data_format=None`` (channels_last; channels_first uses the
    mask ``(N, C, 1, 1)``), ``seed=None``. Input and output shape: ``(N, H, W, C)``.

    Example: ``SpatialDropout2D(0.25)`` after ``Conv2D(32, 3)`` zeroes about 8 of the 32
    feature maps of each image in training; adjacent pixels are correlated, so dropping single
    pixels (``Dropout``) would barely regularize.
    """

    rank = 2


@register()
class SpatialDropout3D(SpatialDropout):
    """Drop whole feature volumes of ``(N, D, H, W, C)``: mask shape ``(N, 1, 1, 1, C)``.

    Args: ``rate`` in ``[0, 1)``, ``data_format=None``, ``seed=None``. Output shape = input.
    Example: ``SpatialDropout3D(0.1)`` after ``Conv3D(16, 3)``.
    """

    rank = 3


@register()
class GaussianNoise(SeededLayer):
    """Add zero-mean Gaussian noise in training: ``y = x + ε``, ``ε ~ N(0, stddev²)``.

    Args: ``stddev`` ≥ 0 (Keras 3 also caps it at 1; cnnlab does not), ``seed=None``.
    Input shape: any. Output shape: the same. Example: ``GaussianNoise(0.1)`` on pixel values
    scaled to [0, 1] as a data augmentation.
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"{self.owner}: `stddev` must be a float >= 0, got {stddev!r}")
        self.stddev = float(stddev)
        self._build_if_declared()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not training or self.stddev == 0.0:
            return inputs
        noise = torch.randn(inputs.shape, dtype=inputs.dtype, device=inputs.device,
                            generator=self.generator(inputs.device))
        return inputs + noise.mul_(self.stddev)

    def get_config(self) -> dict:
        config = super().get_config()
        config["stddev"] = self.stddev
        return config


@register()
class GaussianDropout(SeededLayer):
    """Multiply by Gaussian noise of mean 1 in training: ``y = x · ε``, ``ε ~ N(1, σ²)``.

    ``σ = sqrt(rate / (1 − rate))``, the standard deviation of inverted Bernoulli dropout of the
    same rate. Args: ``rate`` in ``[0, 1)``, ``seed=None``. Input shape: any; output: the same.
    Example: ``GaussianDropout(0.5)`` multiplies each unit by ``N(1, 1)`` noise.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        self.rate = check_rate(rate, self.owner)
        self._build_if_declared()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not training or self.rate == 0.0:
            return inputs
        noise = torch.randn(inputs.shape, dtype=inputs.dtype, device=inputs.device,
                            generator=self.generator(inputs.device))
        return inputs * noise.mul_(math.sqrt(self.rate / (1.0 - self.rate))).add_(1.0)

    def get_config(self) -> dict:
        config = super().get_config()
        config["rate"] = self.rate
        return config


@register()
class ActivityRegularization(Layer):
    """Identity that adds ``(l1·Σ|x| + l2·Σx²) / N`` (N = batch size) to the training loss.

    As in Keras the penalty is divided by the batch size. It is computed on training calls and
    handed out once by ``regularization_losses()`` (the training step collects it after the
    forward pass), like the ``activity_regularizer`` of the other layers.

    Args: ``l1=0.0``, ``l2=0.0`` (non-negative factors). Input shape: any. Output: the same.
    Example: ``ActivityRegularization(l1=1e-5)`` after ``Dense(64, activation='relu')``
    encourages sparse activations.
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        for name, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{self.owner}: `{name}` must be a float >= 0, got {value!r}")
        self.l1, self.l2 = float(l1), float(l2)
        self._penalty: torch.Tensor | None = None
        self._build_if_declared()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if training and (self.l1 or self.l2):
            penalty = self.l1 * inputs.abs().sum() + self.l2 * inputs.square().sum()
            self._penalty = penalty / inputs.shape[0]
        return inputs

    def regularization_losses(self) -> list[torch.Tensor]:
        penalty, self._penalty = self._penalty, None
        return [] if penalty is None else [penalty]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(l1=self.l1, l2=self.l2)
        return config
