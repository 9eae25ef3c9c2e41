"""/corpus with AppTest (the default run, deep links, bad links, pasted hostile or empty text, a session
model, the cache) and its pure helpers in ui/corpus_figures.py.

Runs on the shipped models; the checks of what the selection finds need the real word model.
"""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lstm_core import LSTM
from lstm_core.analysis import explore
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.tokenize import CharTokenizer
from tests.pages import messages, new_session, open_page
from ui import corpus_figures as figures
from ui import model_store, typed_text

CORPUS = "views/corpus.py"


@pytest.fixture
def fresh_caches(models):
    st.cache_resource.clear()  # the page's shared corpus cache lives there
    yield models
    st.cache_resource.clear()


def open_corpus(query: dict | None = None, app: AppTest | None = None) -> AppTest:
    return open_page(CORPUS, query, app=app, timeout=90)


def markdown(app: AppTest) -> str:
    return "\n".join(element.value for element in app.markdown)


def gates_links(app: AppTest) -> list:
    return [link for link in app.get("page_link") if "gates" in link.proto.page]


def units_table(app: AppTest) -> str:
    return str(app.table[0].value) if app.table else ""


def bidirectional_char_model(hidden_size: int = 6) -> LanguageModel:
    """Two layers, both directions, random weights: every index the page shows must stay in range."""
    tokenizer = CharTokenizer()
    rng = np.random.default_rng(0)
    vocab_size = len(tokenizer.vocab)
    lstm = LSTM.random(input_size=8, hidden_size=hidden_size, num_layers=2, bidirectional=True, seed=0, scale=1.5)
    return LanguageModel("mine", tokenizer, rng.normal(size=(vocab_size, 8)), lstm,
                         rng.normal(size=(vocab_size, 2 * hidden_size)), np.zeros(vocab_size))  # fmt: skip


# --------------------------------------------------------------------------------- the page
def test_default_run_finds_the_quotation_unit_and_draws_the_matches(fresh_caches):
    app = open_corpus()
    assert not app.exception, app.exception
    assert app.radio(key="model").value == "words" and app.radio(key="corpus").value == "stories"
    assert (app.number_input(key="ref").value, app.number_input(key="start").value) == (0, 21)
    assert app.number_input(key="end").value == 29 and app.radio(key="signal").value == "cell"
    assert not messages(app)
    quotation = fresh_caches["words"].units["inside quotation"]
    arrow = "↑" if quotation.above == "inside" else "↓"  # the unit may go up or down inside a quotation
    assert f"unit {quotation.unit} {arrow} (inside quotation)" in units_table(app)
    assert "“inside quotation” unit" in markdown(app)
    assert len(app.get("plotly_chart")) == 2 + 6  # the reference text, the selection, six matches
    links = gates_links(app)
    assert len(links) == 6
    assert "Story" in markdown(app) and "all selected units on at every token" in markdown(app)
    app.slider(key="corpus_shown").set_value(3).run()
    assert not app.exception and len(app.get("plotly_chart")) == 2 + 3


def test_the_gates_link_opens_the_matched_text_at_the_match(fresh_caches):
    app = open_corpus({"stories": "30"})
    assert not app.exception, app.exception
    link = gates_links(app)[0].proto
    query = dict(pair.split("=", 1) for pair in link.query_string.split("&")) if link.query_string else {}
    assert query["model"] == "words" and int(query["t"]) >= 0 and "text" in query


def test_deep_link_opens_that_exploration(fresh_caches):
    query = {"model": "chars", "stories": "12", "story_seed": "3", "ref": "2", "start": "5", "end": "9",
             "signal": "hidden", "threshold": "0.3", "margin": "0", "polarity": "positive"}  # fmt: skip
    app = open_corpus(query)
    assert not app.exception, app.exception
    assert not messages(app)
    assert app.radio(key="model").value == "chars" and app.number_input(key="stories").value == 12
    assert app.number_input(key="story_seed").value == 3 and app.number_input(key="ref").value == 2
    assert (app.number_input(key="start").value, app.number_input(key="end").value) == (5, 9)
    assert app.number_input(key="threshold").value == pytest.approx(0.3) and app.number_input(key="margin").value == 0
    assert app.radio(key="signal").value == "hidden" and app.radio(key="polarity").value == "positive"
    assert "Story 2" in markdown(app)
    assert "↓" not in units_table(app)  # only units that go up were asked for


