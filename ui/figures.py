"""Figure builders for the gate pages: pure functions from arrays to Plotly figures, no Streamlit.

Colours follow `ui.palette` everywhere in the app: the sigmoid gates on `palette.GATE_SCALE` fixed to
0..1 (`gate_scale`); signed values (the candidate, cell and hidden states, differences) on
`palette.SIGNED_SCALE` from -limit to +limit with 0 in the middle (`signed_scale`); the probabilities of
the next-token guesses on the grey `palette.PROBABILITY_SCALE` (`probability_scale`), so a table of
guesses never reads as gates. `legend_markdown` states the rules once for a page.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Mapping, Sequence

import _plotly_utils.utils
import numpy as np
import plotly.graph_objects as go

from lstm_core.models.language_model import UnitInfo
from ui import palette

__all__ = [
    "SIGNAL_NAMES", "SIGNAL_TITLES", "UNIT_ORDERS", "UNIT_ORDER_TITLES", "MAX_CELLS_PER_FIGURE", "MAX_WRITTEN_CELLS",
    "MAX_WRITTEN_COLUMNS", "color_for_value", "text_color_on", "gate_scale", "signed_scale", "nice_ticks",
    "legend_markdown", "probability_scale", "threshold_text", "named_unit_colours", "signals_of", "is_signed", "unit_order",
    "shown_units", "token_window", "token_labels",
    "top_predictions", "signed_limit", "customdata_item", "clicked_cell", "gate_heatmap", "predictions_figure",
    "colored_text_figure", "layer_pairs", "pair_label", "MAX_COMPARED_PAIRS", "layers_heatmap", "unit_axis_marks",
    "outline", "frame", "SELECTED_NAME", "selected_band", "selected_legend_entry",
]  # fmt: skip

_LOOKUP_SIZE = 257  # odd: 0 of a signed scale falls exactly on its middle colour
_EMPTY_TEMPLATE = {"layout": {"hovermode": "closest"}}  # not empty: Plotly replaces an empty one by its default
_COLOR_TABLES: dict[tuple, list[str]] = {}


def color_for_value(scale: Sequence[Sequence], value: float, signed: bool = False, limit: float = 1.0) -> str:
    """The `rgb(r, g, b)` colour of `value` on `scale` (`palette.GATE_SCALE`, `palette.SIGNED_SCALE` or
    `palette.PROBABILITY_SCALE`): 0..1 for gates and probabilities, -limit..limit when `signed` (0 in the
    middle), clipped at the ends.

    The colour is interpolated in RGB between the scale's stops, as Plotly.js colours a heatmap, so a
    token coloured here matches a heatmap cell of the same value. Read from a table of 257 colours per scale:
    a colour per token on every rerun must cost next to nothing.

    >>> color_for_value(palette.SIGNED_SCALE, 0.0, signed=True)
    'rgb(247, 247, 247)'
    """
    if isinstance(scale, str):
        raise TypeError(f"scale must be one of the palette's colour lists, not the Plotly name {scale!r}")
    key = tuple((float(position), str(color)) for position, color in scale)
    table = _COLOR_TABLES.get(key)
    if table is None:
        table = _COLOR_TABLES[key] = _color_table(key)
    position = (value + limit) / (2 * limit) if signed else value
    position = min(max(float(position), 0.0), 1.0) if np.isfinite(position) else 0.5
    return table[round(position * (_LOOKUP_SIZE - 1))]


def _color_table(scale: tuple[tuple[float, str], ...]) -> list[str]:
    positions = [position for position, _ in scale]
    channels = np.array([[int(color[i : i + 2], 16) for i in (1, 3, 5)] for _, color in scale], dtype=np.float64)
    samples = np.linspace(0.0, 1.0, _LOOKUP_SIZE)
    rgb = np.stack([np.interp(samples, positions, channels[:, channel]) for channel in range(3)], axis=1)
    return [f"rgb({red}, {green}, {blue})" for red, green, blue in np.rint(rgb).astype(int).tolist()]


def gate_scale() -> dict:
    """A heatmap's colour settings for gates: `palette.GATE_SCALE` over exactly 0..1, with a colour bar
    that says which end is closed and which open."""
    colorbar = {"thickness": 12, "tickvals": [0, 0.5, 1], "ticktext": ["0 closed", "0.5", "1 open"]}
    return {"colorscale": palette.GATE_SCALE, "zmin": 0.0, "zmax": 1.0, "colorbar": colorbar}


def probability_scale() -> dict:
    """A heatmap's colour settings for next-token probabilities: the grey `palette.PROBABILITY_SCALE`
    over exactly 0..1, with a colour bar titled p."""
    colorbar = {"thickness": 12, "tickvals": [0, 0.5, 1], "ticktext": ["0", "0.5", "1"], "title": {"text": "p"}}
    return {"colorscale": palette.PROBABILITY_SCALE, "zmin": 0.0, "zmax": 1.0, "colorbar": colorbar}


def signed_scale(limit: float = 1.0) -> dict:
    """A heatmap's colour settings for signed values: `palette.SIGNED_SCALE` from -limit (purple) to
    +limit (orange), white at 0, colour bar ticks at round numbers."""
    limit = max(float(limit), 1e-6)
    ticks = nice_ticks(-limit, limit, 5)
    colorbar = {"thickness": 12, "tickvals": ticks, "ticktext": [_signed_number(tick) for tick in ticks]}
    return {"colorscale": palette.SIGNED_SCALE, "zmin": -limit, "zmax": limit, "zmid": 0.0, "colorbar": colorbar}


def _signed_number(value: float) -> str:
    return "0" if value == 0 else f"+{value:g}" if value > 0 else f"−{-value:g}"


def threshold_text(value: float, precise: bool = False) -> str:
    """A threshold as the pages write it: two decimals with a true minus sign, and "0" for one that
    rounds to zero (never "−0.00"); with `precise`, a threshold that rounds to zero but is not 0 keeps
    its first significant digit, for the sentences that say how the threshold was found.

    >>> threshold_text(-0.1278), threshold_text(0.3235), threshold_text(-0.004), threshold_text(-0.004, precise=True)
    ('−0.13', '0.32', '0', '−0.004')
    """
    value = float(value)
    text = f"{value:.2f}"
    if text in ("0.00", "-0.00"):
        text = f"{value:.1g}" if precise and value != 0 else "0"
    return text.replace("-", "−")


def named_unit_colours(info: UnitInfo) -> str:
    """How a named unit's cell state reads on the signed colours: the colours turn at 0 but the unit's
    reading turns at its threshold, so this names the threshold and the colours on each side of it.

    >>> gender = UnitInfo("subject gender", 0, 0, 41, -0.1278, "male", "female", 0.9, 0.9)
    >>> named_unit_colours(gender)
    'unit 41 (subject gender) reads as male above −0.13 (orange, white and the palest purple), as female below it (deeper purple)'
    >>> named_unit_colours(UnitInfo("subject gender", 0, 0, 60, 0.3235, "female", "male", 0.9, 0.9))
    'unit 60 (subject gender) reads as female above 0.32 (deeper orange), as male below it (paler orange, white and purple)'
    """
    threshold = round(float(info.threshold), 2)
    cut = f"{abs(threshold):.2f}"
    opening = f"unit {info.unit} ({info.name}) reads as {info.above}"
    if threshold == 0:
        return f"{opening} above 0 (orange), as {info.below} below 0 (purple)"
    if threshold < 0:
        return (f"{opening} above −{cut} (orange, white and the palest purple), as {info.below} below it "
                "(deeper purple)")  # fmt: skip
    return f"{opening} above {cut} (deeper orange), as {info.below} below it (paler orange, white and purple)"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) inside [low, high],
    0 among them when the range holds it.

    >>> nice_ticks(-0.139, 0.798)
    [0.0, 0.25, 0.5, 0.75]
    >>> nice_ticks(-2.37, 2.37)
    [-2.0, 0.0, 2.0]
    """
    if not (np.isfinite(low) and np.isfinite(high)) or high <= low:
        return [float(low)] if np.isfinite(low) else []
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10.0 ** np.floor(np.log10(raw))
    step = next(factor * magnitude for factor in (1.0, 2.0, 2.5, 5.0, 10.0) if factor * magnitude >= raw * (1 - 1e-9))
    first, last = int(np.ceil(low / step - 1e-9)), int(np.floor(high / step + 1e-9))
    return [round(float(index * step), 10) + 0.0 for index in range(first, last + 1)]


