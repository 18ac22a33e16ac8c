"""What ``fit``/``evaluate``/``predict`` do with the user's data before the first step:
batch sources from arrays, dicts or streams, the checks that give clear errors when data and
model do not fit, and the checks of the loop arguments (``verbose``, ``validation_freq``, ...).
Functions of the model (``model`` is a :class:`cnnlab.models.Model`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from cnnlab.layers.base import channel_axis_hint, format_shape
from cnnlab.training import allocator
from cnnlab.training.data_adapter import ArrayData, StreamData, is_stream, make_source


def on_accelerator(source: ArrayData | StreamData | None,
                   device: torch.device) -> ArrayData | StreamData | None:
    """Arrays copied once to the model's CUDA ``device`` when they fit in half of its free
    memory (:meth:`ArrayData.placed_on`); other sources and devices as they are."""
    if not isinstance(source, ArrayData) or device.type != "cuda":
        return source
    return source.placed_on(device, torch.cuda.mem_get_info(device)[0])


def batch_source(model: Any, x: Any, y: Any = None, sample_weight: Any = None, *,
                 batch_size: int | None, shuffle: bool = False, steps: int | None = None,
                 what: str = "x", **ahead: int) -> ArrayData | StreamData:
    """The batch source for ``x``/``y``; dicts keyed by input/output names become lists
    in the model's order (as Keras accepts them). ``ahead``: ``max_queue_size`` and
    ``workers`` of a stream's read-ahead threads. The first call also keeps freed
    activations in the heap between steps (:func:`cnnlab.training.allocator.tune`)."""
    allocator.tune()
    x = in_order(x, model.input_names, f"`{what}`", "input")
    y = in_order(y, model.output_names, "`y`", "output")
    return make_source(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle,
                       steps=steps, what=what, **ahead)


def one_batch(model: Any, x: Any, y: Any = None, sample_weight: Any = None) -> ArrayData:
    """All of ``x`` as a single batch (for the ``*_on_batch`` methods)."""
    source = batch_source(model, x, y, sample_weight, batch_size=None)
    if not isinstance(source, ArrayData):
        raise TypeError(f"{model.owner}: the *_on_batch methods take arrays, got "
                        f"{type(x).__name__}")
    source.batch_size = source.n
    return source


def validation_source(model: Any, data: Any, batch_size: int | None, steps: int | None,
                      **ahead: int) -> ArrayData | StreamData:
    """The source of ``fit(validation_data=...)``: a stream, or ``(x, y[, sample_weight])``."""
    if is_stream(data):
        return make_source(data, batch_size=batch_size, steps=steps,
                           what="validation_data", **ahead)
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ValueError("fit: `validation_data` must be (x_val, y_val), (x_val, y_val, "
                         "sample_weight) or a generator")
    vx, vy, *vw = data
    return batch_source(model, vx, vy, vw[0] if vw else None, batch_size=batch_size,
                        what="validation_data")


def class_weight_table(model: Any, class_weight: dict | None) -> torch.Tensor | None:
    """``class_weight`` as a lookup table over class indices; missing classes weigh 1."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict) or not class_weight:
        raise TypeError(f"fit: `class_weight` must be a dict {{class index: weight}}, got "
                        f"{class_weight!r}")
    if len(model.output_names) > 1:
        raise ValueError(f"fit: `class_weight` works for models with one output; "
                         f"{model.owner} has {len(model.output_names)}: give `sample_weight`")
    if not all(isinstance(k, (int, np.integer)) and k >= 0 for k in class_weight):
        raise ValueError(f"fit: the keys of `class_weight` must be class indices >= 0, got "
                         f"{sorted(class_weight, key=str)}")
    size = max(max(int(k) for k in class_weight) + 1, model.output_shape[-1] or 1, 2)
    table = torch.ones(size)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table


