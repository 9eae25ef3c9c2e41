"""Figures and sentences for /corpus (an LSTMVis-style explorer) and /saturation.

Pure functions (no Streamlit), tested without a server. Tokens a user typed reach Plotly only
HTML-escaped (Plotly renders a few tags in labels); sentences are plain text for `explain.as_markdown`.

>>> pasted_texts("Bob is nice.\\n\\n  Mary is kind.  ").texts
('Bob is nice.', 'Mary is kind.')
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from lstm_core.analysis.explore import Match, SelectedUnit
from lstm_core.analysis.units import GateSaturation
from lstm_core.data import corpus
from ui import palette
from ui.figures import frame, plotly_figure, signed_limit, signed_scale, token_labels
from ui.typed_text import MAX_TEXT_CHARS, clean_text

__all__ = [
    "SOURCES", "SIGNAL_CHOICES", "SIGNAL_LABELS", "POLARITIES", "POLARITY_SIGNS", "STORY_LIMITS", "SEED_LIMITS",
    "MARGIN_LIMITS", "THRESHOLD_LIMITS", "MAX_PASTED_CHARS", "MAX_CORPUS_VALUES", "GATE_COLORS",
    "CorpusTexts", "story_texts", "pasted_texts", "token_budget", "texts_within_budget", "unit_label",
    "range_window", "reference_text_figure", "selection_figure", "match_window", "match_figure",
    "selection_sentences", "match_sentence", "saturation_figure", "saturation_sentences",
]  # fmt: skip

SOURCES = ("stories", "pasted")
SIGNAL_CHOICES = (
    "cell",
    "hidden",
)  # LSTMVis looks at the hidden state; the cell state shows the word model's units best
SIGNAL_LABELS = {"hidden": "hidden state h", "cell": "cell state c"}
POLARITIES = ("both", "positive", "negative")
POLARITY_SIGNS = {"both": (1, -1), "positive": (1,), "negative": (-1,)}
STORY_LIMITS = (5, 400, 100)  # lowest, highest, default: stories of the story world
SEED_LIMITS = (0, 9_999, 1)  # the shipped models trained on seeds 7 and 1234; any other seed is fresh stories
MARGIN_LIMITS = (0, 5, 1)
THRESHOLD_LIMITS = (0.0, 5.0, 0.5)
MAX_PASTED_CHARS = 20_000  # a pasted corpus; each line is one text, and /gates opens any of them
# States kept per corpus: N tokens x H units x layers x directions x 2 signals, at most this many
# float32 values (about 32 MB), so a few cached corpora fit in memory whatever the model's size.
MAX_CORPUS_VALUES = 8_000_000
# Each gate's colour in the line charts (`palette.LINE_COLORS`: no sign or gate-scale hue), with a
# marker shape per gate so the scatter also reads in greyscale.
GATE_COLORS = {gate: palette.LINE_COLORS[gate] for gate in ("forget", "input", "output")}
GATE_SYMBOLS = {"forget": "circle", "input": "square", "output": "diamond"}  # as their lines on /step and /playground
RANGE_COLOR = palette.HIGHLIGHT  # the selected range: a choice, not a value, so neither a sign nor a gate colour
MARGIN_COLOR = "#BBBBBB"


# ------------------------------------------------------------------------------ the texts
@dataclass(frozen=True)
class CorpusTexts:
    texts: tuple[str, ...]  # each read from a zero state; every one fits /gates's text box
    notices: tuple[str, ...]


def story_texts(count: int, seed: int) -> tuple[str, ...]:
    """`count` stories of the story world's held-out mix (longer, more details between facts)."""
    return tuple(story.text for story in corpus.generate_stories(count, seed, heldout=True))


