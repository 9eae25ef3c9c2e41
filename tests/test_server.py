"""Process-level settings of the app server."""

from __future__ import annotations

import gc
import threading
import types
import weakref
from types import SimpleNamespace

import pytest

from tests.pages import new_session, open_page
from tests.waiting import wait_until
from ui import server


def test_long_lived_objects_are_frozen_once_per_process(monkeypatch):
    calls = []
    monkeypatch.setattr(server, "_frozen", False)
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    assert server.freeze_long_lived_objects() is True
    assert server.freeze_long_lived_objects() is False
    assert calls == ["collect", "freeze"]  # garbage first, so that none of it is kept for good


def test_app_freezes_after_its_first_page(monkeypatch):
    frozen = []
    monkeypatch.setattr(server, "_frozen", False)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    new_session(timeout=120).run()
    assert frozen == [True]


# ------------------------------------------------------------------------------- page turns
def in_thread(target, *args) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def test_pages_take_turns_in_order_of_arrival():
    turns = server.PageTurns()
    entered, release = [], {name: threading.Event() for name in "ABC"}

    def page(name: str) -> None:
        with server.page_turn(patience=60, turns=turns) as got_turn:
            entered.append((name, got_turn))
            release[name].wait(30)

    threads = [in_thread(page, "A")]
    wait_until(lambda: entered == [("A", True)])
    threads.append(in_thread(page, "B"))
    wait_until(lambda: turns.waiting == 1)
    threads.append(in_thread(page, "C"))
    wait_until(lambda: turns.waiting == 2)
    assert entered == [("A", True)]  # B and C wait while A runs
    release["C"].set()  # C is ready to finish but is behind B: it must still wait
    release["A"].set()
    wait_until(lambda: len(entered) == 2)
    assert entered[1] == ("B", True)
    release["B"].set()
    for thread in threads:
        thread.join(10)
    assert entered == [("A", True), ("B", True), ("C", True)]
    assert turns.waiting == 0 and turns.enter(0) is True  # free again


def test_a_page_that_runs_out_of_patience_goes_ahead_and_leaves_no_place_in_line():
    turns = server.PageTurns()
    slow_page_done = threading.Event()
    with server.page_turn(patience=60, turns=turns) as slow_page:
        assert slow_page is True
        with server.page_turn(patience=0.05, turns=turns) as impatient:
            assert impatient is False  # ran anyway, while the slow page still holds the turn
        assert turns.waiting == 0
        slow_page_done.set()
    assert turns.enter(0) is True  # the slow page's leaving freed the turn: no stale waiter got it


def test_the_turn_passes_on_when_a_page_stops_or_fails():
    turns = server.PageTurns()
    for stop in (RuntimeError("a bug"), KeyboardInterrupt()):  # st.stop and st.rerun raise too
        try:
            with server.page_turn(patience=1, turns=turns):
                raise stop
        except (RuntimeError, KeyboardInterrupt):
            pass
        assert turns.enter(0) is True
        turns.leave()


# -------------------------------------------------------------------- pages and the collector
class NamespaceProbe:
    """Put into a page's namespace before it runs; alive for as long as the namespace is."""


@pytest.mark.parametrize("page", ["views/gates.py", "views/step.py"])
def test_a_class_pages_namespace_is_freed_as_soon_as_it_has_run(page, models, monkeypatch):
    """A function defined in a page (a widget callback, say) keeps the page's namespace, with every
    figure and trace in it, alive through the widget until the next run, and ties it into a reference
    cycle that only a full garbage collection frees; those stop every session at once
    (benchmarks.load_test). So: no collector, and the namespace must be gone once the run is over."""
    from streamlit.navigation import page as streamlit_page

    probes = []

    class ProbedModule(types.ModuleType):
        def __init__(self, name):
            super().__init__(name)
            probe = NamespaceProbe()
            self.__dict__["_namespace_probe"] = probe
            probes.append(weakref.ref(probe))

    monkeypatch.setattr(streamlit_page, "types", SimpleNamespace(ModuleType=ProbedModule))
    app = open_page(page, timeout=120)  # the first run loads the model and fills the caches
    gc.collect()
    gc.disable()
    try:
        probes.clear()
        app.run()
        assert not app.exception
        alive = [probe() is not None for probe in probes]
    finally:
        gc.enable()
    assert alive == [False]  # one page ran, and nothing kept its namespace


def test_the_app_runs_each_page_in_its_turn(monkeypatch):
    turns = server.PageTurns()
    taken = []

    class RecordingTurns(server.PageTurns):
        def enter(self, patience):
            taken.append(patience)
            return turns.enter(patience)

        def leave(self):
            turns.leave()

    monkeypatch.setattr(server, "_page_turns", RecordingTurns())
    app = new_session(timeout=120).run()
    assert not app.exception
    assert taken == [server.PAGE_PATIENCE_SECONDS]
    assert turns.enter(0) is True  # and left it
