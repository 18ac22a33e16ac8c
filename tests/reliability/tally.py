"""Counts behind the reliability figures (issue 14): every attack, fault and fuzz case a test
tries is recorded here, with whether cnnlab held (clean error, nothing executed, nothing
half-written, bit-identical resume, ...).

``record(figure, held)`` adds one trial to a figure such as ``"files attacked / held"``. When
``CNNLAB_RELIABILITY_TALLY`` names a file, the counts of this process are added to that JSON
file at exit (``bench/reliability.py`` sets it, runs the tests and prints the table); otherwise
recording only keeps counts in memory. A test still asserts each trial itself: the tally is
the report, never the check.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
from collections import Counter
from pathlib import Path

ENV = "CNNLAB_RELIABILITY_TALLY"
FIGURES = (
    "files attacked / held",
    "bad inputs tried / clean errors",
    "fuzz cases / unclean",
    "kill-resume trials / bit-identical",
    "disk faults / clean",
    "load checks / within bounds",
)

_trials: Counter = Counter()
_held: Counter = Counter()


def record(figure: str, held: bool, count: int = 1) -> None:
    """Add ``count`` trials of ``figure``; ``held`` says whether cnnlab behaved (for
    ``"fuzz cases / unclean"`` pass ``held=True`` for a clean case: the table prints the
    unclean count)."""
    if figure not in FIGURES:
        raise ValueError(f"unknown figure {figure!r}; one of {FIGURES}")
    _trials[figure] += count
    if held:
        _held[figure] += count


def _flush() -> None:
    target = os.environ.get(ENV)
    if not target or not _trials:
        return
    path = Path(target)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() and path.stat().st_size else {}
        for figure in _trials:
            trials, held = data.get(figure, (0, 0))
            data[figure] = (trials + _trials[figure], held + _held[figure])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)


atexit.register(_flush)
