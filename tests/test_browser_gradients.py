"""/gradients in headless Chromium: deep links draw the chart, the URL follows the widgets, and hostile
links show messages, not errors. Screenshots go to tests/screenshots/."""

from urllib.parse import quote

import pytest

from tests.pages import alerts_of, assert_no_exception, query_of, screenshot, wait_until_idle

pytestmark = pytest.mark.browser


def wait_for_charts(tab, count: int = 2) -> None:
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for()
    assert tab.locator("[data-testid='stPlotlyChart']").count() == count


def test_deep_link_to_a_long_lag_sequence_shows_the_chart(page):
    tab = page.open("/gradients?source=longlag&lag=60")
    assert_no_exception(tab)
    wait_for_charts(tab)
    assert tab.locator(".st-key-lag input[type='range']").input_value() == "60"
    assert tab.locator(".st-key-source input[type='radio']").nth(1).is_checked()
    legend = " ".join(tab.locator("[data-testid='stPlotlyChart'] .legendtext").all_text_contents())
    assert "RNN, trained" in legend and "LSTM, trained" in legend
    assert "untrained" not in legend  # the fair pair; untrained cells only when asked
    assert tab.get_by_text("At the first step,", exact=False).first.is_visible()
    assert tab.get_by_text("60 steps back", exact=False).first.is_visible()
    tab.locator("[data-testid='stPlotlyChart']").first.scroll_into_view_if_needed()  # the app scrolls inside itself
    screenshot(tab, "gradients-deep-link")


def test_the_default_text_view_and_the_url_following_a_widget(page):
    tab = page.open("/gradients")
    assert_no_exception(tab)
    wait_for_charts(tab, 3)  # how often each is right, how far back the gradient reaches, the forget gates
    legend = " ".join(tab.locator("[data-testid='stPlotlyChart'] .legendtext").all_text_contents())
    assert "LSTM, trained" in legend and "RNN, trained" in legend  # the story-world RNN beside the word model
    tab.locator(".st-key-measure label").filter(has_text="cell").click()
    tab.wait_for_function("new URLSearchParams(window.location.search).get('measure') === 'cell'", timeout=15_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    assert query_of(tab) == {"measure": "cell"}  # the other widgets sit at their defaults, which stay out of the URL
    gradient_chart = tab.locator("[data-testid='stPlotlyChart']").nth(1)  # after the accuracy chart
    assert "∂c" in gradient_chart.locator(".ytitle").first.text_content()
    tab.locator("[data-testid='stPlotlyChart']").first.scroll_into_view_if_needed()
    screenshot(tab, "gradients-text")


def test_hostile_links_show_messages_and_never_run_html(page):
    hostile = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> Bob is <b>nice</b>.'
    tab = page.open(f"/gradients?text={quote(hostile)}&measure=evil&seed=abc")
    assert_no_exception(tab)
    assert tab.evaluate("window.pwned") is None
    assert tab.locator("[data-testid='stMarkdownContainer'] img").count() == 0
    assert tab.locator("[data-testid='stMarkdownContainer'] b").count() == 0
    alerts = alerts_of(tab)
    assert "measure “evil”" in alerts and "seed “abc”" in alerts
    wait_for_charts(tab, 3)
    tab = page.open("/gradients?source=longlag&lag=99999")
    assert_no_exception(tab)
    assert "showing 400 instead" in alerts_of(tab)
    assert tab.locator(".st-key-lag input[type='range']").input_value() == "400"
    screenshot(tab, "gradients-bad-link")
