"""Run store (SQLite) and what is built on it: recording callback, checkpoints, reports.

Importing it lets ``Model.fit(run=...)`` record (:mod:`cnnlab.models.extensions`)."""

from cnnlab.models.extensions import register
from cnnlab.runs.recorder import start_run
from cnnlab.runs.store import Run, RunStore, RunStoreError, default_path, home

register("run_recorder", start_run)

__all__ = ["Run", "RunStore", "RunStoreError", "default_path", "home"]
