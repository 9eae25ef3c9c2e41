"""Every page, driven with hostile links: no exception anywhere, nothing rendered as HTML, every page
still draws. In AppTest for every query parameter a page's widgets use, and in Chromium for the
page as a student's browser shows it.

The pages and their parameters are found, not listed: the pages from app.py's PAGES, the parameters
from the widget keys each page shows on a plain visit, plus the ones every page shares. A new page or
widget is covered without touching this file.
"""

from __future__ import annotations

import ast
import re
from urllib.parse import quote

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages import ROOT, assert_no_exception, open_page

SHARED_KEYS = ("text", "model", "layer", "direction", "t", "unit", "present")
UNESCAPED_TAG = re.compile(r"(?<!\\)<\s*(script|img)", re.IGNORECASE)
HOSTILE_VALUES = {
    "script": '<script>window.hacked=1</script><img src=x onerror="window.hacked=2">',
    "numbers": "-99999999999999999999",
    "float": "1e308",
    "nan": "NaN",
    "emoji": "😀🧠" * 50,
    "control": "\x00\x1b[31m\u202e\ufeff",
    "huge": "Bob is nice. " * 3000,
    "path": "../../../../etc/passwd",
    "empty": "",
}


def pages() -> list[tuple[str, str]]:
    """(page file, url path) of every page in app.py."""
    tree = ast.parse((ROOT / "app.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", "") == "PAGES" for target in node.targets):
            return [(entry[0], entry[3]) for entry in ast.literal_eval(node.value)]
    raise AssertionError("app.py has no PAGES list")


PAGES = pages()


def widget_keys(app: AppTest) -> set[str]:
    keys = set()
    for node in app.main, app.sidebar:
        stack = [node]
        while stack:
            element = stack.pop()
            key = getattr(element, "key", None)
            if isinstance(key, str) and key and not key.startswith("$$"):
                keys.add(key)
            stack.extend(getattr(element, "children", {}).values())
    return keys


@pytest.fixture(scope="module")
def page_keys() -> dict[str, set[str]]:
    return {file: widget_keys(open_page(file, timeout=120)) | set(SHARED_KEYS) for file, _ in PAGES}


def test_every_page_is_found_and_has_widgets_to_attack(page_keys):
    assert len(PAGES) >= 7 and ("views/gates.py", "gates") in PAGES
    assert {"text", "t", "unit"} <= page_keys["views/gates.py"]


@pytest.mark.parametrize("file", [file for file, _ in PAGES])
@pytest.mark.parametrize("kind", HOSTILE_VALUES)
def test_hostile_links_raise_nothing_and_render_no_html(models, page_keys, file, kind):
    query = {key: HOSTILE_VALUES[kind] for key in sorted(page_keys[file])}
    app = open_page(file, query, timeout=120)
    assert not app.exception, (file, kind, [error.message for error in app.exception])
    for element in (*app.markdown, *app.caption, *app.warning, *app.info, *app.error):
        # Markdown renders a tag unless its "<" is escaped as "\<"
        assert not UNESCAPED_TAG.search(element.value), element.value[:200]


@pytest.mark.browser
@pytest.mark.parametrize("path", [path for _, path in PAGES])
def test_hostile_links_in_the_browser_show_no_exception_and_run_no_script(page, page_keys, path):
    file = dict((url, f) for f, url in PAGES)[path]
    keys = sorted(page_keys[file])
    values = [HOSTILE_VALUES[kind] for kind in ("script", "numbers", "emoji", "nan", "path")]
    query = "&".join(f"{key}={quote(values[index % len(values)])}" for index, key in enumerate(keys))
    tab = page.open(f"/{path}?{query}")
    assert_no_exception(tab)
    assert tab.evaluate("() => window.hacked") is None
    assert tab.locator("[data-testid='stMain'] img[src='x']").count() == 0
