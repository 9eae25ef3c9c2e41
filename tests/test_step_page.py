"""/step with AppTest: the default run, deep links, widgets set by key, and every kind of bad input.

Runs on the shipped models.
"""

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages import chart_specs, open_page
from ui import ablation, figures, glossary, model_store, typed_text
from ui.query import carry_selection

STEP = "views/step.py"


def open_step(query: dict[str, str] | None = None) -> AppTest:
    return open_page(STEP, query)


def shown_markdown(app: AppTest) -> str:
    return "\n".join(element.value for element in app.markdown)


def warnings_text(app: AppTest) -> str:
    """The warning box as a student reads it (Markdown escapes removed)."""
    return "\n".join(warning.value for warning in app.warning).replace("\\", "")


def test_default_run_shows_every_part(models):
    app = open_step()
    assert not app.exception
    tokens = models["words"].tokens(typed_text.DEFAULT_TEXT)
    assert app.slider(key="t").value == 0 and app.slider(key="t").max == len(tokens) - 1
    unit = model_store.default_unit(models["words"])
    assert app.number_input(key="unit").value == unit
    assert app.radio(key="model").value == "words"
    assert len(app.get("plotly_chart")) == 3  # the cell diagram, the strips, the unit along the text
    assert len(app.latex) == 12  # six equations with symbols, six with numbers
    assert r"\sigma" in app.latex[1].value and r"\underbrace" in app.latex[7].value
    text = shown_markdown(app)
    assert f"Unit {unit} reads" in text and "first token" in text
    assert any("forget = $f$" in caption.value for caption in app.caption)  # the PyTorch name mapping


def test_deep_link_opens_that_token_and_unit(models):
    tokens = models["words"].tokens(typed_text.DEFAULT_TEXT)
    dan = tokens.index("dan")
    app = open_step({"text": typed_text.DEFAULT_TEXT, "model": "words", "layer": "0", "t": str(dan), "unit": "7"})
    assert not app.exception and not app.warning
    assert app.slider(key="t").value == dan and app.number_input(key="unit").value == 7
    text = shown_markdown(app)
    assert ":blue-background[**dan**]" in text
    assert "Unit 7 reads Dan" in text
    assert "f_{t}" in app.latex[7].value
    assert f"t={dan}" in app.code[0].value and "unit=7" in app.code[0].value  # the shareable link


def test_previous_next_and_widgets_by_key_move_the_view(models):
    app = open_step({"t": "3"})
    app.button(key="step_next").click().run()
    assert app.slider(key="t").value == 4 and app.query_params["t"] == "4"
    app.button(key="step_previous").click().run()
    app.button(key="step_previous").click().run()
    assert app.slider(key="t").value == 2
    app.slider(key="t").set_value(0).run()
    app.button(key="step_previous").click().run()  # stays at the first token
    assert app.slider(key="t").value == 0
    last = app.slider(key="t").max
    app.slider(key="t").set_value(last).run()
    app.button(key="step_next").click().run()  # stays at the last token
    assert app.slider(key="t").value == last
    app.number_input(key="unit").set_value(5).run()
    # (the URL following a typed unit is the browser's job: see test_browser_step)
    assert "Unit 5 reads" in shown_markdown(app)
    app.radio(key="model").set_value("chars").run()
    assert not app.exception
    assert app.slider(key="t").max == len(typed_text.DEFAULT_TEXT) - 1
    app.text_area(key="text").input("Dan is evil.").run()
    assert not app.exception and app.slider(key="t").max == len(models["chars"].tokens("Dan is evil.")) - 1


def test_follow_the_subject_gender_unit(models):
    gender = models["words"].units["subject gender"]
    app = open_step({"unit": str((gender.unit + 1) % models["words"].lstm.hidden_size)})
    app.button(key="step_gender_unit").click().run()
    assert app.number_input(key="unit").value == gender.unit
    assert "“subject gender” unit" in shown_markdown(app)
    assert app.button(key="step_gender_unit").disabled


