"""``cnnlab explain`` and ``cnnlab kernel``: a convolution or pooling step by step on a small
matrix, and an image kernel applied to an image file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.cli._errors import CommandError
from cnnlab.cli._options import at_least

MAX_EXPLAIN_PADDING = 32  # a step-by-step trace is for small matrices


def cmd_explain(args: argparse.Namespace) -> None:
    """``cnnlab explain conv|pool``: every window of a convolution or pooling of a small
    matrix with its arithmetic, as text (``--out FILE.png``: also drawn)."""
    from cnnlab.explain import convolve_steps, pool_steps

    def matrix(text: str | None, default: list, option: str) -> np.ndarray:
        try:
            return np.array(json.loads(text) if text else default, dtype=float)
        except (json.JSONDecodeError, TypeError, ValueError):
            raise CommandError(f"{option} must be a JSON matrix of numbers such as "
                               f"[[1,0],[0,1]], got {text!r}") from None

    image = matrix(args.image, [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1],
                                [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], "--image")
    at_least(1, stride=args.stride, pool_size=args.pool_size, max_steps=args.max_steps)
    padding = _explain_padding(args.padding, args.what)
    if args.what == "conv":
        kernel = matrix(args.kernel, [[1, 0, 1], [0, 1, 0], [1, 0, 1]], "--kernel")
        trace = convolve_steps(image, kernel, stride=args.stride or 1, padding=padding)
    else:  # stride None: the pool size, as Keras's MaxPooling2D(strides=None)
        trace = pool_steps(image, args.pool_size, stride=args.stride, mode=args.mode,
                           padding=padding)
    print(trace.to_text())
    if args.out:
        from cnnlab.plots.images import write_steps

        print(f"wrote {write_steps(trace, args.out, max_steps=args.max_steps)}")


def _explain_padding(text: str, what: str) -> Any:
    """``--padding`` of ``cnnlab explain``: 'valid', 'same' or (conv) a small int."""
    if text.strip().lower() in ("valid", "same"):
        return text.strip().lower()
    expected = "'valid' or 'same'" if what == "pool" else \
        f"'valid', 'same' or an integer from 0 to {MAX_EXPLAIN_PADDING}"
    try:
        padding = int(text)
    except ValueError:
        padding = None
    if what == "pool" or padding is None or not 0 <= padding <= MAX_EXPLAIN_PADDING:
        raise CommandError(f"--padding of explain {what} must be {expected}, got {text!r}")
    return padding


def cmd_kernel(args: argparse.Namespace) -> None:
    """``cnnlab kernel IMAGE``: the image filtered by a named or JSON kernel, written as a
    before / kernel / after figure (``--raw``: the filtered image at the input's size)."""
    from cnnlab.data.image_files import img_to_array, load_img, save_img
    from cnnlab.explain.kernels import apply_kernel, kernel_matrix

    custom = args.kernel.strip().startswith("[")
    try:  # a bad name or matrix fails here, before the image is read
        matrix = kernel_matrix(args.kernel)
    except ValueError as err:
        raise CommandError(f"--kernel: {err}") from None
    kernel = matrix if custom else args.kernel
    image = img_to_array(load_img(args.image, color_mode="rgb")).astype(np.uint8)
    label = "custom" if custom else args.kernel
    out = args.out or str(Path(args.image).with_name(f"{Path(args.image).stem}-{label}.png"))
    if args.raw:
        save_img(out, apply_kernel(image, kernel), scale=False)
    else:
        from cnnlab.plots.images import kernel_before_after

        kernel_before_after(image, kernel, out)
    print(f"wrote {out}")
