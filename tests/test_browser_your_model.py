"""/your-model in headless Chromium: real uploads with `set_input_files`. A language model and its
vocabulary open in /gates of the same tab (the same session); a hostile pickle gets a refusal and does
not run; a bare LSTM draws its gates from the example input. Screenshots go to tests/screenshots/."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import torch

from tests.pages import alerts_of, assert_no_exception, screenshot, wait_until_idle
from tests.test_model_files import VOCAB, RunsCode, WordModel, seeded

pytestmark = pytest.mark.browser

STORY_VOCAB = [*VOCAB, "dog", "ran", "to", "a", "park", "and", "slept", ","]


def upload(tab, key: str, path) -> None:
    tab.locator(f".st-key-{key} input[type='file']").set_input_files(str(path))
    tab.locator(f".st-key-{key}").get_by_text(path.name).first.wait_for(
        timeout=30_000
    )  # the uploader lists the file once it is sent
    wait_until_idle(tab)


def test_an_uploaded_language_model_opens_in_gates_of_the_same_session(page, tmp_path):
    model = seeded(WordModel, vocab_size=len(STORY_VOCAB), embedding_size=8, hidden_size=24)
    weights, vocab = tmp_path / "story lstm.pt", tmp_path / "vocab.json"
    torch.save(model.state_dict(), weights)
    vocab.write_text(json.dumps(STORY_VOCAB))
    tab = page.open("/your-model")
    assert_no_exception(tab)
    upload(tab, "your_model_weights", weights)
    assert "Upload its vocabulary" in alerts_of(tab)
    upload(tab, "your_model_vocab", vocab)
    assert_no_exception(tab)
    ready = tab.locator("[data-testid='stMarkdownContainer']").filter(has_text="Your language model is ready")
    ready.first.wait_for(timeout=30_000)
    assert "listed as “story lstm (words)”" in ready.first.inner_text()
    screenshot(tab, "your-model-language-model")

    tab.get_by_role("link", name="Open it in Gates over a sentence").click()
    tab.wait_for_url("**/gates?**", timeout=30_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    query = {key: values[0] for key, values in parse_qs(urlsplit(tab.url).query).items()}
    assert query["model"] == "story lstm (words)"
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for(timeout=30_000)
    # the coloured text, the guesses, the words a switched-off unit would change most (a model without he and
    # she follows those), and the six heatmaps
    assert tab.locator("[data-testid='stPlotlyChart']").count() == 9
    checked = tab.locator(".st-key-model label:has(input:checked)").inner_text()
    assert "story lstm (words)" in checked
    assert "no model called" not in alerts_of(tab)
    screenshot(tab, "your-model-in-gates")


def test_a_hostile_pickle_is_refused_with_a_message_and_does_not_run(page, tmp_path):
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.pt"
    torch.save({"weight_ih_l0": RunsCode(marker)}, evil)
    tab = page.open("/your-model")
    upload(tab, "your_model_weights", evil)
    assert_no_exception(tab)
    refusal = tab.locator("[data-testid='stAlertContentError']")
    refusal.first.wait_for(timeout=30_000)
    assert "Refused: the PyTorch file holds Python objects (posix.system)" in refusal.first.inner_text()
    assert not marker.exists()
    screenshot(tab, "your-model-refused")


def test_a_bare_lstm_draws_its_gates_from_the_example_input(page, tmp_path):
    torch.manual_seed(0)
    weights = tmp_path / "sensor lstm.pt"
    torch.save(torch.nn.LSTM(3, 16, num_layers=2).state_dict(), weights)
    tab = page.open("/your-model")
    upload(tab, "your_model_weights", weights)
    tab.locator(".st-key-your_model_example button").click()
    wait_until_idle(tab)
    assert_no_exception(tab)
    tab.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for(timeout=30_000)
    assert tab.locator("[data-testid='stPlotlyChart']").count() == 8
    assert tab.get_by_text("Timestep 0, unit 0").first.is_visible()
    tab.locator("[data-testid='stPlotlyChart']").first.scroll_into_view_if_needed()  # the app scrolls inside itself
    screenshot(tab, "your-model-bare-lstm")

    heatmap = tab.locator(".st-key-your_model_heatmap_forget .js-plotly-plot")
    heatmap.scroll_into_view_if_needed()
    step, row = 9, 3  # where is the cell of timestep 9 in the fourth row? Ask Plotly's own axes.
    x, y, unit = heatmap.evaluate(
        """(plot, [step, row]) => {
            const layout = plot._fullLayout, box = plot.getBoundingClientRect();
            return [box.left + layout.xaxis._offset + layout.xaxis.l2p(step),
                    box.top + layout.yaxis._offset + layout.yaxis.l2p(row),
                    layout.yaxis.categoryarray[row]];
        }""",
        [step, row],
    )
    tab.mouse.move(x, y)
    tab.mouse.click(x, y)
    heading = tab.get_by_role("heading", name=f"Timestep {step}, unit {unit}")
    heading.wait_for(timeout=20_000)
    wait_until_idle(tab)
    assert_no_exception(tab)
    assert tab.locator(".st-key-your_model_t input").input_value() == str(step)
    heading.scroll_into_view_if_needed()
    screenshot(tab, "your-model-bare-lstm-step")
