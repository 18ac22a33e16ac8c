"""``Model``: Keras's training API (compile/fit/evaluate/predict) on a ``torch.nn.Module``.

``Model(inputs, outputs)`` builds a functional model from symbolic tensors (skip connections,
branches, shared layers, several inputs/outputs); subclasses (``Sequential``, or user classes
defining ``call``) reuse the same training API.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from cnnlab import mixed_precision, optimizers
from cnnlab.device import default_device
from cnnlab.layers.base import KerasTensor, Layer, channel_axis_hint, format_shape, register
from cnnlab.models.graph import Graph
from cnnlab.models.layer_keys import install_state_dict_names, module_key
from cnnlab.training import allocator, distributed, loop, trainability
from cnnlab.training.callback_list import CallbackList
from cnnlab.training.data_adapter import ArrayData, StreamData, is_stream, make_source
from cnnlab.training.history import History
from cnnlab.training.objectives import Objectives


@register("Functional")
class Model(Layer):
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
        if not _shape_fits(expected, input_shape):
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

    # ----------------------------------------------------------------- compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, weighted_metrics: Any = None,
                run_eagerly: bool | None = None, steps_per_execution: int | None = None,
                jit_compile: bool | None = None, **kwargs: Any) -> None:
        """Choose the optimizer, loss and metrics (Keras defaults: ``optimizer='rmsprop'``).

        ``optimizer`` and ``loss`` take Keras names or objects; ``metrics`` a list such as
        ``['accuracy']`` (not weighted); ``weighted_metrics`` are weighted by
        ``sample_weight``/``class_weight``. ``run_eagerly``/``steps_per_execution`` are accepted
        for compatibility. ``jit_compile=True`` runs the forward pass through ``torch.compile``
        (the first batch pays the compilation; see bench/README.md for when it pays off).
        """
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {sorted(kwargs)}")
        self.optimizer = optimizers.get(optimizer)
        self.objectives = Objectives(loss, metrics, loss_weights, weighted_metrics)
        self._optimizer_params: list[int] = []
        # the weights training updates (training/trainability.py); an unbuilt model's are
        # collected when it is built
        self._compiled_trainable = trainability.trainable_ids(self) if self.built else None
        self._warned_trainable = False
        self.jit_compile = bool(jit_compile) and not run_eagerly
        object.__setattr__(self, "_compiled", None)  # not a submodule: no duplicate weights

    @property
    def runner(self) -> Any:
        """What the training loop calls: the model, or its ``torch.compile``d version."""
        if not getattr(self, "jit_compile", False):
            return self
        if self._compiled is None:
            object.__setattr__(self, "_compiled", torch.compile(self))
        return self._compiled

    @property
    def train_runner(self) -> Any:
        """What ``train_step`` calls: the DDP wrapper during ``fit(distribute='ddp')``, else
        :attr:`runner`."""
        parallel = getattr(self, "_parallel", None)
        return parallel if parallel is not None else self.runner

    def _require_compiled(self, what: str) -> None:
        if self.optimizer is None or self.objectives is None:
            raise RuntimeError(f"{self.owner}: call compile(optimizer, loss, metrics) before "
                               f"{what}()")

    def _prepare(self, first_x: Any) -> None:
        """Build from the first batch if needed, then the optimizer and the objectives."""
        if not self.built:
            self._build_from_data(first_x)
        target = default_device()
        if self.device.type == "cpu" and target.type != "cpu":
            self.to(target)
        policy = mixed_precision.global_policy()
        if policy.name != "mixed_float16":
            self.loss_scaler = None
        elif self.loss_scaler is None:
            self.loss_scaler = mixed_precision.LossScaler()
        params = [p for p in self.parameters()]
        if [id(p) for p in params] != self._optimizer_params:
            self.optimizer.build(params)
            self._optimizer_params = [id(p) for p in params]
        if self._compiled_trainable is None:
            self._compiled_trainable = trainability.trainable_ids(self)
        shapes = self.output_shape if isinstance(self.output_shape, list) else [self.output_shape]
        self.objectives.resolve(self.output_names, shapes)
        self._step_layers = self.leaf_layers()

    def _train_compiled_weights(self) -> None:
        """Let training update the weights that were trainable at ``compile()`` (as Keras);
        warns once per compile when the layers' ``trainable`` flags changed since."""
        now = trainability.trainable_ids(self)
        if now != self._compiled_trainable and not self._warned_trainable:
            self._warned_trainable = True
            trainability.warn_changed(self.owner, self._compiled_trainable, now)
        trainability.use_compiled(self, self._compiled_trainable)

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

    # ----------------------------------------------------------------- fit
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: int | str = "auto", callbacks: Sequence | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            class_weight: dict | None = None, sample_weight: Any = None,
            initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int | Sequence[int] = 1, max_queue_size: int = 10, workers: int = 1,
            use_multiprocessing: bool = False, seed: int | None = None,
            run: str | None = None, resume: bool = False,
            distribute: str | None = None, dashboard: bool = False) -> History:
        """Train for ``epochs`` epochs; returns a ``History`` (``history.history['loss']``).

        ``x`` may be arrays/tensors (with ``y``; dicts by input/output name too), or a
        generator / ``Sequence`` / PyTorch ``DataLoader`` yielding ``(x, y)`` or
        ``(x, y, sample_weight)``; a plain generator is not restarted between epochs.
        Keras's rules: ``validation_split`` holds out the *last* fraction of the arrays
        (before shuffling); the logged ``loss`` is the batch-size-weighted mean of the batch
        losses; ``class_weight``/``sample_weight`` weight the loss (and ``weighted_metrics``),
        not ``metrics``. ``seed`` (cnnlab extra) fixes the shuffling order. The data is
        checked against the model before the first step (input shapes, labels vs the loss).
        A generator's / ``Sequence``'s batches are prepared ahead on background threads while
        the model trains (at most ``max_queue_size``; ``workers`` threads for a ``Sequence``,
        one for a generator; ``workers=0``: in the training thread). Unlike Keras,
        ``use_multiprocessing=True`` still uses threads: the batch work (augmentation) is torch
        ops that release the GIL, and threads need no pickling of the data.

        cnnlab extras: ``run='name'`` records the run in the SQLite run store
        (``runs/cnnlab.db``) with a checkpoint every epoch (``runs/<id>/checkpoint.cnnlab``);
        ``resume=True`` continues that run from its last checkpoint (weights, optimizer, data
        order and random states), so a killed training ends as if never interrupted. A
        recorded run whose loss becomes NaN or infinite stops with
        ``cnnlab.runs.recorder.InvalidLossError`` naming the first bad batch; its last good
        checkpoint is kept and it is stored as ``failed``.
        ``distribute='ddp'`` trains data-parallel in the processes that torchrun started
        (``cnnlab train --nproc-per-node N``, ``torchrun --nproc-per-node N script.py``; see
        docs/distributed.md): ``batch_size`` is the global batch, split over the processes, so
        the result equals single-process training up to float rounding; only process 0
        prints, writes checkpoints and records the run. ``dashboard=True`` serves this
        training live in the browser (curves per batch and epoch, predictions, feature maps,
        Grad-CAM; ``pip install 'cnnlab[dashboard]'``) from a thread of this process on a free
        loopback port and prints the URL; the training loop only appends each batch's logs to
        an in-memory buffer (see ``cnnlab.dashboard``).
        """
        self._require_compiled("fit")
        verbose = _verbosity(verbose, "fit")
        if distribute not in (None, "ddp"):
            raise ValueError(f"fit: `distribute` must be None or 'ddp', got {distribute!r}")
        if distribute:
            distributed.init_from_env()
            verbose = verbose if distributed.is_main_process() else 0
        _check_int(epochs, "fit", "epochs", low=0)
        _check_int(initial_epoch, "fit", "initial_epoch", low=0)
        for name, value in (("steps_per_epoch", steps_per_epoch),
                            ("validation_steps", validation_steps)):
            if value is not None:
                _check_int(value, "fit", name, low=1)
        validate_after = _validation_epochs(validation_freq)
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
                or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit: `validation_split` must be a fraction in [0, 1), got "
                             f"{validation_split!r}")
        ahead = {"max_queue_size": max_queue_size, "workers": workers}
        train = val = None
        try:
            train = self._source(x, y, sample_weight, batch_size=batch_size, shuffle=bool(shuffle),
                                 steps=steps_per_epoch, **ahead)
            val = None
            if validation_split and validation_data is None:
                if not isinstance(train, ArrayData):
                    raise ValueError("fit: `validation_split` needs array data; with a generator "
                                     "pass `validation_data`")
                train, val = train.split(validation_split)
            elif validation_data is not None:
                val = self._validation_source(validation_data, validation_batch_size or batch_size,
                                              validation_steps, **ahead)
            if resume and run is None:
                raise ValueError("fit: resume=True needs run='<name or id>' to know what to resume")
            if (run is not None or distribute) and seed is None:
                # a recorded data order makes resume exact; processes share process 0's order
                seed = int(torch.randint(0, 2**62, ()))
            generator = torch.Generator().manual_seed(seed) if seed is not None else None
            self._prepare_from(train)
            self._train_compiled_weights()
            self._check_data(train, "fit")
            if val is not None:
                self._check_data(val, "fit (validation data)")
            if not self.trainable_weights:
                warnings.warn(f"{self.owner} has no trainable weights (all layers are frozen): fit "
                              f"reports the loss but updates nothing", stacklevel=2)
            table = self._class_weight_table(class_weight)
            recorder = None
            if run is not None and distributed.is_main_process():
                from cnnlab.runs.recorder import start_run

                recorder, start = start_run(self, run, resume, generator, {
                    "epochs": epochs, "batch_size": batch_size, "seed": seed,
                    "optimizer": type(self.optimizer).__name__, "params": self.count_params()})
                initial_epoch = initial_epoch if start is None else start
                callbacks = [*(callbacks or []), recorder]
                self.run_id = recorder.run_id
            if dashboard and distributed.is_main_process():
                from cnnlab.dashboard.live import dashboard_callback

                callbacks = [*(callbacks or []), dashboard_callback(self, train, val, recorder)]
            if distribute:
                initial_epoch = distributed.sync_from_main(self, generator, initial_epoch)
                train = distributed.shard(train)
                val = None if val is None else distributed.shard(val, training=False)
                callbacks = distributed.local_callbacks(callbacks)
                object.__setattr__(self, "_parallel", distributed.wrap_model(self, train))
            cbs = CallbackList(callbacks, model=self, add_history=True, add_progbar=verbose != 0,
                               epochs=epochs, steps=train.num_batches, verbose=verbose)
            self.history = cbs.history
            self.stop_training = False
            logs: dict = {}
            cbs.on_train_begin()
            try:
                for epoch in range(initial_epoch, epochs):
                    cbs.on_epoch_begin(epoch)
                    logs = loop.train_epoch(self, train, cbs, generator, table)
                    if distribute:
                        logs = distributed.reduce_metrics(self.objectives)
                    if val is not None and validate_after(epoch + 1):
                        val_logs = loop.test_epoch(self, val, None, prefix="val_")
                        if distribute:
                            val_logs = distributed.reduce_metrics(self.objectives, "val_")
                        logs.update(val_logs)
                    cbs.on_epoch_end(epoch, logs)
                    if self.stop_training:
                        break
            except BaseException as err:
                if recorder is not None:  # never masks err (a full disk fails both)
                    recorder.end(err)
                raise
            finally:
                object.__setattr__(self, "_parallel", None)
            self.eval()
            cbs.on_train_end(logs)
            if recorder is not None:
                recorder.end()
            return self.history
        finally:  # stop the read-ahead threads of generator sources
            trainability.restore_declared(self)
            for source in (train, val):
                if source is not None and hasattr(source, "close"):
                    source.close()

    def _source(self, x: Any, y: Any = None, sample_weight: Any = None, *,
                batch_size: int | None, shuffle: bool = False, steps: int | None = None,
                what: str = "x", **ahead: int) -> ArrayData | StreamData:
        """The batch source for ``x``/``y``; dicts keyed by input/output names become lists
        in the model's order (as Keras accepts them). ``ahead``: ``max_queue_size`` and
        ``workers`` of a stream's read-ahead threads. The first call also keeps freed
        activations in the heap between steps (:func:`cnnlab.training.allocator.tune`)."""
        allocator.tune()
        x = _in_order(x, self.input_names, f"`{what}`", "input")
        y = _in_order(y, self.output_names, "`y`", "output")
        return make_source(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle,
                           steps=steps, what=what, **ahead)

    def _one_batch(self, x: Any, y: Any = None, sample_weight: Any = None) -> ArrayData:
        """All of ``x`` as a single batch (for the ``*_on_batch`` methods)."""
        source = self._source(x, y, sample_weight, batch_size=None)
        if not isinstance(source, ArrayData):
            raise TypeError(f"{self.owner}: the *_on_batch methods take arrays, got "
                            f"{type(x).__name__}")
        source.batch_size = source.n
        return source

    def _prepare_from(self, source: ArrayData | StreamData) -> None:
        if isinstance(source, ArrayData):
            self._prepare(source.x)
        elif not self.built:
            self._prepare(source.peek()[0])
        else:
            self._prepare(None)

    def _validation_source(self, data: Any, batch_size: int | None, steps: int | None,
                           **ahead: int) -> ArrayData | StreamData:
        if is_stream(data):
            return make_source(data, batch_size=batch_size, steps=steps,
                               what="validation_data", **ahead)
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("fit: `validation_data` must be (x_val, y_val), (x_val, y_val, "
                             "sample_weight) or a generator")
        vx, vy, *vw = data
        return self._source(vx, vy, vw[0] if vw else None, batch_size=batch_size,
                            what="validation_data")

    def _check_targets(self, y: Any) -> None:
        shapes = self.output_shape if isinstance(self.output_shape, list) else [self.output_shape]
        ys = y if isinstance(y, list) else [y]
        if len(ys) != len(shapes):
            raise ValueError(f"{self.owner}: the model has {len(shapes)} outputs but `y` has "
                             f"{len(ys)} arrays")
        self.objectives.check_targets(ys, shapes)

    def _class_weight_table(self, class_weight: dict | None) -> torch.Tensor | None:
        """``class_weight`` as a lookup table over class indices; missing classes weigh 1."""
        if class_weight is None:
            return None
        if not isinstance(class_weight, dict) or not class_weight:
            raise TypeError(f"fit: `class_weight` must be a dict {{class index: weight}}, got "
                            f"{class_weight!r}")
        if len(self.output_names) > 1:
            raise ValueError(f"fit: `class_weight` works for models with one output; "
                             f"{self.owner} has {len(self.output_names)}: give `sample_weight`")
        if not all(isinstance(k, (int, np.integer)) and k >= 0 for k in class_weight):
            raise ValueError(f"fit: the keys of `class_weight` must be class indices >= 0, got "
                             f"{sorted(class_weight, key=str)}")
        size = max(max(int(k) for k in class_weight) + 1, self.output_shape[-1] or 1, 2)
        table = torch.ones(size)
        for k, v in class_weight.items():
            table[int(k)] = float(v)
        return table

    # ----------------------------------------------------------------- evaluate / predict
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: int | str = "auto", sample_weight: Any = None,
                 steps: int | None = None, callbacks: Sequence | None = None,
                 max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                 return_dict: bool = False) -> float | list[float] | dict[str, float]:
        """Loss and metrics on the data: a float (loss only), a list, or a dict."""
        self._require_compiled("evaluate")
        source = self._source(x, y, sample_weight, batch_size=batch_size, steps=steps,
                              max_queue_size=max_queue_size, workers=workers)
        verbose = _verbosity(verbose, "evaluate")
        try:
            self._prepare_from(source)
            self._check_data(source, "evaluate")
            cbs = CallbackList(callbacks, model=self, add_progbar=verbose != 0,
                               steps=source.num_batches, verbose=verbose, epochs=1)
            cbs.on_test_begin()
            logs = loop.test_epoch(self, source, cbs)
            cbs.on_test_end(logs)
        finally:
            source.close()
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto",
                steps: int | None = None, callbacks: Sequence | None = None,
                max_queue_size: int = 10, workers: int = 1,
                use_multiprocessing: bool = False) -> np.ndarray | list[np.ndarray]:
        """Model outputs as NumPy arrays (a list for several outputs); batch size 32."""
        verbose = _verbosity(verbose, "predict")
        source = self._source(x, batch_size=batch_size, steps=steps,
                              max_queue_size=max_queue_size, workers=workers)
        try:
            if isinstance(source, ArrayData) and not self.built:
                self._build_from_data(source.x)
            if self.built:
                self._check_data(source, "predict", targets=False)
            cbs = CallbackList(callbacks, model=self, add_progbar=verbose != 0,
                               steps=source.num_batches,
                               verbose=0 if source.num_batches == 1 else verbose, epochs=1)
            cbs.on_predict_begin()
            outputs = loop.predict_all(self, source, cbs)
            cbs.on_predict_end()
        finally:
            source.close()
        arrays = [o.numpy() for o in outputs]
        return arrays if len(arrays) > 1 else arrays[0]

    def _check_data(self, source: ArrayData | StreamData, what: str,
                    targets: bool = True) -> None:
        """Clear errors before the first step when the data does not fit the model (for a
        stream, its first batch is checked)."""
        x, y = (source.x, source.y) if isinstance(source, ArrayData) else source.peek()[:2]
        if targets and y is None:
            raise ValueError(f"{what}: no targets; pass `y` with array `x`, or a generator / "
                             f"Sequence / DataLoader yielding (x, y) pairs")
        self.check_batch(x, y if targets else None)

    def check_batch(self, x: Any, y: Any = None) -> None:
        """Raise a clear ``ValueError`` when a batch does not fit the model: input shapes
        (expected vs given) or labels the loss cannot use. The loop also calls it after a
        step failed, to replace a low-level PyTorch error by this message."""
        expected = self.input_shape_built
        if expected is not None:
            shapes = expected if isinstance(expected, list) else [expected]
            arrays = x if isinstance(x, list) else [x]
            if len(arrays) != len(shapes):
                raise ValueError(f"{self.owner}: expected {len(shapes)} input arrays (one per "
                                 f"Input), got {len(arrays)}")
            names = [f"input {n!r}" for n in self.input_names] if len(shapes) > 1 \
                else ["input"]
            for name, shape, array in zip(names, shapes, arrays, strict=True):
                if not _shape_fits(shape, tuple(array.shape)):
                    raise ValueError(f"{self.owner}: expected {name} of shape "
                                     f"{format_shape(shape)}, got data of shape "
                                     f"{tuple(array.shape)}"
                                     f"{channel_axis_hint(shape, tuple(array.shape))}")
        if y is not None and self.objectives is not None and self.objectives.ready:
            self._check_targets(y)

    def predict_on_batch(self, x: Any) -> np.ndarray | list[np.ndarray]:
        """Outputs for one batch, without batching it further."""
        source = self._one_batch(x)
        if not self.built:
            self._build_from_data(source.x)
        self.check_batch(source.x)
        arrays = [o.numpy() for o in loop.predict_all(self, source, None)]
        return arrays if len(arrays) > 1 else arrays[0]

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, return_dict: bool = False) -> Any:
        """One optimizer step on one batch; returns the batch's loss (and metrics)."""
        self._require_compiled("train_on_batch")
        data = self._one_batch(x, y, sample_weight)
        self._prepare(data.x)
        self._check_data(data, "train_on_batch")
        self.train()
        self.objectives.reset()
        bx, by, bw = next(data.batches())
        table = self._class_weight_table(class_weight)
        if table is not None:
            bw = loop.class_sample_weights(table, by, bw)
        self._train_compiled_weights()
        try:
            loop.train_step(self, bx, by, bw)
        finally:
            trainability.restore_declared(self)
        self.eval()
        return self._batch_result(return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """Loss (and metrics) on one batch, without updating weights."""
        self._require_compiled("test_on_batch")
        data = self._one_batch(x, y, sample_weight)
        self._prepare(data.x)
        self._check_data(data, "test_on_batch")
        loop.test_epoch(self, data, None)
        return self._batch_result(return_dict)

    def _batch_result(self, return_dict: bool) -> Any:
        logs = self.objectives.logs()
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # Keras-2 generator API (same behaviour as fit/evaluate/predict with a generator).
    def fit_generator(self, generator: Any, steps_per_epoch: int | None = None,
                      epochs: int = 1, **kwargs: Any) -> History:
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, **kwargs)

    def evaluate_generator(self, generator: Any, steps: int | None = None,
                           **kwargs: Any) -> Any:
        return self.evaluate(generator, steps=steps, **kwargs)

    def predict_generator(self, generator: Any, steps: int | None = None,
                          **kwargs: Any) -> Any:
        return self.predict(generator, steps=steps, **kwargs)

    # ----------------------------------------------------------------- weights & saving
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
        from cnnlab.models.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable)
        if explain:
            from cnnlab.explain.arithmetic import format_explained_summary

            for line in format_explained_summary(self).splitlines():
                (print_fn or print)(line)

    def save(self, filepath: str, overwrite: bool = True, include_optimizer: bool = True,
             **kwargs: Any) -> None:
        """Write ``config.json`` + ``weights.safetensors`` (+ optimizer state) as one zip."""
        from cnnlab.io.saving import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath: str, overwrite: bool = True, save_format: str | None = None,
                     options: Any = None) -> None:
        """Write the weights atomically: cnnlab's safetensors file whatever the name
        (``model.weights.h5`` too), or with ``save_format='h5'`` a Keras 2 HDF5 file that
        Keras's ``load_weights`` reads (needs h5py). Differs from Keras 2, which picks HDF5 from
        an ``.h5`` name. ``options`` is accepted and ignored."""
        if save_format in (None, "cnnlab", "tf", "safetensors"):
            from cnnlab.io.saving import save_weights

            save_weights(self, filepath, overwrite=overwrite)
        elif save_format in ("h5", "keras2-h5"):
            from cnnlab.files.atomic import check_target
            from cnnlab.io.keras_weights import save_keras_h5

            save_keras_h5(self, check_target(filepath, overwrite))
        else:
            raise ValueError(f"save_weights: `save_format` must be None or 'h5', got "
                             f"{save_format!r}")

    def load_weights(self, filepath: str, by_name: bool = False, skip_mismatch: bool = False,
                     options: Any = None) -> None:
        """Load weights from any file cnnlab reads, recognised by its content
        (:mod:`cnnlab.io.weight_files`: cnnlab, Keras 3 ``.keras``/``.weights.h5``, Keras 2
        HDF5, PyTorch state dicts). ``by_name``/``skip_mismatch`` as in Keras 2 (HDF5 files
        only). ``options`` is accepted and ignored."""
        from cnnlab.io.weight_files import load_weights_file

        load_weights_file(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    def get_config(self) -> dict:
        from cnnlab.models.config import model_config

        return model_config(self)

    @classmethod
    def from_config(cls, config: dict) -> Model:
        from cnnlab.models.config import model_from_config

        return model_from_config(config, cls)

    def to_json(self, **kwargs: Any) -> str:
        import json

        return json.dumps({"class_name": self.class_name, "config": self.get_config()}, **kwargs)

    @property
    def class_name(self) -> str:
        return "Functional" if type(self) is Model else type(self).__name__

    @property
    def metrics_names(self) -> list[str]:
        if self.objectives is None or not self.objectives.ready:
            return []
        return list(self.objectives.logs().keys())


def _in_order(data: Any, names: list[str], what: str, role: str) -> Any:
    """``data`` itself, or the entries of a dict ``{layer name: array}`` in ``names`` order."""
    if not isinstance(data, dict):
        return data
    if set(data) != set(names):
        raise ValueError(f"{what} is a dict with keys {sorted(data)}, but the model's {role} "
                         f"layers are named {names}")
    ordered = [data[name] for name in names]
    return ordered if len(ordered) > 1 else ordered[0]


def _shape_fits(expected: tuple, given: tuple) -> bool:
    """Same rank, and every size known on both sides equal (the batch axis is free)."""
    return len(expected) == len(given) and all(
        e is None or g is None or e == g for e, g in zip(expected[1:], given[1:], strict=True))


def _check_int(value: Any, what: str, name: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{what}: `{name}` must be an int >= {low}, got {value!r}")


def _verbosity(verbose: Any, what: str) -> int:
    """Keras's ``verbose``: ``'auto'`` (= 1), 0 silent, 1 progress bar, 2 one line."""
    if verbose == "auto":
        return 1
    if not isinstance(verbose, (int, np.integer)) or verbose not in (0, 1, 2):
        raise ValueError(f"{what}: `verbose` must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def _validation_epochs(freq: Any) -> Callable[[int], bool]:
    """``validation_freq`` as a test on 1-based epochs: every ``freq``-th epoch, or the
    epochs listed (Keras 2 accepts a list such as ``[1, 5, 10]``)."""
    if isinstance(freq, (int, np.integer)) and not isinstance(freq, bool) and freq >= 1:
        return lambda epoch: epoch % freq == 0
    if isinstance(freq, (list, tuple, set, range)) and all(
            isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in freq):
        epochs = set(freq)
        return lambda epoch: epoch in epochs
    raise ValueError(f"fit: `validation_freq` must be an int >= 1 or a list of (1-based) "
                     f"epochs, got {freq!r}")

