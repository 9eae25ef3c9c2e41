"""/step and /tutorial in headless Chromium: deep links, the URL following prev/next, arrow keys and
play, the tutorial's links, and hostile links. Screenshots go to tests/screenshots/."""

import re
from urllib.parse import quote

import pytest

from tests.pages import assert_no_exception, query_of, screenshot, wait_for_query, wait_until_idle
from ui.typed_text import DEFAULT_TEXT  # a text equal to it is left out of the URL, as any default

pytestmark = pytest.mark.browser

SWITCH = "Bob is a nice person. Mary, on the other hand, is evil."  # "mary" is token 6


@pytest.fixture(scope="module")
def gender_unit() -> int:
    """The unit the lessons follow, read from the shipped model (retraining may move it)."""
    from lstm_core.models.language_model import load_pretrained

    return load_pretrained("words").units["subject gender"].unit


def token_slider_value(tab) -> int:
    return int(tab.locator(".st-key-t input[type='range']").input_value())


def step_path(**query) -> str:
    return "/step?" + "&".join(f"{key}={quote(str(value))}" for key, value in query.items())


def test_deep_link_opens_the_token_and_unit_with_diagram_strips_and_equations(page, gender_unit):
    from lstm_core.models.language_model import load_pretrained

    forget = load_pretrained("words").trace(SWITCH).gates["forget"][0, 0, 6, gender_unit]
    tab = page.open(step_path(text=SWITCH, model="words", layer=0, t=6, unit=gender_unit))
    assert_no_exception(tab)
    assert token_slider_value(tab) == 6
    assert tab.locator(".st-key-unit input").input_value() == str(gender_unit)
    assert tab.get_by_text(f"Unit {gender_unit} reads Mary.").is_visible()
    assert tab.get_by_text(f"The forget gate of unit {gender_unit} is {forget:.2f}").is_visible()
    assert tab.locator("[data-testid='stPlotlyChart']").count() == 3
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for()
    assert tab.locator(".katex").count() >= 12  # six equations with symbols, six with numbers
    screenshot(tab, "step-deep-link")


def test_previous_next_buttons_and_arrow_keys_move_the_token_and_the_url(page, gender_unit):
    tab = page.open(step_path(text=SWITCH, t=6, unit=gender_unit))
    tab.locator(".st-key-step_next button").click()
    wait_for_query(tab, "t", "7")
    assert token_slider_value(tab) == 7
    tab.locator(".st-key-step_previous button").click()
    wait_for_query(tab, "t", "6")
    tab.locator(".st-key-step_previous button").click()
    wait_for_query(tab, "t", "5")
    tab.locator("h2").first.click()  # focus the page, not a widget: arrows then mean previous / next
    tab.keyboard.press("ArrowRight")
    wait_for_query(tab, "t", "6")
    tab.keyboard.press("ArrowRight")
    wait_for_query(tab, "t", "7")
    tab.keyboard.press("ArrowLeft")
    wait_for_query(tab, "t", "6")
    assert token_slider_value(tab) == 6
    assert tab.get_by_text(f"Unit {gender_unit} reads Mary.").is_visible()
    assert_no_exception(tab)
    screenshot(tab, "step-after-arrows")


def test_typing_a_unit_updates_the_url(page):
    tab = page.open(step_path(text=SWITCH, t=6))
    unit_box = tab.locator(".st-key-unit input")
    unit_box.fill("17")
    unit_box.press("Enter")
    wait_for_query(tab, "unit", "17")
    assert tab.get_by_text("Unit 17 reads Mary.").is_visible()


def test_play_steps_through_the_tokens(page):
    tab = page.open(step_path(text=SWITCH, t=12, unit=3))
    tab.locator(".st-key-step_play label").click()
    wait_for_query(tab, "t", "13")
    wait_for_query(tab, "t", "15")  # the last token: play stops there, switching itself off on its next tick
    tab.wait_for_function("(selector) => !document.querySelector(selector).checked", arg=".st-key-step_play input",
                          timeout=15_000)  # fmt: skip
    wait_until_idle(tab)
    assert query_of(tab)["t"] == "15"
    assert not tab.locator(".st-key-step_play input").is_checked()
    assert_no_exception(tab)


def test_tutorial_links_land_on_the_lessons_token(page, gender_unit):
    from lstm_core.models.language_model import load_pretrained
    from ui import explain, lessons

    lesson = lessons.forget_lesson(load_pretrained("words"))  # the token the analysis finds (retraining may move it)
    tab = page.open("/tutorial")
    assert_no_exception(tab)
    # Each lesson keeps its charts and links until its question is answered: show every answer.
    hidden = tab.locator("[data-testid='stPlotlyChart']").count()
    for key in ("warm_up", "forget_words", "input_words", "output_words"):
        tab.locator(f".st-key-tutorial_question_{key}_reveal button").click()
        wait_until_idle(tab)
    assert tab.locator("[data-testid='stPlotlyChart']").count() >= hidden + 3 * len(lessons.build_lessons(
        load_pretrained("words"), "words").lessons)  # fmt: skip
    screenshot(tab, "tutorial")
    tab.get_by_text("Open this step, with the equations").first.click()
    tab.wait_for_url(re.compile(r".*/step\?.*"), timeout=15_000)
    wait_until_idle(tab)
    query = query_of(tab)
    assert query.get("text", DEFAULT_TEXT) == lesson.text and query["t"] == str(lesson.t)
    assert token_slider_value(tab) == lesson.t
    # A bound widget keeps its default out of the URL: the subject-gender unit is the default unit.
    unit = int(query.get("unit", gender_unit))
    reads = explain.explain_step(lesson.trace.step(lesson.t), unit, lesson.tokens)[0]
    assert tab.get_by_text(reads).is_visible()
    assert_no_exception(tab)
    screenshot(tab, "tutorial-to-step")


def test_bad_link_values_show_messages_not_errors(page):
    tab = page.open("/step?t=abc&unit=-3&model=evil&layer=7")
    assert_no_exception(tab)
    alerts = " ".join(tab.locator("[data-testid='stAlert']").all_inner_texts())
    for expected in ("no model called “evil”", "token “abc”", "unit “-3”", "layer “7”"):
        assert expected in alerts
    assert token_slider_value(tab) == 0
    screenshot(tab, "step-bad-link")
    tab = page.open("/step?t=999")
    assert "999 is out of range" in " ".join(tab.locator("[data-testid='stAlert']").all_inner_texts())
    assert token_slider_value(tab) == int(tab.locator(".st-key-t input[type='range']").get_attribute("max"))


@pytest.mark.parametrize(("model", "drawn"), [("words", "< script >"), ("story", "<unk>")])
def test_html_in_the_text_is_shown_as_typed_and_never_runs(page, model, drawn):
    hostile = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> Bob is <b>nice</b>.'
    tab = page.open(step_path(text=hostile, t=3, model=model))
    assert_no_exception(tab)
    assert tab.evaluate("window.pwned") is None
    shown = " ".join(tab.locator("[data-testid='stMarkdownContainer']").all_inner_texts())
    assert tab.locator(".st-key-text textarea").input_value() == hostile  # kept as typed
    # the markup's signs as the model read them (`words` reads every word; `story` reads "script" as <unk>),
    # drawn as text, not swallowed as a tag
    assert drawn in shown
    assert tab.locator("[data-testid='stMarkdownContainer'] b").count() == 0
    assert tab.locator("[data-testid='stMarkdownContainer'] img").count() == 0
