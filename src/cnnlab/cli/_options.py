"""Values of command-line options: the ``--input-shape`` type and the range checks that turn
a bad number into a one-line :class:`~cnnlab.cli._errors.CommandError`."""

from __future__ import annotations

import argparse
from typing import Any

from cnnlab.cli._errors import CommandError

MAX_SIDE = 65536  # --input-shape: larger sizes only fail later, in an allocation
MAX_CLASSES = 1_000_000


def shape(text: str) -> tuple[int, ...]:
    """``--input-shape``: ``'28,28,1'`` or ``'28x28x1'`` -> ``(28, 28, 1)`` (channels-last),
    every size in ``[1, MAX_SIDE]``; anything else is an ``argparse`` usage error."""
    try:
        sizes = tuple(int(v) for v in text.replace("x", ",").split(",") if v.strip())
    except ValueError:
        sizes = ()
    if not sizes or not all(1 <= size <= MAX_SIDE for size in sizes):
        raise argparse.ArgumentTypeError(f"expected a shape of integers from 1 to {MAX_SIDE} "
                                         f"like 28,28,1, got {text!r}")
    return sizes


def at_least(low: int, high: int | None = None, **values: int | None) -> None:
    """Raise ``CommandError`` for the first option (``batch_size`` names ``--batch-size``)
    whose value is given and below ``low`` (or above ``high``)."""
    for dest, value in values.items():
        option = f"--{dest.replace('_', '-')}"
        if value is not None and value < low:
            raise CommandError(f"{option} must be at least {low}, got {value}")
        if value is not None and high is not None and value > high:
            raise CommandError(f"{option} must be at most {high:,}, got {value}")


def zoo_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--input-shape`` and ``--classes`` (from 1 to ``MAX_CLASSES``) of ``summary`` and
    ``import-weights`` as keyword arguments of ``zoo.get_model`` (only those given)."""
    at_least(1, MAX_CLASSES, classes=args.classes)
    options: dict[str, Any] = {}
    if args.input_shape is not None:
        options["input_shape"] = args.input_shape
    if args.classes is not None:
        options["classes"] = args.classes
    return options
