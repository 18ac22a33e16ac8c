"""`CSVLogger`: writes one CSV row of logs per epoch.

It lives in :mod:`cnnlab.training`, below models, because
:mod:`cnnlab.training.distributed` leaves the file writers out on processes other
than 0; users import it from :mod:`cnnlab.callbacks`.
"""

from __future__ import annotations

import csv
import os

from cnnlab.training.callback import Callback, Logs


class CSVLogger(Callback):
    """Writes one CSV row per epoch: ``epoch`` (0-based) then the log keys in sorted order.

    The columns are fixed by the first epoch; if it has no ``val_`` keys, ``val_<key>`` columns
    are added for every key (filled with ``NA`` when absent), as Keras does. Rows end with
    ``\\r\\n`` (Python's 'excel' dialect, as Keras). ``append=True`` continues an existing file
    without repeating its header.
    """

    main_process_only = True  # writes files / prints: process 0 only when distributed

    def __init__(
        self, filename: str | os.PathLike, separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file = None
        self._writer: csv.DictWriter | None = None
        self._write_header = True

    def on_train_begin(self, logs: Logs | None = None) -> None:
        write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as existing:
                write_header = not existing.readline()
        self._write_header = write_header
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(key.startswith("val_") for key in self.keys):
                self.keys += ["val_" + key for key in self.keys]
        if self._writer is None:
            self._writer = csv.DictWriter(
                self._file, fieldnames=["epoch", *self.keys], delimiter=self.sep
            )
            if self._write_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._file.close()
        self._writer = None
