"""`TensorBoard`: writes the logs as TensorBoard scalars.

It lives in :mod:`cnnlab.training`, below models, because
:mod:`cnnlab.training.distributed` leaves the file writers out on processes other
than 0; users import it from :mod:`cnnlab.callbacks`.
"""

from __future__ import annotations

import importlib.util
import os
import time
import warnings
from typing import Any

from cnnlab.training.callback import Callback, Logs


def _summary_writer(log_dir: str) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir)


class TensorBoard(Callback):
    """Writes scalars for TensorBoard, laid out as Keras does: training values in
    ``log_dir/train`` and validation values (``val_`` prefix removed) in
    ``log_dir/validation``, tagged ``epoch_<name>`` at step ``epoch`` and, with
    ``update_freq='batch'`` or an int N, ``batch_<name>`` every N training batches (step = the
    global batch count). Needs the ``tensorboard`` package; view with
    ``tensorboard --logdir logs``.

    Only scalars are written: ``histogram_freq``, ``write_images``, ``embeddings_freq`` and
    ``profile_batch`` are accepted for compatibility and ignored with a warning.
    """

    main_process_only = True  # writes files / prints: process 0 only when distributed

    def __init__(
        self,
        log_dir: str | os.PathLike = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: Any = None,
    ) -> None:
        super().__init__()
        if importlib.util.find_spec("tensorboard") is None:
            raise ImportError(
                "The TensorBoard callback needs the 'tensorboard' package, which is not "
                "installed. Install it with: pip install tensorboard"
            )
        if update_freq not in ("epoch", "batch") and (
            not isinstance(update_freq, int) or isinstance(update_freq, bool) or update_freq < 1
        ):
            raise ValueError(
                "TensorBoard: update_freq must be 'epoch', 'batch' or a positive int, "
                f"got {update_freq!r}"
            )
        ignored = {"histogram_freq": histogram_freq, "write_images": write_images,
                   "embeddings_freq": embeddings_freq, "profile_batch": profile_batch}
        ignored = [name for name, value in ignored.items() if value]
        if ignored:
            warnings.warn(
                f"TensorBoard: {', '.join(ignored)} not supported by cnnlab; only scalars are "
                "written.", stacklevel=2
            )
        self.log_dir = os.fspath(log_dir)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.write_steps_per_second = write_steps_per_second
        self._writers: dict[str, Any] = {}
        self._global_batch = 0

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            self._writers[name] = _summary_writer(os.path.join(self.log_dir, name))
        return self._writers[name]

    def wants_batch_hooks(self, mode: str) -> bool:
        return mode == "train" and (self.update_freq != "epoch" or self.write_steps_per_second)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._global_batch = 0

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch_start, self._epoch_batches = time.monotonic(), 0

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._batch_start = time.monotonic()

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._global_batch += 1
        self._epoch_batches += 1
        if self.update_freq == "epoch" or self._global_batch % self.update_freq:
            return
        values = dict(logs or {})
        if self.write_steps_per_second:
            values["steps_per_second"] = 1.0 / max(time.monotonic() - self._batch_start, 1e-9)
        for name, value in values.items():
            self._writer("train").add_scalar("batch_" + name, value, self._global_batch)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        train = {k: v for k, v in (logs or {}).items() if not k.startswith("val_")}
        if self.write_steps_per_second:
            elapsed = max(time.monotonic() - self._epoch_start, 1e-9)
            train["steps_per_second"] = self._epoch_batches / elapsed
        validation = {k[4:]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        for folder, values in (("train", train), ("validation", validation)):
            for name, value in values.items():
                self._writer(folder).add_scalar("epoch_" + name, value, epoch)
            if values:
                self._writer(folder).flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
