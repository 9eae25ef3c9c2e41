"""/playground in headless Chromium: presets redraw the chart and the URL follows, a slider moved by
keyboard, the hover box with every value, the 1997 switch, and bad or hostile links. Screenshots go
to tests/screenshots/."""

from urllib.parse import quote

import numpy as np
import pytest

from tests.pages import assert_no_exception, query_of, screenshot, wait_for_query, wait_until_idle
from ui import playground as pg

pytestmark = pytest.mark.browser

CHART = "[data-testid='stPlotlyChart'] .js-plotly-plot"


def chart_values(tab, name: str) -> np.ndarray:
    """The y values of one line of the playground figure, as the browser drew them."""
    values = tab.evaluate(
        """([selector, name]) => {
            const chart = document.querySelector(selector);
            const trace = chart && chart._fullData.find((trace) => trace.name === name);
            return trace ? Array.from(trace.y) : null;
        }""",
        [CHART, name],
    )
    assert values is not None, f"no line called {name!r} in the chart"
    return np.array(values)


def expected(key: str, **changes) -> dict[str, np.ndarray]:
    preset = pg.PRESETS[key]
    no_forget_gate = changes.pop("no_forget_gate", preset.no_forget_gate)
    trace = pg.run_unit(dict(preset.weights) | changes, pg.parse_sequence(preset.sequence).values,
                        preset.c0, preset.h0, no_forget_gate)  # fmt: skip
    return pg.unit_values(trace)


def wait_for_cell(tab, values: np.ndarray) -> None:
    """Wait until the chart's cell line (after its starting value) shows `values`."""
    tab.wait_for_function(
        """([selector, expected]) => {
            const chart = document.querySelector(selector);
            const trace = chart && chart._fullData.find((trace) => trace.name === "cell state c");
            if (!trace || trace.y.length !== expected.length + 1) return false;
            return expected.every((value, index) => Math.abs(trace.y[index + 1] - value) < 1e-9);
        }""",
        arg=[CHART, [float(value) for value in values]],
        timeout=15_000,
    )
    wait_until_idle(tab)


def open_playground(page, query: str = ""):
    tab = page.open("/playground" + query)
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for()
    return tab


def test_a_preset_click_redraws_the_chart_and_the_url_follows(page):
    tab = open_playground(page)
    assert_no_exception(tab)
    np.testing.assert_allclose(chart_values(tab, "cell state c")[1:], expected("keep")["cell"], atol=1e-9)
    assert tab.locator(CHART).count() == 2  # the unit across the sequence, the cell at one step
    screenshot(tab, "playground")
    tab.locator(".st-key-preset button", has_text="Count the 1s").click()
    wait_for_query(tab, "preset", "Count the 1s")
    wait_for_cell(tab, expected("count")["cell"])
    np.testing.assert_allclose(chart_values(tab, "input gate i"), expected("count")["input"], atol=1e-9)
    assert tab.locator(".st-key-sequence input").input_value() == pg.PRESETS["count"].sequence
    assert tab.get_by_text("Every 1 opens the input gate").is_visible()
    assert set(query_of(tab)) == {"preset"}  # the sliders sit at the preset's values: nothing else to say
    assert_no_exception(tab)
    screenshot(tab, "playground-count")
    tab.locator(".st-key-preset button", has_text="Keep a bit").click()
    wait_for_query(tab, "preset", None)
    wait_for_cell(tab, expected("keep")["cell"])


def test_a_slider_moved_by_keyboard_changes_the_chart_and_the_url(page):
    tab = open_playground(page, "?preset=Count+the+1s")
    wait_for_cell(tab, expected("count")["cell"])
    slider = tab.locator(".st-key-w_g input[type='range']")
    slider.focus()
    for _ in range(2):
        tab.keyboard.press("ArrowRight")  # 0.3 -> 0.5, one step of 0.1 each
    wait_for_query(tab, "w_g", "0.5")
    wait_for_cell(tab, expected("count", w_g=0.5)["cell"])
    assert not tab.locator(".st-key-playground_back_to_preset button:visible").is_disabled()
    tab.locator(".st-key-playground_back_to_preset button:visible").click()
    wait_for_query(tab, "w_g", None)
    wait_for_cell(tab, expected("count")["cell"])
    assert_no_exception(tab)


