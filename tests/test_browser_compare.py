"""/compare in headless Chromium: the default pair, a deep link whose URL follows the widgets, the way to
/gates, and hostile links that show messages, not errors. Screenshots go to tests/screenshots/."""

from urllib.parse import urlencode

import pytest

from tests.pages import alerts_of, assert_no_exception, query_of, screenshot, wait_until_idle
from ui.compare import PRESETS

pytestmark = pytest.mark.browser

TALL = {"width": 1400, "height": 2400}  # the app scrolls inside itself: a tall window shows the whole page


def wait_for_charts(tab, count: int = 3) -> None:
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for()
    tab.wait_for_function(f"document.querySelectorAll(\"[data-testid='stPlotlyChart'] .main-svg\").length >= {count}")
    assert tab.locator("[data-testid='stPlotlyChart']").count() == count


def chart_text(tab, index: int) -> str:
    return " ".join(tab.locator("[data-testid='stPlotlyChart']").nth(index).locator("text").all_text_contents())


def test_default_pair_shows_both_texts_and_where_b_goes_on(page):
    page.set_viewport_size(TALL)
    tab = page.open("/compare")
    assert_no_exception(tab)
    wait_for_charts(tab)
    text_a, text_b = PRESETS["A new subject"]
    assert tab.locator(".st-key-compare_a textarea").input_value() == text_a
    assert tab.locator(".st-key-compare_b textarea").input_value() == text_b
    assert tab.get_by_text("The two texts agree up to token 5", exact=False).first.is_visible()
    assert "Text A · Cell state" in chart_text(tab, 0) and "Text B · Cell state" in chart_text(tab, 1)
    difference = chart_text(tab, 2)
    assert "Difference B − A of the cell state" in difference and "only in B" in difference and "+dan" in difference
    screenshot(tab, "compare_default")


def test_deep_link_and_the_url_following_a_widget(page):
    page.set_viewport_size(TALL)
    text_a, text_b = PRESETS["Same story, other gender"]
    tab = page.open("/compare?" + urlencode({"compare_a": text_a, "compare_b": text_b, "compare_top_k": "16"}))
    assert_no_exception(tab)
    wait_for_charts(tab)
    assert tab.get_by_text("A reads “bob” where B reads “mary”", exact=False).first.is_visible()
    assert "bob→mary" in chart_text(tab, 2)
    screenshot(tab, "compare_deep_link")
    tab.locator(".st-key-compare_signal label").filter(has_text="forget").click()
    tab.wait_for_function(
        "new URLSearchParams(window.location.search).get('compare_signal') === 'forget'", timeout=15_000
    )
    wait_until_idle(tab)
    assert_no_exception(tab)
    query = query_of(tab)
    assert query["compare_a"] == text_a and query["compare_b"] == text_b and query["compare_top_k"] == "16"
    assert "Difference B − A of the forget gate" in chart_text(tab, 2)
    assert "Text A · Forget gate" in chart_text(tab, 0)
    screenshot(tab, "compare_forget_gate")


def test_each_text_opens_in_the_gates_view(page):
    tab = page.open("/compare")
    wait_for_charts(tab)
    tab.get_by_text("Open text B in the gates view", exact=False).click()
    tab.wait_for_url("**/gates?**", timeout=15_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    assert tab.locator(".st-key-text textarea").input_value() == PRESETS["A new subject"][1]
    assert query_of(tab)["t"] == "6"  # “dan”: where B goes on past A


def test_hostile_links_show_messages_and_never_run_html(page):
    page.set_viewport_size(TALL)
    hostile = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> Bob is <b>nice</b> 😀.'
    query = {"compare_a": hostile, "compare_signal": "evil", "compare_top_k": "abc", "model": "<i>x</i>"}
    tab = page.open("/compare?" + urlencode(query))
    assert_no_exception(tab)
    assert tab.evaluate("window.pwned") is None
    for tag in ("img", "b", "i", "script"):  # Markdown's own bold is <strong>: any of these came from the link
        assert tab.locator(f"[data-testid='stMarkdownContainer'] {tag}").count() == 0, tag
    alerts = alerts_of(tab)
    assert "compare_signal “evil”" in alerts and "compare_top_k “abc”" in alerts and "no model called" in alerts
    wait_for_charts(tab)
    assert "&lt;" not in chart_text(tab, 0)  # escaped once: the tick labels show the typed characters
    screenshot(tab, "compare_hostile_link")
    tab = page.open("/compare?compare_b=")  # an empty parameter clears text B
    assert_no_exception(tab)
    assert "Text B is empty" in alerts_of(tab)
    assert tab.locator("[data-testid='stPlotlyChart']").count() == 0
