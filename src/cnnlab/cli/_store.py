"""A recorded run as the commands open it: by id, prefix or name, with its model, its test
labels and its HTML report. Errors are one-line :class:`~cnnlab.cli._errors.CommandError`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.cli._errors import CommandError


def get_run(store: Any, run: str) -> Any:
    """The record of ``run`` (an id, unique id prefix or name) in ``store``."""
    try:
        return store.get(run)
    except KeyError as err:
        raise CommandError(str(err).strip("'\"")) from None


def run_model(run: str) -> tuple[Any, Any]:
    """``(record, model)`` of ``run`` in the run store, the model from its checkpoint."""
    from cnnlab.runs.checkpoint import load_checkpoint
    from cnnlab.runs.store import RunStore

    record = get_run(RunStore(), run)
    if not record.checkpoint or not Path(record.checkpoint).exists():
        raise CommandError(f"run {record.id} has no checkpoint (it recorded {record.epochs} "
                           f"epochs)")
    model, _ = load_checkpoint(record.checkpoint)
    return record, model


def run_test_labels(config: dict, data: Any) -> np.ndarray:
    """The test labels as the run's loss wants them: one-hot ``(n, classes)`` for a recipe (its
    loss smooths one-hot labels), integers ``(n,)`` otherwise."""
    if not config.get("recipe"):
        return data.y_test
    from cnnlab.utils import to_categorical

    return to_categorical(data.y_test, data.classes)


def write_report(run_id: str, model: Any, data: Any) -> Path:
    """Write the HTML report of run ``run_id``; returns its path."""
    from cnnlab.runs.report import write_report as write

    return write(run_id, model=model, dataset=data)
