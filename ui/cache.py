"""A small least-recently-used cache that several threads may share: one per server process (held by
`st.cache_resource`) or one per session (in `st.session_state`).

`st.cache_resource` alone bounds entries but cannot keep one session's results out of another's, and
`st.cache_data` pickles every value on each read; pages that cache large traced corpora keep them here.

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

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["BoundedCache"]

Value = TypeVar("Value")


class BoundedCache(Generic[Value]):
    """At most `max_entries` values by key, least recently used dropped first; safe between threads."""

    def __init__(self, max_entries: int):
        if not isinstance(max_entries, int) or isinstance(max_entries, bool) or max_entries < 1:
            raise ValueError(f"max_entries must be a whole number of at least 1, got {max_entries!r}")
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()  # oldest first
        self._lock = threading.Lock()  # made once with the cache: every caller takes this same lock

    def get_or_compute(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """The value kept under `key`, else `compute()`'s, which is then kept.

        `compute` runs outside the lock: it may take seconds (a page shows a progress bar meanwhile)
        and must not hold up callers asking for other keys. Two callers missing the same key at once
        both compute; the later result is the one kept.
        """
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = compute()
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def values(self) -> list[Value]:
        """The values kept, least recently used first (a copy: the cache may change meanwhile)."""
        with self._lock:
            return list(self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

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
