"""Errors of the ``cnnlab`` command as the user sees them: one line on stderr.

A :class:`CommandError` (or one of :data:`EXPECTED_ERRORS`) is printed as its message; any
other exception is a bug (or a resource failure) and is printed with its type.
"""

from __future__ import annotations

import os
import sys


class CommandError(Exception):
    """An error to report to the user as one line, without a traceback."""


# errors whose message is meant for the user; any other exception is a bug (or a resource
# failure) and is printed with its type
EXPECTED_ERRORS = (CommandError, ValueError, TypeError, KeyError, OSError, ImportError,
                   RuntimeError)


def one_line(err: Exception) -> str:
    """The error as one line: its first non-empty line (a PyTorch error can carry a C++ stack),
    prefixed by its type when it is not one of :data:`EXPECTED_ERRORS`."""
    message = str(err).strip("'\"") if isinstance(err, KeyError) else str(err)
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = lines[0] if lines else type(err).__name__
    if isinstance(err, MemoryError):
        return f"out of memory ({text})" if lines else "out of memory"
    if not isinstance(err, EXPECTED_ERRORS):
        text = f"{type(err).__name__}: {text}" if lines else text
        return f"{text} (cnnlab --debug ... shows the traceback)"
    return text


def silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's exit flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
