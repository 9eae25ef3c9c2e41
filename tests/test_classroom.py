"""Classroom features of /gates and /step: layers and directions side by side, presentation mode, the
share link and the export buttons. Pure builders first, then the pages under AppTest with a random
two-layer bidirectional model kept in the session (as /train or /your-model would)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lstm_core import LSTM, LanguageModel
from lstm_core.models.tokenize import CharTokenizer
from tests.pages import new_session, open_page
from ui import classroom, figures, model_store, step_figures

GATES = "views/gates.py"
STEP = "views/step.py"
TEXT = "Bob is nice, Dan is not."


def bidirectional_model(seed: int = 0, hidden_size: int = 10) -> LanguageModel:
    """A character model: 2 layers, both directions, random weights; no named units."""
    tokenizer = CharTokenizer()
    rng = np.random.default_rng(seed)
    vocab_size = len(tokenizer.vocab)
    lstm = LSTM.random(input_size=8, hidden_size=hidden_size, num_layers=2, bidirectional=True, seed=seed, scale=1.2)
    return LanguageModel(name="bi", tokenizer=tokenizer, embedding=rng.normal(size=(vocab_size, 8)), lstm=lstm,
                         decoder_weight=rng.normal(size=(vocab_size, 2 * hidden_size)),
                         decoder_bias=np.zeros(vocab_size))  # fmt: skip


# ---------------------------------------------------------------------------- pure builders
def test_layer_pairs_and_labels():
    assert figures.layer_pairs(1, 1) == [(0, 0)]
    assert figures.layer_pairs(2, 2) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert len(figures.layer_pairs(9, 2)) == figures.MAX_COMPARED_PAIRS
    assert figures.pair_label(1, 1) == "layer 1 · backward"


@pytest.mark.parametrize("signal", ["forget", "cell", "hidden"])
def test_layers_heatmap_draws_each_pair_on_one_colour_scale(signal):
    model = bidirectional_model()
    trace = model.trace(TEXT)
    tokens = list(trace.tokens)
    pairs = figures.layer_pairs(2, 2)
    units = np.array([7, 2, 5])
    figure = figures.layers_heatmap(trace, signal, pairs, tokens[3:15], units, start=3, stop=15, selected=(6, 2))
    heatmaps = [item for item in figure.data if item.type == "heatmap"]
    assert len(heatmaps) == 4
    source = {"cell": trace.cell, "hidden": trace.hidden}.get(signal, trace.gates.get(signal))
    for heatmap, (layer, direction) in zip(heatmaps, pairs, strict=True):
        np.testing.assert_allclose(np.asarray(heatmap.z), source[layer, direction, 3:15][:, units].T, rtol=1e-6)
        assert list(heatmap.y) == ["7", "2", "5"] and heatmap.coloraxis == "coloraxis"
        assert figures.pair_label(layer, direction) in heatmap.hovertemplate
        assert "token %{x} (t=%{x:d}), unit %{y}" in heatmap.hovertemplate  # the x axis's tick text, then its number
    axis = figure.layout.coloraxis
    if signal == "forget":
        assert (axis.cmin, axis.cmax) == (0.0, 1.0)
    else:
        assert axis.cmid == 0 and axis.cmin == -axis.cmax and axis.cmax >= 1.0
    assert all(figure.layout[f"yaxis{index}" if index > 1 else "yaxis"].domain[0] >= 0 for index in range(1, 5))
    assert len(figure.layout.shapes) == 16  # the token column and the selected cell framed on a halo, in every row
    # the selected cell's value in every layer and direction is written under the title
    value = float(source[0, 0, 6, 2])
    assert f"{value:.3f} in layer 0 · forward" in figure.layout.title.subtitle.text


def test_layers_heatmap_escapes_tokens_and_refuses_too_many_cells(monkeypatch):
    model = bidirectional_model()
    text = "<b>x</b>"
    trace = model.trace(text)
    figure = figures.layers_heatmap(trace, "input", [(0, 0), (1, 1)], list(trace.tokens), np.arange(3))
    assert "<" not in "".join(figure.layout.xaxis.ticktext)
    monkeypatch.setattr(figures, "MAX_CELLS_PER_FIGURE", 10)
    with pytest.raises(ValueError, match="cells"):
        figures.layers_heatmap(trace, "input", [(0, 0), (1, 1)], list(trace.tokens), np.arange(3))
    with pytest.raises(ValueError, match="signal"):
        figures.layers_heatmap(trace, "nope", [(0, 0)], list(trace.tokens), np.arange(3))


def test_unit_across_layers_has_a_bar_group_per_pair_with_the_steps_values():
    trace = bidirectional_model().trace(TEXT)
    steps = {pair: trace.step(4, *pair) for pair in figures.layer_pairs(2, 2)}
    figure = step_figures.unit_across_layers(steps, unit=3)
    assert [bar.name for bar in figure.data] == [figures.pair_label(*pair) for pair in steps]
    for bar, step in zip(figure.data, steps.values(), strict=True):
        expected = [step.gates["input"][3], step.gates["forget"][3], step.gates["candidate"][3],
                    step.gates["output"][3], step.cell[3], step.hidden[3]]  # fmt: skip
        np.testing.assert_allclose(np.asarray(bar.y), expected, rtol=1e-6)
    assert len({bar.marker.color for bar in figure.data}) == 4
    with pytest.raises(ValueError, match="unit"):
        step_figures.unit_across_layers(steps, unit=10)


def test_share_url_builds_on_the_apps_address():
    query = {"text": "Bob & Dan = 1?", "t": "3", "present": "true"}
    assert classroom.share_url("https://school.example/lstm/gates", "gates", query) == (
        "https://school.example/lstm/gates?text=Bob%20%26%20Dan%20%3D%201%3F&t=3&present=true"
    )
    assert classroom.share_url("http://host:8501/", "step", {"t": "1"}) == "http://host:8501/step?t=1"
    assert classroom.share_url(None, "step", {"t": "1"}) == "/step?t=1"
    assert classroom.share_url("javascript:alert(1)//step", "step", {"t": "1"}) == "/step?t=1"


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("YES", True), ("0", False),
                                                 ("false", False), (["1", "0"], True)])  # fmt: skip
def test_check_present(value, expected):
    assert classroom.check_present({"present": value}) == (expected, None)


def test_check_present_names_a_bad_value_escaped_by_the_page():
    present, notice = classroom.check_present({"present": "<script>" * 10})
    assert present is False and "present=1" in notice and len(notice) < 200


# ---------------------------------------------------------------------------------- pages
def open_with_model(page: str, query: dict[str, str]) -> tuple[AppTest, str]:
    app = new_session()
    name = model_store.add_session_model(bidirectional_model(), "bi", session=app.session_state)
    open_page(page, {"model": name, "text": TEXT, **query}, app=app)
    assert not app.exception, app.exception
    return app, name


def chart(app: AppTest, key: str) -> dict:
    matches = [element for element in app.get("plotly_chart") if key in element.proto.id]
    assert matches, f"no chart {key} among {chart_keys(app)}"
    return json.loads(matches[0].proto.spec)


def plotly_array(value) -> np.ndarray:
    """A figure array as the spec sends it: a list, or {"dtype", "bdata" (base64), "shape": "K, T"}."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return flat.reshape([int(size) for size in str(value.get("shape", len(flat))).split(",")])
    return np.asarray(value)


