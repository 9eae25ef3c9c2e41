"""Classroom features of /gates and /step in headless Chromium: presentation mode with keyboard stepping,
the share link, the downloads (CSV, .npz, HTML, and Plotly's client-side PNG), and a two-layer
bidirectional model's layers and directions side by side. Screenshots go to tests/screenshots/."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qs, quote, urlsplit

import numpy as np
import pytest

from lstm_core import load_pretrained
from tests.pages import (
    assert_no_exception,
    new_tab,
    open_url,
    query_of,
    resize,
    screenshot,
    wait_for_query,
    wait_until_idle,
)
from tests.test_gates_page import CHARTS as GATES_CHARTS

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api").expect  # retrying assertions: CSS lands after the script runs

TEXT = "Bob is a nice person. Mary, on the other hand, is evil."  # "mary" is token 6
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def downloaded(tab, click) -> tuple[str, bytes]:
    """Run `click` and return the file name and bytes of the download it starts."""
    with tab.expect_download(timeout=60_000) as info:
        click()
    download = info.value
    with open(download.path(), "rb") as file:
        return download.suggested_filename, file.read()


# ------------------------------------------------------------------------------ presentation
def test_presenting_step_hides_the_controls_and_steps_with_the_arrow_keys(page):
    tab = page.open(f"/step?text={quote(TEXT)}&t=6&unit=3&present=1")
    assert_no_exception(tab)
    # A hand-typed "1" opens presentation mode; the toggle understands only "true", so the bar's URL
    # drops it after the first run, and the Share link carries present=true.
    expect(tab.locator("[data-testid='stSidebar']")).to_be_hidden()
    expect(tab.locator("[data-testid='stHeader']")).to_be_hidden()
    expect(tab.locator(".st-key-text textarea")).to_be_hidden()
    expect(tab.locator(".st-key-t input[type='range']")).to_be_hidden()
    assert tab.locator(".st-key-step_next button").is_visible()
    assert tab.get_by_role("heading", name=re.compile("Token 6 “mary”, unit 3")).is_visible()
    assert tab.locator("[data-testid='stPlotlyChart']").count() == 1  # the diagram only
    assert tab.locator(".katex").count() == 0
    font_size = tab.locator("[data-testid='stMain'] [data-testid='stMarkdownContainer'] p").first.evaluate(
        "element => parseFloat(getComputedStyle(element).fontSize)"
    )
    assert font_size >= 22  # large type for the back of the room
    tab.locator("h3").first.click()  # focus the page, not a widget
    tab.keyboard.press("ArrowRight")
    wait_for_query(tab, "t", "7")
    tab.keyboard.press("ArrowRight")
    wait_for_query(tab, "t", "8")
    tab.keyboard.press("ArrowLeft")
    wait_for_query(tab, "t", "7")
    assert tab.get_by_role("heading", name=re.compile("Token 7")).is_visible()
    assert_no_exception(tab)
    screenshot(tab, "step-present")
    tab.locator(".st-key-step_leave_present button").click()
    tab.locator("[data-testid='stSidebar']").wait_for(state="visible", timeout=15_000)
    wait_until_idle(tab)
    assert tab.locator(".st-key-text textarea").is_visible()
    assert query_of(tab)["t"] == "7"


def test_presenting_gates_keeps_the_charts_and_leaves_with_escape(page):
    tab = page.open(f"/gates?text={quote(TEXT)}&t=3&unit=5&present=true")
    assert_no_exception(tab)
    expect(tab.locator("[data-testid='stSidebar']")).to_be_hidden()
    expect(tab.locator(".st-key-text textarea")).to_be_hidden()
    expect(tab.locator(".st-key-gates_example_0 button").first).to_be_hidden()
    expect(tab.locator("[data-testid='stPlotlyChart']")).to_have_count(GATES_CHARTS)  # retried: the first page of a fresh server loads the model
    main = tab.locator("[data-testid='stMain']")
    assert main.get_by_text("Token 3 “nice”, unit 5", exact=True).is_visible()
    tab.locator("[data-testid='stMain'] strong").first.click()
    tab.keyboard.press("ArrowRight")
    wait_for_query(tab, "t", "4")
    assert main.get_by_text("Token 4 “person”, unit 5", exact=True).is_visible()
    resize(tab, {"width": 1400, "height": 2000})
    screenshot(tab, "gates-present")
    tab.keyboard.press("Escape")
    wait_for_query(tab, "present", None)
    assert tab.locator("[data-testid='stSidebar']").is_visible()
    assert_no_exception(tab)


# ------------------------------------------------------------------------------------ share
def test_the_share_link_opens_the_same_view_in_a_new_session(page, browser, app_url):
    tab = page.open(f"/gates?text={quote(TEXT)}&t=6&unit=9&top_k=12")
    tab.locator(".st-key-gates_share button").first.click()
    link = tab.locator("[data-testid='stPopoverBody'] [data-testid='stCode']").inner_text().strip()
    assert link.startswith(f"{app_url}/gates?"), link
    shared = {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}
    assert shared["text"] == TEXT and shared["t"] == "6" and shared["unit"] == "9" and shared["top_k"] == "12"
    assert shared["model"] == "words" and "order" in shared
    screenshot(tab, "gates-share")
    other = new_tab(browser)
    try:
        open_url(other, link)
        assert_no_exception(other)
        assert other.locator(".st-key-t input").input_value() == "6"
        assert other.locator(".st-key-unit input").input_value() == "9"
        assert other.locator(".st-key-text textarea").input_value() == TEXT
    finally:
        other.context.close()


# ---------------------------------------------------------------------------------- exports
def test_the_png_button_of_a_chart_downloads_a_png(page):
    tab = page.open(f"/step?text={quote(TEXT)}&t=6&unit=3")
    diagram = tab.locator(".st-key-step_diagram .js-plotly-plot")
    diagram.hover()
    button = tab.locator(".st-key-step_diagram .modebar-btn[data-title='Download plot as a PNG']")
    assert tab.locator(".st-key-step_diagram .modebar-btn").count() == 1  # only the PNG button
    name, data = downloaded(tab, button.click)
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    assert name.endswith(".png") and "cell-words-t-6-unit-3" in name
    width = int.from_bytes(data[16:20], "big")
    assert width >= 2 * 500  # scale 2: sharp on a projector


def test_csv_npz_and_html_downloads(page):
    hostile = 'Bob said "=1+1", <b>hi</b>.'
    tab = page.open(f"/step?text={quote(hostile)}&model=chars&t=2")  # one token per character, "=" included
    tab.locator(".st-key-step_export button").first.click()
    tab.get_by_role("button", name="Trace as CSV").wait_for()
    name, data = downloaded(tab, tab.get_by_role("button", name="Trace as CSV").click)
    assert name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    tokens = {int(row["t"]): row["token"] for row in rows}
    units = load_pretrained("chars").lstm.hidden_size
    assert len(rows) == len(tokens) * units == len(hostile) * units
    assert tokens[10] == "'=" and tokens[12] == "'+" and tokens[9] == '"' and tokens[3] == " "  # formulas made inert
    name, data = downloaded(tab, tab.get_by_role("button", name="Trace as NumPy .npz").click)
    with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
        assert loaded["gates"].shape == (4, 1, 1, len(tokens), units) and "".join(loaded["tokens"]) == hostile
    name, data = downloaded(tab, tab.get_by_role("button", name="Charts as HTML").click)
    page_text = data.decode("utf-8")
    assert name.endswith(".html") and page_text.count('class="plotly-graph-div"') == 3
    assert "<b>hi</b>" not in page_text
    tab.keyboard.press("Escape")  # close the popover (a dialog) before looking for error dialogs
    # the downloaded page opens on its own and draws its charts, running none of the typed text
    viewer = tab.context.new_page()
    viewer.set_content(page_text)
    viewer.wait_for_selector(".plotly-graph-div .main-svg", timeout=30_000)
    assert viewer.locator(".plotly-graph-div").count() == 3 and viewer.locator("b").count() == 0
    viewer.close()
    tab.locator("[role='dialog']").wait_for(state="detached", timeout=10_000)
    assert_no_exception(tab)


# ------------------------------------------------------------------- layers and directions
@pytest.fixture
def bidirectional_files(tmp_path):
    """A random two-layer bidirectional character model, as /your-model reads it: .npz weights with
    PyTorch's names and a vocab.json."""
    from lstm_core import LSTM

    vocab = ["<unk>", *" abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,!?'\"-"]
    rng = np.random.default_rng(0)
    lstm = LSTM.random(input_size=8, hidden_size=10, num_layers=2, bidirectional=True, seed=0, scale=1.2)
    weights = {key: np.asarray(value, dtype=np.float32) for key, value in lstm.state_dict().items()}
    weights["embedding.weight"] = rng.normal(size=(len(vocab), 8)).astype(np.float32)
    weights["decoder.weight"] = rng.normal(size=(len(vocab), 20)).astype(np.float32)
    weights["decoder.bias"] = np.zeros(len(vocab), np.float32)
    np.savez(tmp_path / "bilayer.npz", **weights)
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    return tmp_path / "bilayer.npz", tmp_path / "vocab.json"


