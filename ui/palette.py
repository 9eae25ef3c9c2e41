"""The app's one visual language: which colour means what, on every page and in every figure kind.

Two rules, no exceptions:

- **Gates** (forget, input, output: 0..1) use one sequential scale, white for 0 (closed) to dark green
  for 1 (open).
- **Signed values** (candidate, cell state, hidden state, differences, contributions) use one diverging
  scale centred on 0: purple below 0, white at 0, orange above 0. No gate colour is a sign colour.

The scales are explicit colour lists, never Plotly's scale names: Plotly.js and Plotly's Python colours
disagree on which end of a named scale is which (Plotly.js's "RdBu" starts blue, Python's starts red),
so a heatmap drawn in the browser and a strip coloured in Python could contradict each other.
Colours are ColorBrewer's Greens and PuOr (Brewer, colorbrewer2.org, Apache-2.0), which stay apart
for the common kinds of colour blindness.
"""

from __future__ import annotations

__all__ = [
    "GATE_SCALE", "SIGNED_SCALE", "SIGN_RULE", "GATE_RULE", "FRAME_RULE", "LEGEND", "POSITIVE", "NEGATIVE", "ZERO",
    "GATE_OPEN", "GATE_CLOSED", "FRAME_DARK", "FRAME_LIGHT", "HIGHLIGHT", "NO_VALUE", "LINE_COLORS", "LINE_DASHES",
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

# Marks drawn over either scale. A dark line on a white halo shows on white, dark green, purple and
# orange alike and is neither a gate colour nor a sign colour; the line's style (solid, dashed) says
# what it marks.
FRAME_DARK = "#111111"
FRAME_LIGHT = "#ffffff"
HIGHLIGHT = "#9ecae1"  # light blue: a chosen range of tokens, never a value
NO_VALUE = "#d9d9d9"  # grey: a cell with nothing to show (a token only one of two texts has)

# Line charts name each quantity by a colour and a dash. The colours stay off both scales' hues (no
# green, purple or orange), so a line's colour never reads as a value: its height and the zero line do.
LINE_COLORS = {
    "forget": "#0072B2",  # blue
    "input": "#CC3311",  # red
    "output": "#111111",  # black
    "candidate": "#888888",  # grey
    "hidden": "#56B4E9",  # sky blue
    "cell": "#444444",  # dark grey, thick, in a panel of its own
}
LINE_DASHES = {"forget": "solid", "input": "dash", "output": "dot", "candidate": "dashdot", "hidden": "longdash",
               "cell": "solid"}  # fmt: skip
# Things that are only told apart (layers, units in one chart), on the same hues as the lines.
CATEGORY_COLORS = ("#0072B2", "#CC3311", "#111111", "#56B4E9", "#888888", "#004488", "#771100", "#BBBBBB")

GATE_RULE = "Gates: white = 0 (closed, nothing passes) … dark green = 1 (open, everything passes)."
SIGN_RULE = "Values with a sign: purple = below 0, white = about 0, orange = above 0."
FRAME_RULE = "Frames: solid black = the selected token and unit; dashed black and white = a named unit."
LEGEND = f"{GATE_RULE} {SIGN_RULE}"
