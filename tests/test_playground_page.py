"""/playground with AppTest: the default run, every preset, sliders and the switch set by key, links,
and every kind of bad input, which gets a message and never an exception."""

import base64
import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.pages import open_page
from ui import playground as pg

PLAYGROUND = "views/playground.py"


def open_playground(query: dict[str, str] | None = None) -> AppTest:
    return open_page(PLAYGROUND, query)


def chart_traces(app: AppTest) -> dict[str, dict]:
    """Name -> trace of the playground figure (the first chart), with arrays decoded."""
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    return {trace.get("name"): trace for trace in spec["data"] if trace.get("type") == "scatter"}


def array(value) -> np.ndarray:
    # Plotly sends NumPy arrays as {"dtype": "f8", "bdata": base64}; plain lists stay lists.
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value, dtype=float)


def expected_values(preset: pg.Preset, **changes) -> dict[str, np.ndarray]:
    sequence = changes.pop("sequence", preset.sequence)
    no_forget_gate = changes.pop("no_forget_gate", preset.no_forget_gate)
    weights = dict(preset.weights) | changes
    trace = pg.run_unit(weights, pg.parse_sequence(sequence).values, preset.c0, preset.h0, no_forget_gate)
    return pg.unit_values(trace)


def assert_shows(app: AppTest, preset: pg.Preset, **changes) -> None:
    """The page shows `preset` (with `changes`): its sliders, its note, and the figure of its numbers."""
    assert not app.exception
    assert app.segmented_control(key="preset").value == preset.key
    for name in pg.PARAMETER_NAMES:
        assert app.slider(key=name).value == pytest.approx(changes.get(name, preset.weights[name])), name
    assert app.text_input(key="sequence").value == changes.get("sequence", preset.sequence)
    assert app.toggle(key="no_forget").value == changes.get("no_forget_gate", preset.no_forget_gate)
    assert app.info[0].value == preset.note
    values = expected_values(preset, **changes)
    traces = chart_traces(app)
    np.testing.assert_allclose(array(traces["cell state c"]["y"])[1:], values["cell"], atol=1e-12)
    np.testing.assert_allclose(array(traces["input gate i"]["y"]), values["input"], atol=1e-12)


def warnings_text(app: AppTest) -> str:
    return "\n".join(warning.value for warning in app.warning).replace("\\", "")


def test_default_run_shows_the_first_preset_with_every_part():
    app = open_playground()
    assert_shows(app, pg.PRESETS[pg.DEFAULT_PRESET])
    assert not app.warning
    assert len(app.get("plotly_chart")) == 2  # the unit across the sequence, the cell at one step
    by_gate = [f"{kind}_{letter}" for letter in "ifgo" for kind in "wub"]  # one row per gate: w, u, b
    assert [slider.key for slider in app.slider] == [*by_gate, "c0", "h0", "step"]
    assert len(app.latex) == 12  # six equations with symbols, six with this step's numbers
    assert app.subheader[0].value == "Inside the cell at step 1"
    assert app.button(key="playground_back_to_preset").disabled  # nothing to go back to yet
    assert any("weight_ih_l0" in block.value for block in app.code)  # the same unit in PyTorch
    assert not app.query_params  # the defaults stay out of the URL


@pytest.mark.parametrize("key", list(pg.PRESETS))
def test_every_preset_sets_every_slider_the_sequence_and_the_switch(key):
    app = open_playground()
    app.segmented_control(key="preset").set_value(key).run()
    preset = pg.PRESETS[key]
    assert_shows(app, preset)
    assert app.slider(key="step").value == preset.step
    assert app.subheader[0].value == f"Inside the cell at step {preset.step}"
    final = expected_values(preset)
    assert any(f"= {final['cell'][-1]:.3f}$" in caption.value for caption in app.caption)
    if preset.no_forget_gate:
        assert all(app.slider(key=name).disabled for name in ("w_f", "u_f", "b_f"))
        assert any("only add" in caption.value for caption in app.caption)
    else:
        assert not app.slider(key="w_f").disabled


def test_presets_one_after_another_and_back_to_the_preset():
    app = open_playground()
    for key in ("count", "1997", "keep", "reset"):
        app.segmented_control(key="preset").set_value(key).run()
        assert_shows(app, pg.PRESETS[key])
    app.slider(key="w_f").set_value(0.0).run()
    app.text_input(key="sequence").input("1 1 -1 1").run()
    assert_shows(app, pg.PRESETS["reset"], w_f=0.0, sequence="1 1 -1 1")
    assert not app.button(key="playground_back_to_preset").disabled
    app.button(key="playground_back_to_preset").click().run()
    assert_shows(app, pg.PRESETS["reset"])
    assert app.button(key="playground_back_to_preset").disabled


def test_sliders_set_by_key_change_the_figure_live():
    app = open_playground()
    app.segmented_control(key="preset").set_value("count").run()
    app.slider(key="w_g").set_value(1.0).run()
    app.slider(key="b_f").set_value(-2.0).run()
    assert_shows(app, pg.PRESETS["count"], w_g=1.0, b_f=-2.0)
    app.slider(key="c0").set_value(2.0).run()
    assert array(chart_traces(app)["cell state c"]["y"])[0] == 2.0  # the starting state at t = 0
    app.slider(key="step").set_value(4).run()
    assert app.subheader[0].value == "Inside the cell at step 4"
    shapes = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]["shapes"]
    assert [(shape["x0"], shape["x1"]) for shape in shapes] == [(3.5, 4.5)]