def chart_keys(app: AppTest) -> list[str]:
    return [element.proto.id for element in app.get("plotly_chart")]


def test_gates_side_by_side_on_a_two_layer_bidirectional_model(models):
    app, name = open_with_model(GATES, {"t": "4", "unit": "2"})
    assert not any("gates_compare_layers" in key for key in chart_keys(app))
    assert not app.toggle(key="compare_layers").disabled
    app.toggle(key="compare_layers").set_value(True).run()
    app.selectbox(key="compare_signal").set_value("cell").run()
    assert not app.exception, app.exception
    spec = chart(app, "gates_compare_layers")
    heatmaps = [item for item in spec["data"] if item["type"] == "heatmap"]
    assert len(heatmaps) == 4 and "Cell state" in spec["layout"]["title"]["text"]
    trace = bidirectional_model().trace(TEXT)
    shown_units = [int(unit) for unit in heatmaps[0]["y"]]
    assert 2 in shown_units
    row = shown_units.index(2)
    for heatmap, (layer, direction) in zip(heatmaps, figures.layer_pairs(2, 2), strict=True):
        values = plotly_array(heatmap["z"])
        np.testing.assert_allclose(np.asarray(values)[row, 4], trace.cell[layer, direction, 4, 2], rtol=1e-5)
    # the six single-pair heatmaps give way to the comparison
    assert not any("gates_heatmap" in key for key in chart_keys(app))
    shared = app.code[0].value
    assert "compare_layers=true" in shared and "compare_signal=cell" in shared and f"model={name}" in shared


def test_gates_side_by_side_is_disabled_for_a_one_layer_model(models):
    app = open_page(GATES, {"compare_layers": "true"})
    assert not app.exception and app.toggle(key="compare_layers").disabled
    assert any("gates_heatmap_forget" in key for key in chart_keys(app))


