"""The TensorFlow tensor functions Keras guides use, on ``torch.Tensor``s, with TF's argument
names (``axis``, ``keepdims``, ``dtype``) and defaults.

Differences from TensorFlow: the results are ``torch.Tensor``s (``.numpy()`` works when no
gradient is attached; else ``.detach().numpy()``), and ``dtype``s are ``torch`` dtypes
(``tf.float32 is torch.float32``); strings such as ``'float32'`` are accepted too.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

float16, bfloat16, float32, float64 = torch.float16, torch.bfloat16, torch.float32, torch.float64
int8, int16, int32, int64 = torch.int8, torch.int16, torch.int32, torch.int64
uint8, bool_ = torch.uint8, torch.bool
half, double = float16, float64
newaxis = None
Tensor = torch.Tensor

DType = torch.dtype | str | type | np.dtype | None


def as_dtype(dtype: DType) -> torch.dtype | None:
    """A torch dtype from a torch dtype, a name (``'float32'``) or a NumPy dtype."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    found = getattr(torch, "bool" if name == "bool_" else name, None)
    if not isinstance(found, torch.dtype):
        raise TypeError(f"unknown dtype {dtype!r}; use tf.float32, tf.int64, 'float32', ...")
    return found


def _python_dtype(value: Any) -> torch.dtype | None:
    """TensorFlow's dtype for Python data: floats -> float32, ints -> int32, bools -> bool."""
    leaf = value
    while isinstance(leaf, (list, tuple)) and leaf:
        leaf = leaf[0]
    if isinstance(leaf, bool):
        return torch.bool
    if isinstance(leaf, int):
        return torch.int32
    if isinstance(leaf, float) or isinstance(value, (list, tuple)):
        return torch.float32
    return None


def convert_to_tensor(value: Any, dtype: DType = None, dtype_hint: DType = None,
                      name: str | None = None) -> torch.Tensor:
    """A tensor from a tensor (returned as is, cast if ``dtype`` differs), a NumPy array (its
    dtype kept, memory shared when possible) or Python numbers/lists (floats -> float32,
    ints -> int32, as TensorFlow)."""
    wanted = as_dtype(dtype)
    if isinstance(value, torch.Tensor):
        return value if wanted is None or value.dtype == wanted else value.to(wanted)
    if isinstance(value, (np.ndarray, np.generic)):
        tensor = torch.as_tensor(np.asarray(value))
    else:
        tensor = torch.as_tensor(value, dtype=_python_dtype(value) or as_dtype(dtype_hint))
    return tensor if wanted is None else tensor.to(wanted)


def constant(value: Any, dtype: DType = None, shape: Sequence[int] | None = None,
             name: str | None = None) -> torch.Tensor:
    """A new tensor holding ``value`` (a copy); a scalar ``value`` with ``shape`` fills it."""
    tensor = convert_to_tensor(value, dtype).clone()
    if shape is not None:
        shape = tuple(shape)
        tensor = (tensor.expand(shape) if tensor.numel() == 1 else tensor.reshape(shape)).clone()
    return tensor


def ones(shape: Sequence[int] | int, dtype: DType = float32, name: str | None = None
         ) -> torch.Tensor:
    """A tensor of ``shape`` filled with 1."""
    return torch.ones(shape, dtype=as_dtype(dtype))


def zeros(shape: Sequence[int] | int, dtype: DType = float32, name: str | None = None
          ) -> torch.Tensor:
    """A tensor of ``shape`` filled with 0."""
    return torch.zeros(shape, dtype=as_dtype(dtype))


def ones_like(input: Any, dtype: DType = None, name: str | None = None) -> torch.Tensor:
    """Ones with the shape (and, unless ``dtype``, the type) of ``input``."""
    return torch.ones_like(convert_to_tensor(input), dtype=as_dtype(dtype))


def zeros_like(input: Any, dtype: DType = None, name: str | None = None) -> torch.Tensor:
    """Zeros with the shape (and, unless ``dtype``, the type) of ``input``."""
    return torch.zeros_like(convert_to_tensor(input), dtype=as_dtype(dtype))


