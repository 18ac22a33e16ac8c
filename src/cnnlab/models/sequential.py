"""``Sequential``: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cnnlab.layers.base import Layer
from cnnlab.layers.core import InputLayer
from cnnlab.layers.keras_tensor import KerasTensor
from cnnlab.layers.registry import register
from cnnlab.models.config import sequential_config
from cnnlab.models.layer_keys import module_key
from cnnlab.models.model import Model


@register()
class Sequential(Model):
    """A linear stack of layers: ``Sequential([Conv2D(...), Flatten(), Dense(10)])``.

    The input shape comes from ``input_shape=`` on the first layer, an ``Input(...)`` /
    ``InputLayer`` added first, or the first data seen (then ``summary()`` needs ``build``
    or ``fit`` first, as in Keras). Shapes are checked as layers are added, so a wrong layer
    fails at ``add`` with a message naming it.
    """

    def __init__(self, layers: Sequence[Any] | None = None, name: str | None = None,
                 trainable: bool = True, **kwargs: Any):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self._declared_input: tuple | None = None
        self._traced: list[KerasTensor] = []  # the symbolic input, then each layer's output
        if layers is not None and not isinstance(layers, (list, tuple)):
            layers = [layers]
        for layer in layers or []:
            self.add(layer)

    def get_config(self) -> dict:
        """The layers in order and the input shape built for (Keras's Sequential format)."""
        return sequential_config(self)

    def add(self, layer: Any) -> None:
        """Append a layer (or record the input shape given by ``Input``/``InputLayer``)."""
        if isinstance(layer, KerasTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._stack:
                raise ValueError(f"{self.owner}: an Input can only be the first entry")
            self._declared_input = layer.batch_input_shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"{self.owner}.add: expected a cnnlab layer, got "
                            f"{type(layer).__name__}")
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(f"{self.owner}: all layers added to a Sequential model must have "
                             f"unique names; {layer.name!r} is already in this model")
        if not self._stack and layer.batch_input_shape is not None:
            self._declared_input = layer.batch_input_shape
        elif not self._stack and isinstance(layer, Model) and layer.built \
                and isinstance(layer.input_shape_built, tuple):
            self._declared_input = layer.input_shape_built  # a built base model first
        if self.built:
            layer.ensure_built(self.output_shape)
            self.output_shape_built = layer.compute_output_shape(self.output_shape)
            self._traced.append(layer(self._traced[-1]))
        elif self._declared_input is not None:
            shape = self._declared_input
            for existing in self._stack:
                shape = existing.compute_output_shape(shape)
            layer.ensure_built(shape)
        self._register_layer(layer)
        self._stack.append(layer)
        if not self.built and self._declared_input is not None:
            self.build(self._declared_input)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise ValueError(f"{self.owner}: there is no layer to pop")
        layer = self._stack.pop()
        del self._modules[module_key(self, layer.name)]
        if self._traced:
            layer._inbound_nodes.remove(self._traced.pop().node)
        if self.built:
            shape = self.input_shape_built
            for existing in self._stack:
                shape = existing.compute_output_shape(shape)
            self.output_shape_built = shape
        return layer

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    @property
    def output_names(self) -> list[str]:
        return [self._stack[-1].name] if self._stack else [self.name]

    def build(self, input_shape: Any = None) -> None:
        """Build every layer for ``input_shape`` (Keras shape with batch, e.g.
        ``(None, 28, 28, 1)``); without it, use the declared input shape."""
        shape = tuple(input_shape) if input_shape is not None else self._declared_input
        if shape is None:
            raise ValueError(f"{self.owner}: cannot build without an input shape; pass "
                             f"`input_shape=` to the first layer or call build(shape)")
        if not self._stack:
            raise ValueError(f"{self.owner}: add layers before building the model")
        if self.built:
            self.check_input_shape(shape)
            return
        out = shape
        for layer in self._stack:
            layer.ensure_built(out)
            out = layer.compute_output_shape(out)
        self.built = True
        self.input_shape_built, self.output_shape_built = shape, out
        self._trace(shape)

    def _trace(self, shape: tuple) -> None:
        """Call every layer on a symbolic ``Input`` of the built shape, as Keras does, so that
        ``model.input``/``model.output`` and each ``layer.output`` exist (named
        ``<first layer>_input``, Keras 2's name)."""
        x = InputLayer(batch_shape=shape, name=f"{self._stack[0].name}_input").output
        self._traced = [x]
        for layer in self._stack:
            self._traced.append(layer(self._traced[-1]))

    def _symbolic_io(self) -> tuple[list[KerasTensor], list[KerasTensor]]:
        if not self._traced:
            raise AttributeError(
                f"{self.owner} has no symbolic input yet: it is built from the first data it "
                f"sees. Give the first layer `input_shape=`, start with `Input(shape)`, or call "
                f"`build((None, ...))`")
        return self._traced[:1], self._traced[-1:]

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = input_shape
        for layer in self._stack:
            shape = layer.compute_output_shape(shape)
        return shape

    def call(self, inputs: Any, training: bool = False) -> Any:
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training)
        return x

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._stack:
            raise ValueError(f"{self.owner}: the model has no layers")
        return super().__call__(*args, **kwargs)

    def ensure_built(self, input_shape: Any) -> None:
        self.build(input_shape)
