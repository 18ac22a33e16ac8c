"""What ``compile`` sets up: the loss and metrics per model output, and their logs.

Keras's rules: one loss for every output, or a list (by position) / dict (by output layer
name); ``loss_weights`` scale each output's loss; ``metrics`` as a list apply to every output,
as a list of lists or a dict per output. Logs are named ``loss``, ``accuracy`` for one output
and ``loss``, ``<output>_loss``, ``<output>_accuracy`` for several. The reported ``loss``
includes the weight penalties (regularizers), as in Keras.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnlab import losses, metrics


def per_output(value: Any, names: Sequence[str], what: str) -> list:
    """Spread a compile argument over the outputs (single value, list or dict by name)."""
    if isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"compile: `{what}` has keys {sorted(unknown)} that are not output "
                             f"names; outputs are {list(names)}")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)) and what != "metrics":
        if len(value) != len(names):
            raise ValueError(f"compile: `{what}` has {len(value)} entries for a model with "
                             f"{len(names)} outputs {list(names)}")
        return list(value)
    return [value] * len(names)


class Objectives:
    """Losses and metrics of a compiled model, resolved lazily once output shapes are known."""

    def __init__(self, loss: Any, metric_ids: Any, loss_weights: Any = None):
        if loss is None:
            raise ValueError("compile: `loss` is required to train, e.g. "
                             "loss='sparse_categorical_crossentropy'")
        self.loss_ids, self.metric_ids, self.loss_weight_ids = loss, metric_ids, loss_weights
        self.output_names: list[str] = []
        self.losses: list[losses.Loss | None] = []
        self.loss_weights: list[float] = []
        self.metrics: list[list[metrics.Metric]] = []
        self.loss_tracker = metrics.Mean(name="loss")
        self.output_loss_trackers: list[metrics.Mean] = []
        self.ready = False

    def resolve(self, output_names: Sequence[str], output_shapes: Sequence[tuple]) -> None:
        """Create the loss and metric objects for these outputs (first batch of ``fit``)."""
        if self.ready and list(output_names) == self.output_names:
            return
        self.output_names = list(output_names)
        self.losses = [losses.get(ident) for ident in
                       per_output(self.loss_ids, output_names, "loss")]
        weights = per_output(self.loss_weight_ids, output_names, "loss_weights")
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        metric_ids = self._metric_ids(output_names)
        self.metrics = [
            [metrics.get(m, loss=self.losses[i], output_shape=output_shapes[i]) for m in ids]
            for i, ids in enumerate(metric_ids)
        ]
        multi = len(output_names) > 1
        self.output_loss_trackers = [metrics.Mean(name=f"{name}_loss")
                                     for name in output_names] if multi else []
        for i, ms in enumerate(self.metrics):
            for m in ms:
                m.log_name = f"{output_names[i]}_{m.name}" if multi else m.name
        self.ready = True

    def _metric_ids(self, names: Sequence[str]) -> list[list]:
        ids = self.metric_ids
        if ids is None:
            return [[] for _ in names]
        if isinstance(ids, dict):
            spread = per_output(ids, names, "metrics")
            return [[] if v is None else (v if isinstance(v, (list, tuple)) else [v])
                    for v in spread]
        if isinstance(ids, (list, tuple)) and ids and all(isinstance(v, (list, tuple))
                                                         for v in ids):
            if len(ids) != len(names):
                raise ValueError(f"compile: `metrics` has {len(ids)} lists for {len(names)} "
                                 f"outputs {list(names)}")
            return [list(v) for v in ids]
        if isinstance(ids, (str,)) or callable(ids):
            ids = [ids]
        return [list(ids) for _ in names]

    def total_loss(self, y_true: list, y_pred: list, sample_weight: Any,
                   penalties: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Weighted sum of the output losses plus the weight penalties."""
        parts = []
        for loss, weight, t, p in zip(self.losses, self.loss_weights, y_true, y_pred,
                                      strict=True):
            if loss is not None:
                parts.append(loss(t, p, sample_weight) * weight if weight != 1.0
                             else loss(t, p, sample_weight))
        total = parts[0] if len(parts) == 1 else torch.stack(parts).sum()
        if penalties:
            total = total + torch.stack([p.to(total.dtype) for p in penalties]).sum()
        return total, parts

    @torch.no_grad()
    def update(self, total: torch.Tensor, parts: list[torch.Tensor], y_true: list, y_pred: list,
               sample_weight: Any, batch_size: int) -> None:
        self.loss_tracker.update_state(total.detach(), batch_size)
        for tracker, part in zip(self.output_loss_trackers, parts, strict=False):
            tracker.update_state(part.detach(), batch_size)
        for ms, t, p in zip(self.metrics, y_true, y_pred, strict=True):
            for m in ms:
                m.update_state(t, p.detach(), sample_weight)

    def reset(self) -> None:
        for m in self.all_metrics():
            m.reset_state()

    def all_metrics(self) -> list:
        return [self.loss_tracker, *self.output_loss_trackers,
                *[m for ms in self.metrics for m in ms]]

    def logs(self, prefix: str = "") -> dict[str, float]:
        """Current results: ``{'loss': ..., 'accuracy': ...}`` (``val_`` with a prefix)."""
        out = {prefix + "loss": self.loss_tracker.result()}
        for tracker in self.output_loss_trackers:
            out[prefix + tracker.name] = tracker.result()
        for ms in self.metrics:
            for m in ms:
                out[prefix + m.log_name] = m.result()
        return {k: float(v) for k, v in out.items()}

    def check_targets(self, y_true: list, output_shapes: Sequence[tuple]) -> None:
        """Clear errors for labels that do not fit a loss (checked once before training)."""
        for loss, t, shape in zip(self.losses, y_true, output_shapes, strict=True):
            if loss is not None and t is not None:
                losses.check_targets(loss, t, shape)