def legend_markdown(probabilities: bool = False) -> str:
    """The app's colour rules as one Markdown caption, for a page to show once near its figures; with
    `probabilities`, the rule of the next-token guesses' table too."""
    rules = [palette.GATE_RULE, palette.SIGN_RULE, *([palette.PROBABILITY_RULE] if probabilities else []),
             palette.FRAME_RULE, palette.SELECTED_RULE]  # fmt: skip
    return "  \n".join(rules)


def plotly_figure(spec: dict) -> go.Figure:
    """A Plotly figure from a plain figure dict, with an empty template.

    Plotly's default template is nine tenths of a small figure and most of the time it takes to build
    and send one; Streamlit's theme styles the chart anyway. Building from one dict instead of
    `update_layout` calls is also several times faster.

    The figure is a `SpecFigure`: Streamlit only asks a figure for `to_dict()`, which it answers from
    the dict itself, so a page rerun never builds Plotly's object tree. The figure builders are checked
    property by property in the tests (`VALIDATE_FIGURES`, set by tests/conftest.py).
    """
    spec["layout"].setdefault("template", _EMPTY_TEMPLATE)
    if VALIDATE_FIGURES:
        go.Figure(spec)  # raises on any property Plotly does not know
    return SpecFigure(spec)


# "1" in the tests: every figure built there is checked property by property by Plotly.
VALIDATE_FIGURES = os.environ.get("LSTM_GATE_EXPLORER_VALIDATE_FIGURES") == "1"


class SpecFigure(go.Figure):
    """A `go.Figure` that builds Plotly's object tree only when something other than `to_dict` uses it.

    Building the tree (every property becomes an object) and `to_dict` on it (a deep copy, then every
    array encoded) are the slow part of sending a chart, and /gates sends six heatmaps on every rerun
    (benchmarks.load_test and benchmarks.page_speed measure it). `to_dict` here encodes the arrays of the plain figure dict
    as Plotly does, without the tree. Anything else, such as a test reading `figure.data`, an export
    calling `to_html` or `figure.layout.title.text = ...`, builds the real figure first and from then
    on this is an ordinary `go.Figure`.
    """

    def __init__(self, spec: dict):  # noqa: D107 - Plotly's __init__ runs later, in _build
        object.__setattr__(self, "_spec", spec)
        object.__setattr__(self, "_built", False)

    def __getattribute__(self, name: str):
        if name not in _UNBUILT_NAMES and not object.__getattribute__(self, "_built"):
            object.__getattribute__(self, "_build")()
        return object.__getattribute__(self, name)

    def _build(self) -> None:
        object.__setattr__(self, "_built", True)  # first: Plotly's __init__ reads attributes
        go.Figure.__init__(self, object.__getattribute__(self, "_spec"), _validate=VALIDATE_FIGURES)

    def to_dict(self) -> dict:
        if object.__getattribute__(self, "_built"):
            return go.Figure.to_dict(self)
        return _wire_format(object.__getattribute__(self, "_spec"))


_UNBUILT_NAMES = frozenset({"_spec", "_built", "_build", "to_dict", "__class__"})