def test_step_shows_the_unit_in_every_layer_and_direction(models):
    app, _ = open_with_model(STEP, {"t": "5", "unit": "3", "layer": "1", "direction": "backward"})
    assert len(app.get("plotly_chart")) == 3
    app.toggle(key="compare_layers").set_value(True).run()
    assert not app.exception, app.exception
    spec = chart(app, "step_compare_layers")
    assert [bar["name"] for bar in spec["data"]] == [figures.pair_label(*pair) for pair in figures.layer_pairs(2, 2)]
    trace = bidirectional_model().trace(TEXT)
    for bar, (layer, direction) in zip(spec["data"], figures.layer_pairs(2, 2), strict=True):
        assert bar["text"][4] == f"{trace.cell[layer, direction, 5, 3]:.2f}"
    assert "compare_layers=true" in app.code[0].value and "direction=backward" in app.code[0].value


@pytest.mark.parametrize("page", [GATES, STEP])
def test_presentation_mode_from_a_link_and_the_way_out(models, page):
    prefix = "gates" if page == GATES else "step"
    app = open_page(page, {"present": "1", "text": TEXT, "t": "3"})
    assert not app.exception, app.exception
    assert app.toggle(key="present").value is True
    styles = [element.proto.body for element in app.get("html")]
    assert any("stSidebar" in body and "display: none" in body for body in styles)
    assert not app.header  # no page title: the headline is the token and the unit
    assert any("Token 3" in element.value for element in [*app.markdown, *app.subheader])
    next_key = "step_next" if page == STEP else "gates_next"
    app.button(key=next_key).click().run()
    assert not app.exception and app.query_params["t"] == "4"
    assert "present=true" in app.code[0].value
    if page == STEP:
        assert len(app.get("plotly_chart")) == 1 and not app.latex  # the diagram only
    app.button(key=f"{prefix}_leave_present").click().run()
    assert not app.exception and app.toggle(key="present").value is False
    assert not any("stSidebar" in element.proto.body for element in app.get("html"))
    assert app.header and "present" not in app.code[0].value


@pytest.mark.parametrize("page", [GATES, STEP])
def test_a_bad_present_value_gets_a_message(models, page):
    app = open_page(page, {"present": "<b>maybe</b>"})
    assert not app.exception, app.exception
    assert app.toggle(key="present").value is False
    notices = "\n".join(element.value for element in app.warning)
    assert "present=1" in notices and "<b>" not in notices


@pytest.mark.parametrize("page", [GATES, STEP])
def test_share_and_export_offer_every_view_parameter_and_three_files(models, page):
    prefix = "gates" if page == GATES else "step"
    query = {"text": 'Mary, "quoted" & <b>', "t": "2", "unit": "7"}
    if page == GATES:
        query |= {"top_k": "9", "order": "by unit number"}
    app = open_page(page, query)
    assert not app.exception, app.exception
    link = app.code[0].value
    assert link.startswith(f"/{prefix}?")  # no browser address under AppTest: a relative link
    assert "text=Mary%2C%20%22quoted%22%20%26%20%3Cb%3E" in link and "t=2" in link and "unit=7" in link
    assert "model=words" in link
    if page == GATES:
        assert "top_k=9" in link and "order=by%20unit%20number" in link
    buttons = {element.proto.id.split("-")[-1]: element for element in app.get("download_button")}
    keys = [key for key in (f"{prefix}_export_csv", f"{prefix}_export_npz", f"{prefix}_export_html")]
    assert all(any(key in element_id for element_id in buttons) for key in keys), list(buttons)
    labels = [element.proto.label for element in app.get("download_button")]
    assert labels == ["Trace as CSV", "Trace as NumPy .npz", "Charts as HTML"]


@pytest.mark.parametrize("page", [GATES, STEP])
def test_presenting_an_empty_text_still_offers_the_way_out(models, page):
    prefix = "gates" if page == GATES else "step"
    app = open_page(page, {"present": "true", "text": " "})
    assert not app.exception, app.exception
    assert any("The text is empty" in element.value for element in app.info)
    app.button(key=f"{prefix}_leave_present").click().run()
    assert not app.exception and app.toggle(key="present").value is False
    assert app.text_area(key="text").value == " "


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"compare_layers": "maybe"}, "layers side by side “maybe”"),
        ({"compare_layers": "true", "compare_signal": "<script>x</script>"}, "signal “<script>x</script>”"),
    ],
)
def test_bad_side_by_side_values_get_a_message(models, query, expected):
    app, _ = open_with_model(GATES, query)
    notices = "\n".join(element.value for element in app.warning).replace("\\", "")
    assert expected in notices, notices
    assert "<script>" not in "\n".join(element.value for element in app.warning)  # escaped
    assert app.selectbox(key="compare_signal").value == "forget"


def test_a_hand_typed_compare_layers_1_turns_it_on(models):
    for page, chart_key in ((GATES, "gates_compare_layers"), (STEP, "step_compare_layers")):
        app, _ = open_with_model(page, {"compare_layers": "1"})
        assert app.toggle(key="compare_layers").value is True and not app.warning
        assert any(chart_key in key for key in chart_keys(app))
