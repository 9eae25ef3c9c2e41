"""/corpus and /saturation in headless Chromium: deep links draw the selection and the matches, the URL
follows the widgets, links to /gates open the match, and hostile links show messages, not errors.
Screenshots go to tests/screenshots/."""

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from lstm_core.models.language_model import load_pretrained
from tests.pages import alerts_of, assert_no_exception, query_of, screenshot, wait_until_idle

pytestmark = pytest.mark.browser

QUOTATION_LINK = "/corpus?ref=0&start=21&end=29&signal=cell&threshold=1.5"


def test_deep_link_finds_the_quotation_unit_and_other_quotations(page):
    tab = page.open(QUOTATION_LINK)
    assert_no_exception(tab)
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for()
    assert tab.locator(".st-key-start input").input_value() == "21"
    assert tab.locator(".st-key-end input").input_value() == "29"
    assert tab.get_by_text("“inside quotation” unit", exact=False).first.is_visible()
    table = tab.locator(".st-key-corpus_units").inner_text()
    quotation = load_pretrained("words").units["inside quotation"]
    assert f"unit {quotation.unit} {'↑' if quotation.above == 'inside' else '↓'}" in table
    # Every match is drawn with its own heatmap and a link to /gates.
    matches = tab.locator("[class*='st-key-corpus_match_']")
    assert matches.count() == 6
    assert tab.get_by_text("Open in /gates").count() == 6
    screenshot(tab, "corpus-deep-link")
    tab.locator(".st-key-corpus_match_0").scroll_into_view_if_needed()
    screenshot(tab, "corpus-matches")

    # The URL follows a widget: a lower threshold.
    tab.locator(".st-key-threshold input").fill("1.2")
    tab.locator(".st-key-threshold input").press("Enter")
    tab.wait_for_function("new URLSearchParams(window.location.search).get('threshold') === '1.2'", timeout=15_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    assert "start" not in query_of(tab)  # the default range stays out of the URL

    # A match's link opens /gates on that text, at the match's first token and the best unit.
    link = tab.locator("[data-testid='stPageLink'] a").filter(has_text="Open in /gates").first
    asked = parse_qs(urlsplit(link.get_attribute("href")).query)
    assert asked["text"][0] and asked["t"] and asked["unit"]
    link.click()
    tab.wait_for_url("**/gates*", timeout=15_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    assert tab.locator(".st-key-t input").input_value() == asked["t"][0]
    assert tab.locator(".st-key-unit input").input_value() == asked["unit"][0]
    assert tab.locator(".st-key-text textarea").input_value() == asked["text"][0]
    screenshot(tab, "corpus-match-in-gates")


def test_pasted_hostile_text_and_bad_link_values(page):
    hostile = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> Bob said: "I am <b>tired</b>".'
    tab = page.open(f"/corpus?corpus=pasted&corpus_text={quote(hostile)}&start=abc&end=999&threshold=nan&signal=evil")
    assert_no_exception(tab)
    assert tab.evaluate("window.pwned") is None
    assert tab.locator("[data-testid='stMarkdownContainer'] img").count() == 0
    assert tab.locator("[data-testid='stMarkdownContainer'] b").count() == 0
    alerts = alerts_of(tab)
    assert "threshold “nan”" in alerts and "signal “evil”" in alerts
    assert "start “abc”, but it is not a whole number" in alerts and "end “999”, but it is out of range" in alerts
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for()
    screenshot(tab, "corpus-hostile-link")


def test_saturation_of_both_shipped_models(page):
    tab = page.open("/saturation?models=words&models=chars&stories=40")
    assert_no_exception(tab)
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").nth(1).wait_for()
    assert tab.locator("[data-testid='stPlotlyChart']").count() == 2
    legend = " ".join(tab.locator("[data-testid='stPlotlyChart'] .legendtext").all_text_contents())
    assert "forget gate" in legend and "input gate" in legend and "output gate" in legend
    assert tab.get_by_text("forget-gate units are above 0.9", exact=False).count() == 2
    screenshot(tab, "saturation-both-models")
    tab = page.open("/saturation?models=%3Cb%3Enope&stories=-4")
    assert_no_exception(tab)
    assert "no model called" in alerts_of(tab) and "stories “-4”" in alerts_of(tab)
    assert tab.locator("[data-testid='stPlotlyChart']").count() == 1


def test_the_character_model_numbers_every_fifth_character(page):
    tab = page.open("/corpus?model=chars&stories=30&start=114&end=143&threshold=0.5")
    assert_no_exception(tab)
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for()
    assert tab.locator(".st-key-model input[type='radio']").nth(1).is_checked()
    numbers = tab.locator(".st-key-corpus_reference .textpoint").all_text_contents()
    assert "114" in numbers and "143" in numbers and "110" in numbers and "115" not in numbers and "116" not in numbers
    screenshot(tab, "corpus-chars")
