"""Which process trains a run, and whether that process still exists.

A run records its owner: the pid, the hostname and (on Linux) the process start time, field 22
of ``/proc/<pid>/stat`` in clock ticks since boot. The start time tells a live owner from a new
process that got the same pid after the owner died. Only the host that runs the owner can tell:
for another host, or a run recorded before owners were, the answer is ``"unknown"``.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass

ALIVE, DEAD, UNKNOWN = "alive", "dead", "unknown"
PROC = "/proc"


@dataclass(frozen=True)
class Owner:
    """The training process of a run: ``start`` is ``None`` where ``/proc`` is missing."""

    pid: int
    host: str
    start: int | None


def hostname() -> str:
    """This machine's name, recorded as a run's owner host."""
    return socket.gethostname()


def current() -> Owner:
    """This process as a run's owner."""
    return Owner(os.getpid(), hostname(), _stat(os.getpid())[1])


def _stat(pid: int) -> tuple[str | None, int | None]:
    """``(state letter, start ticks)`` of ``pid`` from ``/proc``; ``(None, None)`` without it."""
    try:
        with open(f"{PROC}/{int(pid)}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None, None
    fields = text[text.rfind(")") + 2:].split()  # the name in (...) may hold spaces
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None, None


def state(pid: int | None, host: str | None, start: int | None = None) -> str:
    """``"alive"``, ``"dead"`` or ``"unknown"`` for the owner ``pid`` on ``host``.

    Dead: no such process, a zombie, or a process started at another time than ``start``
    (the pid was reused). Unknown: no pid, another host, or a system where processes cannot be
    probed safely (Windows: ``os.kill`` there terminates).
    """
    if pid is None or host is None or host != hostname():
        return UNKNOWN
    if os.path.isdir(f"{PROC}/self"):
        letter, ticks = _stat(pid)
        if letter is None or letter in "ZXx":
            return DEAD
        return DEAD if start is not None and ticks != start else ALIVE
    if sys.platform == "win32":
        return UNKNOWN
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return DEAD
    except PermissionError:  # exists, owned by another user
        return ALIVE
    except OSError:
        return UNKNOWN
    return ALIVE