def test_bad_link_values_get_messages_and_the_nearest_good_value(fresh_caches):
    query = {"stories": "-5", "story_seed": "abc", "ref": "1000", "start": "abc", "end": "999", "threshold": "nan",
             "signal": "<b>evil</b>", "corpus": "zzz", "margin": "9", "polarity": "up", "layer": "7"}  # fmt: skip
    app = open_corpus(query)
    assert not app.exception, app.exception
    shown = messages(app).replace("\\", "")  # the page escapes Markdown; compare the plain text
    for fragment in ("stories “-5”", "story_seed “abc”", "threshold “nan”", "margin “9”", "corpus “zzz”",
                     "polarity “up”", "story “1000”, but it is out of range (0 to 4); showing 4 instead",
                     "start “abc”, but it is not a whole number", "end “999”, but it is out of range", "layer “7”"):  # fmt: skip
        assert fragment in shown, fragment
    assert "\\<b\\>evil" in messages(app)  # escaped: what the link said shows as text
    assert "signal “<b>evil</b>”, which is not one of cell, hidden; showing cell instead" in shown
    assert app.number_input(key="stories").value == figures.STORY_LIMITS[0]
    assert app.number_input(key="ref").value == figures.STORY_LIMITS[0] - 1
    last = app.number_input(key="end").max
    assert app.number_input(key="end").value == last and app.number_input(key="margin").value == 5
    assert app.number_input(key="threshold").value == pytest.approx(figures.THRESHOLD_LIMITS[2])


def test_pasted_hostile_text_is_read_as_text(fresh_caches):
    hostile = '<script>alert(1)</script> Bob said: "I am **tired** 😀".\n\n<img src=x onerror=alert(2)> Mary is [x](javascript:alert(3))'
    app = open_corpus({"model": "chars", "corpus": "pasted", "corpus_text": hostile, "ref": "0", "start": "0",
                       "end": "7", "threshold": "0.0", "margin": "0"})  # fmt: skip
    assert not app.exception, app.exception
    assert app.number_input(key="ref").max == 1  # two lines, two texts
    text = markdown(app)
    assert "“\\<script\\>”" in text  # the selection sentence quotes the range, escaped
    assert "<script>" not in text.replace("\\<script\\>", "")
    assert "Not in the chars model's vocabulary" in "\n".join(caption.value for caption in app.caption)
    app.number_input(key="ref").set_value(1).run()
    assert not app.exception
    assert "\\<img" in markdown(app)


def test_empty_or_blank_pasted_text_asks_for_text(fresh_caches):
    for pasted in ("", "   \n\t\n  ", "\x00\x01"):
        app = open_corpus({"corpus": "pasted", "corpus_text": pasted})
        assert not app.exception, app.exception
        assert "The corpus is empty" in messages(app)
        assert not app.get("plotly_chart")


def test_a_threshold_nothing_reaches_says_so(fresh_caches):
    app = open_corpus({"threshold": "5", "signal": "hidden"})
    assert not app.exception, app.exception
    assert "No unit's hidden state h stays on (above 5 ↑ or below −5 ↓)" in markdown(app).replace("\\", "")
    assert len(app.get("plotly_chart")) == 1 and not gates_links(app)


def test_a_session_model_with_two_layers_and_two_directions(fresh_caches):
    app = new_session(timeout=90)
    name = model_store.add_session_model(bidirectional_char_model(), "two ways", session=app.session_state)
    open_corpus({"model": name, "stories": "8", "layer": "1", "direction": "backward", "threshold": "0.05",
                 "margin": "0", "start": "3", "end": "4"}, app)  # fmt: skip
    assert not app.exception, app.exception
    assert app.radio(key="model").value == name
    assert app.selectbox(key="layer").value == 1 and app.selectbox(key="direction").value == 1
    cached = app.session_state["_corpus_traced"]
    assert len(cached) == 1 and next(iter(cached))[0] == name  # kept in this session, not in the shared cache
    traced = next(iter(cached.values()))
    assert traced.cell.shape[:2] == (2, 2) and len(traced.texts) == 8
    assert len(app.get("plotly_chart")) >= 2


def test_a_rerun_finds_the_corpus_in_the_cache(fresh_caches, monkeypatch):
    calls = []
    original = explore.trace_corpus

    def counting(model, texts, **options):
        calls.append(len(texts))
        return original(model, texts, **options)

    monkeypatch.setattr(explore, "trace_corpus", counting)
    app = open_corpus({"stories": "20"})
    app.number_input(key="threshold").set_value(1.0).run()
    app.radio(key="signal").set_value("hidden").run()
    assert not app.exception and calls == [20]
    app.number_input(key="stories").set_value(30).run()
    assert calls == [20, 30]


# ------------------------------------------------------------------------------- the helpers
def test_pasted_texts_are_lines_cut_to_fit_gates():
    long_line = " ".join(["word"] * 2_000)  # 9,999 characters
    pasted = figures.pasted_texts(f"first line\n\n{long_line}\nlast\x07 line")
    assert pasted.texts[0] == "first line" and pasted.texts[-1] == "last line"
    assert all(len(text) <= typed_text.MAX_TEXT_CHARS for text in pasted.texts) and len(pasted.texts) == 4
    assert " ".join(pasted.texts[1:-1]) == long_line
    assert any("control" in notice for notice in pasted.notices)
    huge = figures.pasted_texts("a" * (figures.MAX_PASTED_CHARS + 10))
    assert sum(map(len, huge.texts)) == figures.MAX_PASTED_CHARS and "20,010" in huge.notices[0]
    assert figures.pasted_texts(None).texts == ()


