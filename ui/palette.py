"""The app's one visual language: which colour means what, on every page and in every figure kind.

Two rules, no exceptions:

- **Gates** (forget, input, output: 0..1) use one sequential scale, white for 0 (closed) to dark green
  for 1 (open).
- **Signed values** (candidate, cell state, hidden state, differences, contributions) use one diverging
  scale centred on 0: purple below 0, white at 0, orange above 0. No gate colour is a sign colour.

Probabilities of the model's next-token guesses are neither: they take a grey scale of their own, so a
table of guesses never reads as gates. Light blue marks the selected token (a choice, never a value).

The scales are explicit colour lists, never Plotly's scale names: Plotly.js and Plotly's Python colours
disagree on which end of a named scale is which (Plotly.js's "RdBu" starts blue, Python's starts red),
so a heatmap drawn in the browser and a strip coloured in Python could contradict each other.
Colours are ColorBrewer's Greens, PuOr and Greys (Brewer, colorbrewer2.org, Apache-2.0), which stay
apart for the common kinds of colour blindness.
"""

from __future__ import annotations

__all__ = [
    "GATE_SCALE", "SIGNED_SCALE", "PROBABILITY_SCALE", "SIGN_RULE", "GATE_RULE", "PROBABILITY_RULE", "FRAME_RULE",
    "SELECTED_RULE", "LEGEND", "POSITIVE", "NEGATIVE", "ZERO", "GATE_OPEN", "GATE_CLOSED", "PROBABILITY_HIGH",
    "FRAME_DARK", "FRAME_LIGHT", "HIGHLIGHT", "NO_VALUE", "LINE_COLORS", "LINE_DASHES", "SWITCHED_OFF_DASH",
    "CATEGORY_COLORS",
]  # fmt: skip

GATE_CLOSED = "#f7fcf5"  # near white
GATE_OPEN = "#00441b"  # dark green
# 0 = closed (nothing passes), 1 = open (everything passes).
GATE_SCALE: list[list] = [
    [0.0, GATE_CLOSED], [0.25, "#c7e9c0"], [0.5, "#74c476"], [0.75, "#238b45"], [1.0, GATE_OPEN],
]  # fmt: skip

NEGATIVE = "#542788"  # purple
ZERO = "#f7f7f7"  # near white
POSITIVE = "#b35806"  # orange
# Low end negative, high end positive, whatever the limits (zmin = -limit, zmax = +limit, zmid = 0).
SIGNED_SCALE: list[list] = [
    [0.0, NEGATIVE], [0.25, "#998ec3"], [0.5, ZERO], [0.75, "#f1a340"], [1.0, POSITIVE],
]  # fmt: skip

PROBABILITY_HIGH = "#252525"  # near black
# The next-token guesses' probabilities, 0..1: white to dark grey, no hue, so not a gate and not a sign.
PROBABILITY_SCALE: list[list] = [
    [0.0, "#ffffff"], [0.25, "#d9d9d9"], [0.5, "#969696"], [0.75, "#525252"], [1.0, PROBABILITY_HIGH],
]  # fmt: skip

# Marks drawn over either scale. A dark line on a white halo shows on white, dark green, purple and
# orange alike and is neither a gate colour nor a sign colour; the line's style (solid, dashed) says
# what it marks.
FRAME_DARK = "#111111"
FRAME_LIGHT = "#ffffff"
HIGHLIGHT = "#9ecae1"  # light blue: the selected token (or a chosen range of tokens), never a value
NO_VALUE = "#d9d9d9"  # grey: a cell with nothing to show (a token only one of two texts has)

# Line charts name each quantity by a colour and a dash. The colours stay off both scales' hues (no
# green, purple or orange), so a line's colour never reads as a value: its height and the zero line do.
# None is black, and the selected token is a light-blue band (`HIGHLIGHT`), never a dark line: a dark or
# dashed line in a chart is always a quantity its legend names.
LINE_COLORS = {
    "forget": "#0072B2",  # blue
    "input": "#CC3311",  # red
    "output": "#EE3377",  # magenta
    "candidate": "#888888",  # grey
    "hidden": "#56B4E9",  # sky blue
    "cell": "#444444",  # dark grey, thick, in a panel of its own
}
LINE_DASHES = {"forget": "solid", "input": "dash", "output": "dot", "candidate": "dashdot", "hidden": "longdash",
               "cell": "solid"}  # fmt: skip
# A probability read again with a unit switched off: a dash no quantity above uses, in the word's colour.
SWITCHED_OFF_DASH = "longdashdot"
# Things that are only told apart (layers, units in one chart), on the same hues as the lines.
CATEGORY_COLORS = ("#0072B2", "#CC3311", "#111111", "#56B4E9", "#888888", "#004488", "#771100", "#BBBBBB")

GATE_RULE = "Gates: white = 0 (closed, nothing passes) … dark green = 1 (open, everything passes)."
SIGN_RULE = "Values with a sign: purple = below 0, white = about 0, orange = above 0."
PROBABILITY_RULE = "Next-token guesses: white = probability 0 … dark grey = 1 (grey is neither a gate nor a sign)."
FRAME_RULE = (
    "Frames: solid black = the selected token and unit; dotted black = the selected token's column; dashed black "
    "and white = a named unit's row."
)
SELECTED_RULE = "Light blue = the selected token, in the text and in the line charts (a choice, never a value)."
LEGEND = f"{GATE_RULE} {SIGN_RULE}"
