"""The pages with a tagger (AppTest): the layer and direction pickers alive, each word's tags where a
language model shows its next word, the backward direction's step read from t+1, and every page that
takes a model working with both taggers."""

import pytest

from lstm_core.models.tagger import TAGGERS, load_tagger
from tests.pages import chart_specs, open_page

TEXT = "a can of fish."


@pytest.mark.parametrize("name", TAGGERS)
def test_gates_has_live_pickers_and_shows_each_words_tags(models, name):
    app = open_page("views/gates.py", {"model": name, "text": TEXT, "layer": "1", "t": "1"}, timeout=120)
    assert not app.exception, app.exception
    tagger = load_tagger(name)
    assert not app.selectbox(key="layer").disabled
    assert app.selectbox(key="direction").disabled == (tagger.lstm.num_directions == 1)
    assert not app.toggle(key="compare_layers").disabled
    titles = [spec["layout"].get("title", {}).get("text", "") for spec in chart_specs(app)]
    assert any(title.startswith("The tagger's 5 likeliest tags for each word") for title in titles), titles
    predictions = next(spec for spec in chart_specs(app) if "likeliest tags" in spec["layout"]["title"]["text"])
    subtitle = predictions["layout"]["title"]["subtitle"]["text"]
    expected = tagger.tag(["a", "can", "of", "fish", "."])[1]
    assert subtitle.startswith("for token 1") and f"“{expected}”" in subtitle
    assert app.text_input(key="words").label == "Tags to follow"
    assert app.text_input(key="words").placeholder == "NOUN, VERB"


def test_switching_a_taggers_unit_off_reports_the_words_own_tag_probabilities(models):
    app = open_page("views/gates.py", {"model": "tagger", "text": TEXT, "t": "1", "unit": "3", "off": "1"}, timeout=120)
    assert not app.exception, app.exception
    sentence = next(block.value for block in app.markdown if "switched off" in block.value and "P\\(NOUN\\)" in block.value)
    assert "for “can” \\(token 1\\)" in sentence
    app.text_input(key="words").set_value("adj, fish").run()
    assert any("“FISH” is not one of the tagger model's tags" in box.value for box in app.warning)


def test_step_in_the_backward_direction_reads_the_state_of_the_next_token(models):
    query = {"model": "tagger", "text": TEXT, "t": "1", "unit": "5", "layer": "1", "direction": "backward"}
    app = open_page("views/step.py", query, timeout=120)
    assert not app.exception, app.exception
    equations = [element.value for element in app.get("latex")]
    assert any("h_{t+1}" in equation for equation in equations) and not any("t-1" in eq for eq in equations)
    assert any("backward direction" in caption.value and "token 2" in caption.value for caption in app.caption)
    assert any("The tagger's likeliest tags for “can”" in caption.value for caption in app.caption)
    forward = open_page("views/step.py", query | {"direction": "forward"}, timeout=120)
    assert any("h_{t-1}" in element.value for element in forward.get("latex"))


@pytest.mark.parametrize("name", TAGGERS)
@pytest.mark.parametrize("page", ["views/compare.py", "views/corpus.py", "views/saturation.py"])
def test_every_other_page_that_takes_a_model_takes_a_tagger(models, name, page):
    query = {"model": name, "compare_a": "I can fish.", "compare_b": "a can of fish."}
    app = open_page(page, query, timeout=300)
    assert not app.exception, app.exception
    assert app.get("plotly_chart") or app.table or app.dataframe