def _wire_format(value, key: str | None = None):
    """A copy of a figure dict as `go.Figure(value).to_dict()` gives it: NumPy arrays become Plotly's
    typed arrays (base64), except under the keys Plotly leaves alone; the input is not changed."""
    if isinstance(value, dict):
        return {name: _wire_format(item, name) for name, item in value.items()}
    if isinstance(value, list | tuple):
        if _SCALAR_TYPES.issuperset(map(type, value)):  # hover labels, tick texts: nothing inside to encode
            return list(value)
        return [_wire_format(item) for item in value]
    if isinstance(value, np.ndarray) and not _plotly_utils.utils.is_skipped_key(key or ""):
        return _typed_array(value)
    return value


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _typed_array(array: np.ndarray):
    """Plotly's typed-array spec of `array`, as `_plotly_utils.utils.to_typed_array_spec` makes it but
    without its copy and its check for data frames; other dtypes are left to Plotly's function."""
    code = _plotly_utils.utils.plotlyjsShortTypes.get(array.dtype.name)
    if code is None or array.size == 0 or not array.dtype.isnative:
        return _plotly_utils.utils.to_typed_array_spec(array)
    spec = {"dtype": code, "bdata": base64.b64encode(np.ascontiguousarray(array)).decode("ascii")}
    if array.ndim > 1:
        spec["shape"] = str(array.shape)[1:-1]
    return spec


def text_color_on(fill: str) -> str:
    """Black or white, whichever reads better on `fill` (an `rgb(...)` or `#rrggbb` colour)."""
    if fill.startswith("#"):
        red, green, blue = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    else:
        red, green, blue = (float(part) for part in fill[fill.index("(") + 1 : fill.index(")")].split(",")[:3])
    luminance = (0.299 * red + 0.587 * green + 0.114 * blue) / 255  # ITU-R BT.601 luma
    return "#111111" if luminance > 0.55 else "#ffffff"


# --------------------------------------------------------------------------------- what to draw
SIGNAL_NAMES: tuple[str, ...] = ("forget", "input", "output", "candidate", "cell", "hidden")
SIGNAL_TITLES = {
    "forget": "Forget gate f: how much of the old memory is kept (1 = all)",
    "input": "Input gate i: how much of the candidate is written (1 = all)",
    "output": "Output gate o: how much of the memory is shown (1 = all)",
    "candidate": "Candidate g: the new value proposed for the memory",
    "cell": "Cell state c: the long-term memory",
    "hidden": "Hidden state h: what the cell outputs",
}
SIGNAL_SYMBOLS = {"forget": "f", "input": "i", "output": "o", "candidate": "g", "cell": "c", "hidden": "h"}
UNIT_ORDERS = {
    "index": "by unit number",
    "variance": "by how much the cell state varies",
    "change": "by change of the cell state at the selected token",
}
# What the unit axis of a heatmap says about the order of its rows, per key of `UNIT_ORDERS`.
UNIT_ORDER_TITLES = {
    "index": "unit (in number order)",
    "variance": "unit (most varying cell state on top)",
    "change": "unit (largest change at the selected token on top)",
}
MAX_CELLS_PER_FIGURE = 250_000  # keeps every figure's payload to about 1 MB of float32
# Values are written into a heatmap's cells only up to this many cells and token columns: beyond, a
# number ("−0.12") is wider than its column in a half-page chart and runs into the next.
MAX_WRITTEN_CELLS = 400
MAX_WRITTEN_COLUMNS = 16


def signals_of(trace, layer: int = 0, direction: int = 0) -> dict[str, np.ndarray]:
    """Name (`SIGNAL_NAMES`) -> (T, H) float32 values of one layer and direction of a `Trace`."""
    values = {name: trace.gates[name][layer, direction] for name in ("forget", "input", "output", "candidate")}
    values |= {"cell": trace.cell[layer, direction], "hidden": trace.hidden[layer, direction]}
    return {name: np.asarray(values[name], dtype=np.float32) for name in SIGNAL_NAMES}


def is_signed(signal: str) -> bool:
    """Whether `signal` takes negative values (and so is drawn on the diverging scale)."""
    return signal in ("candidate", "cell", "hidden")


def signed_limit(values: np.ndarray, floor: float = 1.0) -> float:
    """Where a diverging colour scale for `values` should end: the 98th percentile of |values|, at
    least `floor`. The cell state is unbounded; a few large values would otherwise wash out the rest."""
    values = np.abs(np.asarray(values, dtype=np.float32))
    return max(float(np.percentile(values, 98)) if values.size else 0.0, floor)


def unit_order(cell_state: np.ndarray, order: str = "index", token_index: int = 0) -> np.ndarray:
    """(H,) unit indices in display order, most interesting first.

    Args:
        cell_state: (T, H) the cell state along the text.
        order: a key of `UNIT_ORDERS`: "index" (0, 1, 2, ...), "variance" (largest variance over the
            tokens first) or "change" (largest |c_t - c_{t-1}| at `token_index` first).
    """
    cell_state = np.asarray(cell_state, dtype=np.float64)
    if order == "index":
        return np.arange(cell_state.shape[1])
    if order == "variance":
        score = cell_state.var(axis=0)
    elif order == "change":
        previous = cell_state[token_index - 1] if token_index > 0 else np.zeros(cell_state.shape[1])
        score = np.abs(cell_state[token_index] - previous)
    else:
        raise ValueError(f"order must be one of {sorted(UNIT_ORDERS)}, got {order!r}")
    return np.argsort(-score, kind="stable")


def shown_units(order: np.ndarray, top_k: int, pinned: Sequence[int] = ()) -> np.ndarray:
    """The first `top_k` units of `order`, plus any `pinned` units (the selected and named ones)
    that fell outside it, kept in display order."""
    top_k = max(1, min(int(top_k), len(order)))
    chosen = set(int(unit) for unit in order[:top_k]) | {int(unit) for unit in pinned if 0 <= unit < len(order)}
    return np.array([unit for unit in order if int(unit) in chosen], dtype=np.int64)


