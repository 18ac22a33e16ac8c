"""The ``Layer`` base class: a ``torch.nn.Module`` with Keras's lifecycle.

Lifecycle (as in Keras): ``__init__`` stores the configuration; ``build(input_shape)`` creates
the weights once the input shape is known (at construction when ``input_shape=`` is given, else
at the first call); ``call(inputs, training)`` computes; ``compute_output_shape`` does the shape
arithmetic without data; ``get_config`` returns the constructor arguments as JSON data.

Calling a layer on a symbolic :class:`KerasTensor` (from ``Input``) records a graph node for the
functional API; calling it on a ``torch.Tensor`` runs it.

Training mode: ``fit`` passes ``training=True`` and ``evaluate``/``predict`` pass ``False``
down to every layer. Called without ``training``, a layer uses its own mode flag
(``layer.training``, set for a whole model by ``model.train()``/``model.eval()``), and a model
passes the unset value on, so that each layer decides. Difference from PyTorch: a new layer
starts in inference mode, as a Keras layer called outside ``fit`` does; the augmentation layers
start in training mode (called directly, ``RandomFlip(...)(images)`` augments, as in Keras 3).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from cnnlab.layers._layer_weights import LayerWeights
from cnnlab.layers._messages import Shape, channel_axis_hint, declared_shape, format_shape
from cnnlab.layers.keras_tensor import KerasTensor, Node, is_symbolic, keras_shape
from cnnlab.layers.nest import flatten, map_structure
from cnnlab.layers.registry import snake_case, unique_name

# Besides Layer, other packages take format_shape and channel_axis_hint from here (their own
# module is private to layers/).
__all__ = ["Layer", "channel_axis_hint", "format_shape"]


def _array_as_tensor(leaf: Any) -> Any:
    """A NumPy array as a tensor (floating point as float32, Keras's default dtype)."""
    if not isinstance(leaf, np.ndarray):
        return leaf
    tensor = torch.from_numpy(np.ascontiguousarray(leaf))
    return tensor.float() if tensor.is_floating_point() else tensor


def _marking_built(build: Callable) -> Callable:
    """Wrap a layer's ``build`` so that calling it directly marks the layer built, as Keras
    does (``layer.build((None, 4))`` then ``layer(x)`` keeps the weights it made)."""
    @functools.wraps(build)
    def marking(self: Layer, *args: Any, **kwargs: Any) -> None:
        outermost = not self.__dict__.get("_in_build", False)  # super().build() inside
        self.__dict__["_in_build"] = True
        try:
            build(self, *args, **kwargs)
        finally:
            if outermost:
                del self.__dict__["_in_build"]
        if outermost and not self.built:  # models mark themselves
            input_shape = args[0] if args else kwargs["input_shape"]
            if isinstance(input_shape, list) and not any(
                    isinstance(item, (list, tuple)) for item in input_shape):
                input_shape = tuple(input_shape)  # build([None, 4]) means one input
            self.built = True
            self.input_shape_built = input_shape
            self.output_shape_built = self.compute_output_shape(input_shape)
    return marking


class Layer(LayerWeights, torch.nn.Module):
    """Base class of every cnnlab layer and model.

    Args:
        name: unique name; default is the snake-case class name made unique (``conv2d_1``).
        trainable: whether ``fit`` updates the weights (``layer.trainable = False`` freezes).
        dtype: accepted for Keras compatibility; weights are float32 (use ``.double()``).
        input_shape: per-sample input shape, e.g. ``(28, 28, 1)``; builds the layer at once.
        batch_input_shape / batch_size / input_dim: Keras-2 spellings of the same.

    Subclasses set ``input_ndim`` (rank incl. batch, or ``None``), ``min_ndim`` and
    ``dims_hint`` (``"(H, W, C)"``), and implement ``build``, ``call``, ``compute_output_shape``;
    a subclass's ``__init__`` ends with ``self._build_if_declared()``. The weight API
    (``get_weights``, ``trainable_weights``, constraints, ...) comes from
    :class:`~cnnlab.layers._layer_weights.LayerWeights`.

    Example::

        class Scale(Layer):                       # y = x · s, one learned s per channel
            def build(self, input_shape):
                self.s = torch.nn.Parameter(torch.ones(input_shape[-1]))

            def call(self, inputs, training=False):
                return inputs * self.s

        Scale()(torch.ones(2, 4)).shape            # (2, 4); 4 weights
    """

    input_ndim: int | None = None
    min_ndim: int = 1
    dims_hint: str = ""

    def __init__(self, *, name: str | None = None, trainable: bool = True,
                 dtype: Any = None, input_shape: Sequence | None = None,
                 batch_input_shape: Sequence | None = None, batch_size: int | None = None,
                 input_dim: int | None = None, **kwargs: Any):
        super().__init__()
        cls = type(self).__name__
        if kwargs:
            raise TypeError(f"{cls}: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        if name is not None and (not isinstance(name, str) or not name or "." in name):
            raise ValueError(f"{cls}: `name` must be a non-empty string without '.', got {name!r}")
        self.name = name or unique_name(snake_case(cls))
        self._trainable = bool(trainable)
        self.dtype_policy = dtype
        self.built = False
        self.input_shape_built: Shape | None = None
        self.output_shape_built: Any = None
        self._inbound_nodes: list[Node] = []
        self.batch_input_shape: Shape | None = None
        if batch_input_shape is not None:
            self.batch_input_shape = declared_shape(self.owner, "batch_input_shape",
                                                    batch_input_shape, with_batch=True)
        elif input_shape is not None:
            self.batch_input_shape = declared_shape(self.owner, "input_shape", input_shape,
                                                    batch_size)
        elif input_dim is not None:
            self.batch_input_shape = declared_shape(self.owner, "input_dim", input_dim,
                                                    batch_size)
        self.train(False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _marking_built(cls.__dict__["build"])

    # ----------------------------------------------------------------- Keras lifecycle
    def build(self, input_shape: Shape) -> None:
        """Create weights for ``input_shape`` (Keras shape, batch first). Default: none."""

    def call(self, inputs: Any, training: bool = False) -> Any:
        """Compute the outputs for a batch (channels-last tensors, batch first)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output's Keras shape for ``input_shape``, without data. Default: the same."""
        return input_shape

    def get_config(self) -> dict:
        """The constructor arguments as JSON data (``cls.from_config(config)`` rebuilds)."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """A new layer from ``get_config()``'s output: ``cls(**config)``."""
        return cls(**config)

    def _build_if_declared(self) -> None:
        """Build now when the input shape was declared (``input_shape=`` and its Keras-2
        spellings); subclasses call it at the end of ``__init__``."""
        if self.batch_input_shape is not None:
            self.ensure_built(self.batch_input_shape)

    # ----------------------------------------------------------------- calling
    @property
    def owner(self) -> str:
        """How error messages name this layer: ``Conv2D 'conv2d_1'``."""
        return f"{type(self).__name__} {self.name!r}"

    def ensure_built(self, input_shape: Any) -> None:
        """Check ``input_shape`` and build the weights the first time."""
        self.check_input_shape(input_shape)
        if not self.built:
            self.build(input_shape)
            self.built = True
            self.input_shape_built = input_shape
            self.output_shape_built = self.compute_output_shape(input_shape)

    def check_input_shape(self, input_shape: Any, given: str | None = None) -> None:
        """Raise a clear ``ValueError`` when the rank or a fixed axis does not fit."""
        if not isinstance(input_shape, tuple) or (input_shape
                                                   and isinstance(input_shape[0], tuple)):
            return
        shown = given or format_shape(input_shape[1:])
        rank = len(input_shape)
        if self.input_ndim is not None and rank != self.input_ndim:
            hint = f" {self.dims_hint}" if self.dims_hint else ""
            missing_channels = ""
            if rank == self.input_ndim - 1 and self.dims_hint.endswith("C)"):
                missing_channels = channel_axis_hint((*input_shape, None), input_shape)
            raise ValueError(
                f"{self.owner}: expected input with {self.input_ndim - 1} dimensions{hint}, "
                f"got {shown}{missing_channels}"
            )
        if rank < self.min_ndim:
            raise ValueError(
                f"{self.owner}: expected input with at least {self.min_ndim - 1} dimensions, "
                f"got {shown}"
            )
        if any(isinstance(d, int) and d <= 0 for d in input_shape[1:]):
            raise ValueError(f"{self.owner}: expected input sizes of at least 1 on every axis "
                             f"but the batch axis, got {shown}")
        if self.built and self.input_shape_built is not None:
            for axis in self.fixed_axes():
                want, got = self.input_shape_built[axis], input_shape[axis]
                if want is not None and got is not None and want != got:
                    raise ValueError(
                        f"{self.owner}: expected axis {axis} of the input to have size {want}, "
                        f"got input of shape {shown}"
                    )

    def fixed_axes(self) -> Sequence[int]:
        """Input axes whose size the weights fix (e.g. channels for a conv). Default: none."""
        return ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        inputs = args[0] if args else kwargs.get("inputs")
        if is_symbolic(inputs):
            return self._call_symbolic(inputs, *args[1:], **kwargs)
        if isinstance(inputs, np.ndarray) or (isinstance(inputs, (list, tuple)) and any(
                isinstance(leaf, np.ndarray) for leaf in flatten(inputs))):
            inputs = map_structure(_array_as_tensor, inputs)  # Keras layers take NumPy too
            if args:
                args = (inputs, *args[1:])
            else:
                kwargs["inputs"] = inputs
        if not self.built:
            self.ensure_built(map_structure(keras_shape, inputs))
        elif torch.is_tensor(inputs):
            self._check_batch(inputs)
        return super().__call__(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            # A property whose getter raised AttributeError lands here (Python's rule); run
            # it again so that its own message (e.g. "has never been called") reaches the user.
            prop = getattr(type(self), name, None)
            if isinstance(prop, property) and prop.fget is not None:
                return prop.fget(self)
            raise

    def _check_batch(self, inputs: torch.Tensor) -> None:
        """The rank and the sizes the weights fix, for a batch given to a built layer (a few
        comparisons: the full check runs only when something does not fit)."""
        checks = self.__dict__.get("_batch_checks")
        if checks is None:
            shape = self.input_shape_built
            single = isinstance(shape, tuple) and not (shape and isinstance(shape[0], tuple))
            sizes = tuple((axis, shape[axis]) for axis in self.fixed_axes()
                          if shape[axis] is not None) if single else ()
            # Sizes unknown at build (None) may turn out 0, which the build check never saw.
            unknown = single and None in shape[1:]
            checks = self.__dict__["_batch_checks"] = (sizes, unknown)
        sizes, unknown = checks
        if self.input_ndim is not None and inputs.ndim != self.input_ndim:
            self.check_input_shape((None, *inputs.shape[1:]),
                                   given=f"a batch of shape {tuple(inputs.shape)}")
        if (unknown and 0 in inputs.shape[1:]) or any(
                -inputs.ndim <= axis < inputs.ndim and inputs.shape[axis] != size
                for axis, size in sizes):
            self.check_input_shape((None, *inputs.shape[1:]),
                                   given=format_shape(tuple(inputs.shape)))

    #: True for containers (models): an unset ``training`` goes on unset to their layers.
    passes_unset_training = False

    def forward(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        """``call`` with ``training`` resolved: unset means the layer's own mode flag."""
        if training is None and not self.passes_unset_training:
            training = self.training
        return self.call(inputs, training=training, **kwargs)

    def _call_symbolic(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if args:
            raise TypeError(f"{self.owner}: pass extra call arguments by keyword")
        shape = map_structure(lambda t: t.shape, inputs)
        self.ensure_built(shape)
        out_shape = self.compute_output_shape(shape)
        node = Node(self, inputs, kwargs)
        if isinstance(out_shape, list):
            outputs: Any = [KerasTensor(s, node, i) for i, s in enumerate(out_shape)]
        else:
            outputs = KerasTensor(out_shape, node, 0)
        node.outputs = flatten(outputs)
        node.output_structure = outputs
        self._inbound_nodes.append(node)
        return outputs

    # ----------------------------------------------------------------- graph attributes
    def _node_at(self, node_index: int, what: str) -> Node:
        if not self._inbound_nodes:
            raise AttributeError(
                f"{self.owner} has never been called on a symbolic input, so it has no {what}; "
                f"give the model an Input (or `input_shape=` on its first layer) first")
        if not -len(self._inbound_nodes) <= node_index < len(self._inbound_nodes):
            raise ValueError(f"{self.owner}: node_index {node_index} is out of range; the layer "
                             f"has {len(self._inbound_nodes)} inbound node(s)")
        return self._inbound_nodes[node_index]

    def _only_node(self, what: str) -> Node:
        if len(self._inbound_nodes) > 1:
            raise AttributeError(
                f"{self.owner} has {len(self._inbound_nodes)} inbound nodes (it is called in "
                f"several places), so its {what} is ambiguous; use get_{what}_at(node_index)")
        return self._node_at(0, what)

    def get_input_at(self, node_index: int) -> Any:
        """The symbolic input(s) of the layer's ``node_index``-th call (Keras 2)."""
        node = self._node_at(node_index, "input")
        return node.inputs if node.input_tensors else node.output_structure

    def get_output_at(self, node_index: int) -> Any:
        """The symbolic output(s) of the layer's ``node_index``-th call (Keras 2)."""
        return self._node_at(node_index, "output").output_structure

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's only call (``KerasTensor`` or a list); an
        ``InputLayer``'s input is its own output, as in Keras."""
        node = self._only_node("input")
        return node.inputs if node.input_tensors else node.output_structure

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's only call: what ``Model(inputs, layer.output)``
        needs to read an intermediate result (feature maps, Grad-CAM)."""
        return self._only_node("output").output_structure

    # ----------------------------------------------------------------- shapes
    @property
    def input_shape(self) -> Any:
        """The Keras input shape the layer was built for (or declared with)."""
        if self.input_shape_built is None:
            if self.batch_input_shape is not None:
                return self.batch_input_shape
            raise AttributeError(f"{self.owner} has not been built yet: it has no input shape")
        return self.input_shape_built

    @property
    def output_shape(self) -> Any:
        """The Keras output shape for the input shape the layer was built for."""
        if self.output_shape_built is None:
            raise AttributeError(f"{self.owner} has not been built yet: it has no output shape")
        return self.output_shape_built

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
