"""The pages' shared least-recently-used cache (ui/cache.py): by count and by bytes, alone and under threads."""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from lstm_core import LSTM
from tests.waiting import wait_until
from ui.cache import BoundedCache, estimated_bytes


def test_keeps_the_most_recently_used_entries():
    cache = BoundedCache[str](max_entries=3)
    computed = []

    def compute(key: str):
        return lambda: computed.append(key) or key.upper()

    for key in "abcab":
        assert cache.get_or_compute(key, compute(key)) == key.upper()
    assert computed == ["a", "b", "c"]  # a and b were found the second time
    assert cache.get_or_compute("d", compute("d")) == "D"
    assert list(cache) == ["a", "b", "d"] and cache.values() == ["A", "B", "D"]  # c was the least recently used
    assert len(cache) == 3 and "c" not in cache and "a" in cache
    cache.clear()
    assert len(cache) == 0 and list(cache) == []


def test_a_failed_computation_keeps_nothing():
    cache = BoundedCache[int](max_entries=2)
    with pytest.raises(ZeroDivisionError):
        cache.get_or_compute("x", lambda: 1 // 0)
    assert "x" not in cache
    assert cache.get_or_compute("x", lambda: 5) == 5


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_max_entries_must_be_a_positive_whole_number(bad):
    with pytest.raises(ValueError, match="max_entries"):
        BoundedCache(bad)


class YieldingKey:
    """A key whose hashing lets other threads run (as any key hashed in Python may): a thread that found
    it in the cache is paused between the lookup and the move to the end."""

    def __init__(self, number: int):
        self.number = number

    def __hash__(self) -> int:
        time.sleep(0)  # releases the GIL
        return hash(self.number)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, YieldingKey) and other.number == self.number


def test_threads_sharing_one_cache_never_see_a_broken_one():
    # Many threads on few entries: between one thread finding a key and moving it to the end, another
    # drops it. Without one lock taken by all, move_to_end or popitem raises KeyError here.
    cache = BoundedCache[int](max_entries=3)
    keys = [YieldingKey(number) for number in range(5)]
    start = threading.Barrier(8)

    def work(worker: int) -> list[tuple[int, int]]:
        start.wait()
        seen = []
        for step in range(500):
            key = keys[(worker * 7 + step) % len(keys)]
            seen.append((key.number, cache.get_or_compute(key, lambda key=key: key.number * 10)))
        return seen

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert all(value == number * 10 for seen in results for number, value in seen)
    assert len(cache) == 3 and len(set(cache)) == 3


def test_a_slow_computation_does_not_hold_up_other_keys():
    cache = BoundedCache[str](max_entries=4)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        assert release.wait(10)
        return "slow"

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(cache.get_or_compute, "slow", slow)
        assert started.wait(10)
        assert cache.get_or_compute("fast", lambda: "fast") == "fast"  # while "slow" is being computed
        assert "slow" not in cache
        release.set()
        assert pending.result(10) == "slow"
    assert list(cache) == ["fast", "slow"]