def test_reference_figure_escapes_tokens_and_marks_the_range():
    tokens = ["<b>bob</b>", "is", "nice", "."]
    figure = figures.reference_text_figure(tokens, 11, 12, 1, first=10)
    bars, indices = figure.data
    assert bars.text[0] == "&lt;b&gt;bob&lt;/b&gt;"
    assert list(bars.marker.color) == [figures.MARGIN_COLOR, figures.RANGE_COLOR, figures.RANGE_COLOR,
                                       figures.MARGIN_COLOR]  # fmt: skip
    assert list(indices.text) == ["10", "11", "12", "13"]


def test_selection_figure_hover_gives_the_token_and_its_index():
    values = np.arange(30, dtype=np.float32).reshape(6, 5) / 30
    figure = figures.selection_figure(values, list("abcdef"), [(3, 1), (0, -1)], 12, 13, 0.5, first=10)
    curve = figure.data[0]
    assert list(curve.text) == list("abcdef") and list(figure.layout.xaxis.ticktext) == list("abcdef")
    # with tick texts on the axis, %{x} would print the token again: the index is %{x:d}
    assert "token %{text} (t=%{x:d})" in curve.hovertemplate
    np.testing.assert_allclose(figure.data[1].y, -values[:, 0])  # a unit on downwards is drawn as minus its value


def test_match_figure_outlines_the_match_under_the_text():
    values = np.arange(30, dtype=np.float32).reshape(6, 5) / 30
    match = explore.Match(text_index=0, start=12, end=13, units_on=2, mean_on=1.0)
    figure = figures.match_figure(values, list("abcdef"), [(3, 1), (0, -1)], match, first=10, signal="hidden")
    heatmap = figure.data[0]
    np.testing.assert_allclose(heatmap.z, values[:, [3, 0]].T)
    assert heatmap.z.dtype == np.float32 and (heatmap.zmin, heatmap.zmax) == (-1.0, 1.0)
    outline = figure.layout.shapes[0]
    assert (outline.x0, outline.x1) == (11.5, 13.5)
    assert list(figure.layout.yaxis.ticktext) == ["unit 3 ↑", "unit 0 ↓"]
    # the hover reads the row and the token from the axes' tick texts, t as the number
    assert list(figure.layout.xaxis.tickvals) == list(range(10, 16)) and list(figure.layout.xaxis.ticktext) == list("abcdef")
    assert heatmap.hovertemplate.startswith("%{y}<br>token %{x} (t=%{x:d})") and heatmap.customdata is None


def test_match_sentence_names_the_span_and_how_many_units_are_on():
    match = explore.Match(text_index=3, start=2, end=4, units_on=1, mean_on=0.75)
    tokens = ["bob", "said", '"', "<b>hi</b>", '"']
    line = figures.match_sentence(match, 2, tokens, "Story 3")
    assert (
        line
        == 'Story 3, tokens 2 to 4, “" <b>hi</b> "”: 1 of 2 selected units on at every token (75% of them on, on average).'
    )
    everything = explore.Match(text_index=0, start=0, end=0, units_on=2, mean_on=1.0)
    assert figures.match_sentence(everything, 2, tokens, "Line 0").endswith(
        "“bob”: all selected units on at every token."
    )


def test_fewer_units_at_once_find_more_spans(fresh_caches):
    def spans_found(app: AppTest) -> int:
        line = next(caption.value for caption in app.caption if "spans found" in caption.value)
        return int(line.split(" spans")[0].replace(",", ""))

    app = open_corpus({"stories": "40"})
    assert not app.exception, app.exception
    all_units = spans_found(app)
    app.slider(key="corpus_min_units").set_value(1).run()
    assert not app.exception and spans_found(app) > all_units


def test_a_corpus_over_the_budget_keeps_its_first_texts_and_says_so():
    assert figures.texts_within_budget(["a", "b c"], [1, 2], 3) == (["a", "b c"], None)
    kept, notice = figures.texts_within_budget(["a", "b c", "d"], [1, 2, 1], 3)
    assert kept == ["a", "b c"]
    assert notice == "The corpus has 4 tokens; this page reads the first 2 texts (at most 3 tokens for this model)."
    kept, notice = figures.texts_within_budget(["a long text", "b"], [10, 1], 3)
    assert kept == ["a long text"] and "reads the first 1 texts" in notice  # never fewer than one
