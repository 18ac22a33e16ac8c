"""Keras-style text progress bar (the line `fit(verbose=1|2)` prints).

verbose=1, while running (refreshed in place with ``\\r``):
    ``120/540 [======>.......................] - ETA: 21s - loss: 0.6123``
verbose=1, finished:
    ``540/540 [==============================] - 28s 51ms/step - loss: 0.4521``
verbose=2, one line at the end:
    ``540/540 - 28s - loss: 0.4521 - 28s/epoch - 51ms/step``

Numbers print as ``%.4f`` when ``|x| > 1e-3`` and as ``%.4e`` otherwise. The ETA and the
per-step time leave out the first step (it includes warm-up), as Keras 2 does.

Differences from tf.keras 2.x: when stdout is not interactive (a pipe, a log file) only the
finished line is printed, instead of one line per refresh; in-place refresh uses ``\\r`` alone
(no backspaces); verbose=2 uses ``|x|`` for the number format and always ends its line.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable
from typing import Any

_clock = time.monotonic


def _interactive() -> bool:
    """True when ``\\r`` can redraw the line: a terminal or a Jupyter kernel."""
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty()) or "ipykernel" in sys.modules


def format_value(value: float) -> str:
    """Keras's number format: ``0.4521`` if ``|x| > 1e-3``, else ``1.0000e-04``."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_duration(seconds: float, unit_name: str) -> str:
    """``' 28s/epoch'``, ``' 51ms/step'`` or ``' 730us/step'`` (leading space, as Keras)."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


def format_eta(seconds: float) -> str:
    """``'12s'``, ``'1:02'`` (over a minute) or ``'1:00:05'`` (over an hour)."""
    whole = int(seconds)
    if seconds > 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    if seconds > 60:
        return f"{whole // 60}:{whole % 60:02d}"
    return f"{whole}s"


class Progbar:
    """Displays a progress bar over ``target`` steps.

    Args:
        target: total number of steps, or ``None`` if unknown (shown as ``'  12/Unknown'``).
        width: width of the bar in characters.
        verbose: 0 (silent), 1 (live bar), 2 (one line when finished).
        interval: minimum seconds between two redraws of the live bar.
        stateful_metrics: names whose values are shown as given; every other value is
            averaged over the steps seen, weighted by the steps each update covers.
        unit_name: name of a step in the timing (``'step'`` or ``'sample'``).

    Example:
        >>> bar = Progbar(3, verbose=2)
        >>> for step in range(1, 4):
        ...     bar.update(step, [("loss", 1.0 / step)])  # prints '3/3 - 0s - loss: 0.6111 - ...'
    """

    def __init__(
        self,
        target: int | None,
        width: int = 30,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
    ) -> None:
        if target is not None and (not isinstance(target, int) or target < 1):
            raise ValueError(f"Progbar: target must be a positive int or None, got {target!r}")
        if verbose not in (0, 1, 2):
            raise ValueError(f"Progbar: verbose must be 0, 1 or 2, got {verbose!r}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self._dynamic = _interactive()
        self._values: dict[str, list[Any]] = {}  # name -> [weighted sum, weight]
        self._seen = 0
        self._start = _clock()
        self._last_draw = -math.inf
        self._drawn_width = 0
        self._first_step_end: float | None = None

    def update(
        self,
        current: int,
        values: Iterable[tuple[str, Any]] | None = None,
        finalize: bool | None = None,
    ) -> None:
        """Moves the bar to step ``current`` and records ``(name, value)`` pairs for the last
        steps. ``finalize`` (default: ``current >= target``) prints the finished line."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        weight = max(current - self._seen, 1)
        for name, value in values or ():
            if name in self.stateful_metrics:
                self._values[name] = [value, 1]
            elif name in self._values:
                self._values[name][0] += value * weight
                self._values[name][1] += weight
            else:
                self._values[name] = [value * weight, weight]
        self._seen = current
        now = _clock()
        if current == 1:
            self._first_step_end = now
        if self.verbose == 1:
            self._draw_bar(current, now, finalize)
        elif self.verbose == 2 and finalize:
            self._write(self._summary_line(current, now))

    def add(self, n: int, values: Iterable[tuple[str, Any]] | None = None) -> None:
        """Advances the bar by ``n`` steps."""
        self.update(self._seen + n, values)

    def _draw_bar(self, current: int, now: float, finalize: bool) -> None:
        if not finalize and (not self._dynamic or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        line = self._bar(current)
        step_time = self._time_per_step(current, now)
        if self.target is None or finalize:
            line += f" - {now - self._start:.0f}s" + format_duration(step_time, self.unit_name)
        else:
            line += f" - ETA: {format_eta(step_time * (self.target - current))}"
        line += self._metrics()
        if self._dynamic:  # overwrite the previous line, blanking what it had beyond ours
            line, self._drawn_width = "\r" + line.ljust(self._drawn_width), len(line)
        self._write(line + ("\n" if finalize else ""))

    def _bar(self, current: int) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        done = int(self.width * current / self.target)
        head = "" if done == 0 else "=" * (done - 1) + (">" if current < self.target else "=")
        digits = len(str(self.target))
        return f"{current:{digits}d}/{self.target} [{head}{'.' * (self.width - done)}]"

    def _summary_line(self, current: int, now: float) -> str:
        digits = len(str(self.target)) if self.target is not None else 1
        total = self.target if self.target is not None else "Unknown"
        elapsed = now - self._start
        return (
            f"{current:{digits}d}/{total} - {elapsed:.0f}s{self._metrics()} -"
            + format_duration(elapsed, "epoch")
            + " -"
            + format_duration(elapsed / max(current, 1), self.unit_name)
            + "\n"
        )

    def _metrics(self) -> str:
        return "".join(
            f" - {name}: {format_value(float(total) / max(1, weight))}"
            for name, (total, weight) in self._values.items()
        )

    def _time_per_step(self, current: int, now: float) -> float:
        """Mean step time, leaving out the first step once later steps exist."""
        if current <= 0:
            return 0.0
        if self._first_step_end is not None and current > 1:
            return (now - self._first_step_end) / (current - 1)
        return (now - self._start) / current

    @staticmethod
    def _write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()
