"""/gates and / in headless Chromium: deep links, the navigation sidebar, clicking a heatmap cell, the
way on to /step, hostile text; screenshots go to tests/screenshots/ for a person to look at.

AppTest cannot click a Plotly chart or see what the browser renders; these tests can.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from lstm_core.models.language_model import load_pretrained
from tests.pages import assert_no_exception, query_of, resize, screenshot, wait_until_idle
from ui.typed_text import DEFAULT_TEXT  # a text equal to it is left out of the URL, as any default

pytestmark = pytest.mark.browser

TEXT = "Mary is a nice person. Dan, on the other hand, is evil."
TALL = {"width": 1400, "height": 3400}  # Streamlit scrolls inside the page: a tall window shows it all


def charts(tab):
    return tab.locator("[data-testid='stPlotlyChart'] .js-plotly-plot")


def number_input(tab, key: str):
    return tab.locator(f".st-key-{key} input")


def test_deep_link_opens_the_gates_with_the_navigation_sidebar(page):
    tab = page.open(f"/gates?text={quote(TEXT)}&t=7&unit=3")
    assert_no_exception(tab)
    assert charts(tab).count() >= 8  # coloured text, predictions, six heatmaps
    navigation = tab.locator("[data-testid='stSidebarNav']").inner_text()
    for title in ("Home", "Gates over a sentence", "One step inside the cell"):
        assert title in navigation
    assert "gates view" not in navigation.lower()  # not the legacy list of page files
    assert number_input(tab, "t").input_value() == "7" and number_input(tab, "unit").input_value() == "3"
    assert "Token 7 “,”, unit 3" in tab.locator("[data-testid='stSidebar']").inner_text()
    resize(tab, TALL)
    screenshot(tab, "gates_deep_link")


def test_clicking_a_heatmap_cell_selects_it_and_leads_to_step(page):
    tab = page.open(f"/gates?text={quote(TEXT)}&top_k=16")
    heatmap = tab.locator(".st-key-gates_heatmap_forget .js-plotly-plot")
    heatmap.scroll_into_view_if_needed()
    # where is the cell of token 4 in the third row? Ask Plotly's own axes.
    token, row = 4, 2
    x, y, unit = heatmap.evaluate(
        """(plot, [token, row]) => {
            const layout = plot._fullLayout, box = plot.getBoundingClientRect();
            return [box.left + layout.xaxis._offset + layout.xaxis.l2p(token),
                    box.top + layout.yaxis._offset + layout.yaxis.l2p(row),
                    layout.yaxis.categoryarray[row]];
        }""",
        [token, row],
    )
    tab.mouse.move(x, y)
    # the hover names the token (from the axis), its index and the unit
    hover = tab.locator(".st-key-gates_heatmap_forget .hoverlayer .hovertext")
    hover.wait_for(timeout=5_000)
    text = hover.text_content()  # the lines run together: "token person (t=4)unit 84f = 0.9941"
    assert f"token person (t={token})" in text and re.search(rf"unit ([^·]* · )?{unit}f = [01]\.\d{{4}}$", text), text
    tab.mouse.click(x, y)
    wait_until_idle(tab)
    expected = f"new URLSearchParams(location.search).get('t') === '{token}'"
    # a value equal to the widget's default (the subject-gender unit, which /gates follows) is left out of the URL
    default_unit = load_pretrained("words").units["subject gender"].unit
    expected += f" && (new URLSearchParams(location.search).get('unit') ?? '{default_unit}') === '{unit}'"
    try:
        tab.wait_for_function(f"() => {expected}", timeout=20_000)
    except Exception:
        raise AssertionError(f"after clicking token {token}, unit {unit}: {tab.url}") from None
    assert_no_exception(tab)
    assert number_input(tab, "t").input_value() == str(token)
    assert number_input(tab, "unit").input_value() == str(unit)
    assert query_of(tab).get("unit", str(default_unit)) == str(unit)
    resize(tab, TALL)
    screenshot(tab, "gates_after_click")

    tab.locator("[data-testid='stSidebar']").get_by_text("Step through this token in the cell").click()
    tab.wait_for_url(re.compile(r".*/step\?.*"), timeout=30_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    query = query_of(tab)
    assert query["t"] == str(token) and query.get("unit", str(default_unit)) == str(unit) and query.get("text", DEFAULT_TEXT) == TEXT
    assert number_input(tab, "unit").input_value() == str(unit)  # /step follows the same unit


def test_hovering_a_guess_names_the_token_its_index_and_the_guess(page):
    tab = page.open(f"/gates?text={quote(TEXT)}")
    chart = tab.locator(".st-key-gates_predictions .js-plotly-plot")
    chart.scroll_into_view_if_needed()
    x, y = chart.evaluate(
        """plot => { const layout = plot._fullLayout, box = plot.getBoundingClientRect();
            return [box.left + layout.xaxis._offset + layout.xaxis.l2p(4), box.top + layout.yaxis._offset + layout.yaxis.l2p(2)]; }"""
    )
    tab.mouse.move(x, y)
    hover = tab.locator(".st-key-gates_predictions .hoverlayer .hovertext")
    hover.wait_for(timeout=5_000)
    assert re.fullmatch(r"after token person \(t=4\): guess 2 is .+ \(p = [01]\.\d{3}\)", hover.text_content()), hover.text_content()


def test_clicking_a_token_of_the_coloured_text_selects_it(page):
    tab = page.open(f"/gates?text={quote(TEXT)}")
    text_chart = tab.locator(".st-key-gates_text_chart .js-plotly-plot")
    text_chart.scroll_into_view_if_needed()  # the lines above it (the unit's reading) can push it below the fold
    x, y = text_chart.evaluate(
        """(plot) => {
            const layout = plot._fullLayout, bars = plot.data[0], box = plot.getBoundingClientRect();
            const i = 4;  // "person"
            return [box.left + layout.xaxis._offset + layout.xaxis.l2p(bars.base[i] + bars.x[i] / 2),
                    box.top + layout.yaxis._offset + layout.yaxis.l2p(bars.y[i])];
        }"""
    )
    tab.mouse.click(x, y)
    wait_until_idle(tab)
    tab.wait_for_function("() => new URLSearchParams(location.search).get('t') === '4'", timeout=20_000)
    assert number_input(tab, "t").input_value() == "4"


def test_hostile_links_give_messages_and_run_no_script(page):
    hostile = "<img src=x onerror='window.hacked=1'> <script>window.hacked=2</script> Bob 😀"
    tab = page.open(f"/gates?text={quote(hostile)}&t=abc&unit=99999&model=evil&layer=7")
    assert_no_exception(tab)
    assert tab.evaluate("() => window.hacked") is None
    alerts = tab.locator("[data-testid='stAlert']").all_inner_texts()
    joined = " ".join(alerts)
    for words in ("no model called", "not a whole number", "out of range", "New to the words model"):
        assert words in joined, joined
    tab.set_viewport_size(TALL)
    screenshot(tab, "gates_hostile_link")


def test_home_page_shows_the_cell_and_the_ways_in(page):
    tab = page.open("/")
    assert_no_exception(tab)
    assert charts(tab).count() == 1
    diagram = charts(tab).first.inner_text()
    # a gate's name and symbol are two lines of one box ("forget" / "gate f"): the SVG text has no space between
    for part in ("forgetgate f", "inputgate i", "candidate g", "outputgate o", "cell state"):
        assert part in diagram, diagram
    for label in ("Open the gates", "Step through the cell", "Start the tutorial"):
        assert tab.get_by_text(label).count() == 1
    tab.set_viewport_size({"width": 1400, "height": 1300})
    screenshot(tab, "home")


def test_the_step_link_right_after_a_deep_link_opens_that_token_and_unit(page):
    """A student follows a teacher's /gates link and at once clicks on to /step (no other click first).
    Streamlit drops the query parameters the /gates widgets were bound to on the way; the session's
    selection must still open, and the URL must follow it from the first step on."""
    tab = page.open(f"/gates?text={quote(TEXT)}&t=7&unit=3")
    assert number_input(tab, "t").input_value() == "7"
    tab.locator("[data-testid='stSidebar']").get_by_text("Step through this token in the cell").click()
    tab.wait_for_url(re.compile(r".*/step(\?.*)?$"), timeout=30_000)
    tab.wait_for_selector(".st-key-step_next", timeout=30_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    assert tab.locator(".st-key-text textarea").input_value() == TEXT
    assert tab.locator(".st-key-unit input").input_value() == "3"
    assert tab.locator(".st-key-t input[type='range']").input_value() == "7"
    shown_link = tab.locator("[data-testid='stCode']").last.inner_text()
    assert "t=7" in shown_link and "unit=3" in shown_link, shown_link
    tab.locator(".st-key-step_next button").click()
    tab.wait_for_function("() => new URLSearchParams(location.search).get('t') === '8'", timeout=20_000)
    wait_until_idle(tab)
    query = query_of(tab)
    assert query.get("text", DEFAULT_TEXT) == TEXT and query.get("unit") == "3", tab.url