def test_a_two_layer_bidirectional_model_side_by_side(page, bidirectional_files):
    weights, vocab = bidirectional_files
    tab = page.open("/your-model")
    tab.locator(".st-key-your_model_weights input[type='file']").set_input_files(str(weights))
    wait_until_idle(tab)
    tab.locator(".st-key-your_model_vocab input[type='file']").set_input_files(str(vocab))
    wait_until_idle(tab)
    tab.get_by_text("Open it in Gates over a sentence").click()  # in-app: the session keeps the model
    tab.wait_for_url(re.compile(r".*/gates\?.*"), timeout=30_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    sidebar = tab.locator("[data-testid='stSidebar']")
    sidebar.locator(".st-key-compare_layers label").click()
    wait_for_query(tab, "compare_layers", "true")
    compare = tab.locator(".st-key-gates_compare_layers .js-plotly-plot")
    compare.wait_for()
    names = compare.evaluate("plot => plot.data.map(trace => trace.name)")
    assert names == ["layer 0 · forward", "layer 0 · backward", "layer 1 · forward", "layer 1 · backward"]
    assert tab.locator(".st-key-gates_heatmap_forget").count() == 0
    resize(tab, {"width": 1400, "height": 2200})
    screenshot(tab, "gates-layers-side-by-side")

    sidebar.get_by_text("Step through this token in the cell").click()
    tab.wait_for_url(re.compile(r".*/step(\?.*)?$"), timeout=30_000)
    tab.wait_for_selector(".st-key-step_next", timeout=30_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    if not tab.locator(".st-key-compare_layers input").is_checked():  # the choice may come along from /gates
        tab.locator(".st-key-compare_layers label").click()
    tab.locator(".st-key-step_compare_layers .js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    wait_until_idle(tab)
    bars = tab.locator(".st-key-step_compare_layers .js-plotly-plot").evaluate("plot => plot.data.length")
    assert bars == 4
    resize(tab, {"width": 1400, "height": 2600})
    screenshot(tab, "step-layers-side-by-side")
