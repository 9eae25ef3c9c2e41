"""/saturation with AppTest (default, deep links, bad links, a session model with two layers and two
directions, the cache) and its figure and sentences on hand-made numbers."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lstm_core.analysis import explore
from lstm_core.analysis.units import GateSaturation, gate_saturation
from tests.pages import messages, new_session, open_page
from tests.test_corpus_page import bidirectional_char_model
from ui import corpus_figures as figures
from ui import corpus_runs, model_store

SATURATION = "views/saturation.py"
SATURATION_SEED = 2_000_001  # the page's corpus: held-out stories


@pytest.fixture
def fresh_caches(models):
    st.cache_resource.clear()
    yield models
    st.cache_resource.clear()


def open_saturation(query: dict | None = None, app: AppTest | None = None) -> AppTest:
    return open_page(SATURATION, query, app=app, timeout=90)


def sentences(app: AppTest) -> str:
    return "\n".join(element.value for element in app.markdown).replace("\\", "")


def test_default_run_reports_the_numbers_of_the_word_model(fresh_caches):
    app = open_saturation({"stories": "20"})
    assert not app.exception, app.exception
    assert app.multiselect(key="models").value == ["words"] and not messages(app)
    assert len(app.get("plotly_chart")) == 1
    model = fresh_caches["words"]
    sequences = [model.input_vectors(text) for text in figures.story_texts(20, SATURATION_SEED)]
    expected = gate_saturation(model.lstm, sequences)
    open_forget = int((expected.above["forget"][0, 0] > 0.5).sum())
    shut_input = int((expected.below["input"][0, 0] > 0.5).sum())
    hidden = model.lstm.hidden_size
    text = sentences(app)
    assert f"{open_forget} of {hidden} forget-gate units are above 0.9 more than half of the time" in text
    assert f"{shut_input} of {hidden} input-gate units are below 0.1 more than half of the time" in text
    assert f"Measured over {expected.timesteps:,} tokens." in text


def test_two_models_side_by_side_and_the_cache(fresh_caches, monkeypatch):
    app = open_saturation({"models": ["words", "chars"], "stories": "10"})
    assert not app.exception, app.exception
    assert app.multiselect(key="models").value == ["words", "chars"]
    assert len(app.get("plotly_chart")) == 2
    import lstm_core.analysis.explore

    calls = []
    monkeypatch.setattr(lstm_core.analysis.explore, "gate_saturation_chunks", lambda *a, **k: calls.append(1))
    app.run()  # a rerun: both results come from the cache, nothing is computed
    assert not app.exception and not calls and len(app.get("plotly_chart")) == 2


def test_bad_links_get_messages(fresh_caches):
    app = open_saturation({"models": ["<b>nope</b>"], "stories": "-4"})
    assert not app.exception, app.exception
    shown = messages(app).replace("\\", "")
    assert "There is no model called “<b>nope</b>”" in shown and "stories “-4”" in shown
    assert "\\<b\\>" in messages(app)  # escaped
    assert app.number_input(key="stories").value == figures.STORY_LIMITS[0]
    assert len(app.get("plotly_chart")) == 1  # the first model instead
    app = open_saturation({"stories": "9999999999999999999999", "models": ["words", "???"]})
    assert not app.exception and app.number_input(key="stories").value == figures.STORY_LIMITS[1]
    assert "“???”" in messages(app).replace("\\", "")


def test_no_model_chosen_asks_for_one(fresh_caches):
    app = open_saturation({"stories": "10"})
    app.multiselect(key="models").set_value([]).run()
    assert not app.exception and "Choose at least one model" in messages(app)
    assert not app.get("plotly_chart")


def test_a_session_model_draws_a_panel_per_layer_and_direction(fresh_caches):
    app = new_session(timeout=90)
    name = model_store.add_session_model(bidirectional_char_model(), "uploaded", session=app.session_state)
    open_saturation({"models": ["words", name], "stories": "5"}, app)
    assert not app.exception, app.exception
    assert len(app.get("plotly_chart")) == 1 + 4
    assert list(app.session_state["_saturation_results"]) == [(name, 5)]  # kept in this session only


def test_a_wide_session_model_reads_only_the_stories_within_the_work_limit(fresh_caches, monkeypatch):
    """Units × tokens read stays within the work a page may ask of a session model, in all and in each batch;
    the page says how many stories it read."""
    model = bidirectional_char_model()  # 2 layers × 2 directions × 6 units
    units, budget_tokens = 24, 2_000
    monkeypatch.setattr(corpus_runs, "SESSION_SATURATION_WORK", units * budget_tokens)
    runs = []
    measure = explore.gate_saturation_chunks

    def counted(lstm, sequences, chunk_size=128, **kwargs):
        lengths = [len(sequence) for sequence in sequences]
        runs.append((len(sequences), sum(lengths), max(lengths), chunk_size))
        return measure(lstm, sequences, chunk_size=chunk_size, **kwargs)

    monkeypatch.setattr(explore, "gate_saturation_chunks", counted)
    app = new_session(timeout=90)
    name = model_store.add_session_model(model, "wide", session=app.session_state)
    open_saturation({"models": [name], "stories": "100"}, app)
    assert not app.exception, app.exception
    [(count, tokens, longest, chunk)] = runs
    assert 1 <= count < 100 and tokens <= budget_tokens
    stories = figures.story_texts(count + 1, SATURATION_SEED)
    assert tokens + len(model.tokens(stories[count])) > budget_tokens  # as many whole stories as fit
    assert chunk * longest * units <= units * budget_tokens  # a padded batch too
    assert f"reads {count} of the 100 stories" in messages(app).replace("\\", "")
    assert any(f"{count} stories." in caption.value.replace("\\", "") for caption in app.caption)
    assert app.number_input(key="stories").value == 100  # the choice stays; only what is read is less

    monkeypatch.setattr(corpus_runs, "SESSION_SATURATION_WORK", 1)  # less than one story: still one, alone
    app.number_input(key="stories").set_value(50).run()
    assert not app.exception, app.exception
    assert runs[-1][0] == 1 and runs[-1][3] == 1
    assert "reads 1 of the 50 stories" in messages(app).replace("\\", "")


# ------------------------------------------------------------------------------ the figure
def hand_made() -> GateSaturation:
    # 4 units, one layer, one direction
    below = {gate: np.array([[[0.0, 0.6, 0.05, 0.2]]]) for gate in ("input", "forget", "output")}
    above = {gate: np.array([[[0.9, 0.1, 0.02, 0.7]]]) for gate in ("input", "forget", "output")}
    return GateSaturation(below=below, above=above, timesteps=1234)


def test_saturation_figure_has_a_triangle_and_a_coloured_trace_per_gate():
    figure = figures.saturation_figure(hand_made(), title="<b>x</b>")
    triangle, *gates = figure.data
    assert list(triangle.x) == [0, 1, 0, 0] and list(triangle.y) == [0, 0, 1, 0]
    assert [trace.name for trace in gates] == ["forget gate", "input gate", "output gate"]
    assert len({trace.marker.color for trace in gates}) == 3 and len({trace.marker.symbol for trace in gates}) == 3
    forget = gates[0]
    np.testing.assert_allclose(forget.x, [0.0, 0.6, 0.05, 0.2])
    np.testing.assert_allclose(forget.y, [0.9, 0.1, 0.02, 0.7])
    assert forget.x.dtype == np.float32 and list(forget.customdata) == [0, 1, 2, 3]
    assert "unit %{customdata}" in forget.hovertemplate and "forget gate" in forget.hovertemplate
    assert figure.layout.title.text == "&lt;b&gt;x&lt;/b&gt;"


def test_saturation_sentences_count_from_the_numbers():
    text = " ".join(figures.saturation_sentences(hand_made()))
    assert "2 of 4 forget-gate units are above 0.9 more than half of the time" in text  # units 0 and 3
    assert "1 of 4 input-gate units are below 0.1 more than half of the time" in text  # unit 1
    assert "2 of 4 output gates are mostly open" in text and "and 1 mostly shut" in text
    assert "3 of the 12 gates are saturated less than 10% of the time" in text  # unit 2 of each: 0.05 + 0.02
    assert "Measured over 1,234 tokens." in text
    shut = GateSaturation(below={"forget": np.ones((1, 1, 3))}, above={"forget": np.zeros((1, 1, 3))}, timesteps=9)
    assert "No forget gate is above 0.9" in " ".join(figures.saturation_sentences(shut))