def cast(x: Any, dtype: DType, name: str | None = None) -> torch.Tensor:
    """``x`` as ``dtype`` (float -> int truncates toward zero, as TensorFlow)."""
    return convert_to_tensor(x).to(as_dtype(dtype))


def reshape(tensor: Any, shape: Sequence[int], name: str | None = None) -> torch.Tensor:
    """``shape`` may hold one ``-1``, as in TensorFlow."""
    return convert_to_tensor(tensor).reshape(tuple(int(d) for d in shape))


def _dims(x: torch.Tensor, axis: int | Sequence[int] | None) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    if isinstance(axis, torch.Tensor):
        axis = axis.tolist()
    return tuple(int(a) for a in axis) if isinstance(axis, (list, tuple)) else (int(axis),)


def reduce_sum(input_tensor: Any, axis: int | Sequence[int] | None = None,
               keepdims: bool = False, name: str | None = None) -> torch.Tensor:
    """Sum over ``axis`` (all axes when ``None``)."""
    x = convert_to_tensor(input_tensor)
    out = x.sum(dim=_dims(x, axis), keepdim=keepdims)
    return out if x.dtype == torch.bool else out.to(x.dtype)  # int32 stays int32, as in TF


def reduce_mean(input_tensor: Any, axis: int | Sequence[int] | None = None,
                keepdims: bool = False, name: str | None = None) -> torch.Tensor:
    """Mean over ``axis`` (all axes when ``None``); integer tensors give the truncated integer
    mean of TensorFlow."""
    x = convert_to_tensor(input_tensor)
    if x.is_floating_point():
        return x.mean(dim=_dims(x, axis), keepdim=keepdims)
    return x.double().mean(dim=_dims(x, axis), keepdim=keepdims).trunc().to(x.dtype)


def reduce_max(input_tensor: Any, axis: int | Sequence[int] | None = None,
               keepdims: bool = False, name: str | None = None) -> torch.Tensor:
    """Maximum over ``axis`` (all axes when ``None``)."""
    x = convert_to_tensor(input_tensor)
    return x.amax(dim=_dims(x, axis), keepdim=keepdims)


def reduce_min(input_tensor: Any, axis: int | Sequence[int] | None = None,
               keepdims: bool = False, name: str | None = None) -> torch.Tensor:
    """Minimum over ``axis`` (all axes when ``None``)."""
    x = convert_to_tensor(input_tensor)
    return x.amin(dim=_dims(x, axis), keepdim=keepdims)


def argmax(input: Any, axis: int | None = None, output_type: DType = int64,
           name: str | None = None) -> torch.Tensor:
    """Index of the largest value along ``axis`` (TensorFlow: ``None`` means axis 0)."""
    x = convert_to_tensor(input)
    return x.argmax(dim=0 if axis is None else int(axis)).to(as_dtype(output_type))


def argmin(input: Any, axis: int | None = None, output_type: DType = int64,
           name: str | None = None) -> torch.Tensor:
    """Index of the smallest value along ``axis`` (TensorFlow: ``None`` means axis 0)."""
    x = convert_to_tensor(input)
    return x.argmin(dim=0 if axis is None else int(axis)).to(as_dtype(output_type))


def square(x: Any, name: str | None = None) -> torch.Tensor:
    """x² element-wise."""
    return torch.square(convert_to_tensor(x))


def sqrt(x: Any, name: str | None = None) -> torch.Tensor:
    """√x element-wise."""
    return torch.sqrt(convert_to_tensor(x))


def exp(x: Any, name: str | None = None) -> torch.Tensor:
    """eˣ element-wise."""
    return torch.exp(convert_to_tensor(x))


def log(x: Any, name: str | None = None) -> torch.Tensor:
    """Natural logarithm element-wise."""
    return torch.log(convert_to_tensor(x))


def abs(x: Any, name: str | None = None) -> torch.Tensor:
    """|x| element-wise."""
    return torch.abs(convert_to_tensor(x))


