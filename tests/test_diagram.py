"""The cell diagram: a pure Plotly figure, checked without Streamlit."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from lstm_core import LSTM
from ui.diagram import DIAGRAM_PARTS, MIN_PIXELS_PER_UNIT, cell_diagram_figure, cell_diagram_values


@pytest.fixture(scope="module")
def step():
    lstm = LSTM.random(input_size=6, hidden_size=10, seed=3)
    trace = lstm.run(np.random.default_rng(0).normal(size=(5, 6)))
    trace = dataclasses.replace(trace, tokens=("bob", "is", "<script>alert(1)</script>", ".", "he"))
    return trace.step(2)


def _annotation_texts(figure) -> str:
    return " ".join(annotation.text or "" for annotation in figure.layout.annotations)


def _words(text: str) -> str:
    """The text as read, without Plotly's tags and line breaks."""
    return " ".join(re.sub(r"<br>|<[^>]+>", " ", text).split())


def test_bare_diagram_names_every_part():
    figure = cell_diagram_figure()
    texts = _annotation_texts(figure)
    for name in ("forget gate", "input gate", "candidate", "output gate", "tanh"):
        assert name in _words(texts)  # a name may be written on two lines
    for name in ("c<sub>t-1</sub>", "h<sub>t</sub>"):
        assert name in texts
    assert texts.count("×") == 3 and texts.count("+") == 1
    # one invisible hover marker per part, each explained
    assert len(figure.data) == 1 and len(figure.data[0].hovertext) == len(DIAGRAM_PARTS)


def test_values_are_the_step_numbers(step):
    values = cell_diagram_values(step, 4)
    assert values["forget"] == pytest.approx(float(step.gates["forget"][4]))
    assert values["cell"] == pytest.approx(values["forgotten"] + values["written"], abs=1e-6)
    assert values["hidden"] == pytest.approx(values["output"] * np.tanh(values["cell"]), abs=1e-6)
    assert values["c_prev"] == pytest.approx(float(step.c_prev[4]))


def test_live_diagram_shows_the_numbers_and_colours_the_gates(step):
    figure = cell_diagram_figure(step, unit=4)
    values = cell_diagram_values(step, 4)
    texts = _annotation_texts(figure)
    for key in ("forget", "input", "candidate", "output", "c_prev", "h_prev", "cell", "hidden"):
        assert f"{values[key]:.3f}" in texts, key
    fills = [shape.fillcolor for shape in figure.layout.shapes if shape.type == "rect"]
    assert sum(fill.startswith("rgb(") for fill in fills) == 4  # the four gate boxes
    assert "Unit 4 at token 2" in figure.layout.title.text


def test_user_tokens_are_escaped(step):
    serialised = json.dumps(cell_diagram_figure(step, unit=0).to_plotly_json(), default=str)
    assert "<script>" not in serialised
    assert "&lt;script&gt;" in serialised


@pytest.mark.parametrize("unit", [None, -1, 10, 2.5, "3"])
def test_bad_unit_is_a_clear_error(step, unit):
    with pytest.raises(ValueError, match="unit"):
        cell_diagram_figure(step, unit=unit)


def test_deeper_layer_names_its_input():
    lstm = LSTM.random(input_size=3, hidden_size=4, num_layers=2, seed=0)
    step = lstm.run(np.ones((3, 3))).step(1, layer=1)
    assert "layer 0" in _annotation_texts(cell_diagram_figure(step, unit=0))


# ------------------------------------------------------------------------------ label geometry
# Text keeps its pixel size while the drawing scales, so a label's extent in data units is measured
# at the smallest drawing the pages show (`MIN_PIXELS_PER_UNIT`), with generous font metrics: a
# character at most 0.55 em wide (Source Sans and Open Sans average under 0.5), a line 1.25 em tall,
# sub- and superscripts at 0.7.
CHAR_EM, LINE_EM, SMALL = 0.55, 1.25, 0.7
MARGIN = 0.05  # data units (about 2 pixels) between a label and any box edge


