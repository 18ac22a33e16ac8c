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
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

Shape = tuple  # a Keras shape: batch first, None for unknown sizes

_LAYER_REGISTRY: dict[str, type] = {}
_NAME_COUNTS: dict[str, int] = {}


def register(*aliases: str) -> Callable[[type], type]:
    """Class decorator: make a layer loadable by class name (and legacy aliases) from JSON."""

    def decorate(cls: type) -> type:
        for name in (cls.__name__, *aliases):
            _LAYER_REGISTRY[name] = cls
        return cls

    return decorate


def registered_class(class_name: str) -> type:
    """The layer class registered under ``class_name``; never imports anything."""
    try:
        return _LAYER_REGISTRY[class_name]
    except KeyError:
        raise ValueError(
            f"unknown layer class {class_name!r}; known layers: "
            f"{', '.join(sorted(_LAYER_REGISTRY))}"
        ) from None


def clear_session() -> None:
    """Reset automatic layer names (``conv2d``, ``conv2d_1``, ...), as Keras's does."""
    _NAME_COUNTS.clear()


def snake_case(name: str) -> str:
    """``MaxPooling2D`` -> ``max_pooling2d``, ``Conv2D`` -> ``conv2d`` (Keras's naming)."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str, one_based: bool = False) -> str:
    """``base``, ``base_1``, ``base_2``, ... per session (``base_1``, ``base_2`` if one-based,
    as Keras 2 names inputs ``input_1``)."""
    count = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = count + 1
    if one_based:
        return f"{base}_{count + 1}"
    return base if count == 0 else f"{base}_{count}"


def _is_size(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def declared_shape(owner: str, argument: str, given: Any, batch_size: Any = None,
                   with_batch: bool = False) -> Shape:
    """The batch shape declared by ``input_shape=`` (per sample, an int for one axis),
    ``input_dim=`` or ``batch_input_shape=`` (``with_batch``), checked: every size a positive
    int or ``None`` (unknown), the batch size a non-negative int or ``None``."""
    expected = "a tuple of positive ints or None (unknown sizes)"
    if _is_size(given):
        sizes: tuple = (given,)
    else:
        try:
            sizes = tuple(given)
        except TypeError:
            raise TypeError(f"{owner}: `{argument}` must be {expected}, got {given!r}") from None
    shape = sizes if with_batch else (batch_size, *sizes)
    if not all(d is None or (_is_size(d) and d > 0) for d in shape[1:]) or not shape:
        raise ValueError(f"{owner}: `{argument}` must be {expected}, got {given!r}")
    if not (shape[0] is None or (_is_size(shape[0]) and shape[0] >= 0)):
        what = argument if with_batch else "batch_size"
        raise ValueError(f"{owner}: the batch size in `{what}` must be a non-negative int or "
                         f"None, got {shape[0]!r}")
    return tuple(None if d is None else int(d) for d in shape)


def get_argument(owner: str, argument: str, getter: Callable[[Any], Any], identifier: Any) -> Any:
    """``getter(identifier)`` (e.g. ``activations.get('relu')``), its errors prefixed with the
    layer and the argument: ``Dense 'dense': `activation`: Unknown activation 'relux' ...``."""
    try:
        return getter(identifier)
    except (ValueError, TypeError) as err:
        raise type(err)(f"{owner}: `{argument}`: {err}") from None


def format_shape(shape: Sequence) -> str:
    """``(None, 28, 28)`` with ``None`` spelled as Keras prints it."""
    inner = ", ".join("None" if d is None else str(int(d)) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def channel_axis_hint(expected: Sequence, given: Sequence) -> str:
    """A hint when ``given`` (batch first) is ``expected`` without its last, channel, axis:
    grayscale images loaded as ``(N, 28, 28)`` for a model that takes ``(N, 28, 28, 1)``."""
    if len(given) != len(expected) - 1 or expected[-1] not in (1, None):
        return ""
    if not all(e is None or g is None or e == g
               for e, g in zip(expected[1:-1], given[1:], strict=True)):
        return ""
    return ("; the data has no channel axis: add one with `x[..., None]` (or "
            "`x.reshape(-1, *x.shape[1:], 1)`)")


@dataclass(frozen=True)
class WeightLayout:
    """How a weight stored in PyTorch layout maps to Keras layout and back."""

    to_keras: Callable[[torch.Tensor], torch.Tensor]
    from_keras: Callable[[torch.Tensor], torch.Tensor]


SAME_LAYOUT = WeightLayout(lambda t: t, lambda t: t)


def permuted_layout(perm: Sequence[int]) -> WeightLayout:
    """Layout whose Keras form is ``torch_weight.permute(perm)``."""
    inverse = tuple(int(i) for i in np.argsort(perm))
    return WeightLayout(lambda t: t.permute(*perm), lambda t: t.permute(*inverse))


class KerasTensor:
    """A symbolic tensor of the functional API: a Keras shape and the node that made it."""

    def __init__(self, shape: Shape, node: Node | None = None, index: int = 0,
                 dtype: str = "float32", name: str | None = None):
        self.shape = tuple(shape)
        self.node = node
        self.index = index
        self.dtype = dtype
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        origin = f", from {self.node.layer.name!r}" if self.node else ""
        return f"<KerasTensor shape={format_shape(self.shape)}{origin}>"

    # Operations record graph nodes (layers/symbolic.py), as Keras 2's TFOpLambda layers do:
    # ``model.output[:, 386]``, ``loss / 2``, ``grads / (K.sqrt(...) + 1e-5)``.
    def _op(self, description: str, function: Callable, *operands: Any) -> Any:
        from cnnlab.layers.symbolic import apply

        return apply(function, *operands, description=description)

    def __getitem__(self, key: Any) -> Any:
        return self._op("getitem", lambda t: t[key], self)

    def __iter__(self) -> Any:
        raise TypeError(f"a symbolic tensor cannot be iterated over ({self!r}); index it "
                        f"(x[0]) or run it with a model first")

    def __neg__(self) -> Any:
        return self._op("negative", lambda a: -a, self)

    def __add__(self, other: Any) -> Any:
        return self._op("add", lambda a, b: a + b, self, other)

    def __radd__(self, other: Any) -> Any:
        return self._op("add", lambda a, b: a + b, other, self)

    def __sub__(self, other: Any) -> Any:
        return self._op("subtract", lambda a, b: a - b, self, other)

    def __rsub__(self, other: Any) -> Any:
        return self._op("subtract", lambda a, b: a - b, other, self)

    def __mul__(self, other: Any) -> Any:
        return self._op("multiply", lambda a, b: a * b, self, other)

    def __rmul__(self, other: Any) -> Any:
        return self._op("multiply", lambda a, b: a * b, other, self)

    def __truediv__(self, other: Any) -> Any:
        return self._op("divide", lambda a, b: a / b, self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self._op("divide", lambda a, b: a / b, other, self)

    def __pow__(self, other: Any) -> Any:
        return self._op("pow", lambda a, b: a ** b, self, other)


class Node:
    """One call of a layer on symbolic inputs: ``outputs = layer(inputs, **kwargs)``."""

    def __init__(self, layer: Layer, inputs: Any, kwargs: dict):
        self.layer = layer
        self.inputs = inputs
        self.input_tensors = flatten(inputs)
        self.kwargs = kwargs
        self.outputs: list[KerasTensor] = []
        self.output_structure: Any = None  # what the call returned: one tensor or a list

    def call_kwargs(self, training: bool) -> dict:
        """The keyword arguments to run this node with: those given at the symbolic call,
        where an explicit ``training=True|False`` wins over the model's mode (Keras: a base
        called as ``base(x, training=False)`` stays in inference mode during ``fit``)."""
        if self.kwargs.get("training") is not None:
            return self.kwargs
        return {**self.kwargs, "training": training}


def flatten(structure: Any) -> list:
    """Leaves of nested lists/tuples (a single leaf becomes a one-element list)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def map_structure(fn: Callable, structure: Any) -> Any:
    """Apply ``fn`` to the leaves of nested lists/tuples, keeping the nesting."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, item) for item in structure)
    return fn(structure)


def is_symbolic(structure: Any) -> bool:
    return any(isinstance(leaf, KerasTensor) for leaf in flatten(structure))


def _array_as_tensor(leaf: Any) -> Any:
    """A NumPy array as a tensor (floating point as float32, Keras's default dtype)."""
    if not isinstance(leaf, np.ndarray):
        return leaf
    tensor = torch.from_numpy(np.ascontiguousarray(leaf))
    return tensor.float() if tensor.is_floating_point() else tensor


def _shape_of(leaf: Any) -> Shape:
    if isinstance(leaf, KerasTensor):
        return leaf.shape
    return (None, *tuple(leaf.shape[1:]))


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


class Layer(torch.nn.Module):
    """Base class of every cnnlab layer and model.

    Args:
        name: unique name; default is the snake-case class name made unique (``conv2d_1``).
        trainable: whether ``fit`` updates the weights (``layer.trainable = False`` freezes).
        dtype: accepted for Keras compatibility; weights are float32 (use ``.double()``).
        input_shape: per-sample input shape, e.g. ``(28, 28, 1)``; builds the layer at once.
        batch_input_shape / batch_size / input_dim: Keras-2 spellings of the same.

    Subclasses set ``input_ndim`` (rank incl. batch, or ``None``), ``min_ndim`` and
    ``dims_hint`` (``"(H, W, C)"``), and implement ``build``, ``call``, ``compute_output_shape``.
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
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

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
            self.ensure_built(map_structure(_shape_of, inputs))
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
        if self.input_shape_built is None:
            if self.batch_input_shape is not None:
                return self.batch_input_shape
            raise AttributeError(f"{self.owner} has not been built yet: it has no input shape")
        return self.input_shape_built

    @property
    def output_shape(self) -> Any:
        if self.output_shape_built is None:
            raise AttributeError(f"{self.owner} has not been built yet: it has no output shape")
        return self.output_shape_built

    # ----------------------------------------------------------------- weights
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for child in self.children():
            if isinstance(child, Layer):
                child.trainable = value
        for param in self.parameters(recurse=False):
            param.requires_grad_(self._trainable)

    def keras_weights(self) -> list[tuple[str, torch.Tensor, WeightLayout]]:
        """``(keras_name, tensor, layout)`` in Keras's order (creation order by default)."""
        return [(name, p, SAME_LAYOUT) for name, p in self.named_parameters(recurse=False)]

    def _all_keras_weights(self) -> list[tuple[str, torch.Tensor, WeightLayout]]:
        own = self.keras_weights()
        for child in self.children():
            if isinstance(child, Layer):
                own = own + child._all_keras_weights()
        return own

    def get_weights(self) -> list[np.ndarray]:
        """Weights as NumPy arrays in Keras layout (a conv kernel is ``(kh, kw, in, out)``)."""
        return [layout.to_keras(t.detach()).cpu().numpy().copy()
                for _, t, layout in self._all_keras_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load arrays in Keras layout, checking count and shapes first."""
        targets = self._all_keras_weights()
        expected = [tuple(layout.to_keras(t).shape) for _, t, layout in targets]
        given = [tuple(np.shape(w)) for w in weights]
        if expected != given:
            raise ValueError(
                f"{self.owner}: set_weights expected {len(expected)} arrays with shapes "
                f"{expected}, got {len(given)} with shapes {given}"
            )
        with torch.no_grad():
            for (_, t, layout), w in zip(targets, weights, strict=True):
                src = torch.as_tensor(np.asarray(w), dtype=t.dtype)
                t.copy_(layout.from_keras(src))

    @property
    def weights(self) -> list[torch.Tensor]:
        """All weight tensors (PyTorch layout; use ``get_weights`` for Keras layout)."""
        return [t for _, t, _ in self._all_keras_weights()]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [t for t in self.weights if isinstance(t, torch.nn.Parameter) and t.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        trainable = {id(t) for t in self.trainable_weights}
        return [t for t in self.weights if id(t) not in trainable]

    def count_params(self) -> int:
        """Number of weights, trainable or not (as Keras's ``count_params``)."""
        if not self.built:
            raise ValueError(
                f"{self.owner}: cannot count parameters before the layer is built; give "
                f"`input_shape=` or call it on data first"
            )
        return sum(t.numel() for t in self.weights)

    def weight_constraints(self) -> dict[str, Any]:
        """Keras weight name -> constraint (``{'kernel': MaxNorm(3)}``); default none."""
        return {}

    @property
    def has_constraints(self) -> bool:
        return any(c is not None for c in self.weight_constraints().values())

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Project each constrained weight, in Keras layout, after an optimizer step."""
        constraints = self.weight_constraints()
        for name, tensor, layout in self.keras_weights():
            constraint = constraints.get(name)
            if constraint is not None:
                tensor.copy_(layout.from_keras(constraint(layout.to_keras(tensor))))

    def regularization_losses(self) -> list[torch.Tensor]:
        """Penalties of this layer's weight regularizers (added to the training loss)."""
        return []

    @property
    def losses(self) -> list[torch.Tensor]:
        return self.regularization_losses()

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
