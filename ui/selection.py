"""What a click on a chart selects, as callbacks that live in an importable module.

A callback defined in a page file keeps that page run's globals alive (its `__globals__` is the run's
module dict: the trace, every figure). A clickable chart's widget identity includes a hash of its
whole figure, so every new figure registers a new callback; a callback defined in a page would make the
server keep every figure a session ever drew, and its memory would grow with every click of every
session (benchmarks.load_test watches the server's memory). Defined here, they hold nothing of a run.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import streamlit as st

from ui import figures

__all__ = ["select_on_gates", "select_on_your_model"]


def _points(chart_key: str, session: MutableMapping) -> list:
    return list(session[chart_key].selection.points) if chart_key in session else []


def select_on_gates(chart_key: str, session: MutableMapping | None = None) -> None:
    """/gates: a heatmap cell selects its token and unit; a token of the coloured text (customdata:
    token, value) selects that token. Also for the link to /step."""
    session = st.session_state if session is None else session
    points = _points(chart_key, session)
    if not points:
        return
    if chart_key == "gates_text_chart":
        session["t"] = int(figures.customdata_item(points[0], 0))
    else:
        session["t"], session["unit"] = figures.clicked_cell(points[0])
    session["gates_clicked"] = True


def select_on_your_model(chart_key: str, session: MutableMapping | None = None) -> None:
    """/your-model: a heatmap cell of the bare LSTM selects that timestep and unit."""
    session = st.session_state if session is None else session
    points = _points(chart_key, session)
    if points:
        session["your_model_t"], session["your_model_unit"] = figures.clicked_cell(points[0])
