"""Weight initializers with Keras 3 names, arguments and defaults.

An initializer is called with a **Keras-layout** shape and returns a new tensor of that shape:
``(in, out)`` for a dense kernel, ``(*kernel_size, in_channels, filters)`` for a convolution.
Layers that store PyTorch layouts permute the result themselves.

    >>> w = GlorotUniform(seed=1)((3, 3, 16, 32))   # Conv2D(32, 3) on 16 channels
    >>> w.shape
    torch.Size([3, 3, 16, 32])

Fans are Keras's (``compute_fans``). A ``seed`` makes every call return the same values (a
fresh ``torch.Generator`` per call, as Keras 3's seeded initializers do); without one the global
torch generator is used, so ``torch.manual_seed`` makes a whole model reproducible.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import torch

Shape = Sequence[int]

# Standard deviation of a unit normal truncated to [-2, 2]: Keras divides by it so that the
# truncated samples have the intended variance.
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a Keras-layout weight shape.

    Rank 0: ``(1, 1)``. Rank 1: ``(n, n)``. Rank 2 ``(in, out)``: ``(in, out)``.
    Rank > 2, a conv kernel ``(*spatial, in, out)``: with ``r = prod(spatial)``,
    ``(r * in, r * out)``. Example: ``(3, 3, 16, 32)`` -> ``(144, 288)``.
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return receptive * shape[-2], receptive * shape[-1]


class Initializer:
    """Base class: ``init(shape, dtype=torch.float32) -> Tensor`` and ``get_config()``."""

    def __call__(self, shape: Shape, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape: Shape, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.zeros(tuple(shape), dtype=dtype)


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape: Shape, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.ones(tuple(shape), dtype=dtype)


class Constant(Initializer):
    """Every entry equals the scalar ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = value

    def __call__(self, shape: Shape, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.full(tuple(shape), float(self.value), dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Identity(Initializer):
    """``gain * I`` for a 2D shape (a rectangular shape gets ones on the main diagonal)."""

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape: Shape, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        if len(shape) != 2:
            raise ValueError(
                f"Identity initializer needs a 2D shape; got shape={tuple(shape)} "
                f"of rank {len(shape)}."
            )
        return self.gain * torch.eye(shape[0], shape[1], dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Base of the random initializers: holds ``seed`` and makes the generator from it."""

    def __init__(self, seed: int | None = None):
        if seed is not None and not isinstance(seed, int):
            raise TypeError(f"seed must be an int or None; got {seed!r}.")
        self.seed = seed

    def _generator(self) -> torch.Generator | None:
        return None if self.seed is None else torch.Generator().manual_seed(self.seed)

    def _normal(self, shape: Shape, dtype: torch.dtype, mean: float, std: float) -> torch.Tensor:
        out = torch.empty(tuple(shape), dtype=dtype)
        return out.normal_(mean, std, generator=self._generator())

    def _truncated(self, shape: Shape, dtype: torch.dtype, mean: float, std: float) -> torch.Tensor:
        out = torch.empty(tuple(shape), dtype=dtype)
        lo, hi = mean - 2 * std, mean + 2 * std
        return torch.nn.init.trunc_normal_(out, mean, std, lo, hi, generator=self._generator())

    def _uniform(self, shape: Shape, dtype: torch.dtype, low: float, high: float) -> torch.Tensor:
        out = torch.empty(tuple(shape), dtype=dtype)
        return out.uniform_(low, high, generator=self._generator())

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Samples from ``N(mean, stddev^2)``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape: Shape, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return self._normal(shape, dtype, self.mean, self.stddev)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """``N(mean, stddev^2)`` with samples beyond two ``stddev`` of the mean redrawn."""

    def __call__(self, shape: Shape, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return self._truncated(shape, dtype, self.mean, self.stddev)


class RandomUniform(RandomInitializer):
    """Samples from ``U[minval, maxval)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape: Shape, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return self._uniform(shape, dtype, self.minval, self.maxval)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(RandomInitializer):
    """Samples with variance ``scale / n``, ``n`` = fan_in, fan_out or their mean (``mode``).

    ``distribution``: ``'truncated_normal'`` (``'normal'`` is an alias, as in Keras): stddev
    ``sqrt(scale / n) / 0.8796...`` truncated at two stddev, so the kept samples have variance
    ``scale / n``; ``'untruncated_normal'``: stddev ``sqrt(scale / n)``; ``'uniform'``:
    ``U[-limit, limit]`` with ``limit = sqrt(3 * scale / n)``.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be > 0; got scale={scale!r}.")
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: mode must be one of {self._MODES}; got {mode!r}.")
        distribution = distribution.lower()
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"VarianceScaling: distribution must be one of {self._DISTRIBUTIONS} or "
                f"'normal'; got {distribution!r}."
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape: Shape, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        variance = self.scale / max(1.0, fan[self.mode])
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return self._uniform(shape, dtype, -limit, limit)
        if self.distribution == "untruncated_normal":
            return self._normal(shape, dtype, 0.0, math.sqrt(variance))
        return self._truncated(shape, dtype, 0.0, math.sqrt(variance) / _TRUNCATED_STD)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class _Preset(VarianceScaling):
    """A named ``VarianceScaling`` setting; only ``seed`` is configurable."""

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    """Glorot/Xavier uniform: ``U[-l, l]``, ``l = sqrt(6 / (fan_in + fan_out))``."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_avg", "uniform", seed)


class GlorotNormal(_Preset):
    """Glorot/Xavier normal: truncated normal of variance ``2 / (fan_in + fan_out)``."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)


class HeNormal(_Preset):
    """He normal: truncated normal of variance ``2 / fan_in``."""

    def __init__(self, seed: int | None = None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)


class HeUniform(_Preset):
    """He uniform: ``U[-l, l]``, ``l = sqrt(6 / fan_in)``."""

    def __init__(self, seed: int | None = None):
        super().__init__(2.0, "fan_in", "uniform", seed)


class LecunNormal(_Preset):
    """LeCun normal: truncated normal of variance ``1 / fan_in``."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)


class LecunUniform(_Preset):
    """LeCun uniform: ``U[-l, l]``, ``l = sqrt(3 / fan_in)``."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_in", "uniform", seed)


class Orthogonal(RandomInitializer):
    """``gain`` times a random orthogonal matrix (Saxe et al. 2014).

    The shape is viewed as ``(prod(shape[:-1]), shape[-1])``; rows (or columns, whichever are
    fewer) are orthonormal. Made as Q of the QR factorization of a normal matrix, with the signs
    of ``diag(R)`` folded in so that Q is uniformly distributed.
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape: Shape, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        if len(shape) < 2:
            raise ValueError(
                f"Orthogonal initializer needs a shape of rank >= 2; got shape={tuple(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._normal((max(rows, cols), min(rows, cols)), torch.float32, 0.0, 1.0)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(tuple(shape)).to(dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


def _snake(name: str) -> str:
    """``'GlorotUniform'`` -> ``'glorot_uniform'``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Zeros, Ones, Constant, Identity, RandomNormal, RandomUniform, TruncatedNormal,
        VarianceScaling, GlorotUniform, GlorotNormal, HeNormal, HeUniform, LecunNormal,
        LecunUniform, Orthogonal,
    )
}
_LOOKUP: dict[str, type] = {
    **_CLASSES,
    **{_snake(name): cls for name, cls in _CLASSES.items()},
    "zero": Zeros, "one": Ones, "normal": RandomNormal, "uniform": RandomUniform,
}

InitializerLike = Initializer | Callable[..., torch.Tensor]


def get(identifier: str | dict | InitializerLike | None) -> InitializerLike | None:
    """The initializer for a Keras identifier.

    Accepts a name (``'glorot_uniform'``, ``'GlorotUniform'``, ``'he_normal'``, ``'zeros'``,
    ...), a config dict ``{'class_name': 'HeNormal', 'config': {'seed': 1}}`` (as ``serialize``
    and Keras write it), an ``Initializer`` instance or class, a callable
    ``fn(shape, dtype)``, or ``None`` (returned as ``None``).
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                "An initializer config dict needs a 'class_name' key (and optionally "
                f"'config'); got keys {sorted(identifier)}."
            )
        return _lookup(identifier["class_name"]).from_config(identifier.get("config") or {})
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(
        "initializer must be a name, config dict, Initializer or callable; got "
        f"{type(identifier).__name__} {identifier!r}."
    )


def _lookup(name: str) -> type:
    cls = _LOOKUP.get(name)
    if cls is None:
        raise ValueError(f"Unknown initializer {name!r}; expected one of {sorted(_LOOKUP)}.")
    return cls


def serialize(initializer: Initializer | None) -> dict[str, Any] | None:
    """``{'class_name': ..., 'config': ...}``, the form ``get`` reads back; ``None`` stays."""
    if initializer is None:
        return None
    if type(initializer).__name__ not in _CLASSES:
        raise ValueError(
            f"Cannot serialize {initializer!r}: only the built-in initializers "
            f"{sorted(_CLASSES)} have a name to save."
        )
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


# Keras's lower-case spellings (``keras.initializers.he_normal(seed=1)``).
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
glorot_uniform, glorot_normal, he_normal, he_uniform = (GlorotUniform, GlorotNormal, HeNormal,
                                                        HeUniform)
lecun_normal, lecun_uniform, orthogonal = LecunNormal, LecunUniform, Orthogonal

__all__ = [
    "zeros",
    "ones",
    "constant",
    "identity",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "InitializerLike",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomInitializer",
    "RandomNormal",
    "RandomUniform",
    "Shape",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "get",
    "serialize",
]
