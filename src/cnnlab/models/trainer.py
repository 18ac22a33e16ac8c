"""Keras's training API as a mixin of :class:`cnnlab.models.Model`: ``compile``, ``fit``,
``evaluate``, ``predict``, the ``*_on_batch`` steps and the Keras 2 ``*_generator`` names.

The steps themselves are :mod:`cnnlab.training.loop`; what is done with the user's data before
them is :mod:`cnnlab.models._fit_data`. ``fit(run=...)`` and ``fit(dashboard=True)`` reach the
run store and the dashboard through :mod:`cnnlab.models.extensions`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cnnlab import mixed_precision, optimizers
from cnnlab.device import default_device
from cnnlab.models import _fit_data
from cnnlab.models.extensions import extension
from cnnlab.training import distributed, loop, trainability
from cnnlab.training.callback_list import CallbackList
from cnnlab.training.data_adapter import ArrayData, StreamData
from cnnlab.training.history import History
from cnnlab.training.objectives import Objectives


class Trainer:
    """``compile``/``fit``/``evaluate``/``predict`` for a model (mixed into ``Model``)."""

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
        verbose = _fit_data.verbosity(verbose, "fit")
        if distribute not in (None, "ddp"):
            raise ValueError(f"fit: `distribute` must be None or 'ddp', got {distribute!r}")
        if distribute:
            distributed.init_from_env()
            verbose = verbose if distributed.is_main_process() else 0
        _fit_data.check_int(epochs, "fit", "epochs", low=0)
        _fit_data.check_int(initial_epoch, "fit", "initial_epoch", low=0)
        for name, value in (("steps_per_epoch", steps_per_epoch),
                            ("validation_steps", validation_steps)):
            if value is not None:
                _fit_data.check_int(value, "fit", name, low=1)
        validate_after = _fit_data.validation_epochs(validation_freq)
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
                or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit: `validation_split` must be a fraction in [0, 1), got "
                             f"{validation_split!r}")
        ahead = {"max_queue_size": max_queue_size, "workers": workers}
        train = val = None
        try:
            train = _fit_data.batch_source(self, x, y, sample_weight, batch_size=batch_size,
                                           shuffle=bool(shuffle), steps=steps_per_epoch, **ahead)
            val = None
            if validation_split and validation_data is None:
                if not isinstance(train, ArrayData):
                    raise ValueError("fit: `validation_split` needs array data; with a generator "
                                     "pass `validation_data`")
                train, val = train.split(validation_split)
            elif validation_data is not None:
                val = _fit_data.validation_source(self, validation_data,
                                                  validation_batch_size or batch_size,
                                                  validation_steps, **ahead)
            if resume and run is None:
                raise ValueError("fit: resume=True needs run='<name or id>' to know what to resume")
            if (run is not None or distribute) and seed is None:
                # a recorded data order makes resume exact; processes share process 0's order
                seed = int(torch.randint(0, 2**62, ()))
            generator = torch.Generator().manual_seed(seed) if seed is not None else None
            self._prepare_from(train)
            train, val = (_fit_data.on_accelerator(s, self.device) for s in (train, val))
            self._train_compiled_weights()
            _fit_data.check_data(self, train, "fit")
            if val is not None:
                _fit_data.check_data(self, val, "fit (validation data)")
            if not self.trainable_weights:
                warnings.warn(f"{self.owner} has no trainable weights (all layers are frozen): fit "
                              f"reports the loss but updates nothing", stacklevel=2)
            table = _fit_data.class_weight_table(self, class_weight)
            recorder = None
            if run is not None and distributed.is_main_process():
                start_run = extension("run_recorder")
                recorder, start = start_run(self, run, resume, generator, {
                    "epochs": epochs, "batch_size": batch_size, "seed": seed,
                    "optimizer": type(self.optimizer).__name__, "params": self.count_params()})
                initial_epoch = initial_epoch if start is None else start
                callbacks = [*(callbacks or []), recorder]
                self.run_id = recorder.run_id
            if dashboard and distributed.is_main_process():
                live = extension("dashboard")(self, train, val, recorder)
                callbacks = [*(callbacks or []), live]
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

    def _prepare_from(self, source: ArrayData | StreamData) -> None:
        if isinstance(source, ArrayData):
            self._prepare(source.x)
        elif not self.built:
            self._prepare(source.peek()[0])
        else:
            self._prepare(None)

    # ----------------------------------------------------------------- evaluate / predict
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: int | str = "auto", sample_weight: Any = None,
                 steps: int | None = None, callbacks: Sequence | None = None,
                 max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                 return_dict: bool = False) -> float | list[float] | dict[str, float]:
        """Loss and metrics on the data: a float (loss only), a list, or a dict."""
        self._require_compiled("evaluate")
        source = _fit_data.batch_source(self, x, y, sample_weight, batch_size=batch_size,
                                        steps=steps, max_queue_size=max_queue_size,
                                        workers=workers)
        verbose = _fit_data.verbosity(verbose, "evaluate")
        try:
            self._prepare_from(source)
            _fit_data.check_data(self, source, "evaluate")
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
        verbose = _fit_data.verbosity(verbose, "predict")
        source = _fit_data.batch_source(self, x, batch_size=batch_size, steps=steps,
                              max_queue_size=max_queue_size, workers=workers)
        try:
            if isinstance(source, ArrayData) and not self.built:
                self._build_from_data(source.x)
            if self.built:
                _fit_data.check_data(self, source, "predict", targets=False)
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

    def check_batch(self, x: Any, y: Any = None) -> None:
        """Raise a clear ``ValueError`` when a batch does not fit the model: input shapes
        (expected vs given) or labels the loss cannot use. The loop also calls it after a
        step failed, to replace a low-level PyTorch error by this message."""
        _fit_data.check_batch(self, x, y)

    def predict_on_batch(self, x: Any) -> np.ndarray | list[np.ndarray]:
        """Outputs for one batch, without batching it further."""
        source = _fit_data.one_batch(self, x)
        if not self.built:
            self._build_from_data(source.x)
        self.check_batch(source.x)
        arrays = [o.numpy() for o in loop.predict_all(self, source, None)]
        return arrays if len(arrays) > 1 else arrays[0]

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, return_dict: bool = False) -> Any:
        """One optimizer step on one batch; returns the batch's loss (and metrics)."""
        self._require_compiled("train_on_batch")
        data = _fit_data.one_batch(self, x, y, sample_weight)
        self._prepare(data.x)
        _fit_data.check_data(self, data, "train_on_batch")
        self.train()
        self.objectives.reset()
        bx, by, bw = next(data.batches())
        table = _fit_data.class_weight_table(self, class_weight)
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
        data = _fit_data.one_batch(self, x, y, sample_weight)
        self._prepare(data.x)
        _fit_data.check_data(self, data, "test_on_batch")
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

    @property
    def metrics_names(self) -> list[str]:
        if self.objectives is None or not self.objectives.ready:
            return []
        return list(self.objectives.logs().keys())