# ------------------------------------------------------------------------------- byte budget
def megabytes(count: int, fill: float = 0.0) -> np.ndarray:
    return np.full(count * 2**20 // 8, fill)  # float64


def test_the_oldest_entries_go_until_the_rest_fit_the_byte_budget():
    cache = BoundedCache[np.ndarray](max_entries=100, max_bytes=10 * 2**20 + 4096)
    for key, size in (("a", 3), ("b", 3), ("c", 3)):
        cache.get_or_compute(key, lambda size=size: megabytes(size))
    assert list(cache) == ["a", "b", "c"] and 9 * 2**20 <= cache.nbytes <= 10 * 2**20
    cache.get_or_compute("a", lambda: megabytes(1))  # found: now the most recent, nothing computed
    cache.get_or_compute("d", lambda: megabytes(5))  # 14 MiB: b, then c, the least recently used, go
    assert list(cache) == ["a", "d"]
    assert 8 * 2**20 <= cache.nbytes <= 10 * 2**20
    cache.clear()
    assert cache.nbytes == 0


def test_a_value_larger_than_the_budget_is_returned_not_kept_and_drops_nothing():
    cache = BoundedCache[np.ndarray](max_entries=10, max_bytes=5 * 2**20)
    cache.get_or_compute("small", lambda: megabytes(1))
    computed = []
    for _ in range(2):
        huge = cache.get_or_compute("huge", lambda: computed.append(1) or megabytes(6, fill=1.0))
        assert huge.nbytes == 6 * 2**20 and huge[0] == 1.0
    assert computed == [1, 1]  # computed on each call: never kept
    assert list(cache) == ["small"] and cache.nbytes < 2 * 2**20


def test_the_count_still_bounds_a_cache_of_small_values():
    cache = BoundedCache[int](max_entries=2, max_bytes=2**30)
    for key in "abc":
        cache.get_or_compute(key, lambda: 1)
    assert list(cache) == ["b", "c"]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_max_bytes_must_be_a_positive_whole_number(bad):
    with pytest.raises(ValueError, match="max_bytes"):
        BoundedCache(3, max_bytes=bad)


@dataclasses.dataclass(frozen=True)
class Traced:
    trace: object
    probabilities: np.ndarray
    words: tuple[str, ...]
    notes: dict


def test_estimated_bytes_counts_arrays_through_dataclasses_tuples_and_dicts():
    lstm = LSTM.random(input_size=3, hidden_size=64, num_layers=2, seed=0)
    trace = lstm.run(np.ones((500, 3)))
    probabilities = np.zeros((500, 1_000), dtype=np.float32)  # 2 MB
    value = Traced(trace, probabilities, ("Bob",) * 10, {"again": probabilities[:10], "gates": trace.gates})
    estimate = estimated_bytes(value)
    # the trace's own arrays (Trace.nbytes leaves out the model every trace of it shares), the table once
    # (a view is counted as the array it views), and a little for the rest
    assert trace.nbytes + probabilities.nbytes <= estimate <= trace.nbytes + probabilities.nbytes + 10_000
    assert estimated_bytes([value, value]) < estimated_bytes([value]) + 100  # one object, counted once
    assert estimated_bytes(np.zeros((10, 10))[::2]) == 800  # a slice keeps its whole array alive
    assert estimated_bytes({"text": "x" * 1_000_000}) > 1_000_000


def test_estimated_bytes_never_raises():
    class Broken:
        @property
        def nbytes(self):
            raise RuntimeError("no size")

    nested: list = []
    nested.append(nested)  # a cycle
    deep: tuple = ()
    for _ in range(1_000):
        deep = (deep,)
    for value in (Broken(), nested, deep, object(), None, 3.5, b"bytes", {1, 2}, frozenset({"a"})):
        assert estimated_bytes(value) > 0


def test_a_class_asking_for_the_same_missing_key_computes_it_once():
    cache = BoundedCache[str](max_entries=4)
    release, calls = threading.Event(), []

    def slow() -> str:
        calls.append(1)
        assert release.wait(10)
        return "traced"

    with ThreadPoolExecutor(6) as pool:
        pending = [pool.submit(cache.get_or_compute, "link", slow) for _ in range(6)]
        wait_until(lambda: calls)
        time.sleep(0.05)  # the other five are waiting for it by now
        release.set()
        assert [future.result(10) for future in pending] == ["traced"] * 6
    assert calls == [1] and list(cache) == ["link"]


def test_a_waiter_computes_itself_when_the_first_computation_fails():
    cache = BoundedCache[str](max_entries=4)
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        assert release.wait(10)
        raise RuntimeError("the first session stopped")

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(cache.get_or_compute, "key", failing)
        assert started.wait(10)
        second = pool.submit(cache.get_or_compute, "key", lambda: "computed again")
        time.sleep(0.05)
        release.set()
        with pytest.raises(RuntimeError, match="stopped"):
            first.result(10)
        assert second.result(10) == "computed again"
    assert list(cache) == ["key"]
