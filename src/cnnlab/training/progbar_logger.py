"""`ProgbarLogger`: the callback that prints a `Progbar` per epoch (``fit(verbose=1|2)``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cnnlab.training.callback import Callback, Logs
from cnnlab.training.progbar import Progbar


class ProgbarLogger(Callback):
    """Prints ``Epoch 3/10`` (when there are several epochs) and a `Progbar` per epoch;
    ``evaluate``/``predict`` get a bar too, but validation inside ``fit`` stays silent.

    Args:
        count_mode: only ``'steps'`` (the progress counts batches).
        stateful_metrics: names shown as given while others are averaged by the bar; ``None``
            (default) shows every value as given, since batch logs already hold running means
            (in Keras 2 the loss and every compiled metric are stateful).
    """

    main_process_only = True  # writes files / prints: process 0 only when distributed

    accepts_tensor_logs = True

    def __init__(
        self, count_mode: str = "steps", stateful_metrics: Iterable[str] | None = None
    ) -> None:
        super().__init__()
        if count_mode != "steps":
            raise ValueError(f"ProgbarLogger: count_mode must be 'steps', got {count_mode!r}")
        self.stateful_metrics = None if stateful_metrics is None else set(stateful_metrics)
        self.verbose, self.epochs, self.target = 1, 1, None
        self.progbar: Progbar | None = None
        self.seen = 0
        self._in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def wants_batch_hooks(self, mode: str) -> bool:
        return self.verbose == 1 or self.target is None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._in_fit = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._start_bar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._advance(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._finish(logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._start_bar()

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._advance(batch, logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._start_bar()

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._advance(batch, None)  # predictions are not metrics

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._finish(None)

    def _start_bar(self) -> None:
        self.seen = 0
        self.progbar = Progbar(
            self.target or None, verbose=self.verbose, stateful_metrics=self.stateful_metrics
        )

    def _items(self, logs: Logs | None) -> list[tuple[str, Any]]:
        logs = logs or {}
        if self.stateful_metrics is None:
            self.progbar.stateful_metrics.update(logs)
        return list(logs.items())

    def _advance(self, batch: int, logs: Logs | None) -> None:
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, self._items(logs), finalize=False)

    def _finish(self, logs: Logs | None) -> None:
        if self.progbar.target is None and self.seen:  # learnt at the end of the first pass
            self.progbar.target = self.target = self.seen
        self.progbar.update(self.progbar.target or self.seen, self._items(logs), finalize=True)
