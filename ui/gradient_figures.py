"""Figures and sentences for /gradients: how far back a late loss reaches in a plain RNN and an LSTM.

Pure functions of a `lstm_core.analysis.gradient_comparison.GradientComparison` (no Streamlit), tested without a server.
Curves are drawn relative to the last step, so cells whose losses differ in size (a confident trained
model has a tiny loss) compare on one axis. Step labels (words a user typed) are HTML-escaped in
figures, since Plotly renders a few HTML tags; the sentences are plain text for `explain.as_markdown`.

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
from lstm_core.analysis.gradients import GradientProfile
from ui.figures import GATE_COLORSCALE, plotly_figure

if TYPE_CHECKING:
    from lstm_core.models.task_model import TaskModel

__all__ = [
    "CELL_COLORS", "MEASURE_LABELS", "FLOOR", "curve_name", "ratio_text", "size_phrase", "step_noun",
    "gradient_chart", "forget_gate_chart", "summary_sentences", "forget_sentences", "probability_sentence",
    "sequence_preview", "task_models_note",
]  # fmt: skip

# Okabe and Ito's palette, safe for every common colour-vision deficiency: one colour per cell kind;
# untrained dashed, trained solid, so the pair reads in greyscale too.
CELL_COLORS = {"rnn": "#D55E00", "lstm": "#0072B2"}
CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM"}
MEASURE_LABELS = {
    "input": "the input x",
    "hidden": "the hidden state h",
    "cell": "the memory: cell state c (LSTM), hidden state h (RNN)",
}
_AXIS_TITLES = {
    "input": "‖∂L/∂x<sub>t</sub>‖ ÷ its value at the last step",
    "hidden": "‖∂L/∂h<sub>t</sub>‖ ÷ its value at the last step",
    "cell": "‖∂L/∂c<sub>t</sub>‖ (LSTM), ‖∂L/∂h<sub>t</sub>‖ (RNN) ÷ value at the last step",
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


def _relative(profile: GradientProfile, measure: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return profile.relative_by_distance(measure)


def _log_ticks(low: float, high: float) -> dict:
    """A log axis from 10^low to 10^high with one labelled tick per decade, or per few decades."""
    span = high - low
    step = 1 if span <= 12 else 2 if span <= 20 else 5 if span <= 40 else 10
    return {"type": "log", "range": [low, high], "dtick": step, "exponentformat": "power", "showexponent": "all"}


def gradient_chart(comparison: GradientComparison, measure: str = "input", height: int = 430) -> go.Figure:
    """One line per cell: the gradient's size at each distance back in time, relative to the last step,
    on a log axis. RNN and LSTM in two colours, untrained dashed, trained solid; a grey line at 1 (the
    size at the last step) and, when a curve falls below `FLOOR`, a dotted line where it is drawn.

    Arrays go out as float32: y the clipped ratio, customdata its exact log10 (shown on hover).
    """
    noun = step_noun(comparison)
    labels = [html.escape(label) for label in comparison.step_labels[::-1]]  # by distance back
    length = comparison.length
    data = []
    lowest, highest, clipped = 0.0, 0.0, False
    for key, profile in comparison.profiles.items():
        kind, trained = key
        relative = _relative(profile, measure)
        finite = np.isfinite(relative) & (relative > 0)
        exponent = np.where(finite, np.log10(np.where(finite, relative, 1.0)), np.nan)
        shown = np.where(finite, np.maximum(relative, FLOOR), np.nan)
        if finite.any():
            lowest = min(lowest, float(np.nanmin(exponent)))
            highest = max(highest, float(np.nanmax(exponent)))
        clipped |= bool((relative[finite] < FLOOR).any())
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers" if length <= 30 else "lines",
                "name": curve_name(key),
                "x": np.arange(length, dtype=np.float32),
                "y": shown.astype(np.float32),
                "customdata": exponent.astype(np.float32),
                "text": labels,
                "line": {"color": CELL_COLORS[kind], "width": 3 if trained else 2.2, "dash": "solid" if trained else "dash"},
                "marker": {"size": 5},
                "hovertemplate": (
                    f"<b>{curve_name(key)}</b><br>%{{x}} {noun}s back: “%{{text}}”<br>"
                    "10<sup>%{customdata:.1f}</sup> × its size at the last step<extra></extra>"
                ),
            }
        )  # fmt: skip
    low = max(lowest, math.log10(FLOOR)) - 0.5
    high = highest + 0.5
    shapes = [_horizontal(1.0, "#888888", "dot", 1)]  # the size at the last step
    annotations = []
    if clipped:
        shapes.append(_horizontal(FLOOR, "#444444", "dot", 1.5))
        annotations.append(_label_at(FLOOR, "10⁻³⁰ or smaller: drawn on this line"))
    first = html.escape(comparison.step_labels[0]) if length else ""
    x_title = f"{noun}s back in time from the last {noun} ({length - 1} = the first {noun}, “{first}”)"
    layout = {
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 40, "b": 60},
        "xaxis": {"title": {"text": x_title}, "range": [-0.5, max(length - 1, 1) + 0.5], "zeroline": False},
        "yaxis": {"title": {"text": _AXIS_TITLES[measure]}, **_log_ticks(low, high)},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        "shapes": shapes,
        "annotations": annotations,
        "hovermode": "closest",
        "template": _EMPTY_TEMPLATE,
    }
    return plotly_figure({"data": data, "layout": layout})


def _horizontal(y: float, color: str, dash: str, width: float) -> dict:
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
            "line": {"color": color, "dash": dash, "width": width}, "layer": "below"}  # fmt: skip


def _label_at(y: float, text: str) -> dict:
    # At the left end: every curve starts at 1 there, far from the floor, so the label never covers one.
    return {"xref": "paper", "x": 0.01, "xanchor": "left", "yref": "y", "y": math.log10(y), "yanchor": "bottom",
            "text": text, "showarrow": False, "font": {"size": 11, "color": "#666666"}}  # fmt: skip


def forget_gate_chart(comparison: GradientComparison, height_per_panel: int = 170) -> go.Figure:
    """The forget gate of every unit of each LSTM in the comparison, one heatmap per LSTM (untrained
    above trained), x the distance back in time as on `gradient_chart`, units sorted with the most
    open (highest mean f) on top, on the app's 0..1 gate colour scale."""
    lstms = [(key, profile) for key, profile in comparison.profiles.items() if profile.forget_gates is not None]
    if not lstms:
        raise ValueError("the comparison has no LSTM, so there are no forget gates to draw")
    noun = step_noun(comparison)
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
                "z": forget[::-1, order].T,  # (H, T): units (most open first) by distance back
                "x": np.arange(comparison.length, dtype=np.float32),
                "y": [f"unit {unit}" for unit in order],
                "colorscale": GATE_COLORSCALE,
                "zmin": 0.0,
                "zmax": 1.0,
                "showscale": row == 0,
                "colorbar": {"title": {"text": "f"}, "len": 0.9, "thickness": 14},
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
                "hovertemplate": (
                    f"<b>{curve_name(key)}</b>, %{{y}}<br>%{{x}} {noun}s back<br>"
                    "forget gate f = %{z:.3f}<extra></extra>"
                ),
            }
        )
        layout[f"xaxis{axis}"] = {"anchor": f"y{axis}", "range": [-0.5, max(comparison.length - 1, 1) + 0.5],
                                  "showticklabels": row == rows - 1, "zeroline": False}  # fmt: skip
        layout[f"yaxis{axis}"] = {"domain": [max(top - band, 0.0), top], "autorange": "reversed", "showticklabels": False,
                                  "title": {"text": "units"}}  # fmt: skip
        mean = float(forget.mean())
        annotations.append(
            {"xref": "paper", "yref": "paper", "x": 0, "y": top, "yanchor": "bottom", "xanchor": "left",
             "showarrow": False, "text": f"<b>{curve_name(key)}</b>: forget gate of each unit, most open on top "
             f"(mean f = {mean:.2f})", "font": {"size": 13}}
        )  # fmt: skip
    last_axis = "" if rows == 1 else str(rows)
    layout[f"xaxis{last_axis}"]["title"] = {"text": f"{noun}s back in time from the last {noun}"}
    layout |= {
        "height": height_per_panel * rows + 90,
        "margin": {"l": 70, "r": 20, "t": 30, "b": 55},
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
