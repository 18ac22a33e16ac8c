"""Core layers: ``Input``/``InputLayer``, ``Dense``, ``Activation``, ``Rescaling``, ``Lambda``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnlab import activations, constraints, initializers, regularizers
from cnnlab.layers._messages import check_positive_int, get_argument
from cnnlab.layers.base import Layer
from cnnlab.layers.keras_tensor import KerasTensor, Node
from cnnlab.layers.registry import register, unique_name
from cnnlab.layers.weight_layout import SAME_LAYOUT, permuted_layout


@register()
class InputLayer(Layer):
    """The entry point of a model: holds the per-sample shape; passes data through.

    Args: ``shape`` (per sample) or ``batch_shape`` (batch first), ``batch_size``, ``dtype``,
    ``name`` (default ``input_1``, ``input_2``, ...); Keras 2's ``input_shape`` and
    ``batch_input_shape`` are accepted. Its ``output`` is the symbolic input of shape
    ``(batch_size, *shape)``.

    Example: ``InputLayer(shape=(28, 28, 1)).output`` has shape ``(None, 28, 28, 1)``; the
    functional API writes it ``Input((28, 28, 1))``.
    """

    def __init__(self, shape: Sequence | None = None, batch_size: int | None = None,
                 dtype: Any = None, name: str | None = None,
                 batch_shape: Sequence | None = None, input_shape: Sequence | None = None,
                 batch_input_shape: Sequence | None = None, **kwargs: Any):
        shape = shape if shape is not None else input_shape
        batch_shape = batch_shape if batch_shape is not None else batch_input_shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("Input: give `shape=` (per sample, e.g. (28, 28, 1)) or "
                                 "`batch_shape=`")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size, *tuple(shape))
        for dim in batch_shape[1:]:
            if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0):
                raise ValueError(f"Input: sizes must be positive ints or None, got shape "
                                 f"{tuple(batch_shape[1:])}")
        name = name or unique_name("input", one_based=True)
        super().__init__(name=name, dtype=dtype, batch_input_shape=batch_shape, **kwargs)
        self.ensure_built(self.batch_input_shape)
        node = Node(self, [], {})
        tensor = KerasTensor(self.batch_input_shape, node, 0, name=self.name)
        node.outputs, node.output_structure = [tensor], tensor
        self._inbound_nodes.append(node)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return inputs

    def get_config(self) -> dict:
        return {"name": self.name, "batch_shape": list(self.batch_input_shape)}


def Input(shape: Sequence | None = None, batch_size: int | None = None, name: str | None = None,
          dtype: Any = None, batch_shape: Sequence | None = None, **kwargs: Any) -> KerasTensor:
    """A symbolic input for the functional API: ``x = Input(shape=(28, 28, 1))``.

    ``shape`` is per sample (no batch dimension); ``None`` sizes are allowed
    (``Input((None, None, 3))`` for any image size).
    """
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                      batch_shape=batch_shape, **kwargs).output


@register()
class Dense(Layer):
    """Fully connected layer ``y = activation(x·W + b)`` on the last axis.

    Args: units, activation=None, use_bias=True, kernel_initializer='glorot_uniform',
    bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,
    activity_regularizer=None, kernel_constraint=None, bias_constraint=None.
    Keras-2 spellings ``output_dim``, ``init``, ``W_regularizer``, ``input_dim`` accepted.

    Input ``(N, ..., n_in)`` -> output ``(N, ..., units)``; parameters ``(n_in + 1)·units``.
    Weight ``kernel`` is stored as PyTorch ``(units, n_in)``; ``get_weights()`` gives Keras's
    ``(n_in, units)``.

    Example: ``Dense(10, activation='softmax')`` on ``(None, 128)`` gives ``(None, 10)`` with
    ``(128 + 1)·10 = 1290`` parameters.
    """

    min_ndim = 2

    def __init__(self, units: int | None = None, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        units = kwargs.pop("output_dim", units)
        kernel_initializer = kwargs.pop("init", kernel_initializer)
        kernel_regularizer = kwargs.pop("W_regularizer", kernel_regularizer)
        bias_regularizer = kwargs.pop("b_regularizer", bias_regularizer)
        use_bias = kwargs.pop("bias", use_bias)
        super().__init__(**kwargs)
        check_positive_int(self.owner, "units", units)
        self.units = units
        self.activation = get_argument(self.owner, "activation", activations.get,
                                       activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.layout = permuted_layout((1, 0))
        self._activity_penalty: torch.Tensor | None = None
        self._build_if_declared()

    def fixed_axes(self) -> Sequence[int]:
        return (-1,)

    def build(self, input_shape: tuple) -> None:
        n_in = input_shape[-1]
        if n_in is None:
            raise ValueError(f"{self.owner}: the last dimension of the input must be known, got "
                             f"input shape {input_shape}")
        kernel = self.kernel_initializer((n_in, self.units), dtype=torch.float32)
        self.kernel = torch.nn.Parameter(self.layout.from_keras(kernel).contiguous())
        self.bias = (torch.nn.Parameter(self.bias_initializer((self.units,)))
                     if self.use_bias else None)
        self.trainable = self.trainable

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], self.units)

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if inputs.dtype != self.kernel.dtype:
            inputs = inputs.to(self.kernel.dtype)
        y = activations.apply_to_fresh(self.activation, F.linear(inputs, self.kernel, self.bias))
        if self.activity_regularizer is not None and training:
            self._activity_penalty = self.activity_regularizer(y) / y.shape[0]
        return y

    def keras_weights(self) -> list:
        weights = [("kernel", self.kernel, self.layout)]
        if self.use_bias:
            weights.append(("bias", self.bias, SAME_LAYOUT))
        return weights

    def regularization_losses(self) -> list[torch.Tensor]:
        pairs = [(self.kernel_regularizer, self.kernel), (self.bias_regularizer, self.bias)]
        penalties = [reg(w) for reg, w in pairs if reg is not None and w is not None]
        if self._activity_penalty is not None:
            penalties.append(self._activity_penalty)
            self._activity_penalty = None
        return penalties

    def weight_constraints(self) -> dict:
        return {"kernel": self.kernel_constraint, "bias": self.bias_constraint}

    def macs(self) -> int:
        """Multiply-accumulates per sample: ``n_in·units`` (times leading axes)."""
        return self.kernel.numel() * shapes_prod(self.output_shape[1:-1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            units=self.units, activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config


def shapes_prod(dims: Sequence) -> int:
    """Product of known sizes (an unknown size counts as 1)."""
    out = 1
    for d in dims:
        out *= d or 1
    return out


@register()
class Activation(Layer):
    """Applies an activation by name or callable, element by element: ``y = activation(x)``.

    Input/output shape: any, unchanged. Example: ``Activation('relu')`` maps ``[-1, 2]`` to
    ``[0, 2]``.
    """

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = get_argument(self.owner, "activation", activations.get,
                                       activation)
        self._build_if_declared()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        return self.activation(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


@register()
class Rescaling(Layer):
    """``y = x·scale + offset`` (e.g. ``Rescaling(1/255)`` scales pixels to [0, 1]).

    ``scale`` and ``offset`` are numbers, or one number per channel (a list broadcast over the
    last axis, as Keras 3 broadcasts them): ``Rescaling([1/0.229, 1/0.224, 1/0.225],
    offset=[-0.485/0.229, -0.456/0.224, -0.406/0.225])`` standardises like torchvision.
    Integer input becomes float32.

    Input/output shape: any, unchanged. Example: ``Rescaling(1/127.5, offset=-1)`` maps pixels
    ``[0, 255]`` to ``[-1, 1]``.
    """

    def __init__(self, scale: float | Sequence[float], offset: float | Sequence[float] = 0.0,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.scale, self.offset = self._factor("scale", scale), self._factor("offset", offset)
        self._build_if_declared()

    def _factor(self, argument: str, value: Any) -> float | list[float]:
        """A number, or a non-empty list of numbers (one per channel)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        values = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(values, (int, float)) and not isinstance(values, bool):
            return float(values)
        if (isinstance(values, (list, tuple)) and values
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)):
            return [float(v) for v in values]
        raise TypeError(f"{self.owner}: `{argument}` must be a number or a list of numbers "
                        f"(one per channel), got {value!r}")

    def build(self, input_shape: Any) -> None:
        channels = input_shape[-1] if input_shape else None
        for argument in ("scale", "offset"):
            value = getattr(self, argument)
            if isinstance(value, list) and len(value) != 1 and channels is not None \
                    and len(value) != channels:
                raise ValueError(f"{self.owner}: `{argument}` has {len(value)} values, one per "
                                 f"channel, but the input has {channels} channels "
                                 f"(shape {tuple(input_shape)})")
        super().build(input_shape)

    def fixed_axes(self) -> Sequence[int]:
        """The channel axis, when a per-channel scale or offset fixes its size."""
        per_channel = any(isinstance(v, list) and len(v) > 1 for v in (self.scale, self.offset))
        return (-1,) if per_channel else ()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if not inputs.is_floating_point():
            inputs = inputs.float()
        scale, offset = self.scale, self.offset
        if isinstance(scale, list):
            scale = inputs.new_tensor(scale)
        if isinstance(offset, list):
            offset = inputs.new_tensor(offset)
        return inputs * scale + offset

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


@register()
class Lambda(Layer):
    """Wraps a function of tensors as a layer: ``Lambda(lambda x: x * 2)``.

    Output shape: ``(N, *output_shape)`` when ``output_shape`` (per sample) is given, else
    found by calling the function on zeros (unknown sizes as 1).

    Difference from Keras: a ``Lambda`` holds code, so a model containing one cannot be saved
    with ``model.save`` (cnnlab files never carry code); save its weights instead.

    Example: ``Lambda(lambda x: x.mean(dim=-1))`` on ``(None, 4, 3)`` gives ``(None, 4)``.
    """

    def __init__(self, function: Callable, output_shape: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"{self.owner}: `function` must be callable, got {function!r}")
        self.function, self.fixed_output_shape = function, output_shape

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.function(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.fixed_output_shape is not None:
            return (input_shape[0], *tuple(self.fixed_output_shape))
        out = self.function(torch.zeros([d or 1 for d in input_shape]))
        return (input_shape[0], *out.shape[1:])

    def get_config(self) -> dict:
        raise TypeError(f"{self.owner}: a Lambda layer holds code and cannot be saved as data; "
                        f"save the weights with save_weights() or use a built-in layer")