def pasted_texts(raw: object, max_chars: int = MAX_PASTED_CHARS) -> CorpusTexts:
    """A pasted corpus as texts: one per non-empty line, each cleaned like any typed text.

    A line longer than /gates's text box (`typed_text.MAX_TEXT_CHARS`) is cut into pieces at spaces, so
    every match can open there; the whole corpus is cut at `max_chars`. Never raises.
    """
    text = "" if raw is None else str(raw)
    notices = []
    if len(text) > max_chars:
        notices.append(f"The pasted text has {len(text):,} characters; only the first {max_chars:,} are read.")
        text = text[:max_chars]
    texts, dropped = [], 0
    for line in text.splitlines():
        cleaned = clean_text(line, max_chars=max_chars)
        dropped += sum(notice.startswith(tuple("0123456789")) for notice in cleaned.notices)
        rest = cleaned.text
        while len(rest) > MAX_TEXT_CHARS:
            cut = rest.rfind(" ", 0, MAX_TEXT_CHARS + 1)
            cut = cut if cut > 0 else MAX_TEXT_CHARS
            texts.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
        if rest:
            texts.append(rest)
    if dropped:
        notices.append("Invisible control characters were removed from the pasted text.")
    return CorpusTexts(tuple(texts), tuple(notices))


def token_budget(hidden_size: int, num_layers: int, num_directions: int) -> int:
    """How many tokens of states a corpus may keep for a model of these sizes (`MAX_CORPUS_VALUES`)."""
    return max(1_000, MAX_CORPUS_VALUES // (2 * hidden_size * num_layers * num_directions))


def texts_within_budget(texts: Sequence[str], lengths: Sequence[int], budget: int) -> tuple[Sequence[str], str | None]:
    """The first texts whose token counts (`lengths`) add up to at most `budget`, never fewer than one,
    and a notice when some are left out.

    >>> texts_within_budget(["a b", "c d e", "f"], [2, 3, 1], 5)[0]
    ['a b', 'c d e']
    """
    kept, total = 0, 0
    while kept < len(texts) and total + lengths[kept] <= budget:
        total += lengths[kept]
        kept += 1
    if kept == len(texts):
        return texts, None
    notice = (f"The corpus has {sum(lengths):,} tokens; this page reads the first {max(kept, 1)} texts "
              f"(at most {budget:,} tokens for this model).")  # fmt: skip
    return texts[: max(kept, 1)], notice


# ------------------------------------------------------------------------------- helpers
def unit_label(unit: int, sign: int) -> str:
    """ "unit 41 ↑" for a unit on above the threshold, "unit 104 ↓" for one on below minus the threshold."""
    return f"unit {unit} {'↑' if sign > 0 else '↓'}"


def range_window(length: int, start: int, end: int, max_tokens: int) -> tuple[int, int]:
    """[first, stop) of at most `max_tokens` tokens showing the range start..end, centred on it.

    >>> range_window(1000, 500, 509, 100)
    (454, 554)
    """
    if length <= max_tokens:
        return 0, length
    middle = (start + end) // 2
    first = min(max(middle - max_tokens // 2, 0), length - max_tokens)
    return first, first + max_tokens


# --------------------------------------------------------------------------- the reference
_TEXT_FONT = "DejaVu Sans Mono, Liberation Mono, Courier New, monospace"
_CHAR_PIXELS = 0.602 * 15
_LINE_PIXELS = 44  # a token line and its index line


def reference_text_figure(
    tokens: Sequence[str],
    start: int,
    end: int,
    margin: int,
    *,
    first: int = 0,
    separator: str = " ",
    chars_per_line: int = 110,
    counts: np.ndarray | None = None,
) -> go.Figure:
    """The reference text with each token's index under it; the range filled light blue, its margin grey.

    Args:
        tokens: the tokens shown (a window of the text); first: the index of the first one.
        start, end: the selected range (inclusive, indices of the whole text); margin: tokens around it
            that must be off.
        separator: " " between word tokens, "" for characters.
        counts: (len(tokens),) optional: how many selected units are on at each token, in the hover.

    Indices are written under every token of a word model's text and under every fifth character of
    a character model's (and at the range's ends), so they stay readable.
    """
    shown = [{" ": "\u00a0", "\n": "⏎"}.get(token, token) or "\u00a0" for token in tokens]
    # Characters wrap before a word that would not fit, not inside it: each character "carries" the
    # width of the rest of its word.
    rest_of_word = [1] * len(tokens)
    if not separator:
        for index in range(len(tokens) - 2, -1, -1):
            if not tokens[index].isspace() and not tokens[index + 1].isspace():
                rest_of_word[index] = rest_of_word[index + 1] + 1
    column, line, boxes = 0, 0, []
    for index, token in enumerate(shown):
        width = max(len(token), 1)
        starts_word = index == 0 or separator or tokens[index - 1].isspace()
        needed = width if separator else (rest_of_word[index] if starts_word else 1)
        if column > 0 and column + min(needed, chars_per_line) > chars_per_line:
            column, line = 0, line + 1
        boxes.append((line, column, width))
        column += width + len(separator)
    indices = np.arange(first, first + len(tokens))
    in_range = (indices >= start) & (indices <= end)
    in_margin = ((indices >= start - margin) & (indices < start)) | ((indices > end) & (indices <= end + margin))
    fills = np.where(in_range, RANGE_COLOR, np.where(in_margin, MARGIN_COLOR, "#F2F2F2"))
    # Every token's number for words; for characters every fifth, and the range's ends instead of any
    # fifth too close to them to read.
    every, ends = (1, ()) if separator else (5, (start, end))
    labelled = [
        index in ends or (index % every == 0 and all(abs(index - other) > 3 for other in ends)) for index in indices
    ]
    hover = [f"t={index}" + ("" if counts is None else f"<br>{int(count)} selected unit(s) on") for index, count in
             zip(indices, counts if counts is not None else indices, strict=True)]  # fmt: skip
    tokens_layer = {
        "type": "bar", "orientation": "h", "base": [box[1] for box in boxes], "x": [box[2] for box in boxes],
        "y": [box[0] for box in boxes], "width": 0.5, "marker": {"color": list(fills), "line": {"width": 0}},
        "text": [html.escape(token, quote=False) for token in shown], "textposition": "inside",
        "insidetextanchor": "middle", "constraintext": "none", "textangle": 0,
        "textfont": {"family": _TEXT_FONT, "size": 15, "color": "#111111"},
        "hovertext": hover, "hoverinfo": "text", "showlegend": False,
    }  # fmt: skip
    index_layer = {
        "type": "scatter", "mode": "text",
        "x": [box[1] + box[2] / 2 for box, keep in zip(boxes, labelled, strict=True) if keep],
        "y": [box[0] + 0.42 for box, keep in zip(boxes, labelled, strict=True) if keep],
        "text": [str(index) for index, keep in zip(indices, labelled, strict=True) if keep],
        "textfont": {"size": 10, "color": "#555555"}, "hoverinfo": "skip", "showlegend": False,
    }  # fmt: skip
    lines = line + 1
    layout = {
        "width": int((chars_per_line + 3) * _CHAR_PIXELS) + 20, "height": lines * _LINE_PIXELS + 10,
        "margin": {"l": 10, "r": 10, "t": 5, "b": 5}, "dragmode": False, "plot_bgcolor": "white",
        "paper_bgcolor": "white", "bargap": 0, "hoverlabel": {"bgcolor": "white"},
        "xaxis": {"range": [-1.5, chars_per_line + 1.5], "visible": False, "fixedrange": True},  # room for numbers
        "yaxis": {"range": [lines - 0.4, -0.5], "visible": False, "fixedrange": True},
    }  # fmt: skip
    return plotly_figure({"data": [tokens_layer, index_layer], "layout": layout})


def selection_figure(
    values: np.ndarray,
    tokens: Sequence[str],
    units: Sequence[tuple[int, int]],
    start: int,
    end: int,
    threshold: float,
    *,
    first: int = 0,
    signal: str = "hidden",
) -> go.Figure:
    """LSTMVis's main view: each selected unit's signed value along the reference text, the threshold
    dashed, the range shaded. A unit that is on "downwards" (↓) is drawn as minus its value, so "on"
    is above the dashed line for every curve.

    Args:
        values: (T, H) the window of the text shown; tokens: its T tokens; first: index of the first.
        units: (unit, sign) pairs.
    """
    values = np.asarray(values, dtype=np.float32)
    positions = np.arange(first, first + len(tokens), dtype=np.int32)
    labels = token_labels(tokens)
    colors = palette.CATEGORY_COLORS
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": positions,
            "y": (sign * values[:, unit]).astype(np.float32),
            "name": unit_label(unit, sign),
            "line": {"width": 2, "color": colors[index % len(colors)]},
            "marker": {"size": 4},
            "text": labels,
            # %{x} would print the tick text (the token) where the axis has one; %{x:d} is the index
            "hovertemplate": f"{unit_label(unit, sign)}<br>token %{{text}} (t=%{{x:d}})<br>signed value %{{y:.3f}}<extra></extra>",
        }  # fmt: skip
        for index, (unit, sign) in enumerate(units)
    ]
    shapes = [
        {"type": "rect", "xref": "x", "yref": "paper", "x0": start - 0.5, "x1": end + 0.5, "y0": 0, "y1": 1,
         "fillcolor": RANGE_COLOR, "opacity": 0.25, "line": {"width": 0}, "layer": "below"},
        {"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": threshold, "y1": threshold,
         "line": {"color": "#333333", "width": 1.5, "dash": "dash"}},
    ]  # fmt: skip
    angle = 0 if len(labels) <= 12 or max(map(len, labels), default=0) <= 2 else -60
    # Over 80 tokens (a character model's window has hundreds) the axis shows token numbers instead.
    ticks = {"tickvals": positions, "ticktext": labels} if len(labels) <= 80 else {"title": {"text": "token t"}}
    layout = {
        "height": 330, "margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "shapes": shapes, "dragmode": False,
        "plot_bgcolor": "white", "hoverlabel": {"bgcolor": "white"}, "legend": {"orientation": "h", "y": 1.12},
        "xaxis": {**ticks, "tickangle": angle, "fixedrange": True, "showgrid": False,
                  "tickfont": {"size": 10 if len(labels) <= 60 else 8}},
        "yaxis": {"title": {"text": f"signed {SIGNAL_LABELS.get(signal, signal)}"}, "fixedrange": True,
                  "zeroline": True, "zerolinecolor": "#444444", "zerolinewidth": 1.5, "gridcolor": "#EEEEEE"},
    }  # fmt: skip
    return plotly_figure({"data": data, "layout": layout})


# ------------------------------------------------------------------------------- matches
def match_window(length: int, match: Match, context: int, max_tokens: int) -> tuple[int, int]:
    """[first, stop) of the tokens drawn for a match: `context` tokens either side, at most `max_tokens`.

    A match longer than fits is cut at its end (its start, where the units switch on, stays visible).
    """
    first = max(match.start - context, 0)
    stop = min(match.end + 1 + context, length, first + max_tokens)
    return first, stop


def match_figure(
    values: np.ndarray,
    tokens: Sequence[str],
    units: Sequence[tuple[int, int]],
    match: Match,
    *,
    first: int,
    signal: str,
    limit: float | None = None,
) -> go.Figure:
    """One match as a small heatmap: the tokens along x (the text), one row per selected unit, the
    matched span framed. Values are the units' own (not signed), on `figures.signed_scale` (0 white).

    Args:
        values: (W, H) the states of the window drawn; tokens: its W tokens; first: its first index.
        limit: the colour scale's end (±); 1 for the hidden state, a shared `signed_limit` for the cell.
    """
    values = np.asarray(values, dtype=np.float32)
    unit_index = [unit for unit, _ in units]
    z = np.ascontiguousarray(values[:, unit_index].T)  # (K, W)
    positions = np.arange(first, first + len(tokens), dtype=np.int32)
    labels = token_labels(tokens)
    limit = (1.0 if signal == "hidden" else signed_limit(z)) if limit is None else max(float(limit), 1e-6)
    rows = [unit_label(unit, sign) for unit, sign in units]
    heatmap = {
        "type": "heatmap", "z": z, "x": positions, "y": list(range(len(units))), **signed_scale(limit), "showscale": False,
        # %{x} and %{y} print the axes' tick texts (the token, the row's unit), %{x:d} the token's index
        "hovertemplate": "%{y}<br>token %{x} (t=%{x:d})<br>value %{z:.3f}<extra></extra>",
        "xgap": 1, "ygap": 1,
    }  # fmt: skip
    match_frame = frame(match.start - 0.5, min(match.end, positions[-1]) + 0.5, -0.5, len(units) - 0.5, 2.5)
    # Horizontal labels when they fit the columns of a page-wide chart (about 800 px), slanted otherwise.
    widest = max(map(len, labels), default=0)
    angle = 0 if widest * 8 <= 800 / max(len(labels), 1) else -45
    tall_labels = 24 if angle == 0 else min(7 * widest, 90) + 10  # room for the labels above the cells
    layout = {
        "height": 18 * len(units) + 50 + tall_labels, "margin": {"l": 10, "r": 10, "t": 10 + tall_labels, "b": 5},
        "shapes": match_frame, "dragmode": False, "plot_bgcolor": "white", "hoverlabel": {"bgcolor": "white"},
        "xaxis": {"tickvals": positions, "ticktext": labels, "tickangle": angle, "side": "top", "fixedrange": True,
                  "showgrid": False, "tickfont": {"size": 13, "color": "#222222"}},
        "yaxis": {"tickvals": list(range(len(units))), "ticktext": rows, "autorange": "reversed", "fixedrange": True,
                  "showgrid": False, "tickfont": {"size": 11}},
    }  # fmt: skip
    return plotly_figure({"data": [heatmap], "layout": layout})


# ------------------------------------------------------------------------------ sentences
def selection_sentences(
    selected: Sequence[SelectedUnit], tokens: Sequence[str], start: int, end: int, threshold: float, margin: int,
    signal: str, named: Mapping[int, str] | None = None, separator: str = " ", signs: Sequence[int] = (1, -1),
) -> list[str]:  # fmt: skip
    """What the selection found, in plain words (to be escaped by the page); `separator` joins tokens."""
    named = dict(named or {})
    span = _snippet(tokens[start : end + 1], separator)
    what = SIGNAL_LABELS.get(signal, signal)
    on = " or ".join(
        f"above {threshold:g} ↑" if sign > 0 else f"below −{threshold:g} ↓" for sign in dict.fromkeys(signs)
    )
    around = f" and off on the {margin} token{'s' * (margin != 1)} before and after it" if margin else ""
    if not selected:
        return [
            f"No unit's {what} stays on ({on}) on all of tokens {start} to {end} (“{span}”){around}.",
            "Try a lower threshold, a shorter range, a margin of 0, or the other signal.",
        ]
    sentences = [
        f"{len(selected)} unit{'s' * (len(selected) != 1)} of the {what} {'are' if len(selected) != 1 else 'is'} on "
        f"({on}) on every token from {start} to {end} (“{span}”){around}."
    ]
    for chosen in selected:
        if chosen.unit in named:
            sentences.append(
                f"Unit {chosen.unit} is this model's “{named[chosen.unit]}” unit, found when the model was trained."
            )
    return sentences


def _snippet(tokens: Sequence[str], separator: str, limit: int = 60) -> str:
    text = separator.join(tokens)
    return text if len(text) <= limit else text[:limit] + "…"


def match_sentence(match: Match, unit_count: int, tokens: Sequence[str], text_label: str, separator: str = " ") -> str:
    """One line over a match: where it is, what it says and how many units are on."""
    every = "all" if match.units_on == unit_count else f"{match.units_on} of {unit_count}"
    return (
        f"{text_label}, tokens {match.start} to {match.end}, “{_snippet(tokens[match.start : match.end + 1], separator)}”: "
        f"{every} selected units on at every token"
        + ("." if match.units_on == unit_count else f" ({match.mean_on:.0%} of them on, on average).")
    )


# ----------------------------------------------------------------------------- saturation
def saturation_figure(saturation: GateSaturation, layer: int = 0, direction: int = 0, title: str = "") -> go.Figure:
    """Karpathy, Johnson and Fei-Fei's (2015) saturation plot: one point per unit per gate, x the fraction
    of tokens with the gate below `low` (left-saturated, shut), y the fraction above `high`
    (right-saturated, open). Every point lies in the triangle x + y <= 1, outlined."""
    data = [
        {"type": "scatter", "mode": "lines", "x": [0, 1, 0, 0], "y": [0, 0, 1, 0], "hoverinfo": "skip",
         "line": {"color": "#999999", "width": 1}, "showlegend": False},
    ]  # fmt: skip
    for gate in ("forget", "input", "output"):
        if gate not in saturation.below:
            continue
        below = np.asarray(saturation.below[gate][layer, direction], dtype=np.float32)
        above = np.asarray(saturation.above[gate][layer, direction], dtype=np.float32)
        data.append({
            "type": "scatter", "mode": "markers", "name": f"{gate} gate", "x": below, "y": above,
            "customdata": np.arange(len(below), dtype=np.int32),
            "marker": {"color": GATE_COLORS[gate], "symbol": GATE_SYMBOLS[gate], "size": 7, "opacity": 0.8,
                       "line": {"width": 0.5, "color": "white"}},
            "hovertemplate": (f"{gate} gate, unit %{{customdata}}<br>below {saturation.low:g}: %{{x:.1%}} of tokens"
                              f"<br>above {saturation.high:g}: %{{y:.1%}} of tokens<extra></extra>"),
        })  # fmt: skip
    layout = {
        "height": 440, "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        "plot_bgcolor": "white", "hoverlabel": {"bgcolor": "white"}, "dragmode": "zoom",
        "legend": {"orientation": "h", "y": -0.18},
        "xaxis": {"title": {"text": f"fraction of tokens left-saturated (gate < {saturation.low:g})"},
                  "range": [-0.03, 1.03], "gridcolor": "#EEEEEE", "zeroline": False, "constrain": "domain"},
        "yaxis": {"title": {"text": f"fraction right-saturated (gate > {saturation.high:g})"},
                  "range": [-0.03, 1.03], "gridcolor": "#EEEEEE", "zeroline": False, "scaleanchor": "x"},
    }  # fmt: skip
    if title:
        layout["title"] = {"text": html.escape(title, quote=False), "font": {"size": 15}, "x": 0.0, "xanchor": "left"}
    return plotly_figure({"data": data, "layout": layout})


def saturation_sentences(saturation: GateSaturation, layer: int = 0, direction: int = 0) -> list[str]:
    """What to read in the scatter, from the numbers: which gates are mostly open, mostly shut, or free."""
    low, high = saturation.low, saturation.high
    below = {gate: np.asarray(values[layer, direction]) for gate, values in saturation.below.items()}
    above = {gate: np.asarray(values[layer, direction]) for gate, values in saturation.above.items()}
    sentences = []
    if "forget" in below:
        units, mostly_open = len(below["forget"]), int((above["forget"] > 0.5).sum())
        sentences.append(
            f"{mostly_open} of {units} forget-gate units are above {high:g} more than half of the time: they keep "
            "their cell state across long spans (integrators: the kind of unit that can carry a subject or an open quotation)."
            if mostly_open
            else f"No forget gate is above {high:g} more than half of the time: this layer keeps little for long."
        )
    if "input" in below:
        units, mostly_shut = len(below["input"]), int((below["input"] > 0.5).sum())
        sentences.append(
            f"{mostly_shut} of {units} input-gate units are below {low:g} more than half of the time: they write into "
            "the cell only at the few tokens that matter."
            if mostly_shut
            else f"No input gate is below {low:g} more than half of the time: every unit keeps writing."
        )
    if "output" in below:
        units = len(below["output"])
        shown, hidden = int((above["output"] > 0.5).sum()), int((below["output"] > 0.5).sum())
        sentences.append(
            f"{shown} of {units} output gates are mostly open (the unit shows its memory at almost every token) and "
            f"{hidden} mostly shut (it keeps its memory to itself)."
        )
    free = sum(int(((below[gate] + above[gate]) < 0.1).sum()) for gate in below)
    total = sum(len(below[gate]) for gate in below)
    sentences.append(
        f"{free} of the {total} gates are saturated less than 10% of the time. Points near the top left are gates "
        "almost always open, near the bottom right almost always shut, near the origin rarely saturated: those "
        "respond to the text, token by token."
    )
    sentences.append(f"Measured over {saturation.timesteps:,} tokens.")
    return sentences