def token_window(length: int, token_index: int, max_tokens: int) -> tuple[int, int]:
    """[start, stop) of at most `max_tokens` tokens around `token_index` in a text of `length` tokens.

    >>> token_window(1000, 500, 100)
    (450, 550)
    """
    if length <= max_tokens:
        return 0, length
    start = min(max(token_index - max_tokens // 2, 0), length - max_tokens)
    return start, start + max_tokens


def customdata_item(point: Mapping, index: int) -> float:
    """Item `index` of the `customdata` of a point Streamlit reports for a click on a chart.

    Streamlit passes the point as the browser gave it: a list, or an object keyed "0", "1", ...
    """
    data = point["customdata"]
    if isinstance(data, Mapping):
        return float(data[index] if index in data else data[str(index)])
    return float(data[index])


def clicked_cell(point: Mapping) -> tuple[int, int]:
    """(token index, unit) of a click on a `gate_heatmap` cell, as Streamlit reports the point (the y of
    a category axis comes as the category: the unit id, as a number or a string)."""
    return int(round(float(point["x"]))), int(float(point["y"]))


def token_labels(tokens: Sequence[str]) -> list[str]:
    """Tokens as axis labels: HTML-escaped (Plotly reads tags in labels), spaces and newlines visible."""
    visible = {" ": "␣", "\n": "⏎"}
    return [html.escape(visible.get(token, token), quote=False) for token in tokens]


def _tick_angle(labels: Sequence[str]) -> int:
    """Slant the token labels only when they would collide: many tokens, or words rather than characters."""
    return 0 if len(labels) <= 12 or max(map(len, labels), default=0) <= 2 else -60


def top_predictions(next_token_probs: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(T, k) token ids and (T, k) probabilities of the `k` most probable next tokens at each token."""
    k = min(k, next_token_probs.shape[1])
    ids = np.argpartition(-next_token_probs, k - 1, axis=1)[:, :k]
    probabilities = np.take_along_axis(next_token_probs, ids, axis=1)
    order = np.argsort(-probabilities, axis=1, kind="stable")
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(probabilities, order, axis=1)


# ----------------------------------------------------------------------------------- heatmaps
def gate_heatmap(
    values: np.ndarray,
    tokens: Sequence[str],
    units: np.ndarray,
    signal: str,
    *,
    start: int = 0,
    selected: tuple[int, int] | None = None,
    unit_names: Mapping[int, str] | None = None,
    signed_limit: float | None = None,
    units_title: str | None = None,
    show_values: bool = False,
) -> go.Figure:
    """One signal as a heatmap: tokens along x, units along y, a click target on every cell.

    Args:
        values: (T, H) the signal over a window of T tokens (e.g. `signals_of(trace)["forget"][start:stop]`).
        tokens: the T tokens of that window, as the model read them (escaped here).
        units: (K,) which units to draw, top row first (from `shown_units`).
        signal: one of `SIGNAL_NAMES`; gates are drawn with `gate_scale` (0..1), signed signals with
            `signed_scale` (±1, or ±`signed_limit` for the unbounded cell state).
        start: the absolute index of the first token, so x values are token indices of the whole text.
        selected: (token_index, unit) to outline, in absolute token index; its value is written under
            the title.
        unit_names: unit -> name (e.g. {64: "subject gender"}) marked on the y axis.
        units_title: the unit axis's title, saying how the rows are ordered (`UNIT_ORDER_TITLES`).
        show_values: write each cell's value in it (2 decimals) when at most `MAX_WRITTEN_CELLS` cells
            and `MAX_WRITTEN_COLUMNS` tokens are drawn; over that, the subtitle says why they are not.

    A transparent scatter marker sits on every cell, because Streamlit reports no points for clicks
    on a heatmap; its x is the absolute token index, its y the unit and its `customdata` the value
    (`clicked_cell` reads a click back). The y axis is a category axis of unit ids in drawing order, so
    a row's y is its unit and shapes address rows by their serial number. Hover shows the token, its
    index, the unit and the exact value, all from the marker's x, y and customdata: `%{x}` prints the
    axis's tick text (the token) and `%{x:d}` the number. A cell costs its value twice (z for the
    colour, customdata for the hover) and two coordinates, no text: a class's every rerun sends six of
    these. Arrays go out as float32, coordinates as int16.
    """
    values = np.asarray(values, dtype=np.float32)
    units = np.asarray(units, dtype=np.int64)
    length, rows = values.shape[0], len(units)
    if len(tokens) != length:
        raise ValueError(f"{len(tokens)} tokens for {length} timesteps")
    if signal not in SIGNAL_NAMES:
        raise ValueError(f"signal must be one of {SIGNAL_NAMES}, got {signal!r}")
    if rows * length > MAX_CELLS_PER_FIGURE:
        raise ValueError(f"{rows} units x {length} tokens is more than {MAX_CELLS_PER_FIGURE} cells; draw a window")
    if len(np.unique(units)) != rows:
        raise ValueError("each unit can be drawn once: the rows are a category axis of unit ids")
    unit_names = dict(unit_names or {})
    z = np.ascontiguousarray(values[:, units].T)  # (K, T): row r is unit units[r]
    # Coordinates go out as int16 when they fit (half the bytes of int32): the click layer repeats them
    # for every cell, and a page draws six of these figures on every rerun.
    index_type = np.int16 if start + length < 2**15 and units.max(initial=0) < 2**15 else np.int32
    positions = np.arange(start, start + length, dtype=index_type)
    unit_ids = units.astype(index_type)
    labels = token_labels(tokens)
    scale = signed_scale(1.0 if signed_limit is None else signed_limit) if is_signed(signal) else gate_scale()
    heatmap = {"type": "heatmap", "z": z, "x": positions, "y": unit_ids, "hoverinfo": "skip", **scale}
    heatmap["colorbar"] |= {"len": 0.9}
    written = show_values and rows * length <= MAX_WRITTEN_CELLS and length <= MAX_WRITTEN_COLUMNS
    if written:  # Plotly.js picks black or white text for each cell's colour
        heatmap |= {"texttemplate": "%{z:.2f}", "textfont": {"size": 10 if length > 12 else 11}}
    click_layer = {
        "type": "scatter",
        "x": np.tile(positions, rows),
        "y": np.repeat(unit_ids, length),
        "customdata": z.reshape(-1),
        "mode": "markers",
        "marker": {"size": 8, "opacity": 0, "color": "black"},
        "hovertemplate": f"token %{{x}} (t=%{{x:d}})<br>unit %{{y}}<br>{SIGNAL_SYMBOLS[signal]} = %{{customdata:.4f}}<extra></extra>",
        "showlegend": False,
        # a clicked marker must stay invisible: the frame shows the selection instead
        "selected": {"marker": {"opacity": 0}},
        "unselected": {"marker": {"opacity": 0}},
    }
    tick_rows, tick_text, shapes = unit_axis_marks(units, unit_names, start, length, selected)
    notes = [f"{rows} of {values.shape[1]} units" if rows < values.shape[1] else f"all {rows} units"]
    if selected is not None and start <= selected[0] < start + length and selected[1] in set(units.tolist()):
        column, unit = selected
        notes.append(f"token {column} “{labels[column - start]}”, unit {unit}: "
                     f"{SIGNAL_SYMBOLS[signal]} = {float(values[column - start, unit]):.3f}")  # fmt: skip
    if show_values and not written:
        notes.append(
            f"values are written in the cells when at most {MAX_WRITTEN_COLUMNS} tokens and "
            f"{MAX_WRITTEN_CELLS} cells are drawn"
        )
    row_pixels = 16 if rows <= 40 else 11
    layout = {
        "title": {"text": SIGNAL_TITLES[signal], "font": {"size": 15}, "x": 0.0, "xanchor": "left",
                  "subtitle": {"text": " · ".join(notes), "font": {"size": 12}}},
        # 170 px for the title, its subtitle and the slanted token labels
        "height": min(max(row_pixels * rows, 110), 640) + 170,
        "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
        "shapes": shapes,
        "dragmode": False,
        "clickmode": "event+select",
        "hoverlabel": {"bgcolor": "white"},
        "plot_bgcolor": "white",
        "xaxis": {
            "tickvals": positions, "ticktext": labels, "tickangle": _tick_angle(labels), "showgrid": False,
            "range": [start - 0.5, start + length - 0.5], "fixedrange": True, "automargin": True, "zeroline": False,
            "tickfont": {"size": 11 if length <= 60 else 9},
        },
        "yaxis": {
            "type": "category", "categoryorder": "array", "categoryarray": units.tolist(),
            "tickvals": units[tick_rows].tolist(), "ticktext": tick_text, "autorange": "reversed", "showgrid": False,
            "fixedrange": True, "title": {"text": units_title or "unit", "standoff": 4, "font": {"size": 12}},
            "tickfont": {"size": 12 if rows <= 40 else 10}, "automargin": True,
        },
    }  # fmt: skip
    return plotly_figure({"data": [heatmap, click_layer], "layout": layout})


# Frames drawn over cells: a dark line on a white halo, seen on every colour of both scales.
SELECTED_FRAME = {"width": 2.5, "dash": "solid"}  # the selected cell or token
SELECTED_COLUMN_FRAME = {"width": 1, "dash": "dot"}  # the selected token's whole column
NAMED_FRAME = {"width": 1.5, "dash": "dash"}  # a named unit's row


def unit_axis_marks(
    units: np.ndarray, unit_names: Mapping[int, str], start: int, length: int, selected: tuple[int, int] | None
) -> tuple[list[int], list[str], list[dict]]:
    """(tick rows, tick texts, shapes) of a heatmap whose rows are `units` over columns start..start+length-1.

    Ticks: every unit when they fit, otherwise about 32 of them, always the named ones (in bold with
    their name). Shapes (`frame`): a dashed frame around each named unit's row; for `selected` (column,
    unit) a dotted frame around its column and a solid one around its cell.
    """
    rows = len(units)
    every = max(1, rows // 32)
    named_rows = {row for row, unit in enumerate(units) if int(unit) in unit_names}
    tick_rows = sorted(set(range(0, rows, every)) | named_rows)
    tick_text = [
        f"<b>{html.escape(unit_names[int(units[row])], quote=False)} · {units[row]}</b>"
        if row in named_rows
        else str(units[row])
        for row in tick_rows
    ]
    shapes = [
        shape for row in sorted(named_rows) for shape in frame(start - 0.5, start + length - 0.5, row - 0.5, row + 0.5, **NAMED_FRAME)
    ]  # fmt: skip
    if selected is not None and start <= selected[0] < start + length:
        column, unit = selected
        shapes += frame(column - 0.5, column + 0.5, -0.5, rows - 0.5, **SELECTED_COLUMN_FRAME)
        matches = np.flatnonzero(units == unit)
        if len(matches):
            row = int(matches[0])
            shapes += frame(column - 0.5, column + 0.5, row - 0.5, row + 0.5, **SELECTED_FRAME)
    return tick_rows, tick_text, shapes


def outline(x0: float, x1: float, y0: float, y1: float, color: str, width: float, dash: str = "solid") -> dict:
    """An unfilled rectangle shape in data coordinates."""
    return {
        "type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1, "xref": "x", "yref": "y",
        "line": {"color": color, "width": width, "dash": dash}, "fillcolor": "rgba(0,0,0,0)",
    }  # fmt: skip


def frame(x0: float, x1: float, y0: float, y1: float, width: float, dash: str = "solid") -> list[dict]:
    """Two shapes marking a rectangle on any colour of either scale: a white halo, then a dark line
    (`palette.FRAME_LIGHT`, `palette.FRAME_DARK`) in the style that says what it marks."""
    return [
        outline(x0, x1, y0, y1, palette.FRAME_LIGHT, width + 2),
        outline(x0, x1, y0, y1, palette.FRAME_DARK, width, dash),
    ]


# The selected token in a line chart: one light-blue band, named in the legend.
SELECTED_NAME = "selected token"  # the legend's name for the light-blue band


def selected_band(x: float, yref: str = "paper", y0: float = 0.0, y1: float = 1.0) -> dict:
    """A light-blue band (`palette.HIGHLIGHT`) behind column `x` of a line chart: the selected token or
    step. Light blue is a choice, never a value, and no line is drawn in it, so a dark or dashed line
    always means a quantity."""
    return {
        "type": "rect", "x0": x - 0.5, "x1": x + 0.5, "y0": y0, "y1": y1, "xref": "x", "yref": yref,
        "fillcolor": palette.HIGHLIGHT, "opacity": 0.45, "line": {"width": 0}, "layer": "below",
    }  # fmt: skip


def selected_legend_entry(name: str = SELECTED_NAME, yaxis: str = "y") -> dict:
    """A legend entry (a trace with no points) naming the light-blue band of `selected_band`."""
    return {
        "type": "scatter", "x": [None], "y": [None], "yaxis": yaxis, "mode": "markers", "name": name,
        "marker": {"symbol": "square", "size": 13, "color": palette.HIGHLIGHT, "opacity": 0.8},
        "hoverinfo": "skip", "showlegend": True,
    }  # fmt: skip


def predictions_figure(
    tokens: Sequence[str],
    predicted: Sequence[Sequence[str]],
    probabilities: np.ndarray,
    *,
    start: int = 0,
    selected: int | None = None,
    show_values: bool = False,
    tags: bool = False,
) -> go.Figure:
    """The k most probable next tokens after each token: a k-row table coloured by probability.
    With `tags` (a tagger), the k most probable tags of each token itself.

    Args:
        tokens: the T tokens read (x axis).
        predicted: (T, k) predicted tokens, most probable first (from `top_predictions`).
        probabilities: (T, k) their probabilities, on the grey scale fixed to 0..1 (`probability_scale`):
            a guess's probability is neither a gate nor a sign.
        start: absolute index of the first token; selected: the absolute token index to outline, its
            guesses and their probabilities written under the title.
        show_values: write each probability under its guess when at most `MAX_WRITTEN_CELLS` cells are
            drawn and a column is wide enough for it.
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    length, k = probabilities.shape
    if len(tokens) != length or len(predicted) != length:
        raise ValueError(f"{len(tokens)} tokens and {len(predicted)} rows of predictions for {length} timesteps")
    positions = np.arange(start, start + length, dtype=np.int32)
    # Long guesses are cut to what fits a column (about 900 px shared by the tokens); hover shows them
    # whole. Below three characters a column shows only its colour.
    fits = int(900 / max(length, 1) / 6.5)
    full_text = [token_labels([predicted[column][rank] for column in range(length)]) for rank in range(k)]
    cell_text = [[_shortened(guess, max(fits, 3)) for guess in row] for row in full_text]  # (k, T)
    written = show_values and k * length <= MAX_WRITTEN_CELLS and fits >= 4  # "0.42" needs four characters
    template = ("%{text}<br>%{z:.2f}" if written else "%{text}") if fits >= 3 else ("%{z:.2f}" if written else "")
    heatmap = {
        "type": "heatmap", "z": np.ascontiguousarray(probabilities.T), "x": positions,
        "y": np.arange(1, k + 1, dtype=np.int32), "text": cell_text, "customdata": full_text, "texttemplate": template,
        "textfont": {"size": 10 if length > 24 else 12}, **probability_scale(),
        # %{x} and %{y} print the axes' tick texts (the token, "guess 2"), %{x:d} the token's index
        "hovertemplate": "after token %{x} (t=%{x:d}): %{y} is %{customdata} (p = %{z:.3f})<extra></extra>",
    }  # fmt: skip
    shapes, subtitle = [], ""
    if selected is not None and start <= selected < start + length:
        shapes += frame(selected - 0.5, selected + 0.5, 0.5, k + 0.5, **SELECTED_FRAME)
        column = selected - start
        guesses = ", ".join(f"“{full_text[rank][column]}” {probabilities[column, rank]:.2f}" for rank in range(k))
        subtitle = f"{'for' if tags else 'after'} token {selected} “{token_labels(tokens)[column]}”: {guesses}"
    if show_values and not written:
        subtitle += f"{' · ' if subtitle else ''}probabilities are written in the cells when fewer tokens are drawn"
    layout = {
        "title": {"text": f"The tagger's {k} likeliest tags for each word" if tags else
                  f"The model's {k} best guesses for the next token, after each token", "font": {"size": 15},
                  "x": 0.0, "xanchor": "left", "subtitle": {"text": subtitle, "font": {"size": 12}}},
        "height": (52 if written else 36) * k + 170, "margin": {"l": 10, "r": 10, "t": 60, "b": 10}, "shapes": shapes,
        "dragmode": False, "hoverlabel": {"bgcolor": "white"},
        "xaxis": {"tickvals": positions, "ticktext": token_labels(tokens), "tickangle": _tick_angle(token_labels(tokens)),
                  "fixedrange": True},
        "yaxis": {"tickvals": list(range(1, k + 1)), "ticktext": [f"guess {rank}" for rank in range(1, k + 1)],
                  "autorange": "reversed", "fixedrange": True},
    }  # fmt: skip
    return plotly_figure({"data": [heatmap], "layout": layout})


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Monospace text has a known advance (0.6 em in DejaVu Sans Mono, Courier, Liberation Mono), so the
# coloured text can be laid out in Python with rectangles that fit the letters exactly.
_TEXT_FONT_SIZE = 16
_CHAR_PIXELS = 0.602 * _TEXT_FONT_SIZE
_LINE_PIXELS = 30
_VISIBLE = {" ": "\u00a0", "\n": "⏎"}  # a space token must keep its width; a newline becomes a mark


def colored_text_figure(
    tokens: Sequence[str],
    values: np.ndarray,
    *,
    signed: bool,
    limit: float = 1.0,
    start: int = 0,
    selected: int | None = None,
    separator: str = " ",
    chars_per_line: int = 96,
    title: str = "",
    value_name: str = "value",
    named: UnitInfo | None = None,
) -> go.Figure:
    """The text with each token's background coloured by one unit's value (Karpathy et al., 2015).

    Args:
        tokens: the tokens read; values: (T,) the unit's value at each.
        signed: `palette.SIGNED_SCALE` over ±`limit` (0 white) if True, else `palette.GATE_SCALE` over 0..1.
        start: absolute index of the first token; selected: absolute index to outline, its value
            written under the title as "`value_name` = 0.123".
        separator: " " between word tokens, "" for characters (which carry their own spaces).
        chars_per_line: where lines wrap; the figure is `chars_per_line` monospace characters wide
            (a fixed pixel width, so show it with `st.plotly_chart(..., width="content")`).
        named: the unit's `UnitInfo` when it is a named unit: a line under the title says where its
            reading turns (`named_unit_colours`), and the selected token's value says what it reads as.

    Every token has an invisible marker at its centre (customdata: token index, value), so clicking
    a token can select it with `on_select`. Tokens are escaped: typed HTML shows as text.
    """
    values = np.asarray(values, dtype=np.float32)
    if len(values) != len(tokens):
        raise ValueError(f"{len(tokens)} tokens for {len(values)} values")
    scale = palette.SIGNED_SCALE if signed else palette.GATE_SCALE
    shown = [_VISIBLE.get(token, token) for token in tokens]
    column, line = 0, 0
    boxes = []  # (line, first column, width) per token
    for token in shown:
        width = max(len(token), 1)
        if column > 0 and column + width > chars_per_line:
            column, line = 0, line + 1
        boxes.append((line, column, width))
        column += width + len(separator)
    fills = [color_for_value(scale, float(value), signed=signed, limit=limit) for value in values]
    # One horizontal bar per token (base: first column, length: its width, y: its line) is one trace
    # of arrays, which Plotly builds far faster than a rectangle shape per token; bars are also what
    # a click reports, so they are the click targets too.
    tokens_layer = {
        "type": "bar",
        "orientation": "h",
        "base": [first for _, first, _ in boxes],
        "x": [width for _, _, width in boxes],
        "y": [row for row, _, _ in boxes],
        "width": 0.84,
        "marker": {"color": fills, "line": {"width": 0}},
        "text": [html.escape(token, quote=False) for token in shown],
        "textposition": "inside",
        "insidetextanchor": "middle",
        "constraintext": "none",
        "textangle": 0,
        "textfont": {"family": "DejaVu Sans Mono, Liberation Mono, Courier New, monospace", "size": _TEXT_FONT_SIZE,
                     "color": [text_color_on(fill) for fill in fills]},
        "customdata": np.stack([np.arange(start, start + len(tokens), dtype=np.float32), values], axis=1),
        "hovertemplate": "token %{text} (t=%{customdata[0]})<br>value %{customdata[1]:.4f}<extra></extra>",
        "showlegend": False,
        # keep every bar at full colour after a click: the frame marks the selection
        "selected": {"marker": {"opacity": 1}},
        "unselected": {"marker": {"opacity": 1}},
    }  # fmt: skip
    shapes, notes = [], []
    if named is not None:
        notes.append(html.escape(named_unit_colours(named), quote=False))
    if selected is not None and start <= selected < start + len(tokens):
        row, first, width = boxes[selected - start]
        shapes += frame(first - 0.2, first + width + 0.2, row - 0.48, row + 0.48, **SELECTED_FRAME)
        token = html.escape(shown[selected - start], quote=False)
        value = float(values[selected - start])
        reading = f" (reads as {html.escape(str(named.read(value)), quote=False)})" if named is not None else ""
        notes.append(f"token {selected} “{token}”: {html.escape(value_name, quote=False)} = {value:.3f}{reading}")
    subtitle = "<br>".join(notes)
    lines = line + 1
    header = (40 + 20 * len(notes)) if title else 26 * len(notes)  # pixels above the text
    layout = {
        "shapes": shapes, "width": int(chars_per_line * _CHAR_PIXELS) + 20,
        "height": lines * _LINE_PIXELS + header + 10,
        "margin": {"l": 10, "r": 10, "t": header + 5, "b": 5}, "dragmode": False,
        "clickmode": "event+select", "plot_bgcolor": "white", "paper_bgcolor": "white",
        "hoverlabel": {"bgcolor": "white"},
        "xaxis": {"range": [0, chars_per_line], "visible": False, "fixedrange": True},
        "yaxis": {"range": [lines - 0.5, -0.5], "visible": False, "fixedrange": True},
        "bargap": 0,
    }  # fmt: skip
    if title or subtitle:  # a subtitle needs a title above it, so without one it is the title
        layout["title"] = {
            "text": title or subtitle,
            "font": {"size": 15 if title else 12},
            "x": 0.0,
            "xanchor": "left",
        }
    if title and subtitle:
        layout["title"]["subtitle"] = {"text": subtitle, "font": {"size": 12}}
    return plotly_figure({"data": [tokens_layer], "layout": layout})


# ----------------------------------------------------------------- layers and directions side by side
MAX_COMPARED_PAIRS = 8  # (layer, direction) rows one comparison draws: each keeps a readable height


def layer_pairs(num_layers: int, num_directions: int) -> list[tuple[int, int]]:
    """Every (layer, direction) of a model, bottom layer first, forward before backward; at most
    `MAX_COMPARED_PAIRS` of them.

    >>> layer_pairs(2, 2)
    [(0, 0), (0, 1), (1, 0), (1, 1)]
    """
    pairs = [(layer, direction) for layer in range(num_layers) for direction in range(num_directions)]
    return pairs[:MAX_COMPARED_PAIRS]


def pair_label(layer: int, direction: int) -> str:
    """ "layer 0 · forward": how a row or column of a comparison is named."""
    return f"layer {layer} · {('forward', 'backward')[direction]}"


def layers_heatmap(
    trace,
    signal: str,
    pairs: Sequence[tuple[int, int]],
    tokens: Sequence[str],
    units: np.ndarray,
    *,
    start: int = 0,
    stop: int | None = None,
    selected: tuple[int, int] | None = None,
    units_title: str | None = None,
) -> go.Figure:
    """One signal of several layers and directions, stacked rows on shared axes and one colour scale.

    Args:
        trace: a `Trace`; its (L, D, T, H) arrays are read for each pair.
        signal: one of `SIGNAL_NAMES`.
        pairs: the (layer, direction) rows to draw, top first (from `layer_pairs`).
        tokens: the tokens of the window start..stop (escaped here).
        units: (K,) the units to draw in every row, top first: the same units in each, so a row can be
            compared with the one above it.
        selected: (absolute token index, unit) outlined in every row; its value in each row is written
            under the title.
        units_title: how the rows of units are ordered (`UNIT_ORDER_TITLES`), written under the title.

    Gates use `gate_scale` (0..1); candidate and hidden `signed_scale` over ±1; the cell over ±the 98th
    percentile of |c| in all the rows drawn (`signed_limit`), so the rows share one colour bar.
    """
    if signal not in SIGNAL_NAMES:
        raise ValueError(f"signal must be one of {SIGNAL_NAMES}, got {signal!r}")
    if not pairs:
        raise ValueError("pairs must name at least one (layer, direction)")
    stop = trace.length if stop is None else stop
    length = stop - start
    if len(tokens) != length:
        raise ValueError(f"{len(tokens)} tokens for the window {start}..{stop}")
    units = np.asarray(units, dtype=np.int64)
    if len(pairs) * len(units) * length > MAX_CELLS_PER_FIGURE:
        raise ValueError(f"{len(pairs)} x {len(units)} units x {length} tokens: over {MAX_CELLS_PER_FIGURE} cells")
    source = trace.cell if signal == "cell" else trace.hidden if signal == "hidden" else trace.gates[signal]
    blocks = [np.asarray(source[pair][start:stop][:, units].T, dtype=np.float32) for pair in pairs]  # (K, T) each
    if is_signed(signal):
        scale = signed_scale(signed_limit(np.stack(blocks)) if signal == "cell" else 1.0)
    else:
        scale = gate_scale()
    # a shared colour axis takes cmin, cmax, cmid where one heatmap takes zmin, zmax, zmid
    color_axis = {("c" + name[1:] if name[0] == "z" else name): value for name, value in scale.items()}
    positions = np.arange(start, stop, dtype=np.int32)
    unit_names = [str(int(unit)) for unit in units]
    rows = len(pairs)
    band_pixels = min(max(9 * len(units), 90), 320)
    gap_pixels = 34  # room for the row's name
    around = 225  # pixels for the title, its two subtitle lines and the slanted token labels
    height = rows * band_pixels + (rows - 1) * gap_pixels + around
    plot_pixels = height - around
    data, layout = [], {}
    for row, ((layer, direction), block) in enumerate(zip(pairs, blocks, strict=True)):
        axis = "y" if row == 0 else f"y{row + 1}"
        top = 1.0 - row * (band_pixels + gap_pixels) / plot_pixels
        data.append({
            "type": "heatmap", "z": np.ascontiguousarray(block, dtype=np.float32), "x": positions, "y": unit_names,
            "coloraxis": "coloraxis", "yaxis": axis, "name": pair_label(layer, direction),
            "hovertemplate": f"{pair_label(layer, direction)}<br>token %{{x}} (t=%{{x:d}}), unit %{{y}}<br>"
                             f"{SIGNAL_SYMBOLS[signal]} = %{{z:.4f}}<extra></extra>",
        })  # fmt: skip
        layout["yaxis" if row == 0 else f"yaxis{row + 1}"] = {
            "domain": [max(top - band_pixels / plot_pixels, 0.0), min(top, 1.0)], "type": "category",
            "autorange": "reversed", "fixedrange": True, "showgrid": False, "tickfont": {"size": 11},
            "title": {"text": pair_label(layer, direction), "font": {"size": 12}},
            "nticks": 16,
        }  # fmt: skip
    _, _, selection_marks = unit_axis_marks(units, {}, start, length, selected)  # the same outlines in every row
    shapes = [{**mark, "yref": "y" if row == 0 else f"y{row + 1}"} for row in range(rows) for mark in selection_marks]
    labels = token_labels(tokens)
    notes = [units_title] if units_title else []
    if selected is not None and start <= selected[0] < stop and selected[1] in set(units.tolist()):
        column, unit = selected
        row = int(np.flatnonzero(units == unit)[0])
        each = ", ".join(
            f"{block[row, column - start]:.3f} in {pair_label(*pair)}"
            for pair, block in zip(pairs, blocks, strict=True)
        )
        notes.append(f"token {column} “{labels[column - start]}”, unit {unit}: {SIGNAL_SYMBOLS[signal]} = {each}")
    subtitle = "<br>".join(notes)
    layout |= {
        "title": {"text": f"{SIGNAL_TITLES[signal]}, in every layer and direction", "font": {"size": 15}, "x": 0.0,
                  "xanchor": "left", "subtitle": {"text": subtitle, "font": {"size": 12}}},
        "height": height, "margin": {"l": 10, "r": 10, "t": 75, "b": 10}, "shapes": shapes, "dragmode": False,
        "hoverlabel": {"bgcolor": "white"}, "plot_bgcolor": "white",
        "coloraxis": {**color_axis, "colorbar": {**color_axis["colorbar"], "len": 0.6}},
        "xaxis": {"tickvals": positions, "ticktext": labels, "tickangle": _tick_angle(labels), "showgrid": False,
                  "range": [start - 0.5, stop - 0.5], "fixedrange": True, "anchor": f"y{rows}" if rows > 1 else "y",
                  "tickfont": {"size": 11 if length <= 60 else 9}},
    }  # fmt: skip
    return plotly_figure({"data": data, "layout": layout})
