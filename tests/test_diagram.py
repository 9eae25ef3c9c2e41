"""The cell diagram: a pure Plotly figure, checked without Streamlit."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from lstm_core import LSTM
from ui.diagram import DIAGRAM_PARTS, cell_diagram_figure, cell_diagram_values


@pytest.fixture(scope="module")
def step():
    lstm = LSTM.random(input_size=6, hidden_size=10, seed=3)
    trace = lstm.run(np.random.default_rng(0).normal(size=(5, 6)))
    trace = dataclasses.replace(trace, tokens=("bob", "is", "<script>alert(1)</script>", ".", "he"))
    return trace.step(2)


def _annotation_texts(figure) -> str:
    return " ".join(annotation.text or "" for annotation in figure.layout.annotations)


def test_bare_diagram_names_every_part():
    figure = cell_diagram_figure()
    texts = _annotation_texts(figure)
    for name in ("forget gate", "input gate", "candidate", "output gate", "c<sub>t-1</sub>", "h<sub>t</sub>", "tanh"):
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