def test_the_1997_switch_pins_the_forget_gate_open():
    app = open_playground()
    app.segmented_control(key="preset").set_value("reset").run()
    app.toggle(key="no_forget").set_value(True).run()
    assert_shows(app, pg.PRESETS["reset"], no_forget_gate=True)
    forget = chart_traces(app)["forget gate f = 1 (no forget gate)"]
    assert np.all(array(forget["y"]) == 1.0)
    assert all(app.slider(key=name).disabled for name in ("w_f", "u_f", "b_f"))
    assert any("no forget gate" in markdown.value for markdown in app.markdown)


@pytest.mark.parametrize(
    ("query", "preset", "changes"),
    [
        ({"preset": "Count the 1s"}, "count", {}),
        ({"preset": "The 1997 cell", "w_g": "1.5"}, "1997", {"w_g": 1.5}),
        ({"preset": "Reset on a marker", "sequence": "1 -1 1", "no_forget": "true"}, "reset",
         {"sequence": "1 -1 1", "no_forget_gate": True}),
        ({"u_o": "-2.5", "b_i": "1"}, "keep", {"u_o": -2.5, "b_i": 1.0}),
    ],
)  # fmt: skip
def test_a_shared_link_opens_exactly_that_playground(query, preset, changes):
    app = open_playground(query)
    assert not app.warning
    assert_shows(app, pg.PRESETS[preset], **changes)
    assert app.button(key="playground_back_to_preset").disabled == (not changes)


@pytest.mark.parametrize(
    ("query", "preset", "changes", "message"),
    [
        ({"preset": "count"}, "count", {}, None),  # the short name: the page reopens on the label
        ({"preset": "evil"}, "keep", {}, "no preset called “evil”"),
        ({"preset": "count", "w_i": "99"}, "count", {}, "w_i to 99; the slider stops at ±10"),
        ({"w_g": "-1e9"}, "keep", {"w_g": -10.0}, "w_g to -1e+09"),
        ({"b_o": "abc"}, "keep", {}, "b_o to “abc”, which is not a number"),
        ({"no_forget": "maybe"}, "keep", {}, "true or false"),
        ({"preset": "reset", "step": "999"}, "reset", {}, "step “999”, but the sequence has 20 steps; showing step 20"),
        ({"step": "abc"}, "keep", {}, "step “abc”"),
    ],
)
def test_bad_link_values_get_a_clear_message_and_a_fixed_address(query, preset, changes, message):
    app = open_playground(query)
    assert_shows(app, pg.PRESETS[preset], **changes)
    if message is None:
        assert not app.warning
    else:
        assert message in warnings_text(app), warnings_text(app)
    if query.get("preset") == "count":  # the address bar now names the preset as the control does
        assert app.query_params["preset"] == "Count the 1s"
    app.run()  # the next run is clean: the notice is not repeated for ever
    assert not app.exception and not app.warning


@pytest.mark.parametrize(
    "sequence",
    [
        "<script>alert('x')</script> 1 0 <b>1</b>",
        "1 😀 0 🧠 1",
        "1\x07 0\x1b -1\u200b",
        "one two three",
        "$\\frac{1}{0}$ **1** [x](javascript:alert(1))",
        "1 " * 3_000,
        "nan inf -inf 1e999",
    ],
    ids=["html", "emoji", "control", "words", "markdown-latex", "long", "not-finite"],
)
def test_hostile_sequences_get_a_message_never_an_exception_or_html(sequence):
    app = open_playground()
    app.text_input(key="sequence").set_value(sequence).run()  # as sent, even past the box's max_chars
    assert not app.exception
    shown = "\n".join(element.value for element in (*app.warning, *app.markdown, *app.info))
    assert not re.search(r"(?<!\\)<", shown)  # every "<" typed is escaped: \<script\> shows as text
    for latex in app.latex:
        assert "alert" not in latex.value and "frac" not in latex.value
    parsed = pg.parse_sequence(sequence)
    if parsed.empty:
        assert not app.get("plotly_chart") and any("The sequence is empty" in info.value for info in app.info)
    else:
        assert len(app.get("plotly_chart")) == 2
        steps = [slider.max for slider in app.slider if slider.key == "step"]
        assert steps == ([len(parsed.values)] if len(parsed.values) > 1 else []) and len(parsed.values) <= pg.MAX_STEPS
    assert app.warning  # what was left out, clipped or cut is said


@pytest.mark.parametrize("sequence", ["", "   ", ",,, ;"])
def test_an_empty_sequence_asks_for_numbers(sequence):
    app = open_playground()
    app.text_input(key="sequence").input(sequence).run()
    assert not app.exception and not app.get("plotly_chart")
    assert any("The sequence is empty" in info.value for info in app.info)
    app.text_input(key="sequence").input("1 0").run()  # and it comes back
    assert not app.exception and len(app.get("plotly_chart")) == 2


def test_a_one_step_sequence_has_no_step_slider_but_works():
    app = open_playground({"sequence": "1"})
    assert not app.exception
    assert "step" not in [slider.key for slider in app.slider]
    assert app.subheader[0].value == "Inside the cell at step 1"


def test_a_shorter_sequence_pulls_the_step_back_in_range():
    app = open_playground({"preset": "Reset on a marker"})
    app.slider(key="step").set_value(18).run()
    app.text_input(key="sequence").input("1 0 -1").run()
    assert not app.exception and app.slider(key="step").value <= 3


def test_every_slider_move_redraws_a_long_sequence_with_the_new_numbers():
    sequence = " ".join(["1 0 -1"] * 20)  # 60 steps
    app = open_playground({"sequence": sequence})
    preset = pg.PRESETS[app.segmented_control(key="preset").value]
    for value in (-3.0, 0.5, 3.0):
        app.slider(key="w_g").set_value(value).run()
        assert len(array(chart_traces(app)["cell state c"]["y"])) == 61  # c0 and one value per step
        assert_shows(app, preset, sequence=sequence, w_g=value)
