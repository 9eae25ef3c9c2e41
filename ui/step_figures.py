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
from lstm_core.models.language_model import UnitInfo
from ui import palette
from ui.explain import GATE_SYMBOLS
from ui.figures import (
    color_for_value,
    nice_ticks,
    selected_band,
    selected_legend_entry,
    threshold_text,
    token_labels,
    token_window,
)

__all__ = ["STRIP_ROWS", "STRIP_LEGEND", "gate_strips", "unit_history", "unit_across_layers"]

# (key, label, kind): gates are in 0..1 on the app's gate scale; tanh values (-1..1) and the cell (any
# sign) on its signed scale, so the sign reads as a colour, as on /gates and in the cell diagram.
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


# The strips have no colour bars (six would crowd them): the rule is written under them instead.
STRIP_LEGEND = "i, f, o: white 0 (closed) … dark green 1 (open) · g, c, h: purple < 0, white 0, orange > 0"


def gate_strips(step: StepDetail, unit: int | None = None, height_per_row: int = 46) -> go.Figure:
    """One strip per quantity (i, f, g, o, c, h), one cell per hidden unit, at one token.

    Colours follow `ui.palette`: gates on `palette.GATE_SCALE` fixed to 0..1; g, h on
    `palette.SIGNED_SCALE` fixed to -1..1, c to ±max(1, |c|), 0 white in each. The selected `unit` is
    framed in every strip and its value written beside it. Hovering a cell shows unit and value.
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
            colorscale, zmin, zmax = palette.GATE_SCALE, 0.0, 1.0
        else:
            # The cell is unbounded: scale it by its own largest magnitude (at least 1, like tanh).
            limit = max(1.0, float(np.abs(values).max())) if key == "cell" else 1.0
            colorscale, zmin, zmax = palette.SIGNED_SCALE, -limit, limit
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
            "automargin": True,
        }
    shapes, annotations = [], []
    if unit is not None:
        # a dark frame on a white halo shows on every colour of both scales
        for color, width in ((palette.FRAME_LIGHT, 4), (palette.FRAME_DARK, 2)):
            shapes.append(
                {
                    "type": "rect",
                    "x0": unit - 0.5,
                    "x1": unit + 0.5,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"color": color, "width": width},
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
        # the unit's value in each strip, beside its frame (on the side with more room)
        right = unit < hidden_size / 2
        for row, (key, label, _) in enumerate(STRIP_ROWS):
            annotations.append(
                {
                    "x": unit + (0.7 if right else -0.7),
                    "y": label,
                    "yref": "y" if row == 0 else f"y{row + 1}",
                    "xanchor": "left" if right else "right",
                    "text": f"<b>{float(_values(step, key)[unit]):.3f}</b>",
                    "showarrow": False,
                    "bgcolor": "rgba(255,255,255,0.9)",
                    "font": {"size": 12, "color": "#111111"},
                }
            )
    layout |= {
        "height": height_per_row * rows + 80,
        "margin": {"l": 10, "r": 10, "t": 24, "b": 60},
        # Anchored to the bottom strip: by default the x axis hangs under the first y axis, over the strips.
        "xaxis": {
            "title": {"text": f"unit<br><sup>{STRIP_LEGEND}</sup>", "standoff": 4},
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


# Three panels over one token axis, top to bottom; domains in paper coordinates.
_HISTORY_PANELS = {"gates": ("y", (0.60, 1.0)), "cell": ("y2", (0.31, 0.51)), "hidden": ("y3", (0.0, 0.20))}
_HISTORY_TITLES = {
    "gates": "gates: 0 = closed, 1 = open",
    "cell": "cell state c (points: purple < 0, orange > 0)",
    "hidden": "hidden state h (points: purple < 0, orange > 0)",
}
_HISTORY_MARKERS = {"forget": "circle", "input": "square", "output": "diamond"}
_MAX_TOKEN_TICKS = 45  # beyond this, every other token is labelled (the selected one always)


def unit_history(
    trace: Trace,
    unit: int,
    t: int,
    layer: int = 0,
    direction: int = 0,
    tokens: Sequence[str] | None = None,
    window: int = 60,
    named: UnitInfo | None = None,
) -> go.Figure:
    """One unit along the text, in three stacked panels on one token axis, token `t` marked.

    Panels: the forget, input and output gates (fixed to 0..1); the cell state c; the hidden state h.
    c and h each have their own axis, fitted to their values, with the zero line drawn and ticks at
    round numbers; their points are coloured by sign on `palette.SIGNED_SCALE`. Lines take their
    colour and dash from `palette.LINE_COLORS` and `palette.LINE_DASHES`. The x axis is the token index,
    labelled with the tokens. Token `t` is a light-blue band (`selected_band`, named in the legend) with
    its values written in each panel. Long texts show the `window` tokens around `t`.

    `named`: the unit's `UnitInfo` when it is a named unit. Its reading turns at its threshold, not at
    0 where the colours turn, so the cell panel draws the threshold as a dotted grey line, and its title
    says what each side reads as.
    """
    hidden_size, length = trace.model.hidden_size, trace.length
    if not 0 <= unit < hidden_size:
        raise ValueError(f"unit must be in 0..{hidden_size - 1}, got {unit!r}")
    if not 0 <= t < length:
        raise ValueError(f"t must be in 0..{length - 1}, got {t!r}")
    if tokens is None:
        tokens = trace.tokens if trace.tokens is not None else [str(index) for index in range(length)]
    start, stop = token_window(length, t, window)
    positions = np.arange(start, stop, dtype=np.int32)
    labels = token_labels(tokens[start:stop])
    gates = {name: np.asarray(trace.gates[name][layer, direction, start:stop, unit], dtype=float)
             for name in ("forget", "input", "output")}  # fmt: skip
    cell = np.asarray(trace.cell[layer, direction, start:stop, unit], dtype=float)
    hidden = np.asarray(trace.hidden[layer, direction, start:stop, unit], dtype=float)
    data = [
        {
            "type": "scatter",
            "x": positions,
            "y": values,
            "yaxis": "y",
            "name": f"{name} {GATE_SYMBOLS[name]}",
            "mode": "lines+markers",
            "text": labels,
            "line": {"color": palette.LINE_COLORS[name], "width": 2, "dash": palette.LINE_DASHES[name]},
            "marker": {"size": 5, "symbol": _HISTORY_MARKERS[name], "color": palette.LINE_COLORS[name]},
            # the first line's hover names the token: the unified hover box shows it once, on top
            "hovertemplate": ("“%{text}” (t=%{x})<br>" if name == "forget" else "")
            + f"{name} {GATE_SYMBOLS[name]} = %{{y:.3f}}<extra></extra>",
        }  # fmt: skip
        for name, values in gates.items()
    ]
    cell_limit = max(1.0, float(np.abs(cell).max(initial=0.0)))  # as the cell strip on /step scales it
    for key, values, limit in (("cell", cell, cell_limit), ("hidden", hidden, 1.0)):
        data.append({
            "type": "scatter", "x": positions, "y": values, "yaxis": _HISTORY_PANELS[key][0], "showlegend": False,
            "name": f"{key} {key[0]}", "mode": "lines+markers",
            "line": {"color": palette.LINE_COLORS["cell"], "width": 1.5},
            "marker": {"size": 8, "line": {"width": 0.5, "color": palette.LINE_COLORS["cell"]},
                       "color": [color_for_value(palette.SIGNED_SCALE, value, signed=True, limit=limit) for value in values]},
            "hovertemplate": f"{key} {key[0]} = %{{y:.3f}}<extra></extra>",
        })  # fmt: skip
    every = 1 if len(positions) <= _MAX_TOKEN_TICKS else 2
    ticks = [index for index in range(len(positions)) if index % every == 0 or positions[index] == t]
    shown = t - start
    right = shown < len(positions) * 0.6  # write the values on the side of the mark with more room
    written = {
        "gates": (1.0, " · ".join(f"{GATE_SYMBOLS[name]} = {values[shown]:.2f}" for name, values in gates.items())),
        "cell": (cell[shown], f"c = {cell[shown]:.3f}"),
        "hidden": (hidden[shown], f"h = {hidden[shown]:.3f}"),
    }
    layout: dict = {
        "height": 470,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "xaxis": {"tickvals": positions[ticks], "ticktext": [labels[index] for index in ticks], "anchor": "y3",
                  "tickangle": -45 if len(positions) > 12 else 0, "automargin": True, "fixedrange": True,
                  "range": [start - 0.5, stop - 0.5], "showgrid": False, "zeroline": False},
        # on the gates panel's title line, to its right
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom", "font": {"size": 12}},
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "hoversubplots": "axis",  # one hover box for the token, across the three panels
        "shapes": [selected_band(t)],
        "annotations": [],
    }  # fmt: skip
    data.append(selected_legend_entry())
    for panel, (axis, domain) in _HISTORY_PANELS.items():
        axis_layout = {"domain": list(domain), "anchor": "x", "fixedrange": True, "gridcolor": "#e6e6e6",
                       "tickfont": {"size": 11}, "automargin": True}  # fmt: skip
        if panel == "gates":
            axis_layout |= {"range": [-0.05, 1.05], "tickvals": [0, 0.5, 1], "zeroline": False}
        else:
            values = cell if panel == "cell" else hidden
            axis_layout |= _signed_axis(values) | {"zeroline": True, "zerolinecolor": "#444444", "zerolinewidth": 1.5}
        title = _HISTORY_TITLES[panel]
        if panel == "cell" and named is not None and named.signal == "cell":
            axis_layout = _with_threshold(axis_layout, float(named.threshold))
            layout["shapes"].append({
                "type": "line", "x0": 0, "x1": 1, "xref": "paper", "y0": named.threshold, "y1": named.threshold,
                "yref": axis, "line": {"color": THRESHOLD_COLOR, "width": 2, "dash": "dot"}, "layer": "below",
            })  # fmt: skip
            # in the panel's title, where it covers no point
            title += (f" · grey dots: threshold {threshold_text(named.threshold)}: above reads as {named.above}, below as "
                      f"{named.below}")  # fmt: skip
        layout["yaxis" if axis == "y" else f"yaxis{axis[1:]}"] = axis_layout
        layout["annotations"].append({
            "text": f"<b>{title}</b>", "x": 0, "xref": "paper", "xanchor": "left",
            "y": domain[1], "yref": "paper", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 12, "color": "#333333"},
        })  # fmt: skip
        y, text = written[panel]
        layout["annotations"].append({
            "text": f"<b>{text}</b>", "x": t, "xref": "x", "y": y, "yref": axis,
            "xanchor": "left" if right else "right", "xshift": 6 if right else -6, "showarrow": False,
            "bgcolor": "rgba(255,255,255,0.9)", "font": {"size": 12, "color": "#111111"},
        })  # fmt: skip
    return go.Figure(data=data, layout=layout)


THRESHOLD_COLOR = "#8c8c8c"  # a named unit's threshold: mid grey dots, apart from the dark solid zero line


def _with_threshold(axis_layout: dict, threshold: float) -> dict:
    """The signed axis widened, when needed, so that the threshold line falls inside it."""
    low, high = axis_layout["range"]
    if low <= threshold <= high:
        return axis_layout
    pad = 0.08 * (high - low)
    return axis_layout | {"range": [min(low, threshold - pad), max(high, threshold + pad)]}


def _signed_axis(values: np.ndarray) -> dict:
    """Range and round tick values of an axis for signed `values`: 0 always on it, at least 0.2 tall."""
    low, high = min(0.0, float(values.min(initial=0.0))), max(0.0, float(values.max(initial=0.0)))
    if high - low < 0.2:
        middle = (high + low) / 2
        low, high = min(middle - 0.1, 0.0), max(middle + 0.1, 0.0)
    ticks = nice_ticks(low, high, 4)
    pad = 0.08 * (high - low)
    return {
        "range": [low - pad, high + pad],
        "tickvals": ticks,
        "ticktext": [f"{tick:g}".replace("-", "−") for tick in ticks],
    }


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
    always shows -1..1 and grows to fit a larger cell state. A bar's colour (`palette.CATEGORY_COLORS`)
    names its layer and direction only; its height and the zero line give the value and its sign.
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
                "marker": {"color": palette.CATEGORY_COLORS[index % len(palette.CATEGORY_COLORS)]},
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
            "zerolinecolor": "#444444",
            "zerolinewidth": 1.5,
            "title": {"text": "value"},
        },  # fmt: skip
        "xaxis": {"fixedrange": True, "tickfont": {"size": 13}},
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "plot_bgcolor": "#ffffff",
    }
    return go.Figure(data=data, layout=layout)
