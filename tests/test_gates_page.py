"""/gates with AppTest: the default run, deep links, widgets set by key, and bad input; reruns find their work in the caches.

Runs on the shipped models.
"""

import pytest
from streamlit.testing.v1 import AppTest

from lstm_core.analysis.ablation import ablated_trace
from tests.pages import chart_specs, messages, open_page
from ui import ablation, figures, glossary, model_store, typed_text
from ui.next_tokens import NextTokens

GATES = "views/gates.py"
HEATMAPS = 6
CHARTS = HEATMAPS + 3  # the coloured text, the predictions and P(he), P(she) along the text
CHAR_CHARTS = HEATMAPS + 3  # and the characters switching the unit off changes most, along the text


def open_gates(query: dict[str, str] | None = None) -> AppTest:
    return open_page(GATES, query)


def sidebar_text(app: AppTest) -> str:
    return "\n".join(element.value for element in app.sidebar.markdown)


def step_links(app: AppTest) -> list:
    return [link for link in app.get("page_link") if "step" in link.proto.page]


def test_default_run_draws_every_chart(models):
    app = open_gates()
    assert not app.exception
    assert app.text_area(key="text").value == typed_text.DEFAULT_TEXT
    assert app.radio(key="model").value == "words"
    unit = model_store.default_unit(models["words"])
    assert app.number_input(key="t").value == 0 and app.number_input(key="unit").value == unit
    tokens = models["words"].tokens(typed_text.DEFAULT_TEXT)
    assert app.number_input(key="t").max == len(tokens) - 1
    assert app.selectbox(key="order").value == "variance"
    assert len(app.get("plotly_chart")) == CHARTS
    assert f"Token 0 “{tokens[0]}”, unit {unit}" in sidebar_text(app)
    assert not messages(app)


def test_deep_link_opens_that_view_and_links_to_step(models):
    gender = models["words"].units["subject gender"]
    app = open_gates({"text": "Mary is nice. Dan is evil.", "t": "4", "unit": str(gender.unit), "top_k": "8"})
    assert not app.exception, app.exception
    assert app.number_input(key="t").value == 4
    assert app.number_input(key="unit").value == gender.unit
    assert app.slider(key="top_k").value == 8
    assert "Token 4 “dan”" in sidebar_text(app) and "subject gender" in sidebar_text(app)
    links = step_links(app)
    assert links, "no link to /step"
    query = links[0].proto.query_string
    assert "t=4" in query and f"unit={gender.unit}" in query and "text=Mary" in query


def test_widgets_set_by_key(models):
    app = open_gates()
    app.number_input(key="t").set_value(3).run()
    app.number_input(key="unit").set_value(7).run()
    assert not app.exception
    assert "Token 3 “nice”, unit 7" in sidebar_text(app)
    app.selectbox(key="order").set_value("change").run()
    app.slider(key="top_k").set_value(4).run()
    assert not app.exception
    app.button(key="gates_example_1").click().run()
    assert app.text_area(key="text").value == list(typed_text.EXAMPLES.values())[1]
    app.text_area(key="text").set_value("Bob is nice.").run()
    assert not app.exception
    assert app.number_input(key="t").value <= 3  # moved into the shorter text


def test_follow_the_named_unit(models):
    gender = models["words"].units["subject gender"]
    app = open_gates({"unit": str((gender.unit + 1) % models["words"].lstm.hidden_size)})
    assert app.number_input(key="unit").value != gender.unit
    app.button(key="gates_follow_subject gender").click().run()
    assert not app.exception
    assert app.number_input(key="unit").value == gender.unit


def test_character_model(models):
    app = open_gates({"model": "chars", "text": "Bob is nice.", "t": "4"})
    assert not app.exception
    assert app.radio(key="model").value == "chars"
    assert app.number_input(key="t").max == len("Bob is nice.") - 1
    assert len(app.get("plotly_chart")) == CHAR_CHARTS


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"text": ""}, "empty"),
        ({"text": "     "}, "empty"),
        ({"text": "Bob is nice. " * 1600}, "only the first 5,000"),
        ({"text": "Bob 😀 is nice 🎉."}, "😀"),
        ({"text": "Bob\x00 is\x07 nice\x1b."}, "control character"),
        ({"text": "<script>alert(1)</script> <b>Bob</b>"}, "script"),
        ({"text": "zorglub blarf quux"}, "New to the words model, which reads them from their spelling"),
        ({"text": "zorglub blarf quux", "model": "story"}, "knows none"),
        ({"t": "abc"}, "not a whole number"),
        ({"t": "999"}, "out of range"),
        ({"t": "-3"}, "out of range"),
        ({"unit": "99999"}, "out of range"),
        ({"layer": "5"}, "out of range"),
        ({"model": "evil"}, "no model called"),
    ],
)
def test_bad_input_gives_a_message_never_an_exception(models, query, expected):
    app = open_gates(query)
    assert not app.exception, app.exception
    assert expected in messages(app), messages(app)
    # typed text never reaches the page as HTML: markdown escapes it or shows it in a code span
    for element in app.markdown:
        assert "<script>" not in element.value


