"""The `Callback` base class: objects whose hooks run at the boundaries of training, testing,
predicting.

The training loop calls, through a `CallbackList`::

    on_train_begin
      on_epoch_begin(epoch)                    # epoch is 0-based
        on_train_batch_begin(batch) / on_train_batch_end(batch, logs)
        on_test_begin ... on_test_end          # validation, if any
      on_epoch_end(epoch, logs)                # logs: {'loss', 'accuracy', 'val_loss', ...}
    on_train_end

Batch ``logs`` hold the running means of the epoch so far (as in Keras 2). Callbacks touch only
``model.stop_training``, ``model.optimizer.learning_rate`` (a float), ``model.save(path)``,
``model.save_weights(path)`` and ``model.get_weights()`` / ``model.set_weights(list)``; ``params``
holds ``epochs``, ``steps`` (per epoch, or None when unknown) and ``verbose``.
"""

from __future__ import annotations

from typing import Any

Logs = dict[str, Any]

#: The batch hooks of each mode; a callback listens to a mode if it overrides one of them.
BATCH_HOOKS = {
    "train": ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


class Callback:
    """Base class: override the hooks you need. ``self.model`` and ``self.params`` are set by
    the training loop before ``on_train_begin``."""

    #: True if the batch hooks can take un-synchronised tensors as log values.
    accepts_tensor_logs = False
    #: True for callbacks that write files or print (checkpoints, CSV, TensorBoard, progress
    #: bars): in distributed training only process 0 runs them.
    main_process_only = False

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_params(self, params: dict[str, Any]) -> None:
        """Keeps ``params`` (``epochs``, ``steps``, ``verbose``) as ``self.params``."""
        self.params = params

    def set_model(self, model: Any) -> None:
        """Keeps the model being trained as ``self.model``."""
        self.model = model

    def on_train_begin(self, logs: Logs | None = None) -> None: ...
    def on_train_end(self, logs: Logs | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None: ...
    def on_test_begin(self, logs: Logs | None = None) -> None: ...
    def on_test_end(self, logs: Logs | None = None) -> None: ...
    def on_predict_begin(self, logs: Logs | None = None) -> None: ...
    def on_predict_end(self, logs: Logs | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: Logs | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Defaults to the Keras 1 name ``on_batch_begin``."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Defaults to the Keras 1 name ``on_batch_end``."""
        self.on_batch_end(batch, logs)

    def wants_batch_hooks(self, mode: str) -> bool:
        """Whether the ``mode`` ('train', 'test', 'predict') batch hooks do anything here;
        `CallbackList` skips the others, so an idle hook costs nothing per batch."""
        return any(_overrides(self, name) for name in BATCH_HOOKS[mode])


def _overrides(callback: Callback, name: str) -> bool:
    """Whether ``callback``'s class replaces the base class's hook ``name``."""
    method = getattr(callback, name)
    return getattr(method, "__func__", None) is not getattr(Callback, name)
