"""`CallbackList`: the object through which the training loop calls every callback's hooks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cnnlab.training.callback import BATCH_HOOKS, Callback, Logs
from cnnlab.training.history import History
from cnnlab.training.progbar_logger import ProgbarLogger


def _to_python(logs: Logs | None) -> Logs:
    """A copy of ``logs`` with 0-d tensors/arrays turned into Python numbers."""
    return {k: v.item() if getattr(v, "ndim", None) == 0 else v for k, v in (logs or {}).items()}


class CallbackList:
    """Calls every hook of a list of callbacks in order (the object the training loop uses).

    Args:
        callbacks: the callbacks, in call order.
        model: given to every callback's ``set_model``.
        add_history: append a `History` unless one is in ``callbacks``.
        add_progbar: append a `ProgbarLogger` unless one is in ``callbacks``.
        **params: given to every callback's ``set_params`` (``epochs``, ``steps``, ``verbose``).

    ``history`` is the `History` callback, if any. Logs are copied and 0-d tensors become Python
    numbers before callbacks see them (batch logs stay as given for callbacks that accept
    tensors), so the loop may pass tensors without syncing on every batch.
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        *,
        model: Any = None,
        add_history: bool = False,
        add_progbar: bool = False,
        **params: Any,
    ) -> None:
        self.callbacks: list[Callback] = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks: expected Callback instances, got {type(callback).__name__}"
                )
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.model = model
        self.params: dict[str, Any] = {}
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)
        self._find_batch_listeners()

    def append(self, callback: Callback) -> None:
        """Adds ``callback`` at the end of the call order."""
        self.callbacks.append(callback)
        self._find_batch_listeners()

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def set_model(self, model: Any) -> None:
        """Gives ``model`` to every callback."""
        self.model = model
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        """Gives ``params`` to every callback."""
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)
        self._find_batch_listeners()

    def batch_hooks_needed(self, mode: str) -> bool:
        """True if some callback listens to the ``mode`` batch hooks: the loop may skip
        building batch logs otherwise."""
        return bool(self._batch_listeners[mode])

    def _find_batch_listeners(self) -> None:
        self._batch_listeners = {
            mode: [c for c in self.callbacks if c.wants_batch_hooks(mode)] for mode in BATCH_HOOKS
        }

    def _call(self, hook: str, *args: Any, logs: Logs | None) -> None:
        logs = _to_python(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def _call_batch(self, mode: str, hook: str, batch: int, logs: Logs | None) -> None:
        plain = None
        for callback in self._batch_listeners[mode]:
            if callback.accepts_tensor_logs:
                getattr(callback, hook)(batch, dict(logs or {}))
            else:
                plain = _to_python(logs) if plain is None else plain
                getattr(callback, hook)(batch, plain)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._call("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_end", epoch, logs=logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        self._call("on_test_end", logs=logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs: Logs | None = None) -> None:
        self._call("on_predict_end", logs=logs)

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("train", "on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("train", "on_train_batch_end", batch, logs)

    on_batch_begin = on_train_batch_begin
    on_batch_end = on_train_batch_end

    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("test", "on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("test", "on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("predict", "on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call_batch("predict", "on_predict_batch_end", batch, logs)
