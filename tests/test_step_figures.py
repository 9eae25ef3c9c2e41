"""The /step figures draw the trace's own numbers, mark the selected unit and token, and escape tokens."""

import dataclasses
import itertools

import numpy as np
import pytest

from lstm_core import GATE_NAMES, LSTM
from lstm_core.models.language_model import UnitInfo
from ui import palette, step_figures


@pytest.fixture(scope="module")
def trace():
    lstm = LSTM.random(input_size=5, hidden_size=16, seed=3, scale=0.9)
    inputs = np.random.default_rng(0).normal(size=(9, 5))
    tokens = ("bob", "is", "<b>nice</b>", ".", "dan", ",", "is", "evil", ".")
    return dataclasses.replace(lstm.run(inputs), tokens=tokens)


def test_gate_strips_show_every_units_values_at_the_token(trace):
    step = trace.step(4)
    figure = step_figures.gate_strips(step, unit=7)
    names = [row[0] for row in step_figures.STRIP_ROWS]
    assert names == [*GATE_NAMES, "cell", "hidden"]
    assert len(figure.data) == 6
    for heatmap, name in zip(figure.data, names, strict=True):
        expected = step.gates[name] if name in GATE_NAMES else getattr(step, name)
        np.testing.assert_allclose(np.asarray(heatmap.z)[0], expected, rtol=1e-6)
        assert list(heatmap.x) == list(range(16))
    # gates on the shared 0..1 scale; candidate and hidden on -1..1; the cell at least ±1
    forget = figure.data[1]
    assert (forget.zmin, forget.zmax) == (0.0, 1.0) and forget.colorscale == figure.data[0].colorscale
    assert (figure.data[2].zmin, figure.data[2].zmax) == (-1.0, 1.0)
    cell_limit = max(1.0, float(np.abs(step.cell).max()))
    assert figure.data[4].zmax == pytest.approx(cell_limit) and figure.data[4].zmin == pytest.approx(-cell_limit)
    # the chosen unit is framed across all strips (a dark frame on a white halo), named, and its values written
    halo, outline = figure.layout.shapes
    assert (outline.x0, outline.x1, outline.y0, outline.y1) == (6.5, 7.5, 0, 1)
    assert (halo.line.color, outline.line.color) == (palette.FRAME_LIGHT, palette.FRAME_DARK)
    assert figure.layout.annotations[0].text == "unit 7"
    written = [annotation.text for annotation in figure.layout.annotations[1:]]
    assert written == [f"<b>{float(step.gates[name][7] if name in GATE_NAMES else getattr(step, name)[7]):.3f}</b>"
                       for name in names]  # fmt: skip
    # each strip gets its own band of the height, top to bottom in order, without overlap
    domains = [figure.layout[f"yaxis{'' if row == 0 else row + 1}"].domain for row in range(6)]
    assert all(upper[0] > lower[1] for upper, lower in itertools.pairwise(domains))


def test_gate_strips_without_a_unit_and_with_a_bad_one(trace):
    assert step_figures.gate_strips(trace.step(0)).layout.shapes == ()
    with pytest.raises(ValueError, match="unit"):
        step_figures.gate_strips(trace.step(0), unit=16)


