"""Once per server process: what a long-running app serving a whole class needs beyond Streamlit's
defaults. No figures, no widgets; app.py runs every page inside `page_turn()` and calls
`freeze_long_lived_objects()` after it."""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["freeze_long_lived_objects", "PageTurns", "page_turn", "PAGE_PATIENCE_SECONDS"]

_lock = threading.Lock()
_frozen = False


def freeze_long_lived_objects() -> bool:
    """The first time only: collect garbage, then move every object alive into the permanent generation.

    What is alive after the first page (modules, Plotly's and Streamlit's tables, a loaded model) lives
    as long as the process. Python's full garbage collections would walk all of it every few seconds
    under a class of sessions, and every session stops while one runs (benchmarks.load_test's latencies
    show it when nothing is frozen); `gc.freeze()` keeps those objects out of later collections. Returns
    whether this call froze.
    """
    global _frozen
    with _lock:
        if _frozen:
            return False
        _frozen = True
    gc.collect()
    gc.freeze()
    return True


# A page's run is mostly Python holding the GIL: reruns of several sessions at once only take turns on
# one core, a few milliseconds each. Taking whole turns instead, in order of arrival, gives the same
# total work a shorter wait for all but the last (first come, first served beats sharing for jobs of
# equal size; benchmarks.load_test measures the p95 against one session alone). A run that waits
# longer than the patience goes ahead anyway, so a slow page (a first visit, a corpus search) never
# holds the others for more than that.
PAGE_PATIENCE_SECONDS = 0.25


class PageTurns:
    """A first-come, first-served turnstile with patience: `enter(patience)` waits for every earlier
    arrival to `leave()`, at most `patience` seconds; it returns whether it got the turn (and must leave)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._taken = False

    def enter(self, patience: float) -> bool:
        with self._lock:
            if not self._taken:
                self._taken = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(patience):
            return True
        with self._lock:
            if turn.is_set():  # handed over just as the patience ran out: the turn is ours
                return True
            self._waiting.remove(turn)
            return False

    def leave(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # straight to the next in line: nobody can jump the queue
            else:
                self._taken = False

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)


_page_turns = PageTurns()


@contextmanager
def page_turn(patience: float = PAGE_PATIENCE_SECONDS, turns: PageTurns | None = None) -> Iterator[bool]:
    """Run the body in this process's turn (or `turns`): yields whether it got the turn or ran out of patience.
    The turn passes on however the body ends (st.stop and st.rerun raise)."""
    turns = turns or _page_turns
    entered = turns.enter(patience)
    try:
        yield entered
    finally:
        if entered:
            turns.leave()
