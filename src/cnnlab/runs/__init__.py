"""Run store (SQLite) and what is built on it: recording callback, checkpoints, reports."""

from cnnlab.runs.store import Run, RunStore, RunStoreError, default_path, home

__all__ = ["Run", "RunStore", "RunStoreError", "default_path", "home"]
