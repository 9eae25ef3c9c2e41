"""Shared fixtures. Browser tests get a running app (`app_url`) and a Chromium page (`page`).

The app is started once per test session with `streamlit run app.py` on a free loopback port. Tests
that need Chromium are marked `browser`; without /usr/bin/chromium they are skipped, except on CI
(CI=true), where a missing browser is a failure, since .ci/run installs it.
"""

from __future__ import annotations

import os
import random
import sys

# Before the app's modules load: every figure a test builds is checked by Plotly, property by property
# (the app itself skips that check for speed; see ui.figures.plotly_figure).
os.environ.setdefault("LSTM_GATE_EXPLORER_VALIDATE_FIGURES", "1")
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import lstm_core.models.language_model
from benchmarks.app_server import serve_app
from tests.pages import new_tab, open_url
from ui import model_store

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def fixed_global_seeds() -> None:
    """Every test starts from the same global random state, whichever tests ran before it: Python's,
    NumPy's legacy generator, and torch's (a new torch module's weights, `torch.randn` without a
    generator). Tests that need particular numbers still seed their own generators."""
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 - the legacy global generator is the one being fixed
    torch = sys.modules.get("torch")  # loaded by the test modules that use it; never imported here for the others
    if torch is not None:
        torch.manual_seed(0)


@contextmanager
def running_app():
    """Start `streamlit run app.py` on a free loopback port; yield its URL once /_stcore/health says ok."""
    with serve_app() as server:  # a server that does not start raises RuntimeError with its log
        yield server.url


@pytest.fixture(scope="session")
def app_url():
    with running_app() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs Chromium at {CHROMIUM} (apt-get install -y chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh tab in a session of its own; `page.open(path)` loads a path of the app and waits until
    its script has run (tests.pages.open_url)."""
    tab = new_tab(browser)
    tab.open = lambda path: open_url(tab, app_url + path)
    yield tab
    tab.context.close()


@pytest.fixture
def models():
    """name -> the shipped LanguageModel the app loads, with the app's model and trace caches emptied
    before and after."""
    loaded = {name: lstm_core.models.language_model.load_pretrained(name) for name in model_store.MODEL_NAMES}
    model_store.language_model.clear()
    model_store.text_trace.clear()
    yield loaded
    model_store.language_model.clear()
    model_store.text_trace.clear()


@pytest.fixture
def work_done(models, monkeypatch):
    """Counts the expensive work the pages ask for: {"loads": [model names], "traces": [(model, text)]}.
    A rerun with the same inputs must find both in the caches."""
    done = {"loads": [], "traces": []}

    def load(name):
        done["loads"].append(name)
        return models[name]

    original_trace_text = model_store._trace_text

    def trace_text(model, text, model_name):
        done["traces"].append((len(model.vocab), text))
        return original_trace_text(model, text, model_name)

    monkeypatch.setattr(lstm_core.models.language_model, "load_pretrained", load)
    monkeypatch.setattr(model_store, "_trace_text", trace_text)
    return done
