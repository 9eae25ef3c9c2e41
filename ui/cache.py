"""A small least-recently-used cache that several threads may share: one per server process (held by
`st.cache_resource`) or one per session (in `st.session_state`), bounded by entries and by bytes.

`st.cache_resource` alone bounds entries but cannot keep one session's results out of another's, and
`st.cache_data` pickles every value on each read; pages that cache large traced corpora keep them here.

A count alone does not bound memory: one trace of a long text by a model with a large vocabulary
holds more than a hundred short ones. So every entry's size is estimated when it is kept
(`estimated_bytes`), and the least recently used entries are dropped until the rest fit `max_bytes`.

>>> cache = BoundedCache(max_entries=2)
>>> cache.get_or_compute("a", lambda: 1), cache.get_or_compute("b", lambda: 2)
(1, 2)
>>> cache.get_or_compute("a", lambda: 99)  # found: not computed again, and now the most recent
1
>>> cache.get_or_compute("c", lambda: 3)  # a third entry drops the least recently used ("b")
3
>>> list(cache)
['a', 'c']
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Generic, TypeVar

import numpy as np

__all__ = ["DEFAULT_MAX_BYTES", "BoundedCache", "estimated_bytes"]

Value = TypeVar("Value")

DEFAULT_MAX_BYTES = 256 * 2**20  # a cache that names no budget; the server holds several caches and sessions
_MAX_DEPTH = 8  # values nest a few levels (a trace in a dataclass in a tuple); deeper objects count shallowly


def estimated_bytes(value: object) -> int:
    """About how many bytes `value` keeps alive: NumPy arrays by their buffers (a view by the array it
    views, counted once), objects that tell their own size (an int `nbytes`, as `lstm_core.Trace` and
    `CorpusStates` have) at their word, and dataclasses, tuples, lists, sets and dicts by their parts.

    An estimate for budgets, not an exact count; it never raises. A `Trace`'s `nbytes` leaves out the
    model it refers to, which every trace of that model shares.

    >>> estimated_bytes(np.zeros((1_000, 250), dtype=np.float32))
    1000000
    >>> array = np.zeros(1_000)  # 8,000 bytes
    >>> estimated_bytes((array, array[:10], {"again": array.T})) < 2 * array.nbytes  # one buffer, counted once
    True
    """
    seen: set[int] = set()
    return _bytes_of(value, seen, 0)


def _bytes_of(value: object, seen: set[int], depth: int) -> int:
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        owner = _owner(value)
        if owner is not value:
            if id(owner) in seen:
                return 0
            seen.add(id(owner))
        return int(owner.nbytes)
    if isinstance(value, str | bytes | bytearray | int | float | complex | bool | type(None)):
        return sys.getsizeof(value)
    try:
        own_size = getattr(value, "nbytes", None)
    except Exception:  # noqa: BLE001 - a property that fails tells nothing; the parts are counted below
        own_size = None
    if isinstance(own_size, int | np.integer) and not isinstance(own_size, bool) and own_size >= 0:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):  # its arrays are in its size: views of them elsewhere are not
                part = getattr(value, field.name, None)
                if isinstance(part, np.ndarray):
                    seen.add(id(_owner(part)))
        return int(own_size)
    if depth >= _MAX_DEPTH:
        return sys.getsizeof(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = [getattr(value, field.name, None) for field in dataclasses.fields(value)]
    elif isinstance(value, Mapping):
        parts = [*value.keys(), *value.values()]
    elif isinstance(value, tuple | list | set | frozenset):
        parts = list(value)
    else:
        return sys.getsizeof(value)
    return sys.getsizeof(value) + sum(_bytes_of(part, seen, depth + 1) for part in parts)


def _owner(array: np.ndarray) -> np.ndarray:
    """The array whose buffer `array` views (itself when it owns its data)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class _Flight:
    """One computation of a missing key, which later callers for the same key wait for."""

    __slots__ = ("done", "ok", "value")

    def __init__(self):
        self.done = threading.Event()
        self.ok = False  # set with `value` before `done`, when the computation returned
        self.value: object = None


class BoundedCache(Generic[Value]):
    """At most `max_entries` values by key and about `max_bytes` in all (`estimated_bytes`), least
    recently used dropped first; safe between threads. A value larger than `max_bytes` on its own is
    returned but not kept."""

    def __init__(self, max_entries: int, max_bytes: int = DEFAULT_MAX_BYTES):
        for name, limit in (("max_entries", max_entries), ("max_bytes", max_bytes)):
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {limit!r}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[Value, int]] = OrderedDict()  # key -> (value, bytes), oldest first
        self._bytes = 0  # the sum of the kept entries' bytes
        self._flights: dict[Hashable, _Flight] = {}  # keys being computed
        self._lock = threading.Lock()  # made once with the cache: every caller takes this same lock

    def get_or_compute(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """The value kept under `key`, else `compute()`'s, which is then kept if it fits.

        `compute` runs outside the lock: it may take seconds (a page shows a progress bar meanwhile)
        and must not hold up callers asking for other keys. A caller missing a key that another is
        computing waits for that result (a class opening the same link computes it once), and computes
        it itself only if that computation raised. `compute` must not ask this cache for its own key.
        """
        while True:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key][0]
                flight = self._flights.get(key)
                if flight is None:
                    flight = self._flights[key] = _Flight()
                    break
            flight.done.wait()
            if flight.ok:
                return flight.value  # type: ignore[return-value]
        try:
            value = compute()
            size = estimated_bytes(value)  # outside the lock too: it walks the value
            flight.value, flight.ok = value, True
            with self._lock:
                self._drop(key)
                if size <= self.max_bytes:
                    self._entries[key] = (value, size)
                    self._bytes += size
                    while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                        self._drop(next(iter(self._entries)))
        finally:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()
        return value

    def _drop(self, key: Hashable) -> None:
        """Forget `key` if it is kept; the caller holds the lock."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[1]

    @property
    def nbytes(self) -> int:
        """The estimated bytes of the values kept."""
        with self._lock:
            return self._bytes

    def values(self) -> list[Value]:
        """The values kept, least recently used first (a copy: the cache may change meanwhile)."""
        with self._lock:
            return [value for value, _ in self._entries.values()]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __iter__(self) -> Iterator[Hashable]:
        with self._lock:
            keys = list(self._entries)
        return iter(keys)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries
