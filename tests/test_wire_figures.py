"""What Streamlit sends for every chart of every page is what Plotly itself would send.

The app's figures are `SpecFigure`s (ui/figures.py): for Streamlit's `to_dict()` they encode their
plain figure dict without building Plotly's object tree. Here every page from app.py runs in AppTest
on its default view and a sentence, and every `to_dict()` a chart answers is compared with Plotly's own
`go.Figure(spec, _validate=False).to_dict()` (what the app sent before, unchecked as Streamlit sends it)
after both go through Plotly's JSON encoding, typed arrays decoded.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from tests.pages import open_page
from tests.test_hostile_pages import PAGES
from ui import figures
from ui.figures import SpecFigure

PLOTLY_TYPES = {"i1": np.int8, "u1": np.uint8, "i2": np.int16, "u2": np.uint16, "i4": np.int32,
                "u4": np.uint32, "f4": np.float32, "f8": np.float64}  # fmt: skip


def decoded(value):
    """JSON value with Plotly's typed arrays ({dtype, bdata, shape}) turned back into nested lists."""
    if isinstance(value, dict):
        if set(value) in ({"dtype", "bdata"}, {"dtype", "bdata", "shape"}):
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=PLOTLY_TYPES[value["dtype"]])
            if "shape" in value:
                array = array.reshape([int(part) for part in value["shape"].split(",")])
            return array.tolist()
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


def sent(figure_dict: dict):
    return decoded(json.loads(pio.to_json(figure_dict, validate=False)))


def plotly_to_dict(spec: dict) -> dict:
    return go.Figure(spec, _validate=False).to_dict()


def close(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and np.isclose(a, b, rtol=1e-6, atol=0, equal_nan=True)
    return a == b


def test_wire_format_of_a_heatmap_matches_plotly_and_leaves_the_spec_alone():
    values = np.random.default_rng(0).random((6, 40)).astype(np.float32)
    figure = figures.gate_heatmap(values, list("abcdef"), np.arange(8), "cell", selected=(2, 3))
    spec = object.__getattribute__(figure, "_spec")
    before = json.dumps(spec, default=lambda array: array.tolist())
    fast = figure.to_dict()
    assert not object.__getattribute__(figure, "_built"), "to_dict must not build Plotly's object tree"
    assert json.dumps(spec, default=lambda array: array.tolist()) == before
    assert fast["data"][0]["z"]["dtype"] == "f4"  # arrays go out as typed arrays, as Plotly sends them
    assert close(sent(fast), sent(plotly_to_dict(spec)))


def test_a_spec_figure_is_an_ordinary_figure_once_used():
    figure = figures.gate_heatmap(np.zeros((3, 4), np.float32), list("abc"), np.arange(4), "forget")
    figure.layout.title.text = "changed"  # as /compare does: builds the tree, then changes it
    assert object.__getattribute__(figure, "_built")
    assert figure.to_dict()["layout"]["title"]["text"] == "changed"
    assert isinstance(figure, go.Figure) and len(figure.data) == 2


@pytest.mark.parametrize(("file", "path"), PAGES, ids=[path for _, path in PAGES])
def test_every_chart_sends_what_plotly_would(file, path, monkeypatch):
    checked: list[str] = []
    mismatches: list[str] = []
    fast_to_dict = SpecFigure.to_dict

    def compared(figure):
        fast = fast_to_dict(figure)
        if not object.__getattribute__(figure, "_built"):
            plotly = plotly_to_dict(object.__getattribute__(figure, "_spec"))
            title = str(fast.get("layout", {}).get("title", {}))[:60]
            checked.append(title)
            if not close(sent(fast), sent(plotly)):
                mismatches.append(title)
        return fast

    monkeypatch.setattr(SpecFigure, "to_dict", compared)
    app = open_page(file, {"text": "Bob is a nice person. Dan, on the other hand, is evil."}, timeout=120)
    assert not app.exception, [item.value for item in app.exception]
    assert not mismatches, f"{path}: charts that differ from Plotly's own encoding: {mismatches}"
    if path in ("gates", "step", "compare", "corpus"):
        assert checked, f"{path} drew no chart through SpecFigure"
