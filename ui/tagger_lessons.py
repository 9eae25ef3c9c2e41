"""The tutorial's layers-and-directions lessons, from the shipped taggers: tables and figures, no layout.

- `comparison_table`: a sentence tagged by the forward-only and the bidirectional tagger, side by side;
- `carried_figure`: the backward unit that carries a later word back to an ambiguous one, its input
  gate, forget gate and cell from the sentence's end back to that word;
- `probe_figure` / `probe_sentences`: what a linear read-out finds in each layer and direction.

Pure functions of the models' numbers; the page arranges them (views/tutorial.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lstm_core.analysis.directions import AMBIGUOUS_PAIRS, CarriedPath, TagRow
from lstm_core.tags import TAG_MEANINGS
from ui import palette
from ui.figures import plotly_figure, token_labels
from ui.lessons import Question

__all__ = ["TAGGER_OPTIONS", "pair_label", "which_tagger_question", "comparison_table", "gate_contrast_sentence", "comparison_sentence", "carried_figure", "carried_sentence", "probe_figure",
           "probe_sentences", "STATE_ORDER"]  # fmt: skip

_GREY = "#a6a6a6"  # the majority baseline: a reference, neither a gate nor a sign


TAGGER_OPTIONS = ("the forward-only tagger", "the tagger that reads both ways", "both", "neither")


def pair_label(index: int) -> str:
    """The button label of pair `index` of `directions.AMBIGUOUS_PAIRS`: both sentences, quoted."""
    return " / ".join(f"“{text}”" for text, _, _ in AMBIGUOUS_PAIRS[index])


def which_tagger_question(rows: Sequence[TagRow], index: int, right_tag: str) -> Question:
    """ "Which tagger tags word `index` right?", its answer from the two taggers' own tags: options
    `TAGGER_OPTIONS`, each with the numbers that make it right or wrong."""
    row = rows[index]
    sentence = " ".join(r.word for r in rows)
    forward_right, both_right = row.tag_forward == right_tag, row.tag_both == right_tag
    answer = {(True, False): 0, (False, True): 1, (True, True): 2, (False, False): 3}[(forward_right, both_right)]
    said = (f"the forward-only tagger says {row.tag_forward} (p = {row.p_forward:.2f}) and the one that reads both "
            f"ways says {row.tag_both} (p = {row.p_both:.2f})")  # fmt: skip
    facts = tuple(said for _ in TAGGER_OPTIONS)
    meaning = TAG_MEANINGS[right_tag].split(" (")[0]
    return Question(
        prompt=f"In “{sentence}”, “{row.word}” is a {meaning} ({right_tag}). Which tagger gets it right?",
        labels=TAGGER_OPTIONS, facts=facts, answer=answer,
        why=f"and “{row.word}” here is {right_tag}",
    )  # fmt: skip


def comparison_table(rows: Sequence[TagRow]) -> list[dict[str, str]]:
    """One row per word: the forward-only tag and the bidirectional tag, each with its probability;
    a word the two tag differently is marked."""
    return [
        {
            "word": row.word,
            "forward only": f"{row.tag_forward} ({row.p_forward:.2f})",
            "both ways": f"{row.tag_both} ({row.p_both:.2f})",
            "": "≠" if row.disagree else "",
        }
        for row in rows
    ]


def comparison_sentence(rows: Sequence[TagRow], index: int) -> str:
    """What the two taggers make of word `index`, with the numbers."""
    row = rows[index]
    later = " ".join(r.word for r in rows[index + 1 :]) or "nothing"
    forward = f"{row.tag_forward} ({_meaning(row.tag_forward)}, p = {row.p_forward:.2f})"
    both = f"{row.tag_both} ({_meaning(row.tag_both)}, p = {row.p_both:.2f})"
    if row.disagree:
        return (f"The forward-only tagger has read only the words before “{row.word}” and tags it {forward}. The "
                f"bidirectional tagger has also read “{later}” and tags it {both}.")  # fmt: skip
    return (f"Both taggers tag “{row.word}” as {row.tag_both} ({_meaning(row.tag_both)}): p = {row.p_forward:.2f} "
            f"reading forwards only, {row.p_both:.2f} reading both ways.")  # fmt: skip


def _meaning(tag: str) -> str:
    return TAG_MEANINGS[tag].split(" (")[0]


def carried_figure(words: Sequence[str], path: CarriedPath, unit: int, height: int = 380) -> go.Figure:
    """Backward unit `unit` from the last word back to the ambiguous one, in the order it reads them:
    input and forget gates (0..1) above, its cell state (signed, with a zero line) below."""
    positions = list(path.positions)
    labels = token_labels([f"{words[p]} (token {p})" for p in positions])
    x = list(range(len(positions)))
    gate_lines = [
        ("input gate i", path.input, palette.LINE_COLORS["input"], palette.LINE_DASHES["input"]),
        ("forget gate f", path.forget, palette.LINE_COLORS["forget"], palette.LINE_DASHES["forget"]),
    ]
    data = [
        {"type": "scatter", "x": x, "y": np.asarray(values, dtype=float).round(3).tolist(), "name": name,
         "mode": "lines+markers", "line": {"color": color, "dash": dash, "width": 2}, "xaxis": "x", "yaxis": "y",
         "hovertemplate": f"{name} %{{y:.2f}}<extra></extra>"}
        for name, values, color, dash in gate_lines
    ]  # fmt: skip
    cell = np.asarray(path.cell, dtype=float)
    data.append({"type": "bar", "x": x, "y": cell.round(3).tolist(), "name": "cell state c", "showlegend": False,
                 "marker": {"color": [palette.POSITIVE if value > 0 else palette.NEGATIVE for value in cell]},
                 "text": [f"{value:+.2f}".replace("-", "−") for value in cell], "textposition": "outside",
                 "cliponaxis": False, "xaxis": "x", "yaxis": "y2",
                 "hovertemplate": "c %{y:.2f}<extra></extra>"})  # fmt: skip
    written = positions.index(path.written_at)
    limit = max(0.5, float(np.abs(cell).max()) * 1.3)
    layout = {
        "title": {"text": token_labels([f"Backward unit {unit}, from the last word back to “{words[positions[-1]]}”"])[0],
                  "font": {"size": 14}, "x": 0.0, "xanchor": "left"},
        "height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "xaxis": {"tickvals": x, "ticktext": labels, "fixedrange": True, "automargin": True, "anchor": "y2"},
        "yaxis": {"domain": [0.55, 1.0], "range": [-0.05, 1.05], "tickvals": [0, 0.5, 1], "title": {"text": "gate"},
                  "fixedrange": True},
        "yaxis2": {"domain": [0.0, 0.42], "range": [-limit, limit], "zeroline": True, "zerolinecolor": "#888888",
                   "title": {"text": "cell c"}, "fixedrange": True},
        "shapes": [{"type": "rect", "xref": "x", "yref": "paper", "x0": written - 0.45, "x1": written + 0.45,
                    "y0": 0, "y1": 1, "fillcolor": "rgba(0,0,0,0)", "line": {"width": 2, "dash": "dot",
                                                                             "color": palette.FRAME_DARK}}],
        "legend": {"orientation": "h", "y": -0.12, "yanchor": "top", "x": 0, "xanchor": "left"},
        "plot_bgcolor": "#ffffff", "dragmode": False,
    }  # fmt: skip
    data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": "dotted frame: its biggest write after it",
                 "marker": {"symbol": "square-open", "size": 12, "color": palette.FRAME_DARK}, "hoverinfo": "skip"})  # fmt: skip
    return plotly_figure({"data": data, "layout": layout})


def gate_contrast_sentence(
    first: tuple[Sequence[str], CarriedPath], second: tuple[Sequence[str], CarriedPath], unit: int
) -> str:
    """How unit `unit`'s forget and input gates at the ambiguous word differ between two sentences: the
    backward direction sets them from the words after it, which it has already read."""
    parts = [
        f"in “{' '.join(words)}” its forget gate is {path.forget[-1]:.2f} and its input gate {path.input[-1]:.2f}"
        for words, path in (first, second)
    ]
    word = first[0][first[1].positions[-1]]
    return (f"At “{word}” itself, {parts[0]}; {parts[1]}. The word is the same; unit {unit}'s gates differ because "
            "the backward direction has already read what comes after it.")  # fmt: skip


def carried_sentence(words: Sequence[str], path: CarriedPath, unit: int) -> str:
    """The carried path in one sentence, with its numbers."""
    written = list(path.positions).index(path.written_at)
    target = path.positions[-1]
    return (f"Reading backwards, of the words after “{words[target]}” unit {unit}'s biggest write is at "
            f"“{words[path.written_at]}” (i = {path.input[written]:.2f}, candidate {path.candidate[written]:+.2f}); "
            f"its forget gates on the way back to “{words[target]}” keep {path.kept:.0%} of that. At "
            f"“{words[target]}” itself the gates also read the hidden state brought back from the word after it, "
            f"and write again (i = {path.input[-1]:.2f}, candidate {path.candidate[-1]:+.2f}): its cell ends at "
            f"{path.cell[-1]:+.2f}.").replace("+-", "−").replace("-", "−")  # fmt: skip


STATE_ORDER = ("input", "layer 0 forward", "layer 0 backward", "layer 0 both", "layer 1 forward", "layer 1 backward",
               "layer 1 both")  # fmt: skip


_STATE_LABELS = {"input": "word vectors (no LSTM)"}
# Colour by direction, hatching for the second layer: no bar takes the selection's light blue or the
# baseline's grey.
_DIRECTION_COLORS = {"forward": "#0072B2", "backward": "#CC3311", "both": "#111111"}


def _state_marker(name: str) -> dict:
    if name == "input":
        return {"color": "#d9d9d9", "line": {"color": "#666666", "width": 1}}
    _, layer, direction = name.split()
    marker: dict = {"color": _DIRECTION_COLORS.get(direction, "#666666")}
    if layer != "0":
        # overlay: the hatching is drawn over the direction's colour (the default would replace it)
        marker["pattern"] = {"shape": "/", "fgcolor": "#ffffff", "size": 6, "fillmode": "overlay"}
    return marker


def probe_figure(rows: Sequence[dict], height: int = 360) -> go.Figure:
    """Grouped bars: held-out probe accuracy per property (groups) and per states (bars), the majority
    baseline of each property as a grey tick."""
    properties = list(dict.fromkeys(row["property"] for row in rows))
    states = [name for name in STATE_ORDER if any(row["states"] == name for row in rows)]
    states += [name for name in dict.fromkeys(row["states"] for row in rows) if name not in states]
    by_key = {(row["states"], row["property"]): row for row in rows}
    data = []
    for name in states:
        values = [by_key.get((name, prop), {}).get("accuracy") for prop in properties]
        data.append({"type": "bar", "name": _STATE_LABELS.get(name, name), "x": properties, "y": values,
                     "marker": _state_marker(name), "textfont": {"size": 10},
                     "text": [None if v is None else f"{v:.1%}" for v in values], "textposition": "outside",
                     "cliponaxis": False, "hovertemplate": f"{name}: %{{y:.1%}}<extra></extra>"})  # fmt: skip
    baselines = [next(row["baseline"] for row in rows if row["property"] == prop) for prop in properties]
    data.append({"type": "scatter", "name": "always the most common answer", "x": properties, "y": baselines,
                 "mode": "markers", "marker": {"symbol": "line-ew-open", "size": 70, "color": _GREY,
                                               "line": {"width": 4, "color": _GREY}},
                 "hovertemplate": "baseline %{y:.1%}<extra></extra>"})  # fmt: skip
    layout = {
        "title": {"text": "How well one weighted sum of each layer's units reads a property (held-out words)",
                  "font": {"size": 14}, "x": 0.0, "xanchor": "left"},
        "barmode": "group", "height": height, "margin": {"l": 10, "r": 10, "t": 120, "b": 10},
        "yaxis": {"range": [0, 1.12], "tickformat": ".0%", "title": {"text": "right"}, "fixedrange": True},
        "xaxis": {"fixedrange": True, "type": "category"},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "xanchor": "left"},
        "plot_bgcolor": "#ffffff", "dragmode": False,
    }  # fmt: skip
    return plotly_figure({"data": data, "layout": layout})


NOTHING_FOUND = 0.01  # a probe this close to the baseline has found nothing worth a sentence


def probe_sentences(rows: Sequence[dict]) -> list[str]:
    """One sentence per property: where it is read best, against the words alone and the baseline."""
    sentences = []
    for prop in dict.fromkeys(row["property"] for row in rows):
        of_prop = [row for row in rows if row["property"] == prop]
        best = max(of_prop, key=lambda row: row["accuracy"])
        alone = next((row for row in of_prop if row["states"] == "input"), None)
        if best["accuracy"] - best["baseline"] < NOTHING_FOUND:
            sentences.append(f"**{prop.capitalize()}:** no layer reads it even a point better than always giving the "
                             f"most common answer ({best['accuracy']:.1%} at best, against {best['baseline']:.1%}): "
                             "the model never needed it, so nothing kept it.")  # fmt: skip
            continue
        text = (f"**{prop.capitalize()}:** best read from {best['states']} ({best['accuracy']:.1%} right, "
                f"against {best['baseline']:.1%} for always giving the most common answer")  # fmt: skip
        if alone is not None and alone is not best:
            text += f"; from the word vectors alone, before any LSTM, {alone['accuracy']:.1%}"
        by_states = {row["states"]: row["accuracy"] for row in of_prop}
        top = max((name.split()[1] for name in by_states if name.startswith("layer ")), default=None, key=int)
        if top is not None and {f"layer {top} forward", f"layer {top} backward"} <= set(by_states):
            text += (f"; layer {top}'s forward direction alone {by_states[f'layer {top} forward']:.1%}, its backward "
                     f"direction alone {by_states[f'layer {top} backward']:.1%}")  # fmt: skip
        sentences.append(text + ").")
    return sentences