def test_unit_history_follows_one_unit_along_the_text(trace):
    figure = step_figures.unit_history(trace, unit=3, t=4)
    forget, input_gate, output_gate, cell, hidden, selected = figure.data
    assert selected.name == "selected token" and selected.marker.color == palette.HIGHLIGHT  # the band's legend
    np.testing.assert_allclose(forget.y, trace.gates["forget"][0, 0, :, 3])
    np.testing.assert_allclose(input_gate.y, trace.gates["input"][0, 0, :, 3])
    np.testing.assert_allclose(output_gate.y, trace.gates["output"][0, 0, :, 3])
    np.testing.assert_allclose(cell.y, trace.cell[0, 0, :, 3])
    np.testing.assert_allclose(hidden.y, trace.hidden[0, 0, :, 3])
    # stacked panels, not twin axes: gates on 0..1 on top, then c, then h, each on its own axis
    assert {trace.yaxis for trace in (forget, input_gate, output_gate)} == {"y"} and (cell.yaxis, hidden.yaxis) == (
        "y2",
        "y3",
    )
    assert not any(figure.layout[name].overlaying for name in ("yaxis", "yaxis2", "yaxis3"))
    domains = [figure.layout[name].domain for name in ("yaxis", "yaxis2", "yaxis3")]
    assert all(upper[0] > lower[1] for upper, lower in itertools.pairwise(domains))
    assert tuple(figure.layout.yaxis.range) == (-0.05, 1.05)
    for name, values in (("yaxis2", trace.cell[0, 0, :, 3]), ("yaxis3", trace.hidden[0, 0, :, 3])):
        axis = figure.layout[name]
        assert axis.zeroline and 0 in axis.tickvals  # the zero line drawn and labelled
        assert all(round(tick / 0.05) * 0.05 == pytest.approx(tick) for tick in axis.tickvals)  # round ticks
        assert axis.range[0] <= min(values.min(), 0) and axis.range[1] >= max(values.max(), 0)
    # words on the x axis, escaped (Plotly would render <b>)
    assert list(forget.x)[:3] == [0, 1, 2]
    assert list(figure.layout.xaxis.ticktext)[:3] == ["bob", "is", "&lt;b&gt;nice&lt;/b&gt;"]
    (band,) = figure.layout.shapes  # the selected token: a light-blue band around its column
    assert (band.x0, band.x1, band.fillcolor) == (3.5, 4.5, palette.HIGHLIGHT)
    # the values at the token are written in each panel
    texts = " ".join(annotation.text for annotation in figure.layout.annotations)
    assert f"c = {trace.cell[0, 0, 4, 3]:.3f}" in texts and f"h = {trace.hidden[0, 0, 4, 3]:.3f}" in texts
    assert f"f = {trace.gates['forget'][0, 0, 4, 3]:.2f}" in texts


@pytest.mark.parametrize(("threshold", "above", "below"), [(-0.13, "male", "female"), (0.32, "female", "male"),
                                                      (5.0, "inside", "outside")])  # fmt: skip
def test_unit_history_draws_a_named_units_threshold_with_what_each_side_reads_as(trace, threshold, above, below):
    """The colours of c turn at 0, a named unit's reading at its threshold: the cell panel shows where."""
    info = UnitInfo("subject gender", 0, 0, 3, threshold, above, below, accuracy=0.9, chosen_accuracy=0.9)
    figure = step_figures.unit_history(trace, unit=3, t=4, named=info)
    (line,) = [shape for shape in figure.layout.shapes if shape.type == "line"]
    assert line.y0 == line.y1 == threshold and line.yref == "y2"  # the cell panel's axis
    low, high = figure.layout.yaxis2.range
    assert low <= threshold <= high  # widened when the threshold lies beyond the values
    texts = " ".join(annotation.text for annotation in figure.layout.annotations)
    cut = f"{threshold:.2f}".replace("-", "−")
    assert f"threshold {cut}: above reads as {above}, below as {below}" in texts
    plain = step_figures.unit_history(trace, unit=3, t=4)
    assert not [shape for shape in plain.layout.shapes if shape.type == "line"]


def test_unit_history_windows_long_texts():
    lstm = LSTM.random(input_size=2, hidden_size=4, seed=0)
    long_trace = lstm.run(np.zeros((1000, 2)))
    figure = step_figures.unit_history(long_trace, unit=1, t=700, window=60)
    assert len(figure.data[0].x) == 60 and figure.data[0].x[0] == 670 and figure.layout.xaxis.ticktext[0] == "670"
    assert figure.layout.shapes[0].x0 == 699.5 and figure.layout.shapes[0].x1 == 700.5
    assert 700 in figure.layout.xaxis.tickvals  # every other token labelled, the selected one always
    with pytest.raises(ValueError, match="t must be"):
        step_figures.unit_history(long_trace, unit=1, t=1000)
    with pytest.raises(ValueError, match="unit"):
        step_figures.unit_history(long_trace, unit=4, t=0)
