"""Plotly figures for /step: every unit's gates at one token, and one unit's gates over the text.

Pure functions from arrays (a `StepDetail`, a `Trace`) to Plotly figures, tested without a server.
Tokens shown in labels and hovers are HTML-escaped, since Plotly renders a few HTML tags in text.

>>> import numpy as np
>>> from lstm_core import LSTM
>>> trace = LSTM.random(input_size=3, hidden_size=8, seed=0).run(np.ones((5, 3)))
>>> figure = gate_strips(trace.step(2), unit=3)
>>> [trace.name for trace in figure.data][:4]
['input i', 'forget f', 'candidate g', 'output o']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from lstm_core import GATE_NAMES, StepDetail, Trace
from ui.explain import GATE_SYMBOLS
from ui.figures import GATE_COLORSCALE, SIGNED_COLORSCALE, token_labels, token_window

__all__ = [
    "STRIP_ROWS",
    "GATE_COLORS",
    "PAIR_COLORS",
    "gate_strips",
    "indexed_token_labels",
    "unit_history",
    "unit_across_layers",
]

# Line and label colours of each quantity, so a student matches a strip's name with its line.
GATE_COLORS = {
    "input": "#2a9d8f",
    "forget": "#e76f51",
    "candidate": "#8e44ad",
    "output": "#3a86ff",
    "cell": "#264653",
    "hidden": "#f4a261",
}
# (key, label, kind): gates are in 0..1 on the app's gate scale; tanh values (-1..1) and the cell (any
# sign) on its diverging scale, so the sign reads as a colour, as on /gates and in the cell diagram.
STRIP_ROWS: tuple[tuple[str, str, str], ...] = (
    ("input", "input i", "gate"),
    ("forget", "forget f", "gate"),
    ("candidate", "candidate g", "signed"),
    ("output", "output o", "gate"),
    ("cell", "cell c", "signed"),
    ("hidden", "hidden h", "signed"),
)


def _values(step: StepDetail, key: str) -> np.ndarray:
    if key in GATE_NAMES:
        return np.asarray(step.gates[key], dtype=float)
    return np.asarray(step.cell if key == "cell" else step.hidden, dtype=float)


def gate_strips(step: StepDetail, unit: int | None = None, height_per_row: int = 46) -> go.Figure:
    """One strip per quantity (i, f, g, o, c, h), one cell per hidden unit, at one token.

    Colours follow the app's rule (`ui.figures`): gates on `GATE_COLORSCALE` fixed to 0..1; g, h on
    `SIGNED_COLORSCALE` fixed to -1..1, c to ±max(1, |c|). The selected `unit` is outlined in every strip. Hovering a cell shows unit and value.
    """
    hidden_size = len(step.cell)
    if unit is not None and not 0 <= unit < hidden_size:
        raise ValueError(f"unit must be in 0..{hidden_size - 1} or None, got {unit!r}")
    units = np.arange(hidden_size)
    rows = len(STRIP_ROWS)
    # Build data and layout as plain dicts and validate once in go.Figure: adding traces, shapes and
    # annotations one call at a time costs Plotly ten times more, and /step redraws this every step.
    data = []
    layout: dict = {}
    gap = 0.025
    band = (1.0 - gap * (rows - 1)) / rows
    for row, (key, label, kind) in enumerate(STRIP_ROWS):
        values = _values(step, key)
        if kind == "gate":
            colorscale, zmin, zmax = GATE_COLORSCALE, 0.0, 1.0
        else:
            # The cell is unbounded: scale it by its own largest magnitude (at least 1, like tanh).
            limit = max(1.0, float(np.abs(values).max())) if key == "cell" else 1.0
            colorscale, zmin, zmax = SIGNED_COLORSCALE, -limit, limit
        axis = "y" if row == 0 else f"y{row + 1}"
        data.append(
            {
                "type": "heatmap",
                "z": values[None, :],
                "x": units,
                "y": [label],
                "zmin": zmin,
                "zmax": zmax,
                "colorscale": colorscale,
                "showscale": False,
                "xgap": 1,
                "name": label,
                "hovertemplate": f"{label}<br>unit %{{x}}: %{{z:.2f}}<extra></extra>",
                "yaxis": axis,
            }
        )
        # Strips stacked top to bottom, each on its own y axis so each keeps its own colour scale.
        top = 1.0 - row * (band + gap)
        layout["yaxis" if row == 0 else f"yaxis{row + 1}"] = {
            "domain": [max(0.0, top - band), min(1.0, top)],
            "fixedrange": True,
            "tickfont": {"size": 13, "color": "#1f1f1f"},
        }
    shapes, annotations = [], []
    if unit is not None:
        shapes.append(
            {
                "type": "rect",
                "x0": unit - 0.5,
                "x1": unit + 0.5,
                "y0": 0,
                "y1": 1,
                "yref": "paper",
                "line": {"color": "#111111", "width": 2},
            }
        )
        annotations.append(
            {
                "x": unit,
                "y": 1,
                "yref": "paper",
                "yanchor": "bottom",  # above the strips: below them it would cover the axis numbers
                "text": f"unit {unit}",
                "showarrow": False,
                "font": {"size": 12, "color": "#111111"},
            }
        )
    layout |= {
        "height": height_per_row * rows + 60,
        "margin": {"l": 10, "r": 10, "t": 24, "b": 40},
        # Anchored to the bottom strip: by default the x axis hangs under the first y axis, over the strips.
        "xaxis": {
            "title": {"text": "unit", "standoff": 4},
            "range": [-0.5, hidden_size - 0.5],
            "fixedrange": True,
            "anchor": f"y{rows}",
        },
        "plot_bgcolor": "#ffffff",
        "showlegend": False,
        "shapes": shapes,
        "annotations": annotations,
    }
    return go.Figure(data=data, layout=layout)


def indexed_token_labels(tokens: Sequence[str]) -> list[str]:
    """Unique axis labels "0 bob", "1 is", ... (a category axis merges repeated labels), each token as
    `figures.token_labels` shows it.

    >>> indexed_token_labels(["bob", " ", "<b>"])
    ['0 bob', '1 ␣', '2 &lt;b&gt;']
    """
    return [f"{index} {label}" for index, label in enumerate(token_labels(tokens))]


def unit_history(
    trace: Trace,
    unit: int,
    t: int,
    layer: int = 0,
    direction: int = 0,
    tokens: Sequence[str] | None = None,
    window: int = 60,
) -> go.Figure:
    """One unit's forget, input and output gates and its cell along the text; token `t` marked.

    Lines: the three sigmoid gates (0..1) and the cell state c (its own scale, right axis). x is the
    token index, labelled with the tokens. Long texts show the `window` tokens around `t`.
    """
    hidden_size, length = trace.model.hidden_size, trace.length
    if not 0 <= unit < hidden_size:
        raise ValueError(f"unit must be in 0..{hidden_size - 1}, got {unit!r}")
    if not 0 <= t < length:
        raise ValueError(f"t must be in 0..{length - 1}, got {t!r}")
    if tokens is None:
        tokens = trace.tokens if trace.tokens is not None else [str(index) for index in range(length)]
    start, stop = token_window(length, t, window)
    # Categories "5 dan": the index matches the token slider, and the unified hover names the token.
    labels = indexed_token_labels(tokens)[start:stop]
    data = [
        {
            "type": "scatter",
            "x": labels,
            "y": np.asarray(trace.gates[name][layer, direction, start:stop, unit], dtype=float),
            "name": f"{name} {GATE_SYMBOLS[name]}",
            "mode": "lines+markers",
            "line": {"color": GATE_COLORS[name], "width": 2},
            "marker": {"size": 5},
            "hovertemplate": f"{name} %{{y:.2f}}<extra></extra>",
        }
        for name in ("forget", "input", "output")
    ]
    data.append(
        {
            "type": "scatter",
            "x": labels,
            "y": np.asarray(trace.cell[layer, direction, start:stop, unit], dtype=float),
            "name": "cell c (right axis)",
            "mode": "lines",
            "line": {"color": GATE_COLORS["cell"], "width": 3, "dash": "dot"},
            "yaxis": "y2",
            "hovertemplate": "cell %{y:.2f}<extra></extra>",
        }
    )
    layout = {
        "height": 300,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "xaxis": {"type": "category", "tickangle": -45 if len(labels) > 12 else 0, "automargin": True},
        "yaxis": {"title": {"text": "gate value"}, "range": [-0.05, 1.05], "fixedrange": True},
        "yaxis2": {
            "title": {"text": "cell c"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "fixedrange": True,
        },
        "legend": {"orientation": "h", "y": 1.14, "x": 0},
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "shapes": [
            {
                "type": "line",
                "x0": t - start,
                "x1": t - start,
                "y0": 0,
                "y1": 1,
                "yref": "paper",
                "line": {"color": "#111111", "width": 1.5, "dash": "dash"},
            }
        ],
    }
    return go.Figure(data=data, layout=layout)


# Okabe and Ito's colour-blind-safe palette: one colour per (layer, direction) of a comparison.
PAIR_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def unit_across_layers(
    steps: Mapping[tuple[int, int], StepDetail], unit: int, labels: Mapping | None = None
) -> go.Figure:
    """One unit's i, f, g, o, c, h at one token in several layers and directions, as grouped bars.

    Args:
        steps: (layer, direction) -> that layer and direction's `StepDetail` at the token, in the order
            the bars should appear (e.g. `{pair: trace.step(t, *pair) for pair in figures.layer_pairs(...)}`).
        unit: the unit drawn (the same index in every layer and direction).
        labels: (layer, direction) -> legend name; "layer 0 · forward" and so on when not given.

    Every bar carries its value as text; gates sit in 0..1, g and h in -1..1, c anywhere: the y axis
    always shows -1..1 and grows to fit a larger cell state.
    """
    if not steps:
        raise ValueError("steps must hold at least one (layer, direction)")
    hidden_size = min(len(step.cell) for step in steps.values())
    if not 0 <= unit < hidden_size:
        raise ValueError(f"unit must be in 0..{hidden_size - 1}, got {unit!r}")
    names = [label for _, label, _ in STRIP_ROWS]
    data, largest = [], 1.0
    for index, (pair, step) in enumerate(steps.items()):
        values = np.array([float(_values(step, key)[unit]) for key, _, _ in STRIP_ROWS], dtype=np.float32)
        largest = max(largest, float(np.abs(values).max()))
        name = (labels or {}).get(pair) or f"layer {pair[0]} · {('forward', 'backward')[pair[1]]}"
        data.append(
            {
                "type": "bar",
                "x": names,
                "y": values,
                "name": name,
                "marker": {"color": PAIR_COLORS[index % len(PAIR_COLORS)]},
                "text": [f"{value:.2f}" for value in values],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": f"{name}<br>%{{x}} = %{{y:.4f}}<extra></extra>",
            }
        )
    layout = {
        "height": 340,
        "barmode": "group",
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "yaxis": {
            "range": [-1.15 * largest, 1.15 * largest],
            "fixedrange": True,
            "zeroline": True,
            "zerolinecolor": "#555555",
            "title": {"text": "value"},
        },  # fmt: skip
        "xaxis": {"fixedrange": True, "tickfont": {"size": 13}},
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "plot_bgcolor": "#ffffff",
    }
    return go.Figure(data=data, layout=layout)
