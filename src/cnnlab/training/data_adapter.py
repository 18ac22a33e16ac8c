"""Turn what users pass to ``fit``/``evaluate``/``predict`` into batches of tensors.

Sources: NumPy arrays / tensors (held once in memory, batched by index — no per-sample Python),
Python generators and iterators yielding ``(x, y)`` or ``(x, y, sample_weight)``, Keras-style
``Sequence`` objects (``__len__`` + ``__getitem__``), and PyTorch ``DataLoader``s. Inputs and
targets may be single arrays or lists/tuples of arrays (multi-input/output models).
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from cnnlab.data.prefetch import Prefetcher
from cnnlab.layers.nest import flatten, map_structure

Batch = tuple[Any, Any, Any]


def as_tensor(data: Any, *, what: str, target: bool = False) -> torch.Tensor:
    """One array -> tensor with no copy when possible.

    Inputs: float64 becomes float32 (Keras's floatx); other dtypes are kept and cast per batch.
    Targets: floats become float32, integers int64 (what the losses index with).
    """
    if isinstance(data, torch.Tensor):
        tensor = data
    else:
        array = np.asarray(data)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                         or array.dtype == bool):
            raise TypeError(f"`{what}` must be numeric, got an array of dtype {array.dtype}")
        if array.dtype == np.float64 or array.dtype == np.float16:
            array = array.astype(np.float32)
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.dtype == torch.bool:
        tensor = tensor.to(torch.float32)
    if target:
        if tensor.is_floating_point():
            return tensor.to(torch.float32)
        return tensor.to(torch.int64)
    if tensor.dtype == torch.float64:
        return tensor.to(torch.float32)
    return tensor


def tensors_of(data: Any, what: str, target: bool = False) -> Any:
    """An array, or a list/tuple of arrays (several model inputs/outputs), as tensors.

    A list of plain numbers or of lists is one array (``[[0, 1], [1, 0]]``), not several.
    """
    if isinstance(data, (list, tuple)) and data and all(
            isinstance(a, (np.ndarray, torch.Tensor)) for a in data):
        return [as_tensor(a, what=f"{what}[{i}]", target=target) for i, a in enumerate(data)]
    return as_tensor(data, what=what, target=target)


def to_model_input(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A batch as the model consumes it: floating point, on the model's device."""
    if not x.is_floating_point():
        x = x.to(torch.float32)
    return x.to(device, non_blocking=True)


def check_finite(x: Any, what: str) -> None:
    """Raise ``ValueError`` naming ``what`` when a float input holds NaN or inf.

    The fast test is ``aminmax`` (NaN reaches both ends, inf one of them): one pass, no
    temporaries the size of the data; only a failing input is searched sample by sample.
    """
    for leaf in flatten(x):
        if isinstance(leaf, torch.Tensor) and leaf.is_floating_point() and leaf.numel():
            low, high = torch.aminmax(leaf)
            if bool(torch.isfinite(low) & torch.isfinite(high)):
                continue
            bad = ~torch.isfinite(leaf)
            if bool(bad.any()):
                index = int(bad.reshape(len(leaf), -1).any(dim=1).nonzero()[0, 0]) \
                    if leaf.ndim else 0
                raise ValueError(f"`{what}` contains NaN or infinite values (first in sample "
                                 f"{index}); replace them (e.g. np.nan_to_num) or drop those "
                                 f"samples")


def num_samples(structure: Any, what: str) -> int:
    """The common first-axis length of every array in ``structure`` (else a clear error)."""
    lengths = {len(leaf) for leaf in flatten(structure)}
    if len(lengths) != 1:
        raise ValueError(f"all arrays in `{what}` must have the same number of samples, got "
                         f"{sorted(lengths)}")
    return lengths.pop()


class ArrayData:
    """Arrays held once as tensors; each epoch yields index-selected batches.

    ``shuffle=True`` draws a new permutation per epoch (Keras's default for ``fit``).
    """

    def __init__(self, x: Any, y: Any = None, sample_weight: Any = None, batch_size: int = 32,
                 shuffle: bool = False):
        self.x = tensors_of(x, "x")
        self.y = None if y is None else tensors_of(y, "y", target=True)
        self.sample_weight = None if sample_weight is None else as_tensor(
            sample_weight, what="sample_weight", target=True).to(torch.float32)
        n = num_samples(self.x, "x")
        for name, part in (("y", self.y), ("sample_weight", self.sample_weight)):
            if part is not None and num_samples(part, name) != n:
                raise ValueError(f"`x` and `{name}` must have the same number of samples, got "
                                 f"{n} and {num_samples(part, name)}")
        if n == 0:
            raise ValueError("`x` is empty: there is nothing to train or predict on")
        check_finite(self.x, "x")
        self.n, self.batch_size, self.shuffle = n, batch_size, shuffle

    def close(self) -> None:
        """Nothing to release (arrays have no read-ahead thread; see StreamData.close)."""

    @property
    def num_batches(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def batches(self, generator: torch.Generator | None = None) -> Iterator[Batch]:
        if self.shuffle:  # the order lives where the data does: one copy per epoch, not batch
            order = torch.randperm(self.n, generator=generator).to(flatten(self.x)[0].device)
            for start in range(0, self.n, self.batch_size):
                idx = order[start:start + self.batch_size]
                yield self._take(lambda t, i=idx: t.index_select(0, i))
        else:
            for start in range(0, self.n, self.batch_size):
                stop = start + self.batch_size
                yield self._take(lambda t, a=start, b=stop: t[a:b])

    def _take(self, select: Any) -> Batch:
        def pick(part: Any) -> Any:
            return None if part is None else map_structure(select, part)

        return pick(self.x), pick(self.y), pick(self.sample_weight)

    def split(self, validation_split: float) -> tuple[ArrayData, ArrayData]:
        """Keras's rule: the *last* ``validation_split`` fraction, taken before shuffling."""
        split_at = int(math.floor(self.n * (1.0 - validation_split)))
        if split_at == 0 or split_at == self.n:
            raise ValueError(f"fit: `validation_split`={validation_split} leaves an empty "
                             f"training or validation set with {self.n} samples")
        return self._slice(0, split_at, self.shuffle), self._slice(split_at, None, False)

    @property
    def nbytes(self) -> int:
        """Bytes of the held tensors (inputs, targets, sample weights)."""
        parts = [self.x, self.y, self.sample_weight]
        return sum(t.nbytes for part in parts if part is not None for t in flatten(part))

    def placed_on(self, device: torch.device, free_bytes: int) -> ArrayData:
        """This source with its tensors copied to ``device`` once, when they take at most
        half of its ``free_bytes`` (then no batch is copied during training); else itself
        (each batch is copied when it is used)."""
        if flatten(self.x)[0].device == device or self.nbytes > free_bytes // 2:
            return self

        def move(t: torch.Tensor) -> torch.Tensor:
            return t.to(device)

        part = copy.copy(self)
        part.x, part.y, part.sample_weight = self._take(move)
        return part

    def _slice(self, start: int, stop: int | None, shuffle: bool) -> ArrayData:
        """Samples ``start:stop`` as a new source (views, no copy)."""
        def cut(t: torch.Tensor) -> torch.Tensor:
            return t[start:stop]

        part = copy.copy(self)
        part.x, part.y, part.sample_weight = self._take(cut)
        part.n, part.shuffle = num_samples(part.x, "x"), shuffle
        return part


def unpack(batch: Any, what: str) -> Batch:
    """``(x, y)`` / ``(x, y, w)`` / ``x`` from a generator, as tensors."""
    if isinstance(batch, dict):
        raise TypeError(f"{what} yielded a dict; yield (x, y) or (x, y, sample_weight) tuples")
    if isinstance(batch, (tuple, list)) and len(batch) in (2, 3) and not _is_array_like(batch):
        x, y, *rest = batch
        w = rest[0] if rest else None
    else:
        x, y, w = batch, None, None
    x = tensors_of(x, f"x from {what}")
    y = None if y is None else tensors_of(y, f"y from {what}", target=True)
    w = None if w is None else as_tensor(w, what="sample_weight", target=True).float()
    check_finite(x, f"x from {what}")
    return x, y, w


def _is_array_like(batch: Any) -> bool:
    """A tuple of equal-shaped numbers is one array, not an (x, y) pair."""
    return all(isinstance(v, (int, float)) for v in batch)


class StreamData:
    """Generators, iterators, ``Sequence``s and ``DataLoader``s.

    ``steps`` batches make one epoch; when ``None`` the epoch is ``len(source)`` for
    sized sources or the source's exhaustion for plain generators. A plain generator is
    consumed across epochs (it is not restarted), as Keras does; an iterable such as a
    ``DataLoader`` is restarted when it runs out. ``peek()`` reads the first batch (to build
    a model) without losing it.

    Batches are produced ahead on background threads (:class:`cnnlab.data.Prefetcher`), at
    most ``max_queue_size`` of them: a ``Sequence`` (or ``flow`` iterator) by ``workers``
    threads, an iterator by one thread whose read-ahead carries over to the next epoch.
    ``workers=0`` reads them in the training thread. Call :meth:`close` when done.
    """

    def __init__(self, source: Any, steps: int | None = None, what: str = "the generator",
                 max_queue_size: int = 10, workers: int = 1):
        self.source, self.steps, self.what = source, steps, what
        self.max_queue_size, self.workers = max_queue_size, workers
        self.is_sequence = hasattr(source, "__getitem__") and hasattr(source, "__len__") \
            and not isinstance(source, (list, tuple, np.ndarray, torch.Tensor))
        self.restartable = self.is_sequence or (hasattr(source, "__iter__")
                                                and not hasattr(source, "__next__"))
        self._iterator: Iterator | None = None
        self._pending: list = []  # a batch read by peek(), yielded next

    @property
    def num_batches(self) -> int | None:
        """Batches per epoch, or ``None`` when only the end of the data will tell."""
        if self.steps is not None:
            return self.steps
        try:
            return len(self.source)
        except TypeError:
            return None

    def peek(self) -> Batch:
        """The first batch of the next epoch, which still yields it."""
        if self.is_sequence:
            return unpack(self.source[0], self.what)
        if not self._pending:
            try:
                self._pending.append(self._next_raw(restart=False))
            except StopIteration:
                raise ValueError(f"{self.what} yielded no batches") from None
        return unpack(self._pending[0], self.what)

    def batches(self, generator: torch.Generator | None = None) -> Iterator[Batch]:
        if self.is_sequence:
            items = _Cycled(self.source, self.steps or len(self.source))
            with contextlib.closing(self._ahead(items)) as ahead:
                for item in ahead:
                    yield unpack(item, self.what)
            if hasattr(self.source, "on_epoch_end"):
                self.source.on_epoch_end()
            return
        if self.steps is None:
            if self.restartable and not self._pending:
                self._open()
            produced = 0
            while True:
                try:
                    batch = self._next_raw(restart=False)
                except StopIteration:
                    break
                produced += 1
                yield unpack(batch, self.what)
            if produced == 0:
                raise ValueError(f"{self.what} yielded no batches (a generator is consumed "
                                 f"once: give steps_per_epoch and make it loop forever)")
            return
        for _ in range(self.steps):
            try:
                batch = self._next_raw(restart=self.restartable)
            except StopIteration:
                raise ValueError(f"{self.what} ran out of data after fewer than {self.steps} "
                                 f"steps; make it loop forever or lower steps_per_epoch") from None
            yield unpack(batch, self.what)

    def _next_raw(self, restart: bool) -> Any:
        """The next item of the source (the peeked one first); ``restart`` an exhausted
        iterable once."""
        if self._pending:
            return self._pending.pop()
        if self._iterator is None:
            self._open()
        try:
            return next(self._iterator)
        except StopIteration:
            if not restart:
                raise
            self._open()
            return next(self._iterator)

    def _open(self) -> None:
        """Start a pass over the source (ending the previous one's read-ahead thread)."""
        self.close()
        self._iterator = self._ahead(iter(self.source))

    def _ahead(self, items: Any) -> Iterator:
        """A closable iterator over ``items``; closing it never closes the user's source."""
        if self.workers == 0:
            return _in_this_thread(items)
        return iter(Prefetcher(items, self.max_queue_size, self.workers))

    def close(self) -> None:
        """Stop the read-ahead thread, if any (items it read ahead are dropped)."""
        if self._iterator is not None and hasattr(self._iterator, "close"):
            self._iterator.close()
        self._iterator = None


def _in_this_thread(items: Any) -> Iterator:
    for item in items:  # noqa: UP028 -- ``yield from`` would close ``items`` with this
        yield item


class _Cycled:
    """``count`` items ``source[i % len(source)]``: an epoch of a ``Sequence``, indexable."""

    def __init__(self, source: Any, count: int):
        self.source, self.count = source, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> Any:
        return self.source[index % len(self.source)]

    def __iter__(self) -> Iterator:
        return (self[index] for index in range(self.count))


def is_stream(x: Any) -> bool:
    """Whether ``x`` is a batch source rather than array data."""
    if isinstance(x, (np.ndarray, torch.Tensor, list, tuple, dict)):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__next__") or hasattr(x, "__getitem__")


def make_source(x: Any, y: Any = None, sample_weight: Any = None, *, batch_size: int | None,
                shuffle: bool = False, steps: int | None = None, what: str = "x",
                max_queue_size: int = 10, workers: int = 1) -> ArrayData | StreamData:
    """Choose the adapter for ``x`` and check the arguments that do not fit it
    (``max_queue_size``/``workers``: the read-ahead of a stream, see :class:`StreamData`)."""
    if is_stream(x):
        if y is not None:
            raise ValueError(f"`y` must not be given when `{what}` is a generator, Sequence or "
                             f"DataLoader (it yields the targets), got y of type "
                             f"{type(y).__name__}")
        for name, value, low in (("max_queue_size", max_queue_size, 1), ("workers", workers, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"`{name}` must be an int >= {low}, got {value!r}")
        return StreamData(x, steps, what=f"`{what}` ({type(x).__name__})",
                          max_queue_size=max_queue_size, workers=workers)
    if x is None:
        raise ValueError(f"`{what}` is required: pass arrays or a generator of batches")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                   or batch_size <= 0):
        raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
    return ArrayData(x, y, sample_weight, batch_size or 32, shuffle)
