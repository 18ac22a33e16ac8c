"""``cnnlab summary``: the summary of a zoo model, built for ``--input-shape`` and
``--classes``."""

from __future__ import annotations

import argparse

from cnnlab.cli._options import MAX_CLASSES, at_least


def cmd_summary(args: argparse.Namespace) -> None:
    """``cnnlab summary MODEL``: Keras's summary table of a zoo model (``--explain``: with
    the output-size arithmetic, parameters and receptive field of every layer)."""
    from cnnlab import zoo

    at_least(1, MAX_CLASSES, classes=args.classes)
    options = {}
    if args.input_shape is not None:
        options["input_shape"] = args.input_shape
    if args.classes is not None:
        options["classes"] = args.classes
    model = zoo.get_model(args.model, **options)
    model.summary(explain=args.explain)
