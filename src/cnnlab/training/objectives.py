"""What ``compile`` sets up: the loss and metrics per model output, and their logs.

Keras's rules: one loss for every output, or a list (by position) / dict (by output layer
name); ``loss_weights`` scale each output's loss; ``metrics`` as a list apply to every output,
as a list of lists or a dict per output. Logs are named ``loss``, ``accuracy`` for one output
and ``loss``, ``<output>_loss``, ``<output>_accuracy`` for several; ``loss`` is the weighted
sum ``sum(loss_weight_i * loss_i)`` plus the weight penalties (regularizers) while each
``<output>_loss`` is logged unweighted, as in Keras.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnlab import losses, metrics

_NO_BATCH = 2**62  # "no invalid batch yet", larger than any batch index


def _is_config(value: Any) -> bool:
    """A Keras config dict ``{'class_name': ..., 'config': ...}`` names one loss or metric."""
    return isinstance(value, dict) and "class_name" in value


def _leaves(value: Any) -> list:
    """The entries of a compile argument that may be nested in lists and dicts."""
    if isinstance(value, dict) and not _is_config(value):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [] if value is None else [value]


def per_output(value: Any, names: Sequence[str], what: str) -> list:
    """Spread a compile argument over the outputs (single value, list or dict by name)."""
    if isinstance(value, dict) and not _is_config(value):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"compile: `{what}` has keys {sorted(unknown)} that are not output "
                             f"names; outputs are {list(names)}")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"compile: `{what}` has {len(value)} entries for a model with "
                             f"{len(names)} outputs {list(names)}")
        return list(value)
    return [value] * len(names)


class Objectives:
    """Losses and metrics of a compiled model, resolved lazily once output shapes are known.

    Names are checked at once (an unknown loss or metric name fails in ``compile``); the
    objects are made at the first batch, when the output shapes are known. As in Keras,
    ``metrics`` ignore ``sample_weight``/``class_weight``; ``weighted_metrics`` use them (and
    are logged as ``weighted_<name>`` when that name is taken by a plain metric).
    """

    def __init__(self, loss: Any, metric_ids: Any, loss_weights: Any = None,
                 weighted_metric_ids: Any = None):
        if loss is None:
            raise ValueError("compile: `loss` is required to train, e.g. "
                             "loss='sparse_categorical_crossentropy'")
        for ident in _leaves(loss):
            losses.get(ident)
        for ident in _leaves(metric_ids) + _leaves(weighted_metric_ids):
            metrics.get(ident)
        self.loss_ids, self.metric_ids, self.loss_weight_ids = loss, metric_ids, loss_weights
        self.weighted_metric_ids = weighted_metric_ids
        self.output_names: list[str] = []
        self.losses: list[losses.Loss | None] = []
        self.loss_weights: list[float] = []
        self.metrics: list[list[metrics.Metric]] = []
        self.weighted_metrics: list[list[metrics.Metric]] = []
        self.loss_tracker = metrics.Mean(name="loss")
        self.output_loss_trackers: list[metrics.Mean | None] = []
        self.ready = False
        self._batches = 0  # batches since reset(), and the first whose loss was not finite
        self._first_invalid: torch.Tensor | None = None
        #: first_invalid_batch() of the last training epoch (set by loop.train_epoch, kept
        #: through the validation that follows)
        self.invalid_train_batch: int | None = None

    def resolve(self, output_names: Sequence[str], output_shapes: Sequence[tuple]) -> None:
        """Create the loss and metric objects for these outputs (first batch of ``fit``)."""
        if self.ready and list(output_names) == self.output_names:
            return
        self.output_names = list(output_names)
        self.losses = [losses.get(ident) for ident in
                       per_output(self.loss_ids, output_names, "loss")]
        if all(loss is None for loss in self.losses):
            raise ValueError(f"compile: `loss` gives no loss for any of the outputs "
                             f"{list(output_names)}")
        weights = per_output(self.loss_weight_ids, output_names, "loss_weights")
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        multi = len(output_names) > 1
        self.output_loss_trackers = [
            metrics.Mean(name=f"{name}_loss") if multi and loss is not None else None
            for name, loss in zip(output_names, self.losses, strict=True)]
        self.metrics = self._make_metrics(self.metric_ids, output_shapes, "metrics")
        self.weighted_metrics = self._make_metrics(self.weighted_metric_ids, output_shapes,
                                                   "weighted_metrics")
        taken: set[str] = set()
        for weighted, groups in ((False, self.metrics), (True, self.weighted_metrics)):
            for name, ms in zip(output_names, groups, strict=True):
                prefix = f"{name}_" if multi else ""
                for m in ms:
                    m.log_name = prefix + m.name
                    if weighted and m.log_name in taken:
                        m.log_name = f"{prefix}weighted_{m.name}"
                    taken.add(m.log_name)
        self.ready = True

    def _make_metrics(self, ids: Any, output_shapes: Sequence[tuple], what: str) -> list[list]:
        return [[metrics.get(m, loss=self.losses[i], output_shape=output_shapes[i])
                 for m in group]
                for i, group in enumerate(self._metric_ids(ids, self.output_names, what))]

    @staticmethod
    def _metric_ids(ids: Any, names: Sequence[str], what: str) -> list[list]:
        if ids is None:
            return [[] for _ in names]
        if isinstance(ids, dict) and not _is_config(ids):
            spread = per_output(ids, names, what)
            return [[] if v is None else (v if isinstance(v, (list, tuple)) else [v])
                    for v in spread]
        if isinstance(ids, (list, tuple)) and ids and all(isinstance(v, (list, tuple))
                                                         for v in ids):
            if len(ids) != len(names):
                raise ValueError(f"compile: `{what}` has {len(ids)} lists for {len(names)} "
                                 f"outputs {list(names)}")
            return [list(v) for v in ids]
        if isinstance(ids, str) or callable(ids) or _is_config(ids):
            ids = [ids]
        return [list(ids) for _ in names]

    def total_loss(self, y_true: list, y_pred: list, sample_weight: Any,
                   penalties: list[torch.Tensor]) -> tuple[torch.Tensor, list]:
        """``sum(loss_weight_i * loss_i) + penalties``, and the unweighted ``loss_i`` per output
        (``None`` for an output without a loss)."""
        parts = [None if loss is None else loss(t, p, sample_weight)
                 for loss, t, p in zip(self.losses, y_true, y_pred, strict=True)]
        terms = [part if weight == 1.0 else part * weight
                 for part, weight in zip(parts, self.loss_weights, strict=True)
                 if part is not None]
        total = terms[0] if len(terms) == 1 else torch.stack(terms).sum()
        if penalties:
            total = total + torch.stack([p.to(total.dtype) for p in penalties]).sum()
        return total, parts

    @torch.no_grad()
    def update(self, total: torch.Tensor, parts: list, y_true: list, y_pred: list,
               sample_weight: Any, batch_size: int) -> None:
        """Accumulate the batch: losses weighted by ``batch_size`` (Keras's epoch mean)."""
        self._note_invalid(total)
        self.loss_tracker.update_state(total.detach(), batch_size)
        for tracker, part in zip(self.output_loss_trackers, parts, strict=True):
            if tracker is not None:
                tracker.update_state(part.detach(), batch_size)
        for plain, weighted, t, p in zip(self.metrics, self.weighted_metrics, y_true, y_pred,
                                         strict=True):
            for m in plain:
                m.update_state(t, p)
            for m in weighted:
                m.update_state(t, p, sample_weight)

    def reset(self) -> None:
        for m in self.all_metrics():
            m.reset_state()
        self._batches, self._first_invalid = 0, None

    def _note_invalid(self, total: torch.Tensor) -> None:
        """Remember the first batch whose loss is NaN or infinite, on the loss's device (no
        synchronisation per batch: :meth:`first_invalid_batch` reads it once)."""
        here = torch.where(torch.isfinite(total.detach()), _NO_BATCH, self._batches)
        self._first_invalid = here if self._first_invalid is None else torch.minimum(
            self._first_invalid, here)
        self._batches += 1

    def first_invalid_batch(self) -> int | None:
        """The 0-based index, since the last :meth:`reset` (the epoch's start), of the first
        batch whose loss was NaN or infinite; ``None`` if every loss was finite."""
        if self._first_invalid is None:
            return None
        index = int(self._first_invalid)
        return None if index == _NO_BATCH else index

    def all_metrics(self) -> list:
        return [self.loss_tracker, *self.trackers(),
                *[m for ms in self.metrics + self.weighted_metrics for m in ms]]

    def trackers(self) -> list:
        return [t for t in self.output_loss_trackers if t is not None]

    def logs(self, prefix: str = "") -> dict[str, float]:
        """Current results: ``{'loss': ..., 'accuracy': ...}`` (``val_`` with a prefix)."""
        out = {prefix + "loss": self.loss_tracker.result()}
        for tracker in self.trackers():
            out[prefix + tracker.name] = tracker.result()
        for ms in self.metrics + self.weighted_metrics:
            for m in ms:
                out[prefix + m.log_name] = m.result()
        return {k: float(v) for k, v in out.items()}

    def check_targets(self, y_true: list, output_shapes: Sequence[tuple]) -> None:
        """Clear errors for labels that do not fit a loss (checked once before training)."""
        for loss, t, shape in zip(self.losses, y_true, output_shapes, strict=True):
            if loss is not None and t is not None:
                losses.check_targets(loss, t, shape)
