"""Deep links on a freshly started server, in headless Chromium.

The first visit after `streamlit run` is the one a teacher's shared link most often is. Streamlit
1.67 runs that first visit through its legacy page discovery when a folder named `pages/` sits beside
app.py, and answers a deep link with a "Page not found" dialog; the page files therefore live in
`views/`. This test starts its own server so that its first request really is the first.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.conftest import running_app
from tests.pages import ROOT, assert_no_exception, new_tab, open_url

pytestmark = pytest.mark.browser

TITLES = ("Home", "Gates over a sentence", "One step inside the cell", "Tutorial: build an LSTM up")


def test_no_pages_folder_beside_the_entry_point():
    assert not (ROOT / "pages").exists(), "a pages/ folder turns on Streamlit's legacy page discovery"


@pytest.mark.parametrize("path", [f"/step?text={quote('Bob is nice. Dan is evil.')}&t=4&unit=2", "/gates", "/tutorial"])
def test_the_first_visit_to_a_fresh_server_is_a_deep_link(browser, path):
    with running_app() as url:
        tab = new_tab(browser)
        try:
            open_url(tab, url + path, quiet_ms=1500)  # a dialog, if any, arrives with the first run
            assert_no_exception(tab)
            assert "Page not found" not in tab.locator("body").inner_text()
            navigation = tab.locator("[data-testid='stSidebarNav']").inner_text()
            assert all(title in navigation for title in TITLES), navigation
            assert tab.url.split("?")[0].endswith(path.split("?")[0])
        finally:
            tab.context.close()
