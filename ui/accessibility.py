"""Accessibility: text alternatives for the app's charts, and the page style that keeps text readable.

To a screen reader a Plotly chart is a picture without a name. Every `st.plotly_chart` of the app passes
one of these as `alt`, which Streamlit gives the chart as its accessible name (role "figure"). Each says
what is drawn, along which axes, and how its colours read, in the words of `ui.palette`'s rules; the
numbers themselves are in the sentences and tables the pages write beside their charts.
tests/test_chart_text.py checks that every chart of views/ and ui/ has one.

`PAGE_CSS` (injected by app.py on every page) and the light and dark themes of .streamlit/config.toml keep
page text at WCAG AA contrast; tests/test_browser_accessibility.py checks every page with axe-core.

>>> heatmap("forget")[:60]
'Heatmap of the forget gate f: how much of the old memory is '
"""

from __future__ import annotations

from ui import palette
from ui.figures import SIGNAL_NAMES, SIGNAL_TITLES, is_signed

__all__ = [
    "PAGE_CSS", "ABLATION", "CARRY", "CELL_DIAGRAM", "CELL_DIAGRAM_WITH_NUMBERS", "CORPUS_MATCH", "CORPUS_REFERENCE",
    "CORPUS_SELECTION", "FORGET_GATES", "GAP_ACCURACY", "GATE_STRIPS", "GRADIENT", "ORIGINS", "PLAYGROUND",
    "PREDICTIONS", "SATURATION", "TEXT_BY_CELL_STATE", "TRAINING_PROGRESS", "UNIT_ACROSS_LAYERS", "UNIT_HISTORY",
    "UNIT_SAMPLE", "WORD_PROBABILITIES", "difference_heatmap", "heatmap", "layers_heatmap",
]  # fmt: skip

# Streamlit draws a disabled widget's label at 40% of the text colour (2.3:1 on the sidebar's grey), too faint
# for WCAG AA's 4.5:1. At 60%, the shade of captions, it still reads as inactive beside the other labels, and
# passes. In a `color` declaration `currentColor` is the inherited text colour, so the rule suits the light
# and the dark theme alike.
# Streamlit writes white on the primary colour whatever the theme: a primary button's label, a chosen
# option of a multiselect. The dark theme's primary colour (.streamlit/config.toml) is light enough for text
# on a dark page, so white on it gives 2.4:1; there those words take the dark theme's page colour instead
# (7.5:1). `light-dark()` follows the `color-scheme` Streamlit sets on the app for its light or dark theme,
# whichever the browser or the settings menu chose. A disabled multiselect draws its options faded, not on
# the primary colour, and keeps them.
# A constant, never built from input; st.html keeps a style-only body out of the page's layout.
PAGE_CSS = """<style>
label[data-testid='stWidgetLabel'][disabled] { color: color-mix(in srgb, currentColor 60%, transparent); }
button[data-testid^='stBaseButton-primary'],
[data-testid='stMultiSelect']:not(:has(input:disabled)) [data-tag] { color: light-dark(#ffffff, #171614); }
</style>"""


def _colours(signal: str) -> str:
    return palette.SIGN_RULE if is_signed(signal) else palette.GATE_RULE


def _title(signal: str) -> str:
    """The signal's title from `figures.SIGNAL_TITLES`, lower-cased to follow "the"."""
    if signal not in SIGNAL_NAMES:
        raise ValueError(f"signal must be one of {SIGNAL_NAMES}, got {signal!r}")
    title = SIGNAL_TITLES[signal]
    return "the " + title[0].lower() + title[1:]


def heatmap(signal: str, side: str = "") -> str:
    """A `figures.gate_heatmap` of `signal` (one of `figures.SIGNAL_NAMES`); `side` names the text it
    belongs to on /compare ("A" or "B")."""
    of_text = f" of text {side}" if side else ""
    return f"Heatmap of {_title(signal)}{of_text}. One column per token, one row per unit. {_colours(signal)}"


def layers_heatmap(signal: str) -> str:
    """A `figures.layers_heatmap`: one signal of every layer and direction, stacked."""
    return (f"Heatmaps of {_title(signal)} in every layer and direction, stacked on one token axis: one "
            f"column per token, one row per unit in each band. {_colours(signal)}")  # fmt: skip


def difference_heatmap(signal: str) -> str:
    """A `compare.difference_heatmap`: text B minus text A, column by aligned column."""
    return (f"Heatmap of the difference B minus A in {_title(signal)}: one column per aligned token, one row per "
            "unit. Orange where text B is higher, purple where it is lower, white where they agree, grey where "
            "only one text has the token.")  # fmt: skip