def test_long_text_is_drawn_in_a_window(models):
    app = open_gates({"text": "Bob is a nice person. " * 60, "t": "200"})
    assert not app.exception
    assert "the charts below show tokens" in messages(app)
    heatmap = app.get("plotly_chart")[-1]
    assert len(heatmap.proto.spec) < 2_000_000


def test_reruns_find_the_model_and_the_trace_in_the_caches(work_done):
    """Speed lives in `python -m benchmarks.page_speed`; here, what makes a rerun cheap: the model loads
    once, a text is traced once, and moving the selection or the view retraces nothing."""
    text = "Bob is a nice person. Dan, on the other hand, is evil. " * 3 + "Mary knows swimming."
    app = open_gates({"text": text})
    app.run()
    app.number_input(key="t").set_value(7).run()
    app.selectbox(key="order").set_value("index").run()
    assert not app.exception
    assert work_done["loads"] == ["words"] and [t for _, t in work_done["traces"]] == [text]
    app.text_area(key="text").input("Mary is nice.").run()
    app.radio(key="model").set_value("chars").run()
    assert not app.exception
    assert work_done["loads"] == ["words", "chars"]
    assert [t for _, t in work_done["traces"]] == [text, "Mary is nice.", "Mary is nice."]


def test_words_says_what_it_made_of_names_it_never_saw():
    app = open_gates({"model": "words", "text": "Priya is a nice person. Omar, on the other hand, is evil."})
    assert not app.exception
    notice = "\n".join(info.value for info in app.info).replace("\\", "")  # shown through as_markdown, escaped
    assert "New to the words model, which reads them from their spelling" in notice
    assert "“Priya” (a first name in the birth records, 100% girls" in notice and "Names are not genders" in notice
    gender = model_store.language_model("words").units["subject gender"]
    assert app.number_input(key="unit").value == gender.unit  # the page follows the gender unit by default


# ------------------------------------------------------------------------------ switching a unit off
SWITCH_TEXT = "Mary is a nice person. Dan, on the other hand, is evil."


def shown_text(app: AppTest) -> str:
    """Every Markdown element and caption as a student reads it (Markdown escapes removed)."""
    return "\n".join(element.value for element in (*app.markdown, *app.caption)).replace("\\", "")


def chart_keys(app: AppTest) -> list[str]:
    return [chart.key for chart in app.get("plotly_chart")]


def test_switching_the_gender_unit_off_shows_p_he_before_and_after(models):
    model = models["words"]
    gender = model.units["subject gender"]
    last = len(model.tokens(SWITCH_TEXT)) - 1
    app = open_gates({"text": SWITCH_TEXT, "t": str(last)})
    assert not app.exception
    assert app.number_input(key="unit").value == gender.unit  # the gender unit is the one offered
    assert "gates_word_probabilities" in chart_keys(app) and "gates_ablation" not in chart_keys(app)
    app.toggle(key="off").set_value(True).run()
    assert not app.exception
    assert "gates_ablation" in chart_keys(app)
    effect = ablation.ablation_effect(model, SWITCH_TEXT, (gender.layer, gender.direction, gender.unit))
    before, after = (ablation.probability_text(p) for p in (effect.before[last, 0], effect.after[last, 0]))
    assert before != after
    sentence = f"With unit {gender.unit} (subject gender) switched off (its cell state held at 0), P(he) after"
    assert sentence in shown_text(app)
    assert f"goes from {before} to {after}" in shown_text(app)
    assert "held at its mean" not in shown_text(app)
    app.radio(key="off_mode").set_value("mean").run()
    assert not app.exception
    assert "held at its mean" in shown_text(app)
    link = [link for link in app.get("page_link") if "step" in link.proto.page][0].proto.query_string
    assert "off=true" in link and "off_mode=mean" in link  # /step opens with the unit switched off too


def test_a_link_opens_the_switched_off_view_and_a_bad_flag_gets_a_message(models):
    app = open_gates({"text": SWITCH_TEXT, "off": "1"})
    assert not app.exception and app.toggle(key="off").value
    assert "gates_ablation" in chart_keys(app) and "switched off" in shown_text(app)
    assert "At the last token: With unit" in shown_text(app)  # t = 0 is selected: the end is stated too
    app = open_gates({"text": SWITCH_TEXT, "off": "maybe", "off_mode": "<b>half</b>"})
    assert not app.exception and not app.toggle(key="off").value
    assert "switching the unit off “maybe”" in messages(app)
    assert "value to hold the switched\\-off unit at" in messages(app)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("zorglub", "“zorglub” is not a word the words model can predict"),
        ("<script>alert(1)</script>, he", "is not a word the words model can predict"),
        ("he she his her him the", "at most 5 words"),
    ],
)
def test_bad_words_in_the_picker_give_a_message(models, typed, expected):
    app = open_gates({"text": SWITCH_TEXT, "off": "true"})
    app.text_input(key="words").input(typed).run()
    assert not app.exception, app.exception
    assert expected in messages(app).replace("\\", ""), messages(app)
    assert "gates_word_probabilities" in chart_keys(app) and "gates_ablation" in chart_keys(app)
    for element in app.markdown:
        assert "<script>" not in element.value