def maximum(x: Any, y: Any, name: str | None = None) -> torch.Tensor:
    """Element-wise maximum, broadcasting (``tf.maximum(heatmap, 0)``)."""
    x = convert_to_tensor(x)
    return torch.maximum(x, convert_to_tensor(y, dtype=x.dtype))


def minimum(x: Any, y: Any, name: str | None = None) -> torch.Tensor:
    """Element-wise minimum, broadcasting."""
    x = convert_to_tensor(x)
    return torch.minimum(x, convert_to_tensor(y, dtype=x.dtype))


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           name: str | None = None) -> torch.Tensor:
    """Matrix product ``a @ b`` over the last two axes (batched), optionally transposed."""
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    return (a.mT if transpose_a else a) @ (b.mT if transpose_b else b)


def expand_dims(input: Any, axis: int, name: str | None = None) -> torch.Tensor:
    """``input`` with a new axis of size 1 at ``axis``."""
    return convert_to_tensor(input).unsqueeze(int(axis))


def squeeze(input: Any, axis: int | Sequence[int] | None = None,
            name: str | None = None) -> torch.Tensor:
    """``input`` without its size-1 axes (only those in ``axis`` when given)."""
    x = convert_to_tensor(input)
    return x.squeeze() if axis is None else x.squeeze(_dims(x, axis))


def transpose(a: Any, perm: Sequence[int] | None = None, name: str | None = None
              ) -> torch.Tensor:
    """Axes permuted by ``perm`` (reversed when ``None``, as TensorFlow)."""
    x = convert_to_tensor(a)
    return x.permute(*(reversed(range(x.ndim)) if perm is None else perm))


def concat(values: Sequence[Any], axis: int, name: str | None = None) -> torch.Tensor:
    """Tensors joined along an existing ``axis``."""
    return torch.cat([convert_to_tensor(v) for v in values], dim=int(axis))


def stack(values: Sequence[Any], axis: int = 0, name: str | None = None) -> torch.Tensor:
    """Tensors stacked along a new ``axis``."""
    return torch.stack([convert_to_tensor(v) for v in values], dim=int(axis))


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any,
                  name: str | None = None) -> torch.Tensor:
    """``t`` clamped to ``[clip_value_min, clip_value_max]``."""
    return torch.clamp(convert_to_tensor(t), clip_value_min, clip_value_max)


def one_hot(indices: Any, depth: int, on_value: float = 1.0, off_value: float = 0.0,
            axis: int = -1, dtype: DType = float32, name: str | None = None) -> torch.Tensor:
    """One-hot vectors on a new last axis (float32 by default, as TensorFlow)."""
    idx = convert_to_tensor(indices).long()
    valid = (idx >= 0) & (idx < depth)  # TensorFlow gives all off_value for out-of-range
    hot = torch.nn.functional.one_hot(idx.clamp(0, depth - 1), depth).bool() & valid[..., None]
    out = torch.where(hot, torch.tensor(on_value), torch.tensor(off_value)).to(as_dtype(dtype))
    return out if axis == -1 else out.movedim(-1, axis)


math = types.SimpleNamespace(
    reduce_sum=reduce_sum, reduce_mean=reduce_mean, reduce_max=reduce_max,
    reduce_min=reduce_min, argmax=argmax, argmin=argmin, square=square, sqrt=sqrt, exp=exp,
    log=log, abs=abs, maximum=maximum, minimum=minimum,
)

__all__ = [
    "Tensor", "abs", "argmax", "argmin", "as_dtype", "bfloat16", "bool_", "cast",
    "clip_by_value", "concat", "constant", "convert_to_tensor", "double", "exp", "expand_dims",
    "float16", "float32", "float64", "half", "int16", "int32", "int64", "int8", "log", "math",
    "matmul", "maximum", "minimum", "newaxis", "one_hot", "ones", "ones_like", "reduce_max",
    "reduce_mean", "reduce_min", "reduce_sum", "reshape", "sqrt", "square", "squeeze", "stack",
    "transpose", "uint8", "zeros", "zeros_like",
]