def test_hovering_a_step_shows_every_value_there(page):
    tab = open_playground(page)
    x, y = tab.evaluate(
        """(selector) => {
            const chart = document.querySelector(selector);
            const box = chart.getBoundingClientRect();
            const layout = chart._fullLayout;
            return [box.x + layout.xaxis._offset + layout.xaxis.l2p(5), box.y + layout.yaxis3._offset + layout.yaxis3.l2p(0.5)];
        }""",
        CHART,
    )
    tab.mouse.move(x, y)
    hover_box = "[data-testid='stPlotlyChart'] .hoverlayer"
    tab.wait_for_function("(selector) => document.querySelector(selector)?.textContent.trim().length > 0",
                          arg=hover_box, timeout=5_000)  # fmt: skip
    hover = tab.locator(hover_box).first.text_content()
    values = expected("keep")
    for name, key in (("forget gate f", "forget"), ("input gate i", "input"), ("cell state c", "cell")):
        assert f"{name} = {values[key][4]:.4f}" in hover, hover  # step 5, 4 decimals, one box for all panels
    assert "input x = 0" in hover
    screenshot(tab, "playground-hover")


def test_the_1997_cell_and_its_switch(page):
    tab = open_playground(page, "?preset=" + quote("The 1997 cell"))
    wait_for_cell(tab, expected("1997")["cell"])
    assert np.all(chart_values(tab, "forget gate f = 1 (no forget gate)") == 1.0)
    assert tab.locator(".st-key-w_f input[type='range']").is_disabled()
    assert_no_exception(tab)
    screenshot(tab, "playground-1997")
    tab.locator(".st-key-no_forget label").click()  # switch the forget gate back on
    wait_for_query(tab, "no_forget", "false")
    wait_for_cell(tab, expected("1997", no_forget_gate=False)["cell"])
    assert chart_values(tab, "cell state c").max() < 2  # the markers reset the cell again


def test_a_bad_link_is_explained_and_rewritten(page):
    tab = open_playground(page, "?preset=count&w_i=99&b_o=abc&step=77&sequence=1+1+-1+1")
    assert_no_exception(tab)
    alerts = " ".join(tab.locator("[data-testid='stAlert']").all_inner_texts())
    for message in ("w_i to 99; the slider stops at ±10", "b_o to “abc”", "step “77”"):
        assert message in alerts, alerts
    wait_for_query(tab, "preset", "Count the 1s")  # the short name, rewritten as the control writes it
    assert "b_o" not in query_of(tab) and "step" not in query_of(tab)
    wait_for_cell(tab, pg.unit_values(pg.run_unit(pg.PRESETS["count"].weights, [1, 1, -1, 1]))["cell"])
    screenshot(tab, "playground-bad-link")


def test_html_in_the_sequence_is_shown_as_typed_and_never_runs(page):
    hostile = '<script>window.pwned=1</script> 1 <img src=x onerror="window.pwned=2"> 0 😀 1'
    tab = open_playground(page, "?sequence=" + quote(hostile))
    assert_no_exception(tab)
    assert tab.evaluate("window.pwned") is None
    assert tab.locator(".st-key-sequence input").input_value() == hostile  # kept as typed
    alerts = " ".join(tab.locator("[data-testid='stAlert']").all_inner_texts())
    assert "Left out what is not a number: “<script>win…”" in alerts  # drawn as text, not swallowed as a tag
    assert tab.locator("[data-testid='stMarkdownContainer'] img").count() == 0
    assert tab.locator("[data-testid='stMarkdownContainer'] script").count() == 0
    assert len(chart_values(tab, "cell state c")) == 4  # c_0 and the three numbers
