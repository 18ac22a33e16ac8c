"""Prefetcher: order, background production, read-ahead bound, errors with their traceback,
and shutdown without leaked threads."""

from __future__ import annotations

import random
import threading
import time
import traceback

import numpy as np
import pytest

from cnnlab.data.image_generator import ImageDataGenerator
from cnnlab.data.prefetch import Prefetcher


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("cnnlab-prefetch")]


class Slow:
    """Indexable source whose items take random times, recording the producing threads."""

    def __init__(self, n: int, fail_at: int | None = None):
        self.n, self.fail_at, self.threads = n, fail_at, set()

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> int:
        self.threads.add(threading.current_thread().name)
        time.sleep(random.uniform(0, 0.004))
        if index == self.fail_at:
            raise KeyError(f"bad item {index}")
        return index * index


def counting(n: int, log: list, fail_at: int | None = None):
    for i in range(n):
        if i == fail_at:
            raise ZeroDivisionError("producer failed")
        log.append(threading.current_thread().name)
        yield i


@pytest.fixture(autouse=True)
def no_leaked_threads():
    yield
    assert prefetch_threads() == []


def test_generator_items_arrive_in_order_from_a_background_thread():
    log: list = []
    assert list(Prefetcher(counting(50, log), max_queue_size=3)) == list(range(50))
    assert set(log) == {"cnnlab-prefetch"}


@pytest.mark.parametrize("workers", [1, 3])
def test_indexable_items_arrive_in_order(workers):
    source = Slow(40)
    assert list(Prefetcher(source, max_queue_size=5, workers=workers)) == \
        [i * i for i in range(40)]
    assert all(name.startswith("cnnlab-prefetch") for name in source.threads)
    assert len(source.threads) <= workers


def test_read_ahead_is_bounded_by_the_queue_size():
    log: list = []
    with Prefetcher(counting(100, log), max_queue_size=4) as batches:
        iterator = iter(batches)
        next(iterator)
        deadline = time.monotonic() + 5
        while len(log) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)  # the producer runs ahead ...
        time.sleep(0.1)
        assert 5 <= len(log) <= 1 + 4 + 1  # ... by at most: consumed + queued + one waiting


@pytest.mark.parametrize("make", [
    lambda: counting(10, [], fail_at=3),
    lambda: Slow(10, fail_at=3),
])
def test_errors_reach_the_consumer_with_the_original_traceback(make):
    received = []
    with pytest.raises((ZeroDivisionError, KeyError)) as caught:
        for item in Prefetcher(make(), max_queue_size=2, workers=2):
            received.append(item)
    assert len(received) == 3  # the items before the failing one
    frames = "".join(traceback.format_tb(caught.value.__traceback__))
    assert "counting" in frames or "__getitem__" in frames


@pytest.mark.parametrize("make", [lambda: counting(10**6, []), lambda: Slow(10**6)])
def test_leaving_early_stops_and_joins_the_threads(make):
    with Prefetcher(make(), max_queue_size=3, workers=2) as batches:
        for i, _ in enumerate(batches):
            if i == 5:
                break
    unused = Prefetcher(counting(5, []))
    unused.close()  # never started: nothing to stop


def test_a_prefetcher_is_iterated_once():
    batches = Prefetcher([1, 2, 3])
    assert list(batches) == [1, 2, 3]
    with pytest.raises(RuntimeError, match="once"):
        iter(batches)


def test_prefetched_flow_batches_equal_the_direct_ones():
    x = np.random.default_rng(0).integers(0, 256, (40, 8, 8, 3)).astype("uint8")
    gen = ImageDataGenerator(rotation_range=30, horizontal_flip=True)
    direct = gen.flow(x, batch_size=8, seed=4)
    fetched = list(Prefetcher(gen.flow(x, batch_size=8, seed=4), workers=3))
    assert len(fetched) == len(direct)
    for i, batch in enumerate(fetched):
        np.testing.assert_array_equal(batch, direct[i])


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_queue_size.*0"):
        Prefetcher([], max_queue_size=0)
    with pytest.raises(ValueError, match="workers.*-1"):
        Prefetcher([], workers=-1)
    with pytest.raises(TypeError, match="iterable or indexable, got int"):
        Prefetcher(5)
