"""The LSTM cell drawn with Plotly shapes, optionally annotated with one unit's live numbers.

The drawing follows the usual picture of the cell (Olah, "Understanding LSTM Networks"): the cell
state runs along the top, through the forget gate's × and the + where the input gate's share of the
candidate is added; below it the four layers read [h_{t-1}, x_t]; on the right tanh(c_t) is scaled
by the output gate to give h_t.

    >>> figure = cell_diagram_figure()                       # the bare cell, for the home page
    >>> step = trace.step(t=5, layer=0, direction=0)          # doctest: +SKIP
    >>> figure = cell_diagram_figure(step, unit=17)           # doctest: +SKIP
    >>> st.plotly_chart(figure, key="cell_diagram")           # doctest: +SKIP

Everything here is a pure function of its arguments (no Streamlit), so it is tested without a server.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from lstm_core import StepDetail
from ui import palette
from ui.figures import color_for_value, plotly_figure, text_color_on

__all__ = ["DIAGRAM_PARTS", "diagram_parts", "MIN_PIXELS_PER_UNIT", "cell_diagram_values", "cell_diagram_figure"]

# What each labelled part of the drawing is, in a student's words; also the hover text.
DIAGRAM_PARTS: dict[str, str] = {
    "c_prev": "previous cell state c<sub>t-1</sub>: the long-term memory coming in",
    "h_prev": "previous hidden state h<sub>t-1</sub>: what the cell output at the last token",
    "x": "input x<sub>t</sub>: the embedding of the current token",
    "forget": "forget gate f = σ(…): 1 keeps the old memory, 0 erases it",
    "input": "input gate i = σ(…): how much of the candidate is written",
    "candidate": "candidate g = tanh(…): the new value proposed for the memory (PyTorch's g)",
    "output": "output gate o = σ(…): how much of the memory is shown as h<sub>t</sub>",
    "forgotten": "f × c<sub>t-1</sub>: what is kept of the old memory",
    "written": "i × g: what is written into the memory",
    "cell": "new cell state c<sub>t</sub> = f × c<sub>t-1</sub> + i × g",
    "cell_tanh": "tanh(c<sub>t</sub>): the memory squashed into (-1, 1)",
    "hidden": "new hidden state h<sub>t</sub> = o × tanh(c<sub>t</sub>)",
}
# A backward direction reads the text from its end: what comes in is the state after the next token.
_BACKWARD_PARTS: dict[str, str] = {
    "c_prev": "cell state c<sub>t+1</sub>: the memory coming in from the next token (this direction reads from the end)",
    "h_prev": "hidden state h<sub>t+1</sub>: what the cell output at the next token, read just before this one",
    "forgotten": "f × c<sub>t+1</sub>: what is kept of the old memory",
    "cell": "new cell state c<sub>t</sub> = f × c<sub>t+1</sub> + i × g",
}


def diagram_parts(backward: bool = False) -> dict[str, str]:
    """`DIAGRAM_PARTS`, or for a backward direction the same with the state coming in from token t+1."""
    return DIAGRAM_PARTS | _BACKWARD_PARTS if backward else DIAGRAM_PARTS


def _came_from(step: StepDetail | None) -> str:
    """The subscript of the state a step reads: t-1 forwards, t+1 for a backward direction."""
    return "t+1" if step is not None and step.direction == 1 else "t-1"

# Layout in data coordinates: x -2..13.5, y 0..7.5. The cell state line is at y=6, the shared input
# bus [h_{t-1}, x_t] at y=0.5, the four gate boxes at y=2.5.
# Text keeps its size in pixels while the drawing scales with the chart, so every label is placed to
# stay clear of every box edge down to the smallest drawing the pages show (the tutorial's, about 33
# pixels a unit; `MIN_PIXELS_PER_UNIT`): a gate box holds its two lines of text with room to spare,
# and labels outside the cell end before its outline.
MIN_PIXELS_PER_UNIT = 32.0
_CELL_Y, _BUS_Y, _BOX_Y = 6.0, 0.5, 2.5
_BOX_HALF_WIDTH, _BOX_HALF_HEIGHT = 0.72, 0.56
_NAME_Y = _BOX_Y - 1.15  # a gate's name, under its box
_NODE_RADIUS = 0.32
_BOX_X = {"forget": 2.5, "input": 4.4, "candidate": 6.2, "output": 8.1}
_FUNCTION = {"forget": "σ", "input": "σ", "candidate": "tanh", "output": "σ"}
_GATE_SYMBOL = {"forget": "f", "input": "i", "candidate": "g", "output": "o"}
_FORGET_TIMES = (2.5, _CELL_Y)
_WRITE_TIMES = (6.2, 4.3)
_PLUS = (6.2, _CELL_Y)
_TANH = (9.8, 4.5)
_OUTPUT_TIMES = (9.8, _BOX_Y)
_LEFT = -2.0  # where c_{t-1} and h_{t-1} come in; room on the left for their labels
_CELL_BOX = (1.2, 10.7, 0.05, 7.05)  # the cell's dotted outline: x0, x1, y0, y1
_RIGHT_LABELS = _CELL_BOX[1] + 0.2  # where the labels of c_t and h_t start, outside the outline
_RIGHT = 13.6
_X_INPUT = 0.8
_LINE_COLOR = "#4a4a4a"
_CELL_LINE_COLOR = "#1f1f1f"


def cell_diagram_values(step: StepDetail, unit: int) -> dict[str, float]:
    """One unit's numbers at one timestep, keyed like `DIAGRAM_PARTS`.

    Keys: c_prev, h_prev, forget, input, candidate, output, forgotten (f·c_prev), written (i·g),
    cell (c_t), cell_tanh (tanh c_t), hidden (h_t). x_t has no per-unit value (every gate reads the
    whole embedding), so it is not among them.
    """
    size = len(step.cell)
    if not isinstance(unit, int | np.integer) or not 0 <= unit < size:
        raise ValueError(f"unit must be an integer in 0..{size - 1}, got {unit!r}")
    values = {
        "c_prev": step.c_prev[unit],
        "h_prev": step.h_prev[unit],
        **{name: step.gates[name][unit] for name in ("forget", "input", "candidate", "output")},
        "forgotten": step.forgotten[unit],
        "written": step.written[unit],
        "cell": step.cell[unit],
        "cell_tanh": step.cell_tanh[unit],
        "hidden": step.hidden[unit],
    }
    return {name: float(value) for name, value in values.items()}


def cell_diagram_figure(
    step: StepDetail | None = None,
    unit: int | None = None,
    *,
    height: int = 430,
    title: str | None = None,
) -> go.Figure:
    """The LSTM cell as a Plotly figure; with `step` and `unit`, annotated with that unit's numbers.

    Args:
        step: `trace.step(t, layer, direction)` from `lstm_core`; None draws the bare cell.
        unit: which hidden unit's numbers to show (0..hidden_size-1); required with `step`.
        height: pixel height; the width follows the container (the drawing keeps its aspect ratio).
        title: optional title; a default naming the token and unit is used when `step` is given.
            It may contain Plotly's <b>/<sub> tags, so escape any user text in it (`html.escape`).

    Without numbers the gate boxes are light grey. With numbers each sigmoid gate box is coloured by
    its value on `palette.GATE_SCALE` (0..1, as the gate heatmaps), the candidate box and the c and h
    values on `palette.SIGNED_SCALE` (0 white), a legend under the cell says so, and every wire carries
    its value (3 decimals). Hovering a part explains it. The token is escaped, so any text a user typed
    is safe in the figure.

    Raises:
        ValueError: `step` without a valid `unit`.
    """
    values = None
    if step is not None:
        if unit is None:
            raise ValueError("cell_diagram_figure needs `unit` together with `step`")
        values = cell_diagram_values(step, unit)
        if title is None:
            title = _default_title(step, unit)

    box_shapes, box_labels = _gate_boxes(values)
    operation_shapes, operation_labels = _pointwise_operations()
    # the cell's outline comes first so everything sits on it
    shapes = [_cell_outline(), *_wires(), *box_shapes, *operation_shapes]
    annotations = [*_exit_arrows(), *box_labels, *operation_labels, *_flow_labels(values, step)]
    if values is not None:
        legend_shapes, legend_labels = _legend()
        shapes += legend_shapes
        annotations += legend_labels
    layout = _layout(shapes, annotations, height, title, with_legend=values is not None)
    backward = step is not None and step.direction == 1
    return plotly_figure({"data": [_hover_layer(values, backward)], "layout": layout})


def _default_title(step: StepDetail, unit: int) -> str:
    token = "" if step.token is None else f" ‘{html.escape(step.token, quote=False)}’"
    return f"Unit {int(unit)} at token {step.t}{token}"


def _cell_outline() -> dict:
    return {
        "type": "rect", "x0": _CELL_BOX[0], "y0": _CELL_BOX[2], "x1": _CELL_BOX[1], "y1": _CELL_BOX[3], "layer": "below",
        "line": {"color": "#9aa5b1", "width": 1.5, "dash": "dot"}, "fillcolor": "rgba(230, 236, 243, 0.45)",
    }  # fmt: skip


def _wires() -> list[dict]:
    """The cell state line on top, the input bus at the bottom, and what connects them."""
    cell_line = {"color": _CELL_LINE_COLOR, "width": 5}
    wire = {"color": _LINE_COLOR, "width": 2}
    shapes = [
        _line(_LEFT, _CELL_Y, _FORGET_TIMES[0] - _NODE_RADIUS, _CELL_Y, cell_line),
        _line(_FORGET_TIMES[0] + _NODE_RADIUS, _CELL_Y, _PLUS[0] - _NODE_RADIUS, _CELL_Y, cell_line),
        _line(_PLUS[0] + _NODE_RADIUS, _CELL_Y, 12.4, _CELL_Y, cell_line),
        # the shared input: h_{t-1} from the left, x_t from below, joined into one bus
        _line(_LEFT, _BUS_Y, _BOX_X["output"], _BUS_Y, wire),
        _line(_X_INPUT, -0.3, _X_INPUT, _BUS_Y, wire),
    ]
    for box_x in _BOX_X.values():
        shapes.append(_line(box_x, _BUS_Y, box_x, _BOX_Y - _BOX_HALF_HEIGHT, wire))
    # forget σ up into the × on the cell line
    shapes.append(
        _line(_BOX_X["forget"], _BOX_Y + _BOX_HALF_HEIGHT, _FORGET_TIMES[0], _FORGET_TIMES[1] - _NODE_RADIUS, wire)
    )
    # input σ up and across into the write ×, candidate tanh straight up into it
    shapes += [
        _line(_BOX_X["input"], _BOX_Y + _BOX_HALF_HEIGHT, _BOX_X["input"], _WRITE_TIMES[1], wire),
        _line(_BOX_X["input"], _WRITE_TIMES[1], _WRITE_TIMES[0] - _NODE_RADIUS, _WRITE_TIMES[1], wire),
        _line(_BOX_X["candidate"], _BOX_Y + _BOX_HALF_HEIGHT, _WRITE_TIMES[0], _WRITE_TIMES[1] - _NODE_RADIUS, wire),
        _line(_WRITE_TIMES[0], _WRITE_TIMES[1] + _NODE_RADIUS, _PLUS[0], _PLUS[1] - _NODE_RADIUS, wire),
    ]
    # the cell state branches down through tanh into the output ×; the output σ comes in from the left
    shapes += [
        _line(_TANH[0], _CELL_Y, _TANH[0], _TANH[1] + 0.36, wire),
        _line(_TANH[0], _TANH[1] - 0.36, _OUTPUT_TIMES[0], _OUTPUT_TIMES[1] + _NODE_RADIUS, wire),
        _line(_BOX_X["output"] + _BOX_HALF_WIDTH, _BOX_Y, _OUTPUT_TIMES[0] - _NODE_RADIUS, _OUTPUT_TIMES[1], wire),
        _line(_OUTPUT_TIMES[0] + _NODE_RADIUS, _OUTPUT_TIMES[1], 12.4, _OUTPUT_TIMES[1], wire),
    ]
    return shapes


def _exit_arrows() -> list[dict]:
    """Arrowheads where c_t and h_t leave the cell."""
    return [
        _arrow(12.2, _CELL_Y, 12.9, _CELL_Y, _CELL_LINE_COLOR, 2),
        _arrow(12.2, _BOX_Y, 12.9, _BOX_Y, _LINE_COLOR, 1.5),
    ]


def _gate_boxes(values: dict[str, float] | None) -> tuple[list[dict], list[dict]]:
    """The four gate boxes (shapes) and their function, value and name (annotations)."""
    shapes, annotations = [], []
    for gate, box_x in _BOX_X.items():
        value = None if values is None else values[gate]
        scale = palette.SIGNED_SCALE if gate == "candidate" else palette.GATE_SCALE
        fill = "#eceff3" if value is None else color_for_value(scale, value, signed=gate == "candidate")
        shapes.append(
            {
                "type": "rect", "x0": box_x - _BOX_HALF_WIDTH, "x1": box_x + _BOX_HALF_WIDTH,
                "y0": _BOX_Y - _BOX_HALF_HEIGHT, "y1": _BOX_Y + _BOX_HALF_HEIGHT,
                "line": {"color": "#33373d", "width": 1.5}, "fillcolor": fill, "layer": "above",
            }
        )  # fmt: skip
        text = _FUNCTION[gate] if value is None else f"{_FUNCTION[gate]}<br><b>{value:.3f}</b>"
        annotations.append(_text(text, box_x, _BOX_Y, color=text_color_on(fill), size=14 if value is None else 12))
        # two short lines, so that neighbouring names keep apart on the smallest drawing
        name = {"forget": "<b>forget</b><br>gate", "input": "<b>input</b><br>gate", "candidate": "<b>candidate</b><br>",
                "output": "<b>output</b><br>gate"}[gate]  # fmt: skip
        # a white backing keeps the name readable where the wire from the bus passes behind it
        annotations.append(
            _text(f"{name} <i>{_GATE_SYMBOL[gate]}</i>", box_x, _NAME_Y, size=12) | {"bgcolor": "rgba(255,255,255,0.9)"}
        )
    return shapes, annotations


def _pointwise_operations() -> tuple[list[dict], list[dict]]:
    """The ×, + and tanh nodes on the wires (shapes) and their symbols (annotations)."""
    shapes, annotations = [], []
    for (node_x, node_y), symbol in ((_FORGET_TIMES, "×"), (_WRITE_TIMES, "×"), (_PLUS, "+"), (_OUTPUT_TIMES, "×")):
        shapes.append(_circle(node_x, node_y, _NODE_RADIUS, "#fff3cd"))
        annotations.append(_text(f"<b>{symbol}</b>", node_x, node_y, size=18))
    shapes.append(
        {
            "type": "rect", "x0": _TANH[0] - 0.55, "x1": _TANH[0] + 0.55, "y0": _TANH[1] - 0.36, "y1": _TANH[1] + 0.36,
            "line": {"color": "#33373d", "width": 1.5}, "fillcolor": "#fff3cd", "layer": "above",
        }
    )  # fmt: skip
    annotations.append(_text("tanh", _TANH[0], _TANH[1], size=13))
    return shapes, annotations


def _flow_labels(values: dict[str, float] | None, step: StepDetail | None) -> list[dict]:
    """Names of what flows in and out, with values when there are any, and the values on inner wires."""

    def named(label: str, key: str, x: float, y: float) -> dict:
        if values is None:
            return _text(label, x, y, anchor="left", size=14)
        # the value sits on its sign's colour, as in the heatmaps; c beyond ±1 is as dark as ±1
        fill = color_for_value(palette.SIGNED_SCALE, values[key], signed=True)
        return _text(f"{label} = <b>{values[key]:.3f}</b>", x, y, anchor="left", size=14, color=text_color_on(fill)) | {
            "bgcolor": fill,
            "borderpad": 2,
        }

    annotations = [
        named(f"c<sub>{_came_from(step)}</sub>", "c_prev", _LEFT, _CELL_Y + 0.55),
        named(f"h<sub>{_came_from(step)}</sub>", "h_prev", _LEFT, _BUS_Y + 0.4),
        _text("x<sub>t</sub>" + _token_suffix(step), _X_INPUT + 0.15, -0.3, anchor="left", size=14),
        named("c<sub>t</sub>", "cell", _RIGHT_LABELS, _CELL_Y + 0.55),
        named("h<sub>t</sub>", "hidden", _RIGHT_LABELS, _BOX_Y + 0.5),
        _text("<b>cell state</b> (long-term memory)", 6.5, 7.4, size=13, color="#1f1f1f"),
    ]
    if values is not None:
        annotations += [
            _text(f"f·c<sub>{_came_from(step)}</sub> = {values['forgotten']:.3f}", 4.35, _CELL_Y + 0.4, size=12, color="#33373d"),
            _text(
                f"i·g = {values['written']:.3f}", _WRITE_TIMES[0] + 0.45, 5.15, anchor="left", size=12, color="#33373d"
            ),
            # left of the wire from tanh down to the output ×: on its right it would run out of the cell
            _text(
                f"tanh c<sub>t</sub> = {values['cell_tanh']:.3f}",
                _TANH[0] - 0.18,
                3.55,
                anchor="right",
                size=12,
                color="#33373d",
            ),
        ]
    return annotations


def _hover_layer(values: dict[str, float] | None, backward: bool = False) -> dict:
    """One invisible marker per part that explains it on hover (with its number when there is one)."""
    hover_points = {
        "c_prev": (_LEFT + 0.6, _CELL_Y), "h_prev": (_LEFT + 0.6, _BUS_Y), "x": (_X_INPUT, 0.1),
        **{gate: (box_x, _BOX_Y) for gate, box_x in _BOX_X.items()},
        "forgotten": _FORGET_TIMES, "written": _WRITE_TIMES, "cell": (11.8, _CELL_Y),
        "cell_tanh": _TANH, "hidden": (11.8, _BOX_Y),
    }  # fmt: skip
    hover_texts = []
    for part in hover_points:
        number = "" if values is None or part not in values else f"<br><b>{values[part]:.4f}</b>"
        hover_texts.append(diagram_parts(backward)[part] + number)
    return {
        "type": "scatter",
        "x": [point[0] for point in hover_points.values()],
        "y": [point[1] for point in hover_points.values()],
        "mode": "markers",
        "marker": {"size": 26, "opacity": 0},
        "hovertext": hover_texts,
        "hoverinfo": "text",
        "showlegend": False,
    }


# The legend's row under the cell: five swatches per scale, the scale's own colour stops.
_LEGEND_Y = -1.25
_SWATCH_WIDTH, _SWATCH_HALF_HEIGHT = 0.38, 0.2
_LEGEND_SCALES = (  # (scale, first swatch's left edge, words before, words after)
    (palette.GATE_SCALE, 1.3, "<b>gates</b> closed 0", "1 open"),
    (palette.SIGNED_SCALE, 8.3, "<b>g, c, h</b> −1", "+1"),
)


def _legend() -> tuple[list[dict], list[dict]]:
    """Swatches of both scales under the cell (shapes) and what their ends mean (annotations)."""
    shapes, annotations = [], []
    for scale, left, before, after in _LEGEND_SCALES:
        for index, (_, color) in enumerate(scale):
            x0 = left + index * _SWATCH_WIDTH
            shapes.append({
                "type": "rect", "x0": x0, "x1": x0 + _SWATCH_WIDTH, "y0": _LEGEND_Y - _SWATCH_HALF_HEIGHT,
                "y1": _LEGEND_Y + _SWATCH_HALF_HEIGHT, "line": {"color": "#9aa5b1", "width": 0.5}, "fillcolor": color,
            })  # fmt: skip
        right = left + len(scale) * _SWATCH_WIDTH
        annotations += [
            _text(before, left - 0.1, _LEGEND_Y, anchor="right", size=12),
            _text(after, right + 0.1, _LEGEND_Y, anchor="left", size=12),
        ]
    return shapes, annotations


def _layout(shapes: list[dict], annotations: list[dict], height: int, title: str | None, with_legend: bool) -> dict:
    layout = {
        "shapes": shapes,
        "annotations": annotations,
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "hoverlabel": {"bgcolor": "white"},
        "dragmode": False,
        "xaxis": {"range": [_LEFT - 0.1, _RIGHT], "visible": False, "fixedrange": True},
        # scaleanchor keeps the circles round however wide the container is
        "yaxis": {
            "range": [_LEGEND_Y - 0.45 if with_legend else -0.7, 7.7],
            "visible": False,
            "fixedrange": True,
            "scaleanchor": "x",
            "scaleratio": 1,
        },
    }
    if title:
        layout["title"] = {"text": title, "x": 0.5, "xanchor": "center"}
    return layout


def _token_suffix(step: StepDetail | None) -> str:
    if step is None:
        return ""
    if step.layer > 0:
        return f" (layer {step.layer - 1}'s h<sub>t</sub>)"
    if step.token is None:
        return ""
    return f" = embedding of ‘{html.escape(step.token, quote=False)}’"


def _line(x0: float, y0: float, x1: float, y1: float, line: dict) -> dict:
    return {"type": "line", "x0": x0, "y0": y0, "x1": x1, "y1": y1, "line": line, "layer": "below"}


def _circle(x: float, y: float, radius: float, fill: str) -> dict:
    return {
        "type": "circle", "x0": x - radius, "x1": x + radius, "y0": y - radius, "y1": y + radius,
        "line": {"color": "#33373d", "width": 1.5}, "fillcolor": fill, "layer": "above",
    }  # fmt: skip


def _arrow(x0: float, y0: float, x1: float, y1: float, color: str, width: float) -> dict:
    return {
        "x": x1, "y": y1, "ax": x0, "ay": y0, "xref": "x", "yref": "y", "axref": "x", "ayref": "y",
        "showarrow": True, "arrowhead": 2, "arrowsize": 1.2, "arrowwidth": width, "arrowcolor": color, "text": "",
    }  # fmt: skip


def _text(text: str, x: float, y: float, anchor: str = "center", size: int = 13, color: str = "#1f1f1f") -> dict:
    return {
        "text": text, "x": x, "y": y, "xref": "x", "yref": "y", "showarrow": False, "xanchor": anchor,
        "font": {"size": size, "color": color},
    }  # fmt: skip
