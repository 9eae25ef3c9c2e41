"""Opening and reading the app's pages in tests, one way for every test file.

Under AppTest (no server; one `AppTest` is one browser session): `open_page("views/gates.py", query)`.
In Chromium, against the app that tests/conftest.py serves: the `page` fixture's `page.open(path)`, or
`open_url(tab, url)` for a tab of another session or server; `wait_until_idle` after anything that
makes the app rerun.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from streamlit.testing.v1 import AppTest

__all__ = [
    "ROOT", "new_session", "open_page", "messages", "chart_specs",
    "new_tab", "open_url", "wait_until_idle", "wait_for_query", "query_of", "alerts_of", "assert_no_exception",
    "resize", "screenshot",
]  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
SCREENSHOTS = ROOT / "tests" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}


# ---------------------------------------------------------------------------------- AppTest
def new_session(timeout: float = 60) -> AppTest:
    """A new session of the app under AppTest, not run yet; each of its runs may take `timeout` seconds."""
    return AppTest.from_file(APP, default_timeout=timeout)


def open_page(page: str, query: Mapping[str, str | Sequence[str]] | None = None, *, app: AppTest | None = None,
              timeout: float = 60) -> AppTest:  # fmt: skip
    """Run `page` (a file under views/, such as "views/gates.py") with `query` as its URL's parameters,
    in `app`'s session (its parameters replaced) or in a new one whose runs may take `timeout` seconds;
    return the app after the run.

    A page with its own url path (/your-model) is found by its file name only after the app has run
    once: pass `app=new_session().run()` for it.
    """
    app = new_session(timeout) if app is None else app
    app.switch_page(page)
    app.query_params.clear()
    app.query_params.update(query or {})
    return app.run()


def messages(app: AppTest) -> str:
    """Every warning, info and error box of the last run, one per line, as Markdown."""
    return "\n".join(element.value for kind in ("warning", "info", "error") for element in getattr(app, kind))


def chart_specs(app: AppTest) -> list[dict]:
    """The figure of every Plotly chart of the last run, as the browser receives it."""
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


# ---------------------------------------------------------------------------------- Chromium
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
DRAWN = "[data-testid='stMain'] [data-testid='stElementContainer']"
LOADING = "[data-testid='stSkeleton']"  # an element whose code the browser is still fetching
# Polled in the page: true once the script is done, something is drawn, nothing is loading, and
# neither the elements nor the widgets' values have changed for `quietMs`. The values count because a
# widget fills in its value a moment after it appears.
_SETTLED_FOR = """([ready, drawn, loading, quietMs]) => {
    const now = performance.now(), watch = (window.__testsSettled ??= {since: null, look: null});
    if (!document.querySelector(ready) || !document.querySelector(drawn) || document.querySelector(loading)) {
        watch.since = null;
        return false;
    }
    const app = document.querySelector("[data-testid='stApp']");
    const values = Array.from(app.querySelectorAll("input, textarea"), (field) => field.value);
    const look = app.querySelectorAll("*").length + "|" + values.join("|");
    if (watch.since === null || look !== watch.look) {
        Object.assign(watch, {since: now, look});
        return false;
    }
    return now - watch.since >= quietMs;
}"""


def new_tab(browser):
    """A tab in a new browser context (a new session of the app), at the size every test starts with."""
    return browser.new_context(viewport=VIEWPORT).new_page()


def open_url(tab, url: str, quiet_ms: int = 400):
    """Load `url` (a page of the app) in `tab` and wait until its script has run; return the tab."""
    tab.goto(url)
    wait_until_idle(tab, quiet_ms)
    return tab


def wait_until_idle(tab, quiet_ms: int = 400, timeout_ms: int = 90_000) -> None:
    """Wait until Streamlit has run the script, the browser has drawn all of it, and the page has then
    stayed the same for `quiet_ms`: a rerun can follow a load or a click a moment later.

    The app shows "not running" before its first run has started, too: the page must also have drawn
    something (on a fresh server the first run loads the model first). Elements and widgets appear
    after the run, once the browser has fetched their code.
    """
    tab.evaluate("() => { window.__testsSettled = {since: null, look: null}; }")
    tab.wait_for_function(_SETTLED_FOR, arg=[READY, DRAWN, LOADING, quiet_ms], polling=50, timeout=timeout_ms)


def query_of(tab) -> dict[str, str]:
    """The URL's query parameters, the first value of each."""
    return {key: values[0] for key, values in parse_qs(urlsplit(tab.url).query).items()}


def wait_for_query(tab, key: str, value: str | None) -> None:
    """Wait until the URL's parameter `key` reads `value` (None: it is absent), then for the app to be idle."""
    tab.wait_for_function(
        "([key, value]) => new URLSearchParams(window.location.search).get(key) === value",
        arg=[key, value],
        timeout=15_000,
    )
    wait_until_idle(tab)


def alerts_of(tab) -> str:
    """The text of every message box (warning, info, error) on the page."""
    return " ".join(tab.locator("[data-testid='stAlert']").all_inner_texts())


def assert_no_exception(tab) -> None:
    """No exception box and no error dialog (such as Streamlit's "Page not found") on the page."""
    errors = tab.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()[:500]
    dialogs = tab.locator("[role='dialog']")
    assert dialogs.count() == 0, dialogs.first.inner_text()[:500]


def resize(tab, size: Mapping[str, int]) -> None:
    """Resize the window and wait until the page has been laid out and painted at the new size (the app
    scrolls inside itself, so a tall window is how a screenshot shows a whole page)."""
    tab.set_viewport_size(dict(size))
    tab.wait_for_function("([width, height]) => window.innerWidth === width && window.innerHeight === height",
                          arg=[size["width"], size["height"]], timeout=10_000)  # fmt: skip
    tab.evaluate("() => new Promise((painted) => requestAnimationFrame(() => requestAnimationFrame(painted)))")


def screenshot(tab, name: str) -> Path:
    """A full-page screenshot in tests/screenshots/, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
