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

__all__ = ["GATE_SCALE", "SIGNED_SCALE", "SIGN_RULE", "GATE_RULE", "LEGEND", "POSITIVE", "NEGATIVE", "ZERO"]

# 0 = closed (nothing passes), 1 = open (everything passes).
GATE_SCALE: list[list] = [
    [0.0, "#f7fcf5"], [0.25, "#c7e9c0"], [0.5, "#74c476"], [0.75, "#238b45"], [1.0, "#00441b"],
]  # fmt: skip

NEGATIVE = "#542788"  # purple
ZERO = "#f7f7f7"  # near white
POSITIVE = "#b35806"  # orange
# Low end negative, high end positive, whatever the limits (zmin = -limit, zmax = +limit, zmid = 0).
SIGNED_SCALE: list[list] = [
    [0.0, NEGATIVE], [0.25, "#998ec3"], [0.5, ZERO], [0.75, "#f1a340"], [1.0, POSITIVE],
]  # fmt: skip

GATE_RULE = "Gates: white = 0 (closed, nothing passes) … dark green = 1 (open, everything passes)."
SIGN_RULE = "Values with a sign: purple = below 0, white = about 0, orange = above 0."
LEGEND = f"{GATE_RULE} {SIGN_RULE}"
