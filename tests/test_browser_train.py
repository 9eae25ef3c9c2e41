"""/train in headless Chromium: a tiny run set through the sliders draws its curves live and opens
the trained LSTM in /gates; the default run can be stopped; hostile text never runs as HTML.
Screenshots go to tests/screenshots/."""

import re

import pytest

from tests.pages import assert_no_exception, screenshot, wait_until_idle

pytestmark = pytest.mark.browser

RESULT_TIMEOUT_MS = 60_000
# The step the progress bar shows ("Step 120 of 1500 · ..."), 0 while there is none.
SHOWN_STEP = r"""() => Math.max(0, ...Array.from(document.querySelectorAll("[data-testid='stProgress']"),
    (bar) => Number((/Step (\d+)/.exec(bar.innerText) ?? [0, 0])[1])))"""


def set_slider(tab, key: str, start: str, presses: int) -> None:
    """Move a slider with the keyboard: `start` ("Home" or "End"), then `presses` steps right (or left
    when negative). Each key press is one step of the slider's options."""
    thumb = tab.locator(f".st-key-{key} input[type='range']")
    thumb.focus()
    thumb.press(start)
    for _ in range(abs(presses)):
        thumb.press("ArrowRight" if presses > 0 else "ArrowLeft")
    wait_until_idle(tab)


def tiny_run_settings(tab) -> None:
    set_slider(tab, "train_lag", "Home", 2)  # lag 3
    set_slider(tab, "train_hidden", "Home", 1)  # 8 units
    set_slider(tab, "train_steps", "Home", 11)  # 120 steps
    set_slider(tab, "train_lr", "End", -1)  # 0.03


def test_a_tiny_run_draws_both_curves_and_opens_in_gates(page):
    tab = page.open("/train")
    assert_no_exception(tab)
    screenshot(tab, "train")
    tiny_run_settings(tab)
    tab.locator(".st-key-train_start button").click()
    tab.get_by_role("link", name="Open it in Gates over a sentence").wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(tab)
    assert_no_exception(tab)
    chart = tab.locator("[data-testid='stPlotlyChart']")
    assert chart.count() == 1
    chart.locator(".main-svg").first.wait_for()
    legend = " ".join(chart.locator(".legendtext").all_text_contents())
    assert "RNN" in legend and "LSTM" in legend and "chance: 25%" in legend
    assert tab.get_by_text("After 120 steps").is_visible()
    screenshot(tab, "train-tiny-run")

    tab.get_by_role("link", name="Open it in Gates over a sentence").click()
    tab.wait_for_url(re.compile(r".*/gates\?.*"), timeout=15_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    assert "model=remember-first" in tab.url
    assert tab.locator("[data-testid='stPlotlyChart']").count() >= 6  # text, predictions, six heatmaps
    screenshot(tab, "train-to-gates")


def test_the_default_run_shows_live_progress_and_stops(page):
    tab = page.open("/train")
    tab.locator(".st-key-train_start button").click()
    tab.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stProgress\"]')].some(e => /Step [1-9]/.test(e.innerText))",
        timeout=RESULT_TIMEOUT_MS,
    )
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for()
    for _ in range(2):  # two more redraws: the curves grow while the page stays usable
        step = tab.evaluate(SHOWN_STEP)
        tab.wait_for_function(f"(step) => ({SHOWN_STEP})() > step", arg=step, timeout=RESULT_TIMEOUT_MS)
    assert_no_exception(tab)
    screenshot(tab, "train-running")
    tab.locator(".st-key-train_stop button").click()
    tab.get_by_text("The run ended early").wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(tab)
    assert_no_exception(tab)
    assert tab.get_by_text("after your Stop").is_visible()
    screenshot(tab, "train-stopped")


def test_hostile_text_trains_and_never_runs_as_html(page):
    tab = page.open("/train")
    tab.get_by_text("Your own text").click()
    wait_until_idle(tab)
    hostile = (
        '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> Bob is <b>nice</b> 😀. ' * 3
        + "Dan, on the other hand, is evil. " * 4
    )
    tab.locator(".st-key-train_text textarea").fill(hostile)
    tab.locator(".st-key-train_text textarea").press("Control+Enter")
    wait_until_idle(tab)
    set_slider(tab, "train_text_hidden", "Home", 1)
    set_slider(tab, "train_text_steps", "Home", 2)  # 30 steps
    tab.locator(".st-key-train_start button").click()
    tab.get_by_role("link", name="Open it in Gates over a sentence").wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_until_idle(tab)
    assert_no_exception(tab)
    assert tab.evaluate("window.pwned") is None
    assert tab.locator("[data-testid='stMarkdownContainer'] b").count() == 0
    assert tab.locator("[data-testid='stMarkdownContainer'] img").count() == 0
    assert tab.get_by_text("reads them as <unk>: 😀").is_visible()
    screenshot(tab, "train-own-text")


def test_empty_text_gets_a_message(page):
    tab = page.open("/train")
    tab.get_by_text("Your own text").click()
    wait_until_idle(tab)
    tab.locator(".st-key-train_start button").click()
    wait_until_idle(tab)
    assert_no_exception(tab)
    assert tab.get_by_text("The text is empty").is_visible()
