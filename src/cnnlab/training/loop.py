"""The training loop: one short function per step (train, test, predict) and per epoch.

``train_step``: forward in training mode, loss (+ weight penalties), backward, optimizer step,
constraints, metric update. ``test_step``: forward in inference mode, loss and metrics.
``predict_step``: forward only. The epoch functions iterate a batch source and call the
callbacks' batch hooks only when some callback listens to them.
"""

from __future__ import annotations

from typing import Any

import torch

from cnnlab import mixed_precision
from cnnlab.layers.nest import flatten
from cnnlab.training.callback_list import CallbackList
from cnnlab.training.data_adapter import ArrayData, StreamData, to_model_input


def as_list(value: Any) -> list:
    """``value`` as a list (a single tensor becomes ``[value]``)."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def batch_size_of(x: Any) -> int:
    """Samples in a batch: the first axis of its first array."""
    return int(flatten(x)[0].shape[0])


def move(x: Any, device: torch.device) -> Any:
    """Model inputs on ``device`` (channels-last images stay channels-last in memory)."""
    if isinstance(x, (list, tuple)):
        return [to_model_input(t, device) for t in x]
    return to_model_input(x, device)


def move_targets(y: Any, device: torch.device) -> list:
    """Targets on ``device``, one tensor per output."""
    return [t.to(device, non_blocking=True) for t in as_list(y)]


def train_step(model: Any, x: Any, y: Any, sample_weight: Any) -> None:
    """One optimizer step: loss = Σ weighted output losses + penalties, backward, update,
    constraints; the metrics accumulate the batch."""
    device = model.device
    x, targets = move(x, device), move_targets(y, device)
    if sample_weight is not None:
        sample_weight = sample_weight.to(device)
    objectives = model.objectives
    with mixed_precision.autocast(device):
        y_pred = as_list(model.train_runner(x, training=True))
        total, parts = objectives.total_loss(targets, y_pred, sample_weight, model.penalties())
    if total.requires_grad:  # False when every weight is frozen: nothing to update
        optimizer = model.optimizer
        optimizer.zero_grad()
        scaler = model.loss_scaler
        if scaler is None:
            total.backward()
            optimizer.step()
        else:
            scaler.backward(total)
            if scaler.unscale(model.trainable_weights):
                optimizer.step()
        model.apply_constraints()
    objectives.update(total, parts, targets, y_pred, sample_weight, batch_size_of(x))


def test_step(model: Any, x: Any, y: Any, sample_weight: Any) -> None:
    """The loss and metrics of one batch in inference mode, accumulated; no update."""
    device = model.device
    x, targets = move(x, device), move_targets(y, device)
    if sample_weight is not None:
        sample_weight = sample_weight.to(device)
    with mixed_precision.autocast(device):
        y_pred = as_list(model.runner(x, training=False))
        total, parts = model.objectives.total_loss(targets, y_pred, sample_weight,
                                                   model.penalties())
    model.objectives.update(total, parts, targets, y_pred, sample_weight, batch_size_of(x))


def predict_step(model: Any, x: Any) -> list[torch.Tensor]:
    """The model's outputs for one batch, in inference mode (a list, one per output)."""
    device = model.device
    with mixed_precision.autocast(device):
        return as_list(model.runner(move(x, device), training=False))


def train_epoch(model: Any, source: ArrayData | StreamData, callbacks: CallbackList,
                generator: torch.Generator | None, class_weights: torch.Tensor | None) -> dict:
    """One pass over ``source``; returns the epoch's training logs."""
    model.train()
    model.objectives.reset()
    listen = callbacks.batch_hooks_needed("train")
    for step, (x, y, w) in enumerate(source.batches(generator)):
        if y is None:
            raise ValueError("fit: the data yields no targets; yield (x, y) pairs")
        if class_weights is not None:
            w = class_sample_weights(class_weights, y, w)
        if listen:
            callbacks.on_train_batch_begin(step)
        try:
            train_step(model, x, y, w)
        except (IndexError, RuntimeError):
            model.check_batch(x, y)  # a clear message if the batch does not fit the model
            raise
        if listen:
            callbacks.on_train_batch_end(step, model.objectives.logs())
        if model.stop_training:
            break
    logs = model.objectives.logs()
    model.objectives.invalid_train_batch = model.objectives.first_invalid_batch()
    return logs


@torch.inference_mode()
def test_epoch(model: Any, source: ArrayData | StreamData, callbacks: CallbackList | None,
               prefix: str = "") -> dict:
    """Evaluate on ``source``; returns logs (keys prefixed with ``val_`` for validation)."""
    model.eval()
    model.objectives.reset()
    listen = callbacks is not None and callbacks.batch_hooks_needed("test")
    for step, (x, y, w) in enumerate(source.batches()):
        if y is None:
            raise ValueError("evaluate: the data yields no targets; yield (x, y) pairs")
        if listen:
            callbacks.on_test_batch_begin(step)
        try:
            test_step(model, x, y, w)
        except (IndexError, RuntimeError):
            model.check_batch(x, y)
            raise
        if listen:
            callbacks.on_test_batch_end(step, model.objectives.logs())
    return model.objectives.logs(prefix)


DEVICE_OUTPUT_BYTES = 256 * 2**20  # predictions held on an accelerator before a host copy


@torch.inference_mode()
def predict_all(model: Any, source: ArrayData | StreamData,
                callbacks: CallbackList | None) -> list[torch.Tensor]:
    """Outputs for every batch of ``source``, concatenated per model output, on the host.

    On an accelerator the outputs stay on the device and are copied to the host together (at
    the end, or whenever :data:`DEVICE_OUTPUT_BYTES` accumulate), so the device never waits
    for a copy per batch; callbacks that listen to batches get host tensors per batch.
    """
    model.eval()
    listen = callbacks is not None and callbacks.batch_hooks_needed("predict")
    on_host: list[list[torch.Tensor]] = []
    pending: list[list[torch.Tensor]] = []
    pending_bytes = 0
    for step, (x, _, _) in enumerate(source.batches()):
        if listen:
            callbacks.on_predict_batch_begin(step)
        try:
            outputs = predict_step(model, x)
        except (IndexError, RuntimeError):
            model.check_batch(x)
            raise
        outputs = [out.detach().to(torch.float32) for out in outputs]
        if outputs[0].device.type == "cpu":
            on_host.append(outputs)
        else:
            pending.append(outputs)
            pending_bytes += sum(out.nbytes for out in outputs)
            if listen or pending_bytes >= DEVICE_OUTPUT_BYTES:
                on_host.append(_to_host(pending))
                pending, pending_bytes = [], 0
        if listen:
            callbacks.on_predict_batch_end(step, {"outputs": on_host[-1]})
    if pending:
        on_host.append(_to_host(pending))
    if not on_host:
        raise ValueError("predict: the data yielded no batches")
    return on_host[0] if len(on_host) == 1 else [torch.cat(parts)
                                                 for parts in zip(*on_host, strict=True)]


def _to_host(batches: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    """Per model output, the batches' outputs concatenated and copied to the host."""
    return [torch.cat(parts).to("cpu") for parts in zip(*batches, strict=True)]


def class_sample_weights(table: torch.Tensor, y: Any, weights: Any) -> torch.Tensor:
    """Per-sample weights from ``class_weight`` (integer labels or one-hot rows)."""
    labels = as_list(y)[0]
    if labels.is_floating_point() and labels.ndim > 1 and labels.shape[-1] > 1:
        labels = labels.argmax(dim=-1)
    per_sample = table[labels.reshape(len(labels), -1)[:, 0].long()]
    return per_sample if weights is None else per_sample * weights
