"""More TensorFlow names the Keras tutorials use: ``tf.function``, ``tf.math.l2_normalize``,
``tf.random.uniform``/``normal``, ``tf.compat.as_bytes``/``as_str``.

``tf.function`` compiles a Python function into a graph in TensorFlow; here it returns the
function unchanged (eager PyTorch), so decorated code runs and gives the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from cnnlab.tf.ops import DType, as_dtype, convert_to_tensor


def function(func: Callable | None = None, input_signature: Any = None, autograph: bool = True,
             jit_compile: bool | None = None, reduce_retracing: bool = False,
             **kwargs: Any) -> Any:
    """``@tf.function`` / ``tf.function(fn, ...)``: the function itself (runs eagerly)."""
    if func is None:
        return lambda f: f
    if not callable(func):
        raise TypeError(f"tf.function: expected a function to decorate, got "
                        f"{type(func).__name__}")
    return func


def l2_normalize(x: Any, axis: int | Sequence[int] | None = None, epsilon: float = 1e-12,
                 name: str | None = None) -> torch.Tensor:
    """``x / sqrt(max(sum(x**2, axis), epsilon))`` (over all elements when ``axis`` is None),
    as ``tf.math.l2_normalize``."""
    t = convert_to_tensor(x)
    dims = tuple(range(t.ndim)) if axis is None else axis
    square_sum = torch.sum(t * t, dim=dims, keepdim=True)
    return t * torch.rsqrt(torch.clamp(square_sum, min=epsilon))


def _shape(shape: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in (shape.tolist() if torch.is_tensor(shape) else shape))


def uniform(shape: Any, minval: float = 0.0, maxval: float | None = None,
            dtype: DType = torch.float32, seed: int | None = None,
            name: str | None = None) -> torch.Tensor:
    """Uniform draws in ``[minval, maxval)`` (``maxval`` defaults to 1 for floats), as
    ``tf.random.uniform``; ``seed`` makes the draw reproducible."""
    wanted = as_dtype(dtype)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    if not wanted.is_floating_point:
        if maxval is None:
            raise ValueError("tf.random.uniform: `maxval` must be given for integer dtypes")
        return torch.randint(int(minval), int(maxval), _shape(shape), generator=generator,
                             dtype=wanted)
    high = 1.0 if maxval is None else float(maxval)
    draws = torch.rand(_shape(shape), generator=generator, dtype=wanted)
    return draws * (high - float(minval)) + float(minval)


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: DType = torch.float32,
           seed: int | None = None, name: str | None = None) -> torch.Tensor:
    """Normal draws ``mean + stddev * N(0, 1)``, as ``tf.random.normal``."""
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    draws = torch.randn(_shape(shape), generator=generator, dtype=as_dtype(dtype))
    return draws * float(stddev) + float(mean)


def as_bytes(bytes_or_text: bytes | str, encoding: str = "utf-8") -> bytes:
    """``tf.compat.as_bytes``: text encoded (``encoding``), bytes unchanged."""
    if isinstance(bytes_or_text, (bytes, bytearray)):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    raise TypeError(f"tf.compat.as_bytes: expected bytes or str, got "
                    f"{type(bytes_or_text).__name__} {bytes_or_text!r}")


def as_str(bytes_or_text: bytes | str, encoding: str = "utf-8") -> str:
    """``tf.compat.as_str``: bytes decoded (``encoding``), text unchanged."""
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, (bytes, bytearray)):
        return bytes(bytes_or_text).decode(encoding)
    raise TypeError(f"tf.compat.as_str: expected bytes or str, got "
                    f"{type(bytes_or_text).__name__} {bytes_or_text!r}")


__all__ = ["as_bytes", "as_str", "function", "l2_normalize", "normal", "uniform"]