def test_the_character_model_compares_its_own_likeliest_next_characters(models):
    app = open_gates({"model": "chars", "text": 'He said "I like tea" and left.', "t": "12", "off": "true"})
    assert not app.exception
    assert "gates_ablation" in chart_keys(app) and "gates_word_probabilities" in chart_keys(app)
    assert 'the likeliest next character after “He said "I li”' in shown_text(app)  # the bars: its own guesses
    assert "Nothing typed, so the chart follows the characters whose probability switching unit" in shown_text(app)
    app.text_input(key="words").input("k, he").run()
    assert not app.exception
    assert "“he” is more than one character" in messages(app).replace("\\", "")
    assert "gates_word_probabilities" in chart_keys(app)


# ------------------------------------------------------------------- the character model's unit section
def test_the_character_models_unit_section_is_never_empty(models):
    """The character model has no words to follow by default: the section still says what the unit tracks,
    with its numbers, and follows the characters that switching it off changes the most."""
    model = models["chars"]
    gender = model.units["subject gender"]
    app = open_gates({"model": "chars"})
    assert not app.exception
    assert app.number_input(key="unit").value == gender.unit
    text = shown_text(app)
    assert f"What unit {gender.unit} (subject gender) does to the prediction" in [h.value for h in app.subheader]
    cut = f"{gender.threshold:.2f}".replace("-", "−")
    assert (f"Unit {gender.unit} is this model's “subject gender” unit: its cell state reads as {gender.above} above "
            f"{cut} and as {gender.below} below it") in text  # fmt: skip
    assert f"Along this text the cell state of unit {gender.unit} runs from" in text
    # the chart follows what switching the unit off (at 0) changes the most, and says so
    tokens_text = typed_text.DEFAULT_TEXT
    before = NextTokens.from_trace(model, model.trace(tokens_text))
    after = NextTokens.from_trace(model, ablated_trace(model, tokens_text, [(0, 0, gender.unit)]))
    found = ablation.most_changed_tokens(before, after)
    assert found and ablation.followed_note(found, gender.unit, "zero", "chars") in text
    assert app.text_input(key="words").placeholder == ", ".join(token for token, _ in found)
    lines = chart_specs(app)[chart_keys(app).index("gates_word_probabilities")]
    assert [trace["name"] for trace in lines["data"] if trace["name"].startswith("P(")] == [
        f"P({token})" for token, _ in found
    ]
    # the coloured text says where the unit's reading turns, and which side is which
    assert lines["layout"]["title"]["text"].startswith("How likely each character is as the next token")
    coloured = chart_specs(app)[chart_keys(app).index("gates_text_chart")]
    assert figures.named_unit_colours(gender) in coloured["layout"]["title"]["subtitle"]["text"]
    for info in model.units.values():  # every named unit's reading under the heatmaps that draw its row
        assert f"In the cell state heatmap, {figures.named_unit_colours(info)}." in text


def test_the_tooltips_are_the_glossarys_entries(models):
    gender = models["words"].units["subject gender"]
    app = open_gates()
    assert not app.exception
    assert app.sidebar.selectbox(key="layer").help == glossary.help_text("layer")
    assert app.sidebar.selectbox(key="direction").help == glossary.help_text("direction")
    assert app.sidebar.selectbox(key="compare_signal").help == glossary.help_text(*figures.SIGNAL_NAMES)
    assert glossary.help_text("token", "timestep") == app.number_input(key="t").help
    assert glossary.help_text("unit") == app.number_input(key="unit").help
    assert glossary.help_text("switching a unit off") in app.toggle(key="off").help
    assert app.radio(key="off_mode").help == ablation.mode_help(gender)  # what 0 reads as, for this unit
    cut = figures.threshold_text(gender.threshold)
    if cut != "0":  # a threshold that rounds to 0 makes no claim about 0 (tests/test_step_page.py checks both)
        assert f"its threshold {cut}, so a cell held at 0 reads as {gender.read(0.0)}" in app.radio(key="off_mode").help
    heading = next(h for h in app.subheader if h.value.startswith("What unit"))
    assert heading.proto.help == glossary.help_text("switching a unit off", "probability")