def check_data(model: Any, source: ArrayData | StreamData, what: str,
               targets: bool = True) -> None:
    """Clear errors before the first step when the data does not fit the model (for a
    stream, its first batch is checked)."""
    x, y = (source.x, source.y) if isinstance(source, ArrayData) else source.peek()[:2]
    if targets and y is None:
        raise ValueError(f"{what}: no targets; pass `y` with array `x`, or a generator / "
                         f"Sequence / DataLoader yielding (x, y) pairs")
    check_batch(model, x, y if targets else None)


def check_batch(model: Any, x: Any, y: Any = None) -> None:
    """Raise a clear ``ValueError`` when a batch does not fit the model: input shapes
    (expected vs given) or labels the loss cannot use. The loop also calls it after a
    step failed, to replace a low-level PyTorch error by this message."""
    expected = model.input_shape_built
    if expected is not None:
        shapes = expected if isinstance(expected, list) else [expected]
        arrays = x if isinstance(x, list) else [x]
        if len(arrays) != len(shapes):
            raise ValueError(f"{model.owner}: expected {len(shapes)} input arrays (one per "
                             f"Input), got {len(arrays)}")
        names = [f"input {n!r}" for n in model.input_names] if len(shapes) > 1 \
            else ["input"]
        for name, shape, array in zip(names, shapes, arrays, strict=True):
            if not shape_fits(shape, tuple(array.shape)):
                raise ValueError(f"{model.owner}: expected {name} of shape "
                                 f"{format_shape(shape)}, got data of shape "
                                 f"{tuple(array.shape)}"
                                 f"{channel_axis_hint(shape, tuple(array.shape))}")
    if y is not None and model.objectives is not None and model.objectives.ready:
        check_targets(model, y)


def check_targets(model: Any, y: Any) -> None:
    """One target array per output, each usable by its loss (else a clear error)."""
    shapes = model.output_shape if isinstance(model.output_shape, list) else [model.output_shape]
    ys = y if isinstance(y, list) else [y]
    if len(ys) != len(shapes):
        raise ValueError(f"{model.owner}: the model has {len(shapes)} outputs but `y` has "
                         f"{len(ys)} arrays")
    model.objectives.check_targets(ys, shapes)


def in_order(data: Any, names: list[str], what: str, role: str) -> Any:
    """``data`` itself, or the entries of a dict ``{layer name: array}`` in ``names`` order."""
    if not isinstance(data, dict):
        return data
    if set(data) != set(names):
        raise ValueError(f"{what} is a dict with keys {sorted(data)}, but the model's {role} "
                         f"layers are named {names}")
    ordered = [data[name] for name in names]
    return ordered if len(ordered) > 1 else ordered[0]


def shape_fits(expected: tuple, given: tuple) -> bool:
    """Same rank, and every size known on both sides equal (the batch axis is free)."""
    return len(expected) == len(given) and all(
        e is None or g is None or e == g for e, g in zip(expected[1:], given[1:], strict=True))


def check_int(value: Any, what: str, name: str, low: int) -> None:
    """``value`` is an int >= ``low`` (else ``what: `name` must be ...``)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{what}: `{name}` must be an int >= {low}, got {value!r}")


def verbosity(verbose: Any, what: str) -> int:
    """Keras's ``verbose``: ``'auto'`` (= 1), 0 silent, 1 progress bar, 2 one line."""
    if verbose == "auto":
        return 1
    if not isinstance(verbose, (int, np.integer)) or verbose not in (0, 1, 2):
        raise ValueError(f"{what}: `verbose` must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def validation_epochs(freq: Any) -> Callable[[int], bool]:
    """``validation_freq`` as a test on 1-based epochs: every ``freq``-th epoch, or the
    epochs listed (Keras 2 accepts a list such as ``[1, 5, 10]``)."""
    if isinstance(freq, (int, np.integer)) and not isinstance(freq, bool) and freq >= 1:
        return lambda epoch: epoch % freq == 0
    if isinstance(freq, (list, tuple, set, range)) and all(
            isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in freq):
        epochs = set(freq)
        return lambda epoch: epoch in epochs
    raise ValueError(f"fit: `validation_freq` must be an int >= 1 or a list of (1-based) "
                     f"epochs, got {freq!r}")
