"""Every chart has a text alternative: each `plotly_chart` call in views/ and ui/ passes `alt` (ui/accessibility).

Streamlit gives `alt` to the chart as its accessible name; without it a screen reader meets a picture
with no name. tests/test_browser_accessibility.py checks the same on the rendered pages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ui import accessibility, palette
from ui.figures import SIGNAL_NAMES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(ROOT / "views").glob("*.py"), *(ROOT / "ui").glob("*.py")])


def charts_without_text(source: str) -> list[str]:
    """'line N' for every `….plotly_chart(…)` call that passes no `alt`, or None or an empty string as `alt`."""
    missing = []
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "plotly_chart"
        ):
            continue
        alt = next((keyword.value for keyword in node.keywords if keyword.arg == "alt"), None)
        if alt is None or (isinstance(alt, ast.Constant) and not (isinstance(alt.value, str) and alt.value.strip())):
            missing.append(f"line {node.lineno}")
    return missing


def test_the_check_finds_charts_without_text():
    source = (
        "import streamlit as st\n"
        "st.plotly_chart(figure, key='a')\n"
        "column.plotly_chart(figure, key='b', alt=None)\n"
        "st.plotly_chart(figure, key='c', alt='  ')\n"
        "st.plotly_chart(figure, key='d', alt=accessibility.CELL_DIAGRAM)\n"
        "st.plotly_chart(figure, key='e', alt=accessibility.heatmap('cell'))\n"
    )
    assert charts_without_text(source) == ["line 2", "line 3", "line 4"]


def test_the_scan_sees_the_app_s_charts():
    calls = sum(source.read_text().count(".plotly_chart(") for source in SOURCES)
    assert calls >= 30  # the pages draw dozens of charts; a scan that finds none would check nothing


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_chart_has_a_text_alternative(source):
    assert charts_without_text(source.read_text()) == [], f"{source.name}: pass alt=accessibility.… to these charts"


@pytest.mark.parametrize("signal", SIGNAL_NAMES)
def test_heatmap_texts_name_the_signal_and_its_colours(signal):
    rule = palette.SIGN_RULE if signal in ("candidate", "cell", "hidden") else palette.GATE_RULE
    for text in (
        accessibility.heatmap(signal),
        accessibility.heatmap(signal, "A"),
        accessibility.layers_heatmap(signal),
    ):
        assert rule in text and accessibility._title(signal) in text
    assert "text A" in accessibility.heatmap(signal, "A")
    assert "B minus A" in accessibility.difference_heatmap(signal)


def test_an_unknown_signal_is_refused():
    with pytest.raises(ValueError, match="signal must be one of"):
        accessibility.heatmap("memory")


def test_every_text_is_a_sentence():
    for name in accessibility.__all__:
        text = getattr(accessibility, name)
        if isinstance(text, str) and name != "PAGE_CSS":
            assert 40 <= len(text) <= 400 and text[0].isupper() and text.endswith((".", ")")), name
