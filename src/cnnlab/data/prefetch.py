"""Prepare batches on background threads while the model trains (``fit(workers=...)``).

``Prefetcher(source, max_queue_size, workers)`` yields the items of ``source`` in their order,
computed ahead of the consumer:

- an indexable source (``len()`` and ``source[i]``, e.g. a ``Sequence`` or a ``flow``
  iterator) is read as ``source[0] ... source[len-1]`` by ``workers`` threads, at most
  ``max_queue_size`` items ahead;
- any other iterable (a generator) is advanced by one background thread — a generator cannot
  be advanced by two threads at once, so ``workers`` beyond 1 do not apply.

Threads suit this work: the batch transforms are torch ops that release the GIL. An exception
raised while producing an item is raised again in the consumer, with its original traceback,
when that item is due. Leaving the loop early, ``close()``, or the ``with`` block end stops and
joins every thread (a producer blocked inside ``next(source)`` finishes that item first).

Example::

    with Prefetcher(gen.flow(x, y, batch_size=64), max_queue_size=10, workers=2) as batches:
        for x_batch, y_batch in batches:
            ...
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["Prefetcher"]

_END = object()
_POLL_SECONDS = 0.05


class _Failure:
    """An exception raised by the producer, carried to the consumer."""

    def __init__(self, error: BaseException):
        self.error = error


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Prefetcher: `{name}` must be a positive int, got {value!r}")
    return value


class Prefetcher:
    """Iterate over ``source`` with its items produced ahead on background threads."""

    def __init__(self, source: Iterable | Any, max_queue_size: int = 10, workers: int = 1):
        self.max_queue_size = _positive(max_queue_size, "max_queue_size")
        self.workers = _positive(workers, "workers")
        self.indexable = hasattr(source, "__len__") and hasattr(source, "__getitem__")
        if not self.indexable and not hasattr(source, "__iter__"):
            raise TypeError(f"Prefetcher: `source` must be iterable or indexable, got "
                            f"{type(source).__name__}")
        self.source = source
        self._items: Iterator | None = None

    def __iter__(self) -> Iterator:
        if self._items is not None:
            raise RuntimeError("Prefetcher: iterate a prefetcher once; make a new one per pass")
        self._items = self._indexed() if self.indexable else self._threaded()
        return self._items

    def close(self) -> None:
        """Stop producing and join the threads (call it from the consuming thread)."""
        if self._items is not None:
            self._items.close()

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _indexed(self) -> Iterator:
        """``source[i]`` for ``i`` in order, computed by a pool of ``workers`` threads."""
        count = len(self.source)
        pending: deque[Future] = deque()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="cnnlab-prefetch") as pool:
            try:
                for index in range(count):
                    pending.append(pool.submit(self.source.__getitem__, index))
                    if len(pending) >= self.max_queue_size:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()

    def _threaded(self) -> Iterator:
        """The items of an iterable, read ahead by one thread into a bounded queue."""
        items: queue.Queue = queue.Queue(self.max_queue_size)
        stop = threading.Event()

        def put(item: Any) -> bool:
            while not stop.is_set():
                try:
                    items.put(item, timeout=_POLL_SECONDS)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            try:
                for item in self.source:
                    if not put(item):
                        return
            except BaseException as error:  # handed to the consumer, raised there
                put(_Failure(error))
                return
            put(_END)

        thread = threading.Thread(target=produce, name="cnnlab-prefetch", daemon=True)
        thread.start()
        try:
            while True:
                item = items.get()
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                yield item
        finally:
            stop.set()
            thread.join()