def label_extent(annotation, pixels_per_unit: float) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) an annotation's text covers, in data units."""
    lines = annotation.text.split("<br>")

    def width(line: str) -> float:
        small = "".join(re.findall(r"<su[bp]>(.*?)</su[bp]>", line))
        normal = re.sub(r"<[^>]+>", "", re.sub(r"<su[bp]>.*?</su[bp]>", "", line))
        return len(normal) + SMALL * len(small)

    size = annotation.font.size or 12
    pad = (annotation.borderpad or 1) if annotation.bgcolor else 0
    wide = (max(width(line) for line in lines) * CHAR_EM * size + 2 * pad) / pixels_per_unit
    tall = (len(lines) * LINE_EM * size + 2 * pad) / pixels_per_unit
    anchor = annotation.xanchor or "center"
    left = annotation.x - (wide / 2 if anchor == "center" else 0 if anchor == "left" else wide)
    return left, left + wide, annotation.y - tall / 2, annotation.y + tall / 2


def test_the_extent_measure_sees_a_label_across_an_edge():
    figure = cell_diagram_figure()
    label = next(annotation for annotation in figure.layout.annotations if "forget" in (annotation.text or ""))
    x0, x1, y0, y1 = label_extent(label, MIN_PIXELS_PER_UNIT)
    assert x0 < label.x < x1 and y0 < label.y < y1
    assert x1 - x0 > label_extent(label, 2 * MIN_PIXELS_PER_UNIT)[1] - label_extent(label, 2 * MIN_PIXELS_PER_UNIT)[0]


@pytest.mark.parametrize("unit", range(10))
@pytest.mark.parametrize("height", [360, 430])  # the tutorial's drawing and /step's
def test_no_label_crosses_a_box_edge(unit, height):
    """Every label lies inside a box or outside it, by a margin, on the smallest drawing: the values in the
    gate boxes, the names under them, and the values on the wires and outside the cell's outline."""
    lstm = LSTM.random(input_size=6, hidden_size=10, seed=3)
    trace = lstm.run(np.random.default_rng(0).normal(size=(5, 6)) * 4)  # large inputs: values such as −0.987
    trace = dataclasses.replace(trace, tokens=("bob", "is", "evil", ".", "he"))
    figure = cell_diagram_figure(trace.step(2), unit, height=height)
    layout = figure.layout
    plotted = (height - layout.margin.t - layout.margin.b) / (layout.yaxis.range[1] - layout.yaxis.range[0])
    pixels = min(plotted, MIN_PIXELS_PER_UNIT)
    rects = [shape for shape in layout.shapes if shape.type == "rect"]
    boxes = [(shape.x0, shape.x1, shape.y0, shape.y1) for shape in rects]
    gate_boxes = {box for box, shape in zip(boxes, rects, strict=True) if shape.fillcolor.startswith("rgb(")}
    assert len(gate_boxes) == 4 and len(boxes) >= 6  # the gates, tanh's box and the cell's outline at least
    inside_a_gate_box = 0
    for annotation in layout.annotations:
        if not annotation.text:
            continue  # an arrowhead
        x0, x1, y0, y1 = label_extent(annotation, pixels)
        assert layout.xaxis.range[0] <= x0 and x1 <= layout.xaxis.range[1], annotation.text
        for bx0, bx1, by0, by1 in boxes:
            inside = bx0 + MARGIN <= x0 and x1 <= bx1 - MARGIN and by0 + MARGIN <= y0 and y1 <= by1 - MARGIN
            outside = x1 <= bx0 - MARGIN or x0 >= bx1 + MARGIN or y1 <= by0 - MARGIN or y0 >= by1 + MARGIN
            assert inside or outside, f"{annotation.text!r} crosses the edge of the box {(bx0, bx1, by0, by1)}"
            inside_a_gate_box += inside and (bx0, bx1, by0, by1) in gate_boxes
    assert inside_a_gate_box == 4  # each gate's value sits within its box
