"""Shared fixtures. Browser tests get a running app (`app_url`) and a Chromium page (`page`).

The app is started once per test session with `streamlit run app.py` on a free loopback port. Tests
that need Chromium are marked `browser`; without /usr/bin/chromium they are skipped, except on CI
(CI=true), where a missing browser is a failure, since .ci/run installs it.
"""

from __future__ import annotations

import os

# Before the app's modules load: every figure a test builds is checked by Plotly, property by property
# (the app itself skips that check for speed; see ui.figures.plotly_figure).
os.environ.setdefault("LSTM_GATE_EXPLORER_VALIDATE_FIGURES", "1")
from contextlib import contextmanager
from pathlib import Path

import pytest

import lstm_core.models.language_model
from benchmarks.app_server import serve_app
from tests.fake_models import real_assets_exist, shipped_or_fake
from ui import state

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "tests" / "screenshots"
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
DRAWN = "[data-testid='stMain'] [data-testid='stElementContainer']"


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
    """A fresh page; `page.open(path)` loads a path of the app and waits until the script is done."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()

    def open_path(path: str):
        tab.goto(app_url + path)
        wait_until_idle(tab)
        return tab

    tab.open = open_path
    yield tab
    context.close()


def wait_until_idle(tab, settle_ms: int = 400) -> None:
    """Wait for Streamlit to finish running the script (twice, since a rerun can follow a load).

    The app shows "not running" before its first run has started, too: the page must also have drawn
    something (on a fresh server the first run loads the model first)."""
    tab.wait_for_selector(READY, timeout=60_000)
    tab.wait_for_selector(DRAWN, state="attached", timeout=60_000)
    tab.wait_for_timeout(settle_ms)
    tab.wait_for_selector(READY, timeout=60_000)


def screenshot(tab, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


def assert_no_exception(tab) -> None:
    """No exception box and no error dialog (such as Streamlit's "Page not found") on the page."""
    errors = tab.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()[:500]
    dialogs = tab.locator("[role='dialog']")
    assert dialogs.count() == 0, dialogs.first.inner_text()[:500]


@pytest.fixture
def models(monkeypatch):
    """name -> the LanguageModel the app will load (the shipped one, or a random-weight stand-in while
    `assets/` is being retrained), with the app's model and trace caches emptied before and after."""
    loaded = {name: shipped_or_fake(name) for name in state.MODEL_NAMES}
    if not real_assets_exist():
        monkeypatch.setattr(lstm_core.models.language_model, "load_pretrained", loaded.__getitem__)
    state.language_model.clear()
    state.text_trace.clear()
    yield loaded
    state.language_model.clear()
    state.text_trace.clear()


@pytest.fixture
def work_done(models, monkeypatch):
    """Counts the expensive work the pages ask for: {"loads": [model names], "traces": [(model, text)]}.
    A rerun with the same inputs must find both in the caches."""
    done = {"loads": [], "traces": []}

    def load(name):
        done["loads"].append(name)
        return models[name]

    original_trace_text = state._trace_text

    def trace_text(model, text):
        done["traces"].append((len(model.vocab), text))
        return original_trace_text(model, text)

    monkeypatch.setattr(lstm_core.models.language_model, "load_pretrained", load)
    monkeypatch.setattr(state, "_trace_text", trace_text)
    return done
