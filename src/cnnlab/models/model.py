"""``Model``: a network of layers as a ``torch.nn.Module`` with Keras's API.

``Model(inputs, outputs)`` builds a functional model from symbolic tensors (skip connections,
branches, shared layers, several inputs/outputs); subclasses (``Sequential``, or user classes
defining ``call``) reuse the same API. This module is the structure (graph, layers, inputs and
outputs, building, summary); the training API is :class:`cnnlab.models.trainer.Trainer` and
the save/load API :class:`cnnlab.models.saving_api.SavingAPI`, mixed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnlab import mixed_precision, optimizers
from cnnlab.layers.base import Layer, channel_axis_hint, format_shape
from cnnlab.layers.keras_tensor import KerasTensor
from cnnlab.layers.registry import register
from cnnlab.models._fit_data import shape_fits
from cnnlab.models.extensions import extension
from cnnlab.models.graph import Graph
from cnnlab.models.layer_keys import install_state_dict_names, module_key
from cnnlab.models.saving_api import SavingAPI
from cnnlab.models.summary import print_summary
from cnnlab.models.trainer import Trainer
from cnnlab.training.history import History
from cnnlab.training.objectives import Objectives


@register("Functional")
class Model(Trainer, SavingAPI, Layer):
    """A trainable network. ``Model(inputs=x_in, outputs=y)`` makes a functional model.

    Example::

        inputs = Input((32, 32, 3))
        x = Conv2D(16, 3, padding='same', activation='relu')(inputs)
        y = Add()([x, Conv2D(16, 1)(inputs)])          # a skip connection
        outputs = Dense(10, activation='softmax')(Flatten()(y))
        model = Model(inputs, outputs)
    """

    passes_unset_training = True  # each layer decides by its own mode (layers/base.py)

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None,
                 **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.optimizer: optimizers.Optimizer | None = None
        self.objectives: Objectives | None = None
        self._compiled_trainable: frozenset[int] | None = None
        self._warned_trainable = False
        self.stop_training = False
        self.history: History | None = None
        self.graph: Graph | None = None
        self._step_layers: list[Layer] | None = None
        self.loss_scaler: mixed_precision.LossScaler | None = None
        object.__setattr__(self, "_parallel", None)  # the DDP wrapper while fit distributes
        install_state_dict_names(self)
        if inputs is not None or outputs is not None:
            self._init_graph(inputs, outputs)

    # ----------------------------------------------------------------- structure
    def _init_graph(self, inputs: Any, outputs: Any) -> None:
        if inputs is None or outputs is None:
            raise ValueError(f"{self.owner}: give both `inputs` and `outputs`")
        self._multi_in = isinstance(inputs, (list, tuple))
        self._multi_out = isinstance(outputs, (list, tuple))
        ins = list(inputs) if self._multi_in else [inputs]
        outs = list(outputs) if self._multi_out else [outputs]
        self.graph = Graph(ins, outs, self.owner)
        for layer in self.graph.layers:
            self._register_layer(layer)
        shapes = [t.shape for t in ins]
        self.built = True
        self.input_shape_built = shapes if self._multi_in else shapes[0]
        out_shapes = [t.shape for t in outs]
        self.output_shape_built = out_shapes if self._multi_out else out_shapes[0]

    def _register_layer(self, layer: Layer) -> None:
        key = module_key(self, layer.name)  # 'layer:output' for a layer named 'output'
        if key in self._modules:
            if self._modules[key] is layer:
                return
            raise ValueError(f"{self.owner}: two different layers are named {layer.name!r}; "
                             f"layer names in a model must be unique")
        self.add_module(key, layer)

    @property
    def layers(self) -> list[Layer]:
        """The layers in the order they compute (functional models include ``InputLayer``s)."""
        if self.graph is not None:
            return list(self.graph.layers)
        return [m for m in self.children() if isinstance(m, Layer)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``name`` or by position ``index``."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"{self.owner}: get_layer index {index} is out of range for "
                                 f"{len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{self.owner}: no layer named {name!r}; layers are "
                         f"{[layer.name for layer in self.layers]}")

    def _symbolic_io(self) -> tuple[list[KerasTensor], list[KerasTensor]]:
        """The model's own symbolic ``(inputs, outputs)``: its graph's ends."""
        if self.graph is None:
            raise AttributeError(
                f"{self.owner} is a subclassed model: its `call` is Python code, not a graph of "
                f"symbolic tensors, so it has no inputs/outputs to reuse. Wrap it: "
                f"`x = Input(shape); model = Model(x, {self.name}(x))`")
        return self.graph.inputs, self.graph.outputs

    @property
    def inputs(self) -> list[KerasTensor]:
        """The symbolic inputs (a list), e.g. for ``Model(model.inputs, ...)``."""
        return list(self._symbolic_io()[0])

    @property
    def outputs(self) -> list[KerasTensor]:
        """The symbolic outputs (a list)."""
        return list(self._symbolic_io()[1])

    @property
    def input(self) -> Any:
        """The symbolic input: one ``KerasTensor``, or a list for a model with several."""
        inputs = self.inputs
        return inputs if getattr(self, "_multi_in", False) else inputs[0]

    @property
    def output(self) -> Any:
        """The symbolic output: one ``KerasTensor``, or a list for a model with several."""
        outputs = self.outputs
        return outputs if getattr(self, "_multi_out", False) else outputs[0]

    @property
    def input_names(self) -> list[str]:
        if self.graph is not None:
            return [t.node.layer.name for t in self.graph.inputs]
        return []

    @property
    def output_names(self) -> list[str]:
        if self.graph is not None:
            return [t.node.layer.name for t in self.graph.outputs]
        return [self.layers[-1].name] if self.layers else [self.name]

    def call(self, inputs: Any, training: bool = False) -> Any:
        if self.graph is None:
            raise NotImplementedError(f"{self.owner}: subclasses of Model must define call()")
        ins = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(ins) != len(self.graph.inputs):
            raise ValueError(f"{self.owner}: expected {len(self.graph.inputs)} inputs, got "
                             f"{len(ins)}")
        outs = self.graph.run(ins, training)
        return outs if self._multi_out else outs[0]

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.graph is None:
            if self.built and input_shape == self.input_shape_built:
                return self.output_shape_built
            return self._dry_run_shape(input_shape)
        shapes = self.graph.output_shapes(input_shape if self._multi_in else [input_shape])
        return shapes if self._multi_out else shapes[0]

    def check_input_shape(self, input_shape: Any, given: str | None = None) -> None:
        """Compare with the declared input shape (every known size must match)."""
        expected = self.input_shape_built
        if expected is None or not isinstance(input_shape, tuple) or \
                isinstance(expected, list):
            return
        if not shape_fits(expected, input_shape):
            raise ValueError(f"{self.owner}: expected input of shape {format_shape(expected)}, "
                             f"got {given or format_shape(input_shape)}"
                             f"{channel_axis_hint(expected, input_shape)}")

    @property
    def device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    def leaf_layers(self) -> list[Layer]:
        """Every layer that is not itself a model, nested models included."""
        return [m for m in self.modules() if isinstance(m, Layer) and not isinstance(m, Model)]

    def penalties(self) -> list[torch.Tensor]:
        """Weight (and activity) penalties of every layer, added to the training loss."""
        layers = self._step_layers if self._step_layers is not None else self.leaf_layers()
        return [p for m in layers for p in m.regularization_losses()]

    @property
    def losses(self) -> list[torch.Tensor]:
        return self.penalties()

    def apply_constraints(self) -> None:
        """Project weights after an update (``kernel_constraint=...``)."""
        layers = self._step_layers if self._step_layers is not None else self.leaf_layers()
        for m in layers:
            if m.has_constraints:
                m.apply_constraints()

    def _build_from_data(self, x: Any) -> None:
        xs = x if isinstance(x, (list, tuple)) else [x]
        shapes = [(None, *tuple(t.shape[1:])) for t in xs]
        self.build(shapes if isinstance(x, (list, tuple)) else shapes[0])

    def build(self, input_shape: Any) -> None:
        """Build all layers for ``input_shape`` (Keras shape incl. batch).

        A functional model is built when it is made. A subclassed model (``call`` written by
        the user) is built as Keras does it: ``call`` runs once, in inference mode, on a
        batch of one zero sample of ``input_shape``, which builds every layer it uses."""
        if self.graph is not None:
            return
        shape = tuple(input_shape) if not isinstance(input_shape, list) else input_shape
        self.check_input_shape(shape)
        if not self.built:
            self.output_shape_built = self._dry_run_shape(shape)
            self.built = True
            self.input_shape_built = shape

    def _dry_run_shape(self, input_shape: Any) -> Any:
        """The output shape(s), batch axis ``None``, of ``call`` on one zero sample."""
        def zeros(shape: Any) -> torch.Tensor:
            if any(size is None for size in shape[1:]):
                raise ValueError(f"{self.owner}: cannot build a subclassed model for an input "
                                 f"shape with unknown sizes {format_shape(shape[1:])}; call it "
                                 f"on data instead")
            return torch.zeros((1, *shape[1:]), device=self.device)

        inputs = ([zeros(s) for s in input_shape] if isinstance(input_shape, list)
                  else zeros(input_shape))
        was_training = self.training
        self.train(False)
        try:
            with torch.no_grad():
                outputs = self.call(inputs, training=False)
        finally:
            self.train(was_training)
        if isinstance(outputs, (list, tuple)):
            return [(None, *tuple(t.shape[1:])) for t in outputs]
        return (None, *tuple(outputs.shape[1:]))

    def keras_weights(self) -> list:
        return []

    def _all_keras_weights(self) -> list:
        return [w for layer in self.layers for w in layer._all_keras_weights()]

    def summary(self, line_length: int | None = None, positions: Sequence[float] | None = None,
                print_fn: Any = None, expand_nested: bool = False,
                show_trainable: bool = False, explain: bool = False) -> None:
        """Print Keras's table: layer (type), output shape, param #, and the totals.

        ``explain=True`` (cnnlab extra) adds per layer the output-size arithmetic with the
        numbers filled in, the parameter formula, receptive field and jump, multiply-
        accumulates and activation memory.
        """
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable)
        if explain:
            for line in extension("explained_summary")(self).splitlines():
                (print_fn or print)(line)

    @property
    def class_name(self) -> str:
        return "Functional" if type(self) is Model else type(self).__name__