CELL_DIAGRAM = (
    "Diagram of an LSTM cell. The forget gate scales the old cell state; the input gate scales the candidate, "
    "which is added to it to make the new cell state; the output gate scales the squashed cell state to make "
    "the hidden state, the cell's output."
)
CELL_DIAGRAM_WITH_NUMBERS = (
    "Diagram of an LSTM cell with one unit's numbers at one token: the input, forget and output gates, the "
    f"candidate, the old and new cell state and the hidden state, each box coloured by its value. {palette.LEGEND}"
)
TEXT_BY_CELL_STATE = (
    f"The text, each token's background coloured by the selected unit's cell state. {palette.SIGN_RULE}"
)
PREDICTIONS = (
    "Table of the five likeliest next tokens after each token of the text, one column per token, likeliest on "
    "top, each cell coloured by its probability from white (0) to dark grey (1)."
)
ABLATION = (
    "Bars: the probability of each word the lesson follows (or of the likeliest next tokens) at the selected "
    "token, read normally (plain grey) and read again with the unit switched off (striped), each value "
    "written on its bar."
)
WORD_PROBABILITIES = (
    "Lines: the probability of each followed word after every token of the text, tokens along the x axis and "
    "0 to 1 up the y axis; dash-dotted lines read the text with the unit switched off; the selected token "
    "shaded light blue."
)
UNIT_ACROSS_LAYERS = (
    "Grouped bars: one unit's gates i, f, o, candidate g, cell state c and hidden state h at this token, one "
    "bar per layer and direction, each value written on its bar."
)
GATE_STRIPS = (
    "Six strips, one per quantity (input, forget and output gates, candidate, cell state, hidden state), one "
    f"cell per unit at this token, the selected unit framed and its value written beside it. {palette.LEGEND}"
)
UNIT_HISTORY = (
    "One unit along the text in three panels over the tokens: its forget, input and output gates (0 to 1), "
    "its cell state, and its hidden state, the selected token shaded light blue with its values written."
)
PLAYGROUND = (
    "One LSTM unit over the sequence, one column per step: the input, the three gates (0 to 1), the candidate "
    "and hidden state (-1 to 1), and the cell state; the step the diagram shows is shaded light blue."
)
CARRY = (
    "Bars, one per token: for how many of the following tokens the value the unit added there keeps half or "
    "more of its size; the bar of the answer darker."
)
CARRIED_BACK = (
    "Two panels over the words from the end of the sentence back to the ambiguous word, in the order the backward "
    "direction reads them: above, the unit's input and forget gates (0 to 1); below, its cell state as bars, "
    "above 0 in orange and below 0 in purple, each value written on its bar; the word where it writes the most "
    "shaded light blue."
)
PROBES = (
    "Grouped bars, one group per property (such as part of speech, inside a quotation, the position in the sentence) and one "
    "bar per layer and direction: the share of held-out words a linear probe reads right, written on each bar; "
    "a grey tick marks always giving the most common answer."
)
ORIGINS = (
    "Bars, one per token up to the chosen one: how much of what the unit added at that token is still in its "
    "cell state, above 0 in orange and below 0 in purple, each value written on its bar."
)
UNIT_SAMPLE = (
    "Histograms of the unit's values on sample tokens, one per true label, with the threshold as a vertical "
    "line: how well the unit's value separates the two groups."
)
GAP_ACCURACY = (
    "Lines: how often each model gives the right pronoun a higher probability, against the number of words "
    "between the name and the pronoun; chance (50%) dotted, each value written at its point."
)
GRADIENT = (
    "Lines, one per model (RNN and LSTM, untrained dashed, trained solid): the gradient's size at each word it "
    "read, relative to its size at the last word, words in reading order; steps where the marked forget gate "
    "closes are shaded, with that gate in a panel below."
)
FORGET_GATES = (
    "Heatmaps of every unit's forget gate for each LSTM (untrained above trained), words in reading order "
    f"along the x axis, the most open units on top. {palette.GATE_RULE}"
)
CORPUS_REFERENCE = (
    "The reference text with each token's number under it; the selected range filled light blue, the tokens "
    "around it that must be off in grey."
)
CORPUS_SELECTION = (
    "Lines: each selected unit's value along the reference text, drawn so that on is above the dashed "
    "threshold line for every unit; the selected range shaded."
)
CORPUS_MATCH = (
    "Small heatmap of one match: the tokens of the text along the x axis, one row per selected unit, the "
    f"matched span framed. {palette.SIGN_RULE}"
)
SATURATION = (
    "Scatter plot, one point per unit and gate: across the x axis the share of tokens where the gate is shut, "
    "up the y axis the share where it is fully open; points near the corners are gates that are nearly always "
    "shut or open."
)
TRAINING_PROGRESS = (
    "Lines: loss and accuracy against the training step, one colour per cell (RNN and LSTM), with the "
    "accuracy of chance as a line."
)
