"""Figures and sentences for /gradients: how far back a late loss reaches in a plain RNN and an LSTM,
where the LSTM's forget gate closes, and how often each cell gets its task right.

Pure functions of a `lstm_core.analysis.gradient_comparison.GradientComparison` (no Streamlit), tested without a server.
Curves are drawn relative to the last step, so cells whose losses differ in size (a confident trained
model has a tiny loss) compare on one axis; the words (steps) run in reading order along the x axis.
Step labels (words a user typed) are HTML-escaped in figures, since Plotly renders a few HTML tags; the
sentences are plain text for `explain.as_markdown`.

>>> import numpy as np
>>> from lstm_core.analysis.gradient_comparison import compare_on_task
>>> comparison = compare_on_task({}, lag=20, seed=0)
>>> [trace.name for trace in gradient_chart(comparison).data]
['RNN, untrained', 'LSTM, untrained']
>>> ratio_text(3e-9), ratio_text(0.071), ratio_text(20.4)
('10⁻⁹', '0.071', '20')
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from lstm_core.analysis.gradient_comparison import GradientComparison
from lstm_core.analysis.gradients import ForgetMarks, GradientProfile
from lstm_core.data import corpus
from ui.figures import gate_scale, plotly_figure

if TYPE_CHECKING:
    from lstm_core.models.task_model import TaskModel
    from lstm_core.models.text_rnn import TextRNN

__all__ = [
    "CELL_COLORS", "MEASURE_LABELS", "FLOOR", "curve_name", "ratio_text", "size_phrase", "step_noun",
    "gradient_chart", "forget_gate_chart", "summary_sentences", "forget_sentences", "probability_sentence",
    "sequence_preview", "task_models_note", "uses_log_scale", "chart_caption", "marks_sentences",
    "gap_accuracy_chart", "gap_accuracy_sentence", "LOG_SCALE_SPAN", "cells_to_show", "marked_lstm", "marks_names",
    "task_scores", "text_models_note", "reach_sentences",
]  # fmt: skip

# One colour per cell kind, off the hues of the gate and sign scales (ui.palette: no green, purple or
# orange), safe for every common colour-vision deficiency; untrained dashed, trained solid, so the
# pair reads in greyscale too.
CELL_COLORS = {"rnn": "#CC3311", "lstm": "#0072B2"}
MARK_SHADE = "rgba(0, 0, 0, 0.09)"  # words where a forget gate closes: a light grey band behind the curves
# Curves spanning more than this factor (two powers of ten) go on a log axis; a linear one would
# flatten all but the largest.
LOG_SCALE_SPAN = 100.0
CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM"}
MEASURE_LABELS = {
    "input": "the input x",
    "hidden": "the hidden state h",
    "cell": "the memory: cell state c (LSTM), hidden state h (RNN)",
}
# Two lines, so that the title fits beside the upper panel of `gradient_chart` (a scale note follows).
_AXIS_TITLES = {
    "input": "gradient ‖∂L/∂x<sub>t</sub>‖<br>÷ its size at the last step",
    "hidden": "gradient ‖∂L/∂h<sub>t</sub>‖<br>÷ its size at the last step",
    "cell": "‖∂L/∂c<sub>t</sub>‖ (LSTM), ‖∂L/∂h<sub>t</sub>‖ (RNN)<br>÷ its size at the last step",
}
# The chart's lowest line. Smaller values are drawn on it (their hover still says how small): a
# plain RNN reaches 10^-90 within 400 steps, and an axis that deep would flatten every other curve.
# It also keeps the payload in float32, whose smallest normal number is about 1e-38.
FLOOR = 1e-30
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_EMPTY_TEMPLATE = {"layout": {"hovermode": "closest"}}


def curve_name(key: tuple[str, bool]) -> str:
    """("rnn", False) -> "RNN, untrained"."""
    kind, trained = key
    return f"{CELL_NAMES[kind]}, {'trained' if trained else 'untrained'}"


def step_noun(comparison: GradientComparison) -> str:
    return "word" if comparison.source == "text" else "step"


def ratio_text(value: float) -> str:
    """A ratio as a student reads it: powers of ten below 0.01, two significant digits above.

    >>> ratio_text(0.0), ratio_text(float("nan")), ratio_text(2.5e-100), ratio_text(0.45), ratio_text(1.06)
    ('0', 'undefined', '10⁻¹⁰⁰', '0.45', '1.1')
    """
    if not math.isfinite(value):
        return "undefined"
    if value <= 0:
        return "0"
    if value < 0.01 or value >= 1000:
        return "10" + str(round(math.log10(value))).translate(_SUPERSCRIPT)
    if value >= 10:
        return f"{value:.0f}"
    if value >= 0.995:
        return f"{value:.1f}"  # "1.0", not "1": .2g would drop the zero
    return f"{value:.2g}"


def size_phrase(value: float, at_last: str = "the last step") -> str:
    """'10⁻⁹ of its size at the last step', '20 times its size at the last step'."""
    if not math.isfinite(value):
        return "undefined (its gradient at the last step is zero)"
    if value <= 0:
        return "zero: smaller than the computer can hold"
    connective = "of" if value < 0.995 else "times"  # 0.999 reads "1.0 times", not "1.0 of"
    return f"{ratio_text(value)} {connective} its size at {at_last}"


def _escaped(text: str) -> str:
    """`text` safe in a figure: Plotly draws a few HTML tags, so <, > and & are escaped. Quotes are not:
    Plotly would show &quot; as it is, and a quote cannot open a tag."""
    return html.escape(text, quote=False)


def _relative(profile: GradientProfile, measure: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return profile.relative_by_distance(measure)


def _log_ticks(low: float, high: float) -> dict:
    """A log axis from 10^low to 10^high with one labelled tick per decade, or per few decades."""
    span = high - low
    step = 1 if span <= 12 else 2 if span <= 20 else 5 if span <= 40 else 10
    return {"type": "log", "range": [low, high], "dtick": step, "exponentformat": "power", "showexponent": "all"}


def _tick_labels(labels: Sequence[str], max_ticks: int = 80) -> dict:
    """Words on the x axis: every word for a short text, every k-th for a long one (all of them on hover)."""
    every = max(1, math.ceil(len(labels) / max_ticks))
    positions = list(range(0, len(labels), every))
    return {"tickmode": "array", "tickvals": positions, "ticktext": [_escaped(labels[t]) for t in positions],
            "tickangle": -60 if len(labels) > 12 else 0}  # fmt: skip


def uses_log_scale(comparison: GradientComparison, measure: str = "input") -> bool:
    """True when the curves span more than two powers of ten: a linear axis would flatten all but one."""
    values = np.concatenate([_relative(profile, measure) for profile in comparison.profiles.values()])
    values = values[np.isfinite(values) & (values > 0)]
    return bool(len(values)) and float(values.max()) / float(values.min()) > LOG_SCALE_SPAN


def gradient_chart(
    comparison: GradientComparison, measure: str = "input", marks: ForgetMarks | None = None, marks_label: str = "",
    height: int | None = None,
) -> go.Figure:  # fmt: skip
    """One line per cell: the gradient's size at each word (step) it read, relative to its size at the
    last one, with the words in reading order on the x axis. RNN and LSTM in two colours, untrained
    dashed, trained solid; a grey line at 1 (the size at the last word). A log axis (said in its title)
    when the curves span more than two powers of ten, else a linear one from 0; on a log axis, values
    below `FLOOR` are drawn on a dotted line there.

    With `marks` (an LSTM's forget gate, `marks_label` naming whose), a second panel below draws that
    forget gate on 0..1 with its threshold, and every step where it is below the threshold is shaded
    in both panels.

    Arrays go out as float32: y the clipped ratio, customdata its exact log10 (shown on hover).
    """
    noun = step_noun(comparison)
    length = comparison.length
    labels = [_escaped(label) for label in comparison.step_labels]
    back = np.arange(length - 1, -1, -1, dtype=np.float32)  # how far each word is from the last one
    log_scale = uses_log_scale(comparison, measure)
    data = []
    lowest, highest, clipped = 0.0, 0.0, False
    for key, profile in comparison.profiles.items():
        kind, trained = key
        relative = _relative(profile, measure)[::-1]  # reading order
        finite = np.isfinite(relative) & (relative > 0)
        exponent = np.where(finite, np.log10(np.where(finite, relative, 1.0)), np.nan)
        shown = np.where(finite, np.maximum(relative, FLOOR) if log_scale else relative, np.nan)
        if finite.any():
            lowest = min(lowest, float(np.nanmin(exponent)))
            highest = max(highest, float(np.nanmax(exponent)))
        clipped |= log_scale and bool((relative[finite] < FLOOR).any())
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers" if length <= 30 else "lines",
                "name": curve_name(key),
                "x": np.arange(length, dtype=np.float32),
                "y": shown.astype(np.float32),
                "customdata": np.stack([exponent, back], axis=1).astype(np.float32),
                "text": labels,
                "line": {"color": CELL_COLORS[kind], "width": 3 if trained else 2.2, "dash": "solid" if trained else "dash"},
                "marker": {"size": 5},
                "hovertemplate": (
                    f"<b>{curve_name(key)}</b><br>“%{{text}}”, %{{customdata[1]}} {noun}s before the last<br>"
                    f"10<sup>%{{customdata[0]:.1f}}</sup> × its size at the last {noun}<extra></extra>"
                ),
            }
        )  # fmt: skip
    last = _escaped(comparison.step_labels[-1]) if length else ""
    shapes = [_horizontal(1.0, "#888888", "dot", 1.5)]  # the size at the last word
    # Left, above the line: every curve ends at 1 on the right, and is below it far back on the left.
    annotations = [_label_at(1.0, f"1 = its size at the last {noun}, “{last}”", log_scale, "bottom", end="left")]
    if log_scale:
        low, high = max(lowest, math.log10(FLOOR)) - 0.5, highest + 0.5
        y_axis = {**_log_ticks(low, high), "title": {"text": f"{_AXIS_TITLES[measure]} (log scale)"}}
    else:
        top = max(1.0, 10**highest) * 1.1
        y_axis = {"type": "linear", "range": [0, top], "zeroline": True, "zerolinecolor": "#444444",
                  "zerolinewidth": 1.5, "title": {"text": _AXIS_TITLES[measure]}}  # fmt: skip
    if clipped:
        shapes.append(_horizontal(FLOOR, "#444444", "dot", 1.5))
        annotations.append(_label_at(FLOOR, "10⁻³⁰ or smaller: drawn on this line", log_scale, "top"))
    target = _escaped(comparison.target)
    x_title = f"the {noun}s the cells read, in order (the loss is at the next {noun}, “{target}”)"
    if comparison.source == "longlag":
        x_title = f"the {noun}s of the sequence, in order (the loss asks for the first symbol, “{target}”)"
    x_axis = {"range": [-0.5, max(length - 1, 1) + 0.5], "zeroline": False, **_tick_labels(comparison.step_labels)}
    layout = {
        "height": height or (560 if marks is not None else 440),
        "margin": {"l": 95, "r": 20, "t": 40, "b": 90},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        "hovermode": "closest",
        "template": _EMPTY_TEMPLATE,
    }
    if marks is None:
        layout |= {"xaxis": {**x_axis, "title": {"text": x_title}}, "yaxis": y_axis}
    else:
        data += _marks_traces(marks, marks_label, labels)
        shapes += _marks_shapes(marks)
        annotations.append(_label_at(marks.threshold, f"closes below {marks.threshold:g}", False, "bottom", "y2"))
        layout |= {
            "xaxis": {**x_axis, "matches": "x2", "showticklabels": False},
            "yaxis": {**y_axis, "domain": [0.34, 1.0]},
            "xaxis2": {**x_axis, "anchor": "y2", "title": {"text": x_title}},
            "yaxis2": {"domain": [0.0, 0.25], "range": [0, 1.05], "tickvals": [0, 0.5, 1],
                       "title": {"text": "forget gate f"}, "zeroline": True, "zerolinecolor": "#444444"},
        }  # fmt: skip
        shapes.append(_horizontal(marks.threshold, "#444444", "dot", 1.2, "y2"))
    layout |= {"shapes": shapes, "annotations": annotations}
    return plotly_figure({"data": data, "layout": layout})


def _marks_traces(marks: ForgetMarks, label: str, labels: list[str]) -> list[dict]:
    """The marked forget gate in the lower panel, and a legend entry for the shading."""
    return [
        {"type": "scatter", "mode": "lines+markers" if len(labels) <= 60 else "lines", "name": _escaped(label),
         "x": np.arange(len(labels), dtype=np.float32), "y": np.asarray(marks.values, dtype=np.float32),
         "text": labels, "xaxis": "x2", "yaxis": "y2", "line": {"color": CELL_COLORS["lstm"], "width": 2},
         "marker": {"size": 4}, "hovertemplate": "“%{text}”: forget gate %{y:.2f}<extra></extra>"},
        {"type": "scatter", "mode": "markers", "name": f"shaded: forget gate below {marks.threshold:g}",
         "x": [None], "y": [None], "xaxis": "x2", "yaxis": "y2",
         "marker": {"symbol": "square", "size": 14, "color": MARK_SHADE},
         "hoverinfo": "skip"},
    ]  # fmt: skip


def _marks_shapes(marks: ForgetMarks) -> list[dict]:
    return [
        {"type": "rect", "xref": "x", "x0": float(t) - 0.5, "x1": float(t) + 0.5, "yref": "paper", "y0": 0, "y1": 1,
         "fillcolor": MARK_SHADE, "line": {"width": 0}, "layer": "below"}
        for t in marks.steps
    ]  # fmt: skip


def _horizontal(y: float, color: str, dash: str, width: float, axis: str = "y") -> dict:
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": axis, "y0": y, "y1": y,
            "line": {"color": color, "dash": dash, "width": width}, "layer": "below"}  # fmt: skip


def _label_at(y: float, text: str, log_scale: bool, side: str, axis: str = "y", end: str = "right") -> dict:
    """A label at one `end` ("left" or "right") of a horizontal line, above it (`side` "bottom": the
    label's bottom edge on the line) or below it ("top")."""
    return {"xref": "paper", "x": 0.99 if end == "right" else 0.01, "xanchor": end, "yref": axis,
            "y": math.log10(y) if log_scale else y, "yanchor": side, "text": text, "showarrow": False,
            "font": {"size": 11, "color": "#555555"}}  # fmt: skip


def forget_gate_chart(comparison: GradientComparison, height_per_panel: int = 170) -> go.Figure:
    """The forget gate of every unit of each LSTM in the comparison, one heatmap per LSTM (untrained
    above trained), x the words in reading order as on `gradient_chart`, units sorted with the most
    open (highest mean f) on top, on the app's 0..1 gate colour scale."""
    lstms = [(key, profile) for key, profile in comparison.profiles.items() if profile.forget_gates is not None]
    if not lstms:
        raise ValueError("the comparison has no LSTM, so there are no forget gates to draw")
    noun = step_noun(comparison)
    labels = [_escaped(label) for label in comparison.step_labels]
    rows = len(lstms)
    gap = 0.12 if rows > 1 else 0.0
    band = (1.0 - gap * (rows - 1)) / rows
    data, annotations, layout = [], [], {}
    for row, (key, profile) in enumerate(lstms):
        forget = np.asarray(profile.forget_gates, dtype=np.float32)  # (T, H)
        order = np.argsort(-forget.mean(axis=0), kind="stable")
        axis = "" if row == 0 else str(row + 1)
        top = 1.0 - row * (band + gap)
        data.append(
            {
                "type": "heatmap",
                "z": forget[:, order].T,  # (H, T): units (most open first) by word, in reading order
                "x": np.arange(comparison.length, dtype=np.float32),
                "y": [f"unit {unit}" for unit in order],
                "text": [labels] * len(order),
                **gate_scale(),
                "showscale": row == 0,
                "colorbar": {**gate_scale()["colorbar"], "title": {"text": "f"}, "len": 0.9, "thickness": 14},
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
                "hovertemplate": (
                    f"<b>{curve_name(key)}</b>, %{{y}}<br>“%{{text}}”<br>forget gate f = %{{z:.3f}}<extra></extra>"
                ),
            }
        )
        layout[f"xaxis{axis}"] = {"anchor": f"y{axis}", "range": [-0.5, max(comparison.length - 1, 1) + 0.5],
                                  "showticklabels": row == rows - 1, "zeroline": False,
                                  **_tick_labels(comparison.step_labels)}  # fmt: skip
        layout[f"yaxis{axis}"] = {"domain": [max(top - band, 0.0), top], "autorange": "reversed", "showticklabels": False,
                                  "title": {"text": "units"}}  # fmt: skip
        mean = float(forget.mean())
        annotations.append(
            {"xref": "paper", "yref": "paper", "x": 0, "y": top, "yanchor": "bottom", "xanchor": "left",
             "showarrow": False, "text": f"<b>{curve_name(key)}</b>: forget gate of each unit, most open on top "
             f"(mean f = {mean:.2f})", "font": {"size": 13}}
        )  # fmt: skip
    last_axis = "" if rows == 1 else str(rows)
    layout[f"xaxis{last_axis}"]["title"] = {"text": f"the {noun}s, in order"}
    layout |= {
        "height": height_per_panel * rows + 110,
        "margin": {"l": 70, "r": 20, "t": 30, "b": 90},
        "annotations": annotations,
        "template": _EMPTY_TEMPLATE,
    }
    return plotly_figure({"data": data, "layout": layout})


def _main_pair(comparison: GradientComparison) -> list[tuple[str, bool]]:
    """The RNN and the LSTM a sentence puts side by side: the trained one of each kind when there is one."""
    keys = list(comparison.profiles)
    pair = []
    for kind in ("rnn", "lstm"):
        mine = [key for key in keys if key[0] == kind]
        if mine:
            pair.append((kind, True) if (kind, True) in mine else mine[0])
    return pair


def _comparison_at(comparison: GradientComparison, measure: str, distance: int, lead: str) -> str:
    """'{lead}, the gradient is 10⁻⁸ of its size at the last step in the trained RNN, but 0.05 in the
    trained LSTM.' and the other cells' ratios in brackets."""
    at_last = f"the last {step_noun(comparison)}"
    values = {key: float(_relative(profile, measure)[distance]) for key, profile in comparison.profiles.items()}
    main = _main_pair(comparison)
    first = main[0]
    sentence = f"{lead}, the gradient is {size_phrase(values[first], at_last)} in {_cell_phrase(first)}"
    if len(main) > 1:
        second = main[1]
        value = values[second]
        clearly_larger = value > 3 * values[first] or not math.isfinite(values[first])
        joint = "but" if clearly_larger else "and"
        amount = ratio_text(value) + (" times that size" if math.isfinite(value) and value >= 0.995 else "")
        sentence += f", {joint} {amount} in {_cell_phrase(second)}"
    sentence += "."
    others = [key for key in comparison.profiles if key not in main]
    if others:
        sentence += " (" + "; ".join(f"{curve_name(key)}: {ratio_text(values[key])}" for key in others) + ".)"
    return sentence


def _cell_phrase(key: tuple[str, bool]) -> str:
    kind, trained = key
    return f"the {'trained' if trained else 'untrained'} {CELL_NAMES[kind]}"


def summary_sentences(comparison: GradientComparison, measure: str = "input", near: int = 30) -> list[str]:
    """What the chart says, in numbers: the size of each cell's gradient `near` steps back and at the
    first step, relative to the last step, and the factor per step back further back in time."""
    noun = step_noun(comparison)
    far = comparison.length - 1
    if far < 1:
        return [f"There is only one {noun} before the loss, so there is no way back in time to look along."]
    sentences = []
    distance = min(near, far)
    if distance < far:
        sentences.append(_comparison_at(comparison, measure, distance, f"After {distance} {noun}s back"))
    first = comparison.step_labels[0]
    sentences.append(_comparison_at(comparison, measure, far, f"At the first {noun}, “{first}”, {far} {noun}s back"))
    start = min(10, far // 2)
    factors = ", ".join(
        f"{_factor_per_step(_relative(profile, measure), start, far)} ({curve_name(key)})"
        for key, profile in comparison.profiles.items()
    )
    where = f"From {start} {noun}s back to the first {noun}" if start else f"From the last {noun} to the first"
    sentences.append(
        f"{where}, each {noun} back multiplies the gradient by {factors}: below 1 it keeps shrinking, "
        "near 1 it is carried back whole."
    )
    return sentences


def _factor_per_step(relative: np.ndarray, start: int, stop: int) -> str:
    """The geometric mean factor per step between distances `start` and `stop`, as text. Measured
    away from the last few steps, where a trained LSTM's curve first drops (see the page's text)."""
    low, high = float(relative[start]), float(relative[stop])
    if not (low > 0 and high > 0 and math.isfinite(low) and math.isfinite(high)):
        return "0" if math.isfinite(low) and low > 0 else "undefined"
    return f"{math.exp((math.log(high) - math.log(low)) / (stop - start)):.2f}"


def forget_sentences(comparison: GradientComparison) -> list[str]:
    """Each LSTM's forget gate in numbers: its mean, and for its most open unit the product of that
    unit's forget gates along the sequence, the factor by which the cell state itself carries the
    gradient back to the first step (dc_T-1 / dc_0 along the cell path)."""
    noun = step_noun(comparison)
    steps = comparison.length - 1
    sentences = []
    for key, profile in comparison.profiles.items():
        if profile.forget_gates is None:
            continue
        forget = np.asarray(profile.forget_gates, dtype=np.float64)
        sentence = f"{curve_name(key)}: mean forget gate {forget.mean():.2f}."
        if steps >= 1:
            kept = forget[1:].prod(axis=0)  # c_s = f_s ⊙ c_s-1 + ...: f_1 … f_T-1 carry c_0 to c_T-1
            unit = int(np.argmax(kept))
            sentence += (
                f" Along the cell state of its most open unit ({unit}, mean f = {forget[1:, unit].mean():.3f}) the "
                f"forget gates of the {steps} {noun}s multiply to {ratio_text(float(kept[unit]))}: that much of the "
                f"gradient this path carries back to the first {noun}."
            )
        sentences.append(sentence)
    return sentences


def cells_to_show(comparison: GradientComparison, with_untrained: bool = False) -> GradientComparison:
    """The trained RNN and LSTM alone, the fair pair, unless `with_untrained` or one of them is missing
    (then every cell, so that each kind is still drawn)."""
    trained = comparison.trained_cells()
    if with_untrained or {kind for kind, _ in trained} != set(CELL_NAMES):
        return comparison
    return comparison.with_cells(trained)


def marked_lstm(comparison: GradientComparison) -> tuple[str, bool]:
    """The LSTM whose forget gate the chart marks: the trained one when there is one."""
    lstms = [key for key, profile in comparison.profiles.items() if profile.forget_gates is not None]
    if not lstms:
        raise ValueError("the comparison has no LSTM, so there is no forget gate to mark")
    return ("lstm", True) if ("lstm", True) in lstms else lstms[0]


def marks_names(units: Sequence[int]) -> tuple[str, str]:
    """(a label, the gate as a sentence names it) of the marked forget gate: one unit's, or the mean of
    several or (none given) all units.

    >>> marks_names([41])
    ('unit 41', "unit 41's forget gate")
    >>> marks_names([2, 14]), marks_names([])
    (('the mean of units 2, 14', 'the mean forget gate of units 2, 14'), ('the mean of all units', 'the mean forget gate of all units'))
    """
    if len(units) == 1:
        return f"unit {units[0]}", f"unit {units[0]}'s forget gate"
    which = f"units {', '.join(str(unit) for unit in units)}" if units else "all units"
    return f"the mean of {which}", f"the mean forget gate of {which}"


def task_scores(trained: Mapping[str, TaskModel]) -> dict[str, float]:
    """Kind -> the held-out accuracy each trained long-lag model's record gives, RNN first."""
    return {kind: float(trained[kind].metrics["validation_score"]) for kind in ("rnn", "lstm")
            if kind in trained and isinstance(trained[kind].metrics.get("validation_score"), int | float)}  # fmt: skip


def text_models_note(lstm_size: int, rnn: TextRNN | None, seed: int) -> str:
    """Which cells are trained on what, for text."""
    untrained = (f"The untrained LSTM and RNN (drawn when asked) have the LSTM's sizes and fresh random weights "
                 f"(PyTorch's default initialisation, seed {seed}), and read the story-world word model's embeddings.")  # fmt: skip
    lstm = f"The trained LSTM is the story-world word model's own ({lstm_size} units), trained on the story world."
    if rnn is None:
        return f"{lstm} No RNN trained on the stories is installed. {untrained}"
    config = rnn.metrics.get("config", {})
    steps = f" for the same {config['steps']:,} steps of {config['batch_size']} stories" if config.get("steps") else ""
    return (f"{lstm} The trained RNN is a plain tanh RNN of {rnn.cell.hidden_size} units trained on the same "
            f"stories{steps}, with its own embedding and decoder: only the cell differs. {untrained}")  # fmt: skip


def chart_caption(comparison: GradientComparison, measure: str = "input") -> str:
    """What the gradient chart shows, in plain words, for the caption under it."""
    noun = step_noun(comparison)
    loss = (f"the model's surprise at “{comparison.target}”" if comparison.source == "text"
            else f"how wrong the cell's answer (“{comparison.target}”) is")  # fmt: skip
    scale = (
        "The axis is logarithmic: each labelled line is ten times (or a hundred, ...) more or less than the next."
        if uses_log_scale(comparison, measure)
        else "The axis starts at 0 (solid line)."
    )
    return (
        f"The loss is {loss}. Each line is one cell; its height at a {noun} is how strongly the loss can still "
        f"change what the cell does with that {noun}: the size of the gradient there, as a share of its size at the "
        f"last {noun} (the dotted line at 1). {scale} A line that falls far means training gets almost no signal "
        f"from the loss about those {noun}s, so the cell cannot learn to remember them."
    )


def marks_sentences(comparison: GradientComparison, marks: ForgetMarks, gate: str) -> list[str]:
    """Where the marked forget gate closes, with its numbers, and one sentence on what that does to the
    gradient. `gate` names the gate as a sentence would ("unit 41's forget gate", see `marks_names`)."""
    noun = step_noun(comparison)
    steps = marks.steps
    if not len(steps):
        lowest = int(np.argmin(marks.values))
        return [
            f"{gate[0].upper()}{gate[1:]} never drops below {marks.threshold:g} here (lowest "
            f"{marks.values[lowest]:.2f}, at “{comparison.step_labels[lowest]}”), so nothing is shaded: along that "
            f"cell state the gradient is carried back through every {noun}, multiplied by {marks.values[lowest]:.2f} "
            "or more at each."
        ]
    # Cut, not rounded, to two decimals: 0.4996 reads 0.49, below the threshold it is under.
    named = ", ".join(
        f"“{comparison.step_labels[t]}” ({math.floor(marks.values[t] * 100) / 100:.2f})" for t in steps[:6]
    )
    more = f" and {len(steps) - 6} more" if len(steps) > 6 else ""
    kept = ratio_text(marks.kept_along_cell(0))
    return [
        f"Shaded: the {len(steps)} {noun}{'s' if len(steps) != 1 else ''} where {gate} is below "
        f"{marks.threshold:g}: {named}{more}.",
        f"At a shaded {noun} the cell keeps less than half of what it held, so the gradient travelling back along "
        f"that cell state is multiplied by that same small number there: from the last {noun} back to the first "
        f"it keeps {kept} of its size along this path, and whatever reaches further back goes through the hidden "
        "state and the gates instead.",
    ]


def reach_sentences(
    comparison: GradientComparison, measure: str = "input",
    accuracies: Mapping[tuple[str, bool], Sequence[Mapping]] | None = None, cue_distances: Mapping | None = None,
) -> list[str]:  # fmt: skip
    """What the trained pair's curves and scores say together, from their numbers.

    Text: the gradient at the last name before the loss (where the subject, and so the pronoun's gender,
    was set) in the trained RNN and LSTM, and, with `accuracies` (`gap_accuracy` rows) and
    `cue_distances` (`gradient_runs.training_cue_distances`), whether the RNN still gets the pronoun right
    after the longest gap, and why. Long-lag, measure "input": a trained
    LSTM whose gradient is larger at the first symbol than on the distractors before it has learned to
    let the one in and shut the others out.
    """
    if not {("rnn", True), ("lstm", True)} <= set(comparison.profiles) or comparison.length < 2:
        return []
    noun = step_noun(comparison)
    relative = {kind: _relative(comparison.profiles[(kind, True)], measure) for kind in CELL_NAMES}
    sentences = []
    if comparison.source == "text":
        names = [t for t, label in enumerate(comparison.step_labels) if label in corpus.NAMES]
        if not names:
            return []
        back = comparison.length - 1 - names[-1]
        rnn, lstm = float(relative["rnn"][back]), float(relative["lstm"][back])
        times = lstm / rnn if rnn > 0 and math.isfinite(rnn) else math.inf
        share = f"{ratio_text(times)} times" if times >= 1.5 else "about as much"
        sentences.append(
            f"At “{comparison.step_labels[names[-1]]}”, the last name, {back} {noun}s back: the gradient is "
            f"{ratio_text(rnn)} of its size at the last {noun} in the trained RNN and {ratio_text(lstm)} in the "
            f"trained LSTM ({share} more reaches the name in the LSTM)."
        )
        rows = (accuracies or {}).get(("rnn", True))
        if rows and times >= 1.5:
            longest = rows[-1]
            if longest["accuracy"] >= 0.8 and cue_distances:
                sentences.append(
                    f"Yet the trained RNN still says the right pronoun {longest['accuracy']:.0%} of the time after "
                    f"about {longest['gap']:.0f} words. In stories like those it was trained on, a he or she comes at "
                    f"most {cue_distances['longest']} words after the last word that gave the gender (a name, he, she, "
                    f"his, her, him; median {cue_distances['median']}, over {cue_distances['pronouns']:,} pronouns): "
                    "close enough for its gradient to arrive. It learned to hold the gender there, and the hold "
                    "lasts. The long-lag sequence has no such short cases, and there the RNN learns nothing: choose "
                    "it above."
                )
            elif longest["accuracy"] < 0.8:
                sentences.append(
                    f"And the trained RNN loses the gender as the gap grows: {longest['accuracy']:.0%} right after "
                    f"about {longest['gap']:.0f} words."
                )
    elif measure == "input":
        far, middle = comparison.length - 1, min(30, (comparison.length - 1) // 2)
        lstm_far, lstm_middle = float(relative["lstm"][far]), float(relative["lstm"][middle])
        if middle and lstm_far > 3 * lstm_middle:
            sentences.append(
                f"The trained LSTM's gradient is larger at the first {noun} ({ratio_text(lstm_far)}) than {middle} "
                f"{noun}s back ({ratio_text(lstm_middle)}): it learned to shut the distractors out and to let the "
                "first symbol in, the one it must remember."
            )
    return sentences


def gap_accuracy_chart(rows_by_cell: Mapping[tuple[str, bool], Sequence[Mapping]], height: int = 300) -> go.Figure:
    """How often each cell says the right pronoun after a gap: x the words from the name to the pronoun
    (mean over the prompts), y the share right (0..1, chance 0.5 as a dotted line), the value written at
    each point. `rows_by_cell`: cell key -> rows of `gap_accuracy` ({"gap", "accuracy", "count", ...})."""
    data = []
    for key, rows in rows_by_cell.items():
        kind, trained = key
        gaps = np.array([row["gap"] for row in rows], dtype=np.float32)
        accuracy = np.array([row["accuracy"] for row in rows], dtype=np.float32)
        data.append(
            {"type": "scatter", "mode": "lines+markers+text", "name": curve_name(key), "x": gaps, "y": accuracy,
             # The RNN's values under its points, the LSTM's over them: the two lines often nearly meet.
             "text": [f"{value:.0%}" for value in accuracy],
             "textposition": "bottom center" if kind == "rnn" else "top center",
             "line": {"color": CELL_COLORS[kind], "width": 3 if trained else 2, "dash": "solid" if trained else "dash"},
             "marker": {"size": 7}, "cliponaxis": False,
             "hovertemplate": f"<b>{curve_name(key)}</b><br>%{{x:.0f}} words from the name: %{{y:.0%}} right<extra></extra>"}
        )  # fmt: skip
    layout = {
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 40, "b": 50},
        "xaxis": {"title": {"text": "words from the subject's name to the pronoun"}, "rangemode": "tozero",
                  "zeroline": False},
        "yaxis": {"title": {"text": "pronoun right (share of prompts)"}, "range": [0, 1.12], "tickformat": ".0%",
                  "tickvals": [0, 0.25, 0.5, 0.75, 1], "zeroline": True, "zerolinecolor": "#444444"},
        "shapes": [_horizontal(0.5, "#888888", "dot", 1.5)],
        "annotations": [_label_at(0.5, "chance: 50%", False, "bottom")],
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        "template": _EMPTY_TEMPLATE,
    }  # fmt: skip
    return plotly_figure({"data": data, "layout": layout})


def gap_accuracy_sentence(rows_by_cell: Mapping[tuple[str, bool], Sequence[Mapping]]) -> str:
    """The accuracy chart's two ends in words: the shortest and the longest gap, for every cell."""
    parts = []
    for key, rows in rows_by_cell.items():
        first, last = rows[0], rows[-1]
        parts.append(f"{curve_name(key)} {first['accuracy']:.0%} after about {first['gap']:.0f} words, "
                     f"{last['accuracy']:.0%} after about {last['gap']:.0f}")  # fmt: skip
    count = next(iter(rows_by_cell.values()))[0]["count"]
    return f"Right pronoun, out of {count} held-out prompts per gap (chance is 50%): " + "; ".join(parts) + "."


def sequence_preview(labels: Sequence[str], head: int = 8, tail: int = 3) -> str:
    """'D y y x x z w y … x z w' for a long sequence: the first `head` and last `tail` labels."""
    if len(labels) <= head + tail + 1:
        return " ".join(labels)
    return " ".join(labels[:head]) + f" … ({len(labels) - head - tail} more) … " + " ".join(labels[-tail:])


def probability_sentence(comparison: GradientComparison) -> str | None:
    """How sure each cell is of the right answer: the other half of the story the gradients tell."""
    if not comparison.target_probabilities:
        return None
    if comparison.source == "text":
        what = f"to the last word, “{comparison.target}”, after the words before it"
    else:
        what = f"to the right answer, “{comparison.target}”"
    parts = ", ".join(
        f"{curve_name(key)} {_percent(probability)}" for key, probability in comparison.target_probabilities.items()
    )
    return f"The probability each cell gives {what}: {parts}."


def _percent(probability: float) -> str:
    if probability < 0.01:
        return "under 1%" if probability > 0 else "0%"
    if probability > 0.99 and probability < 1:
        return "over 99%"
    return f"{probability:.0%}"


def task_models_note(trained: Mapping[str, TaskModel], seed: int) -> str:
    """Which cells are trained on what, for the long-lag sequence, from the shipped models' own record."""
    untrained = (
        f"The untrained cells have the same sizes and fresh random weights (PyTorch's default initialisation, "
        f"seed {seed})."
    )
    if not trained:
        return "No trained long-lag cells are installed, so both cells here are untrained. " + untrained
    names = " and ".join(CELL_NAMES[kind] for kind in ("rnn", "lstm") if kind in trained)
    model = next(iter(trained.values()))
    config = model.metrics.get("config", {})
    scores = [
        f"{CELL_NAMES[kind]} {trained[kind].metrics['validation_score']:.0%}"
        for kind in ("rnn", "lstm")
        if kind in trained and isinstance(trained[kind].metrics.get("validation_score"), int | float)
    ]
    sentence = (
        f"The trained {names} ({model.cell.hidden_size} units) were trained on this task with a {model.lag}-step lag"
    )
    if config.get("noise"):
        sentence += f" and noise σ = {config['noise']:g}"
    if config.get("steps"):
        sentence += f" for {config['steps']} steps"
    if scores:
        sentence += f"; accuracy on held-out sequences: {', '.join(scores)}"
        if isinstance(model.metrics.get("chance"), int | float):
            sentence += f" (chance: {model.metrics['chance']:.0%})"
    return sentence + ". " + untrained
