"""Once per server process: what a long-running app serving a whole class needs beyond Streamlit's
defaults. No figures, no widgets; app.py calls it after every page."""

from __future__ import annotations

import gc
import threading

__all__ = ["freeze_long_lived_objects"]

_lock = threading.Lock()
_frozen = False


def freeze_long_lived_objects() -> bool:
    """The first time only: collect garbage, then move every object alive into the permanent generation.

    What is alive after the first page (modules, Plotly's and Streamlit's tables, a loaded model) lives
    as long as the process. Python's full garbage collections walked all of it every few seconds under
    a class of sessions and stopped every session for 100 to 190 ms each time (benchmarks.load_test);
    `gc.freeze()` keeps those objects out of later collections. Returns whether this call froze.
    """
    global _frozen
    with _lock:
        if _frozen:
            return False
        _frozen = True
    gc.collect()
    gc.freeze()
    return True
