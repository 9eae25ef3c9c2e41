"""Process-level settings of the app server."""

from __future__ import annotations

import gc

from ui import process


def test_long_lived_objects_are_frozen_once_per_process(monkeypatch):
    calls = []
    monkeypatch.setattr(process, "_frozen", False)
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    assert process.freeze_long_lived_objects() is True
    assert process.freeze_long_lived_objects() is False
    assert calls == ["collect", "freeze"]  # garbage first, so that none of it is kept for good


def test_app_freezes_after_its_first_page(monkeypatch):
    from streamlit.testing.v1 import AppTest

    frozen = []
    monkeypatch.setattr(process, "_frozen", False)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    AppTest.from_file("../app.py", default_timeout=120).run()
    assert frozen == [True]