@pytest.mark.parametrize(
    ("query", "expected_t", "expected_unit", "message"),
    [
        ({"t": "abc"}, 0, "default", "not a whole number"),
        ({"t": "999"}, "last", "default", "out of range"),
        ({"t": "-4"}, 0, "default", "out of range"),
        ({"unit": "-3"}, 0, 0, "unit “-3”"),
        ({"unit": "100000"}, 0, "last", "unit “100000”"),
        ({"model": "evil"}, 0, "default", "no model called “evil”"),
        ({"layer": "7"}, 0, "default", "layer “7”"),
        ({"direction": "1"}, 0, "default", "direction “1”"),
    ],
)
def test_bad_url_values_get_a_clear_message(models, query, expected_t, expected_unit, message):
    app = open_step(query)
    assert not app.exception
    assert len(app.warning) == 1 and message in warnings_text(app), warnings_text(app)
    last_token = app.slider(key="t").max
    assert app.slider(key="t").value == (last_token if expected_t == "last" else expected_t)
    named = {"last": models["words"].lstm.hidden_size - 1, "default": model_store.default_unit(models["words"])}
    assert app.number_input(key="unit").value == named.get(expected_unit, expected_unit)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "The text is empty"),
        ("   \t ", "The text is empty"),
        ("\x00\x07\x1b", "The text is empty"),
    ],
)
def test_empty_text_asks_for_a_sentence(models, text, expected):
    app = open_step({"text": text})
    assert not app.exception
    assert any(expected in info.value for info in app.info)
    assert not app.get("plotly_chart")


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script> <b>Bob</b> is <img src=x onerror=alert(1)>",
        "Bob 😀 is 🧠 nice 👍🏽.",
        "Bob\x07 is\x1b nice\u200b.",
        "zzz qqq xyzzy",
        "Bob is nice. " * 1600,  # 20,800 characters
        "$\\frac{1}{0}$ **Bob** [x](javascript:alert(1))",
    ],
    ids=["html", "emoji", "control", "unknown", "long", "markdown-latex"],
)
@pytest.mark.parametrize("model_name", ["words", "chars"])
def test_hostile_text_is_shown_as_typed_never_as_html(models, text, model_name):
    app = open_step({"text": text, "model": model_name, "t": "3"})
    assert not app.exception
    assert len(app.get("plotly_chart")) == 3
    shown = shown_markdown(app)
    assert "<script" not in shown and "<img" not in shown and "<b>" not in shown  # escaped as \<script\> ...
    for latex in app.latex:
        assert "alert" not in latex.value and "frac" not in latex.value
    if len(text) > typed_text.MAX_TEXT_CHARS:
        assert "only the first" in warnings_text(app)


def test_one_token_text_has_no_slider_but_works(models):
    app = open_step({"text": "Bob", "t": "3"})
    assert not app.exception
    assert not app.slider and app.button(key="step_next").disabled
    assert "token “3”" in warnings_text(app)
    assert f"Unit {model_store.default_unit(models['words'])} reads Bob" in shown_markdown(app)


def test_stepping_through_a_long_sentence_traces_it_once(work_done):
    """Speed lives in `python -m benchmarks.page_speed`; here, what makes stepping cheap: every step
    after the first finds the model and the trace in the caches."""
    text = " ".join(["Bob is a nice person. Dan, on the other hand, is evil."] * 4)
    app = open_step({"text": text, "t": "10"})
    for _ in range(6):
        app.button(key="step_next").click().run()
    assert not app.exception and app.slider(key="t").value == 16
    assert work_done["loads"] == ["words"] and [t for _, t in work_done["traces"]] == [text]


def test_the_selection_carries_over_when_the_link_loses_its_parameters():
    session = {"text": "Mary is nice.", "t": 2, "unit": 9, "order": "index"}
    assert carry_selection({"t": "1"}, "step", session=session)  # arriving on /step
    assert {key: session[key] for key in ("text", "t", "unit", "order")} == {"text": "Mary is nice.", "t": 2,
                                                                           "unit": 9, "order": "index"}  # fmt: skip
    assert not carry_selection({"t": "1"}, "step", session=session)  # a rerun of /step: nothing to do
    assert carry_selection({}, "gates", session=session)  # back on /gates
    assert not carry_selection({}, "step", session={"order": "index"})  # nothing of the selection to carry


