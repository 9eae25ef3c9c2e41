"""Figure builders of the /gates page: pure functions, checked without Streamlit."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from lstm_core import LSTM
from ui import figures, palette


@pytest.fixture(scope="module")
def trace():
    lstm = LSTM.random(input_size=5, hidden_size=12, seed=1)
    run = lstm.run(np.random.default_rng(0).normal(size=(9, 5)))
    tokens = ("bob", "is", "<b>nice</b>", ".", "dan", ",", "<script>x</script>", "is", "evil")
    return dataclasses.replace(run, tokens=tokens)


def serialised(figure) -> str:
    return figure.to_json()


def test_signals_are_float32_views_of_the_trace(trace):
    signals = figures.signals_of(trace)
    assert list(signals) == list(figures.SIGNAL_NAMES)
    for name, values in signals.items():
        assert values.dtype == np.float32 and values.shape == (9, 12), name
    np.testing.assert_array_equal(signals["forget"], trace.gates["forget"][0, 0])
    np.testing.assert_array_equal(signals["cell"], trace.cell[0, 0])


def test_unit_orders():
    cell = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.5], [0.0, 1.0, 3.0]])  # (T=3, H=3)
    np.testing.assert_array_equal(figures.unit_order(cell, "index"), [0, 1, 2])
    np.testing.assert_array_equal(figures.unit_order(cell, "variance"), [2, 1, 0])
    np.testing.assert_array_equal(figures.unit_order(cell, "change", token_index=1), [1, 2, 0])  # |-2|, 0.5, 0
    np.testing.assert_array_equal(figures.unit_order(cell, "change", token_index=0), [1, 0, 2])  # from zero state
    with pytest.raises(ValueError, match="order"):
        figures.unit_order(cell, "random")


def test_shown_units_keeps_pinned_ones_in_order():
    order = np.array([5, 3, 1, 0, 2, 4])
    np.testing.assert_array_equal(figures.shown_units(order, 2), [5, 3])
    np.testing.assert_array_equal(figures.shown_units(order, 2, pinned=[4, 99]), [5, 3, 4])
    np.testing.assert_array_equal(figures.shown_units(order, 100), order)
    np.testing.assert_array_equal(figures.shown_units(order, 0), [5])


@pytest.mark.parametrize(
    ("length", "token_index", "expected"),
    [(10, 3, (0, 10)), (1000, 0, (0, 80)), (1000, 500, (460, 540)), (1000, 999, (920, 1000))],
)
def test_token_window(length, token_index, expected):
    assert figures.token_window(length, token_index, 80) == expected


def test_token_window_keeps_the_token_inside_and_near_the_middle():
    assert figures.token_window(5, 2, 60) == (0, 5)
    assert figures.token_window(100, 0, 10) == (0, 10) and figures.token_window(100, 99, 10) == (90, 100)
    assert figures.token_window(1000, 995, 60) == (940, 1000) and figures.token_window(1000, 500, 60) == (470, 530)


def test_top_predictions_are_sorted():
    probabilities = np.array([[0.1, 0.5, 0.05, 0.35], [0.7, 0.1, 0.15, 0.05]], dtype=np.float32)
    ids, top = figures.top_predictions(probabilities, k=3)
    np.testing.assert_array_equal(ids, [[1, 3, 0], [0, 2, 1]])
    np.testing.assert_allclose(top, [[0.5, 0.35, 0.1], [0.7, 0.15, 0.1]])


def test_gate_heatmap_layout_and_click_layer(trace):
    signals = figures.signals_of(trace)
    units = np.array([7, 2, 5])
    figure = figures.gate_heatmap(signals["forget"][2:8], list(trace.tokens[2:8]), units, "forget", start=2,
                                  selected=(4, 5), unit_names={2: "subject gender"})  # fmt: skip
    heatmap, click_layer = figure.data
    np.testing.assert_allclose(heatmap.z, signals["forget"][2:8][:, units].T)
    assert list(heatmap.x) == [2, 3, 4, 5, 6, 7]
    # one click target per cell, at the absolute token index and the unit, carrying the value
    assert len(click_layer.x) == 3 * 6
    row, column = 2, 2  # unit 5 at token 4
    index = row * 6 + column
    assert (click_layer.x[index], click_layer.y[index]) == (4, 5)
    assert click_layer.customdata[index] == pytest.approx(float(signals["forget"][4, 5]))
    # Streamlit reports the y of a category axis as the category, a number or a string
    assert figures.clicked_cell({"x": click_layer.x[index], "y": click_layer.y[index]}) == (4, 5)
    assert figures.clicked_cell({"x": 4.0, "y": "5"}) == (4, 5)
    # rows are the units in drawing order; hover reads the token from the axis and t as the number
    assert figure.layout.yaxis.type == "category" and list(figure.layout.yaxis.categoryarray) == [7, 2, 5]
    assert list(heatmap.y) == [7, 2, 5]
    assert "token %{x} (t=%{x:d})" in click_layer.hovertemplate and "unit %{y}" in click_layer.hovertemplate
    assert "%{customdata:.4f}" in click_layer.hovertemplate
    # the named unit is marked on the y axis and framed dashed; the selection framed solid, each on a halo
    assert any("subject gender · 2" in text for text in figure.layout.yaxis.ticktext)
    frames = [(shape.line.color, shape.line.dash) for shape in figure.layout.shapes]
    assert frames.count((palette.FRAME_DARK, "dash")) == 1  # the named unit's row
    assert frames.count((palette.FRAME_DARK, "solid")) == 1  # the selected cell
    assert frames.count((palette.FRAME_LIGHT, "solid")) == len(frames) // 2  # a white halo under each
    # the selected cell's value is written in the figure, not only in the hover
    assert f"f = {signals['forget'][4, 5]:.3f}" in figure.layout.title.subtitle.text
    assert "3 of 12 units" in figure.layout.title.subtitle.text


def test_gate_heatmap_writes_values_in_small_views_only(trace):
    signals = figures.signals_of(trace)
    small = figures.gate_heatmap(signals["hidden"], list(trace.tokens), np.arange(12), "hidden", show_values=True)
    assert small.data[0].texttemplate == "%{z:.2f}"
    assert (
        figures.gate_heatmap(signals["hidden"], list(trace.tokens), np.arange(12), "hidden").data[0].texttemplate
        is None
    )
    many = np.zeros((30, 20), np.float32)  # 30 tokens: wider than a half-page chart can write numbers in
    crowded = figures.gate_heatmap(many, ["a"] * 30, np.arange(20), "input", show_values=True)
    assert crowded.data[0].texttemplate is None
    assert "written in the cells when at most" in crowded.layout.title.subtitle.text


def test_gate_heatmap_names_the_unit_order_and_keeps_labels_readable(trace):
    signals = figures.signals_of(trace)
    title = figures.UNIT_ORDER_TITLES["variance"]
    figure = figures.gate_heatmap(signals["cell"], list(trace.tokens), np.arange(12), "cell", units_title=title)
    assert figure.layout.yaxis.title.text == title
    assert figure.layout.yaxis.tickfont.size >= 12
    assert set(figures.UNIT_ORDER_TITLES) == set(figures.UNIT_ORDERS)


@pytest.mark.parametrize("units", [32, 128])
def test_gate_heatmap_sends_each_cell_once(units):
    """A class's every text change sends six heatmaps; the bytes per cell decide how long a rerun takes
    to arrive. A cell costs its value twice (the heatmap's z and the hover's customdata, float32 in
    base64) and its two coordinates (int16): about 16 bytes, nothing per cell as text."""
    tokens = [f"word{index}" for index in range(40)]
    values = np.random.default_rng(0).random((40, 128), dtype=np.float32)
    figure = figures.gate_heatmap(values, tokens, np.arange(units)[::-1], "input", unit_names={3: "a unit"})
    data = json.dumps(figure.to_dict()["data"])
    per_cell = len(data) / (units * len(tokens))
    assert per_cell < 18, f"{per_cell:.1f} bytes per cell"  # 12 bytes in base64: 16; with every token as text: 35
    assert "word7" not in data  # the tokens are in the axis labels only


def test_gate_heatmap_scales(trace):
    signals = figures.signals_of(trace)
    units = np.arange(12)
    forget = figures.gate_heatmap(signals["forget"], list(trace.tokens), units, "forget")
    cell = figures.gate_heatmap(signals["cell"], list(trace.tokens), units, "cell", signed_limit=2.5)
    assert (forget.data[0].zmin, forget.data[0].zmax) == (0, 1)
    assert (cell.data[0].zmin, cell.data[0].zmid, cell.data[0].zmax) == (-2.5, 0, 2.5)
    assert forget.data[0].colorscale != cell.data[0].colorscale
    # colour bars tick at round numbers and say which end of a gate is which
    assert list(cell.data[0].colorbar.tickvals) == [-2, 0, 2]
    assert list(forget.data[0].colorbar.ticktext) == ["0 closed", "0.5", "1 open"]


def test_gate_heatmap_sends_float32_and_refuses_huge_figures(trace):
    signals = figures.signals_of(trace)
    spec = json.loads(serialised(figures.gate_heatmap(signals["hidden"], list(trace.tokens), np.arange(12), "hidden")))
    assert spec["data"][0]["z"]["dtype"] == "f4"
    with pytest.raises(ValueError, match="window"):
        figures.gate_heatmap(np.zeros((2001, 128)), ["a"] * 2001, np.arange(128), "forget")
    with pytest.raises(ValueError, match="each unit can be drawn once"):
        figures.gate_heatmap(signals["hidden"], list(trace.tokens), np.array([3, 1, 3]), "hidden")


def test_user_tokens_are_escaped_everywhere(trace):
    signals = figures.signals_of(trace)
    tokens = list(trace.tokens)
    built = [
        figures.gate_heatmap(signals["input"], tokens, np.arange(12), "input"),
        figures.predictions_figure(tokens, [["<i>x</i>", "he"]] * 9, np.full((9, 2), 0.5)),
        figures.colored_text_figure(tokens, signals["cell"][:, 0], signed=True),
    ]
    for figure in built:
        text = serialised(figure)
        assert "<script>" not in text and "<b>nice" not in text and "<i>x" not in text
        assert "&lt;script&gt;" in text or "&lt;i&gt;" in text


def test_predictions_figure(trace):
    predicted = [["he", "she", "single-handedly"]] * 9
    probabilities = np.tile([0.6, 0.3, 0.1], (9, 1))
    figure = figures.predictions_figure(list(trace.tokens), predicted, probabilities, start=0, selected=3)
    heatmap = figure.data[0]
    assert np.asarray(heatmap.z).shape == (3, 9)
    assert heatmap.text[0][0] == "he"
    assert heatmap.customdata[2][0] == "single-handedly"  # whole in the hover, cut in the cell if long
    # %{x} and %{y} print the axes' tick texts ("guess 2"), %{x:d} the token's index
    assert list(figure.layout.yaxis.ticktext)[1] == "guess 2"
    assert heatmap.hovertemplate.startswith("after token %{x} (t=%{x:d}): %{y} is %{customdata}")
    assert len(figure.layout.shapes) == 2  # the selected token's frame on its halo
    assert figure.layout.title.subtitle.text == "after token 3 “.”: “he” 0.60, “she” 0.30, “single-handedly” 0.10"
    written = figures.predictions_figure(list(trace.tokens), predicted, probabilities, show_values=True)
    assert written.data[0].texttemplate == "%{text}<br>%{z:.2f}"


def test_colored_text_wraps_and_colours(trace):
    values = np.linspace(-1, 1, 9)
    figure = figures.colored_text_figure(list(trace.tokens), values, signed=True, selected=4, chars_per_line=12)
    bars = figure.data[0]
    assert bars.type == "bar" and len(bars.x) == 9
    assert max(bars.y) >= 2  # wrapped onto several lines
    assert all(base + width <= 12 or width > 12 for base, width in zip(bars.base, bars.x, strict=True))
    assert bars.marker.color[0] != bars.marker.color[-1]  # purple end and orange end
    assert [point[0] for point in bars.customdata] == list(range(9))  # what a click selects
    assert len(figure.layout.shapes) == 2  # the selected token's frame on its halo
    assert figure.layout.title.text == "token 4 “dan”: value = 0.000"  # its value, written


def test_colors():
    assert figures.color_for_value(palette.GATE_SCALE, 0.0) == figures.color_for_value(palette.GATE_SCALE, -5.0)
    assert figures.color_for_value(palette.SIGNED_SCALE, 0.0, signed=True) == "rgb(247, 247, 247)"  # the middle
    assert figures.color_for_value(palette.SIGNED_SCALE, 3.0, signed=True, limit=2.0) == "rgb(179, 88, 6)"  # clipped
    with pytest.raises(TypeError, match="Plotly name"):
        figures.color_for_value("RdBu", 0.0)
    assert figures.text_color_on("rgb(0, 34, 78)") == "#ffffff"
    assert figures.text_color_on("#fee838") == "#111111"
    assert figures.signed_limit(np.array([0.1, -0.2])) == 1.0
    assert figures.signed_limit(np.array([5.0] * 100)) == pytest.approx(5.0)


def test_customdata_of_a_clicked_point():
    # Streamlit reports a point's customdata as the browser gives it: an object keyed "0", "1", ...
    clicked = {"x": 4, "y": 2, "customdata": {"0": 119, "1": 0.93, "2": 4}}
    assert figures.customdata_item(clicked, 0) == 119 and figures.customdata_item(clicked, 2) == 4
    assert figures.customdata_item({"customdata": [7, 0.5]}, 1) == 0.5


def test_heatmap_token_labels_are_a_plain_list_not_a_numpy_string_array(trace):
    """Plotly turns a NumPy array of strings into an object array when Streamlit serialises the figure,
    and the server kept those: under the load test its memory grew without end. Lists level off."""
    signals = figures.signals_of(trace)
    figure = figures.gate_heatmap(signals["input"], list(trace.tokens), np.arange(5), "input")

    def string_arrays(value):
        if isinstance(value, np.ndarray):
            return [value] if value.dtype.kind in "OUS" else []
        if isinstance(value, dict):
            return [array for item in value.values() for array in string_arrays(item)]
        if isinstance(value, list | tuple):
            return [array for item in value for array in string_arrays(item)]
        return []

    assert not string_arrays(figure.to_plotly_json())
    assert len(figure.layout.xaxis.ticktext) == trace.length  # the hover reads the token from there


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(-0.139, 0.798, [0.0, 0.25, 0.5, 0.75]), (-1.0, 1.0, [-1.0, -0.5, 0.0, 0.5, 1.0]), (0.0, 37.0, [0, 10, 20, 30])],
)
def test_nice_ticks_are_round_numbers_with_zero(low, high, expected):
    assert figures.nice_ticks(low, high) == pytest.approx(expected)


def test_legend_states_every_rule():
    legend = figures.legend_markdown()
    for rule in (palette.GATE_RULE, palette.SIGN_RULE, palette.FRAME_RULE):
        assert rule in legend
