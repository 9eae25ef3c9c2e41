"""Clicks on charts: what they select, and that the callbacks keep nothing of a page run alive."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from ui import selection

VIEWS = Path(__file__).resolve().parent.parent / "views"


def clicked(*points: dict) -> SimpleNamespace:
    return SimpleNamespace(selection=SimpleNamespace(points=list(points)))


def test_a_heatmap_click_on_gates_selects_the_token_and_unit():
    session = {"gates_heatmap_forget": clicked({"x": 7, "y": 41, "customdata": 0.93})}
    selection.select_on_gates("gates_heatmap_forget", session)
    assert (session["t"], session["unit"], session["gates_clicked"]) == (7, 41, True)


def test_a_click_on_the_coloured_text_selects_only_the_token():
    session = {"gates_text_chart": clicked({"x": 1.5, "customdata": [12, 0.4]}), "unit": 3}
    selection.select_on_gates("gates_text_chart", session)
    assert (session["t"], session["unit"]) == (12, 3)


def test_no_point_selects_nothing():
    session = {"gates_heatmap_input": clicked()}
    selection.select_on_gates("gates_heatmap_input", session)
    selection.select_on_gates("a chart that never drew", session)
    assert set(session) == {"gates_heatmap_input"}


def test_a_click_on_the_bare_lstm_heatmap_selects_its_timestep_and_unit():
    session = {"your_model_heatmap_cell": clicked({"x": 4, "y": "9", "customdata": -0.2})}
    selection.select_on_your_model("your_model_heatmap_cell", session)
    assert (session["your_model_t"], session["your_model_unit"]) == (4, 9)


@pytest.mark.parametrize("page", sorted(VIEWS.glob("*.py")), ids=lambda path: path.name)
def test_chart_callbacks_are_not_defined_in_a_page(page):
    """A clickable chart is a new widget for every new figure, and Streamlit keeps its callback: a
    lambda or a function defined in the page file would keep that run's globals (its trace and every
    figure) alive with it, and the server would grow with every click of every session."""
    tree = ast.parse(page.read_text())
    page_functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "on_select":
            value = node.value
            assert not isinstance(value, ast.Lambda), f"{page.name}:{value.lineno}: a lambda as on_select"
            names = {child.id for child in ast.walk(value) if isinstance(child, ast.Name)}
            assert not names & page_functions, f"{page.name}:{value.lineno}: on_select calls {names & page_functions}"