# ------------------------------------------------------------------------------ switching a unit off
def test_switching_the_unit_off_shows_the_change_at_the_stepped_token(models):
    model = models["words"]
    gender = model.units["subject gender"]
    text = "Mary is a nice person. Dan, on the other hand, is evil."
    last = len(model.tokens(text)) - 1
    app = open_step({"text": text, "t": str(last)})
    assert not app.exception and len(app.get("plotly_chart")) == 3 and not app.toggle(key="off").value
    app.toggle(key="off").set_value(True).run()
    assert not app.exception
    keys = [chart.key for chart in app.get("plotly_chart")]
    assert len(keys) == 4 and "step_ablation" in keys
    effect = ablation.ablation_effect(model, text, (gender.layer, gender.direction, gender.unit))
    shown = shown_markdown(app).replace("\\", "")
    assert ablation.ablation_sentence(effect, last) in shown
    assert f"unit={gender.unit}" in app.code[0].value and "off=true" in app.code[0].value  # the shareable link
    app.button(key="step_previous").click().run()  # the comparison follows the token being stepped
    assert ablation.ablation_sentence(effect, last - 1) in shown_markdown(app).replace("\\", "")


def test_a_link_switches_the_unit_off_at_its_mean(models):
    app = open_step({"model": "chars", "text": "Bob is nice.", "t": "5", "unit": "3", "off": "yes", "off_mode": "mean"})
    assert not app.exception and app.toggle(key="off").value and app.radio(key="off_mode").value == "mean"
    shown = shown_markdown(app).replace("\\", "")
    assert "With unit 3 switched off (its cell state held at its mean" in shown
    assert "the likeliest next character after “Bob is” " in shown
    assert "off_mode=mean" in app.code[0].value


def test_a_bad_off_value_gets_a_message(models):
    app = open_step({"off": "perhaps", "off_mode": "half"})
    assert not app.exception and not app.toggle(key="off").value
    assert "switching the unit off “perhaps”" in warnings_text(app)
    assert "“half”" in warnings_text(app)
    assert len(app.get("plotly_chart")) == 3


# ------------------------------------------------------------------------------ words of the glossary
def test_the_tooltips_are_the_glossarys_entries(models):
    app = open_step()
    assert not app.exception
    assert glossary.help_text("unit") in app.number_input(key="unit").help
    assert glossary.help_text("token", "timestep") in app.slider(key="t").help
    assert glossary.help_text("named unit", "threshold") == app.button(key="step_gender_unit").help
    assert glossary.help_text("switching a unit off") in app.toggle(key="off").help
    headings = {header.value: header.proto.help for header in app.subheader}
    assert headings["What happened here"] == glossary.help_text(*figures.SIGNAL_NAMES)
    assert headings["The six equations"] == glossary.help_text("sigmoid", "tanh")


@pytest.mark.parametrize("name", ["words", "story"])
def test_the_gender_units_threshold_is_stated_where_its_value_is_drawn(name):
    """Holding a gender unit at 0 is not neutral when its threshold is not 0 (`story`'s is below 0): the
    choice's help and the result say what 0 reads as. A threshold that rounds to 0 (`words`') claims no
    side. Either way the unit's line chart draws the threshold."""
    gender = model_store.language_model(name).units["subject gender"]
    text = "Mary is a nice person. Dan, on the other hand, is evil."
    app = open_step({"text": text, "unit": str(gender.unit), "off": "true", "model": name})
    assert not app.exception
    cut = figures.threshold_text(gender.threshold)
    zero_side = "above" if gender.threshold < 0 else "below"
    zero_claim = f"0 is {zero_side} its threshold {cut}, so a cell held at 0 reads as {gender.read(0.0)}"
    held_claim = f"Held at 0, unit {gender.unit} reads as {gender.read(0.0)}: 0 is {zero_side} its threshold {cut}"
    shown = shown_markdown(app).replace("\\", "")
    if cut == "0":  # a threshold that rounds to 0: holding the cell at 0 takes neither side, and nothing says it does
        assert app.radio(key="off_mode").help == ablation.MODE_HELP and "Held at 0," not in shown
    else:
        assert zero_claim in app.radio(key="off_mode").help and held_claim in shown
    history = chart_specs(app)[[chart.key for chart in app.get("plotly_chart")].index("step_history")]
    lines = [shape for shape in history["layout"]["shapes"] if shape["type"] == "line"]
    assert [line["y0"] for line in lines] == [gender.threshold]
    assert any(
        f"threshold {cut}: above reads as {gender.above}" in note["text"] for note in history["layout"]["annotations"]
    )
