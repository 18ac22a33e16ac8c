"""``tf.data.Dataset``-style pipelines: ``from_tensor_slices``, ``batch``, ``map``, ``take``, ...

A :class:`Dataset` is a re-iterable source of elements (tensors, or tuples/dicts of tensors);
every method returns a new dataset that reads from its parent lazily, as ``tf.data`` does::

    ds = Dataset.from_tensor_slices((x, y)).shuffle(1000).batch(32).prefetch(AUTOTUNE)
    model.fit(ds, epochs=5)          # a Dataset is an iterable of batches with a len()

Elements are ``torch.Tensor``s (``.shape``, ``.numpy()`` work as on ``tf.Tensor``).
``image_dataset_from_directory`` returns a Dataset too, so ``.take(1)``, ``.map(...)``,
``.prefetch(...)``, ``.cache()`` apply to it. ``prefetch`` and ``num_parallel_calls`` are
accepted and do nothing more (``fit`` reads batches ahead on its own threads).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

__all__ = ["AUTOTUNE", "Dataset"]

AUTOTUNE = -1
INFINITE = -1
UNKNOWN = -2


def _as_tensor(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    array = np.asarray(value)
    if array.dtype == np.float64:
        array = array.astype(np.float32)  # tf.data keeps float64; cnnlab computes in float32
    return torch.from_numpy(np.ascontiguousarray(array))


def _map_structure(fn: Callable, element: Any) -> Any:
    if isinstance(element, dict):
        return {k: _map_structure(fn, v) for k, v in element.items()}
    if isinstance(element, (tuple, list)):
        return type(element)(_map_structure(fn, v) for v in element)
    return fn(element)


def _zip_structure(elements: list) -> Any:
    """A list of same-structured elements -> one structure of stacked tensors."""
    first = elements[0]
    if isinstance(first, dict):
        return {k: _zip_structure([e[k] for e in elements]) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(_zip_structure([e[i] for e in elements]) for i in range(len(first)))
    return torch.stack([_as_tensor(e) for e in elements])


def _apply(fn: Callable, element: Any) -> Any:
    """``fn(*element)`` for a tuple element (tf.data unpacks tuples), else ``fn(element)``."""
    return fn(*element) if isinstance(element, tuple) else fn(element)


class Dataset:
    """Base class: subclasses define ``__iter__`` and ``cardinality()``.

    ``len(ds)`` is the number of elements (batches, after ``batch``); like TensorFlow it
    raises ``TypeError`` for an infinite (``repeat()``) or unknown (``filter``) length.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError

    def cardinality(self) -> int:
        """Number of elements, ``INFINITE`` (-1) or ``UNKNOWN`` (-2), as ``tf.data``."""
        return UNKNOWN

    def __len__(self) -> int:
        n = self.cardinality()
        if n == INFINITE:
            raise TypeError("The dataset is infinite (repeat() without a count).")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    # -- constructors ---------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        """One element per index of the first axis of ``tensors`` (an array, or a tuple/dict
        of arrays with the same first size)."""
        return _Slices(_map_structure(_as_tensor, tensors))

    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        """A dataset of one element: ``tensors`` itself."""
        return _Generated(lambda: iter([_map_structure(_as_tensor, tensors)]), 1)

    @staticmethod
    def range(*args: int, **kwargs: Any) -> Dataset:
        """``Dataset.range(stop)`` / ``range(start, stop[, step])``: int64 scalars."""
        values = range(*args)
        return _Generated(lambda: (torch.tensor(v) for v in values), len(values))

    @staticmethod
    def zip(datasets: Any, name: str | None = None) -> Dataset:
        """Elements ``(a, b, ...)`` of several datasets side by side (the shortest wins)."""
        parts = tuple(datasets)
        sizes = [d.cardinality() for d in parts]
        known = [n for n in sizes if n >= 0]
        n = min(known) if known else (INFINITE if all(s == INFINITE for s in sizes) else UNKNOWN)
        return _Generated(lambda: zip(*parts, strict=False), n)

    # -- transformations ------------------------------------------------------------------
    def map(self, map_func: Callable, num_parallel_calls: int | None = None,
            deterministic: bool | None = None, name: str | None = None) -> Dataset:
        """Apply ``map_func`` to each element (a tuple element is passed as arguments)."""
        return _Generated(lambda: (_apply(map_func, e) for e in self), self.cardinality())

    def filter(self, predicate: Callable, name: str | None = None) -> Dataset:
        """Keep the elements for which ``predicate`` is true (length becomes unknown)."""
        return _Generated(lambda: (e for e in self if bool(_apply(predicate, e))), UNKNOWN)

    def batch(self, batch_size: int, drop_remainder: bool = False,
              num_parallel_calls: int | None = None, deterministic: bool | None = None,
              name: str | None = None) -> Dataset:
        """Stack ``batch_size`` consecutive elements (the last batch may be smaller unless
        ``drop_remainder``)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"Dataset.batch: `batch_size` must be a positive int, got "
                             f"{batch_size!r}")

        def batches() -> Iterator[Any]:
            chunk: list = []
            for element in self:
                chunk.append(element)
                if len(chunk) == batch_size:
                    yield _zip_structure(chunk)
                    chunk = []
            if chunk and not drop_remainder:
                yield _zip_structure(chunk)

        n = self.cardinality()
        if n >= 0:
            n = n // batch_size if drop_remainder else math.ceil(n / batch_size)
        return _Generated(batches, n)

    def unbatch(self, name: str | None = None) -> Dataset:
        """Split each batch back into its elements."""
        def elements() -> Iterator[Any]:
            for batch in self:
                size = len(batch[0] if isinstance(batch, tuple) else batch)
                for i in range(size):
                    yield _map_structure(lambda t, i=i: t[i], batch)

        return _Generated(elements, UNKNOWN)

    def take(self, count: int, name: str | None = None) -> Dataset:
        """The first ``count`` elements (all of them for ``count=-1``)."""
        if count < 0:
            return self
        n = self.cardinality()
        size = count if n == INFINITE else (min(n, count) if n >= 0 else UNKNOWN)
        return _Generated(lambda: itertools.islice(self, count), size)

    def skip(self, count: int, name: str | None = None) -> Dataset:
        """All elements but the first ``count``."""
        def rest() -> Iterator[Any]:
            return itertools.islice(self, count, None)

        n = self.cardinality()
        return _Generated(rest, max(n - count, 0) if n >= 0 else n)

    def repeat(self, count: int | None = None, name: str | None = None) -> Dataset:
        """The elements ``count`` times over (forever for ``None`` or -1)."""
        forever = count is None or count < 0

        def repeated() -> Iterator[Any]:
            done = 0
            while forever or done < count:
                yield from self
                done += 1

        n = self.cardinality()
        size = INFINITE if forever else (n * count if n >= 0 else n)
        return _Generated(repeated, size)

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True, name: str | None = None) -> Dataset:
        """Randomly shuffled through a buffer of ``buffer_size`` elements, as ``tf.data``
        (a buffer as large as the dataset gives a uniform permutation)."""
        rng = np.random.default_rng(seed)
        first_state = rng.bit_generator.state

        def shuffled() -> Iterator[Any]:
            if not reshuffle_each_iteration:
                rng.bit_generator.state = first_state
            buffer: list = []
            for element in self:
                buffer.append(element)
                if len(buffer) >= buffer_size:
                    yield buffer.pop(int(rng.integers(len(buffer))))
            while buffer:
                yield buffer.pop(int(rng.integers(len(buffer))))

        return _Generated(shuffled, self.cardinality())

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """Keep the elements in memory after the first full pass (``filename`` caches on disk
        in TensorFlow; here it must be empty)."""
        if filename:
            raise NotImplementedError("Dataset.cache: caching to a file is not supported; "
                                      "use cache() (in memory) instead")
        return _Cached(self)

    def prefetch(self, buffer_size: int, name: str | None = None) -> Dataset:
        """Accepted for ``tf.data`` programs: returns the same elements (``fit`` already reads
        batches ahead on background threads)."""
        return self

    def as_numpy_iterator(self) -> Iterator[Any]:
        """The elements as NumPy arrays."""
        return (_map_structure(lambda t: t.numpy() if torch.is_tensor(t) else t, e)
                for e in self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} cardinality={self.cardinality()}>"


class _Slices(Dataset):
    def __init__(self, tensors: Any):
        leaves: list = []
        _map_structure(leaves.append, tensors)
        sizes = {int(t.shape[0]) if t.ndim else -1 for t in leaves}
        if len(sizes) != 1 or -1 in sizes:
            raise ValueError(f"Dataset.from_tensor_slices: every component needs the same "
                             f"first dimension, got shapes {[tuple(t.shape) for t in leaves]}")
        self.tensors, self.size = tensors, sizes.pop()

    def cardinality(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[Any]:
        for i in range(self.size):
            yield _map_structure(lambda t, i=i: t[i], self.tensors)


class _Generated(Dataset):
    def __init__(self, make: Callable[[], Iterator[Any]], size: int):
        self.make, self.size = make, size

    def cardinality(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[Any]:
        return iter(self.make())


class _Cached(Dataset):
    def __init__(self, parent: Dataset):
        self.parent, self.elements = parent, None

    def cardinality(self) -> int:
        return len(self.elements) if self.elements is not None else self.parent.cardinality()

    def __iter__(self) -> Iterator[Any]:
        if self.elements is not None:
            yield from self.elements
            return
        seen = []
        for element in self.parent:
            seen.append(element)
            yield element
        self.elements = seen
