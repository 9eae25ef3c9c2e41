"""The pages' shared least-recently-used cache (ui/cache.py), alone and under threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ui.cache import BoundedCache


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
