"""One colour language in every figure kind: the same value gets the same colour everywhere.

Each figure is built from known values; the colour of a gate at 0 and at 1 and of a signed value at
+0.8 and -0.8 of the figure's own limit is read back from the figure itself: for a heatmap from its
colour scale and its zmin/zmax (or its shared colour axis), for coloured text, the cell diagram and
line markers from the colours drawn. Every kind must agree with every other, and with the rule
stated in `palette`: a gate at 1 dark green and at 0 white, a positive value on the orange side, a
negative one on the purple side.
"""

from __future__ import annotations

import colorsys
from types import SimpleNamespace

import numpy as np
import pytest

from lstm_core import GATE_NAMES, StepDetail
from lstm_core.analysis.explore import Match
from lstm_core.analysis.gradient_comparison import GradientComparison
from lstm_core.analysis.gradients import GradientProfile
from lstm_core.models.language_model import UnitInfo, load_pretrained
from tests.fake_models import fake_language_model
from ui import ablation, accessibility, compare, corpus_figures, figures, gradient_figures, palette, step_figures
from ui import playground as pg
from ui.diagram import cell_diagram_figure

PROBES = ("gate 0", "gate 1", "positive", "negative")


# ------------------------------------------------------------------------------ reading colours
def rgb(color: str) -> np.ndarray:
    """(3,) 0..255 channels of "#rrggbb" or "rgb(r, g, b)"."""
    if color.startswith("#"):
        return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return np.array([float(part) for part in color[color.index("(") + 1 : color.index(")")].split(",")[:3]])


def on_scale(colorscale, low: float, high: float, value: float) -> np.ndarray:
    """The colour Plotly.js gives `value` on `colorscale` spanning low..high: linear in RGB between stops."""
    assert not isinstance(colorscale, str), f"a Plotly scale name, {colorscale!r}, instead of the palette's colours"
    positions = [float(position) for position, _ in colorscale]
    channels = np.array([rgb(color) for _, color in colorscale])
    where = min(max((value - low) / (high - low), 0.0), 1.0)
    return np.array([np.interp(where, positions, channels[:, channel]) for channel in range(3)])


def heatmap_colour(figure, index: int, value: float) -> np.ndarray:
    """The colour heatmap `index` of `figure` draws `value` in, from its scale and its limits."""
    heatmap = figure.data[index]
    if heatmap.coloraxis:
        axis = figure.layout[heatmap.coloraxis]
        scale, low, high, middle = axis.colorscale, axis.cmin, axis.cmax, axis.cmid
    else:
        scale, low, high, middle = heatmap.colorscale, heatmap.zmin, heatmap.zmax, heatmap.zmid
    if low < 0:  # the sign rule: 0 in the middle of the scale, whatever the limit
        assert low == -high and middle in (None, 0)
    return on_scale(scale, low, high, value)


def side(color: np.ndarray) -> str:
    """Which colour of the rule `color` is: one of PROBES, or "other"."""
    red, green, blue = color
    if min(color) > 235:
        return "gate 0"  # (and 0 of a signed value: both mean "nothing")
    if green > red + 30 and green > blue and sum(color) < 250:
        return "gate 1"
    if red > green > blue and red - blue > 80:
        return "positive"
    if blue > red > green and blue - green > 40:
        return "negative"
    return "other"


# --------------------------------------------------------------------------- every figure kind
LIMIT = 2.0  # the signed limit of every figure that takes one; probes are at ±0.8 of each figure's limit
TOKENS = ["bob", "is", "evil", "."]


def signed_probes(limit: float) -> dict[str, float]:
    return {"positive": 0.8 * limit, "negative": -0.8 * limit}


def step_detail() -> StepDetail:
    """Unit 0: forget 1, input 0, candidate +0.8, output 1; unit 1: candidate -0.8; cell and hidden ±0.8."""
    gates = {"forget": np.array([1.0, 0.0]), "input": np.array([0.0, 1.0]),
             "candidate": np.array([0.8, -0.8]), "output": np.array([1.0, 0.0])}  # fmt: skip
    zeros = {name: np.zeros(2) for name in GATE_NAMES}
    return StepDetail(t=2, layer=0, direction=0, token="evil", x=np.zeros(3), h_prev=np.array([-0.8, 0.8]),
                      c_prev=np.array([0.8, -0.8]), input_part=zeros, recurrent_part=zeros, gates=gates,
                      cell=np.array([0.8, -0.8]), hidden=np.array([-0.8, 0.8]))  # fmt: skip


def fake_trace() -> SimpleNamespace:
    """A trace of 1 layer, 1 direction, 4 tokens, 3 units whose values are the probes."""
    column = np.array([0.0, 1.0, 0.8, -0.8])  # one token each: gate 0, gate 1, +0.8, -0.8
    block = np.stack([column, column[::-1], np.zeros(4)], axis=1)[None, None]  # (1, 1, T=4, H=3)
    return SimpleNamespace(gates={name: block for name in GATE_NAMES}, cell=block, hidden=block, length=4,
                           tokens=tuple(TOKENS), model=SimpleNamespace(hidden_size=3))  # fmt: skip


def gate_heatmap_colours() -> dict[str, np.ndarray]:
    values = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.8]], dtype=np.float32)
    gates = figures.gate_heatmap(values, TOKENS, np.arange(2), "forget")
    cell = figures.gate_heatmap(values * 2 * LIMIT - LIMIT, TOKENS, np.arange(2), "cell", signed_limit=LIMIT)
    return {"gate 0": heatmap_colour(gates, 0, 0.0), "gate 1": heatmap_colour(gates, 0, 1.0),
            **{name: heatmap_colour(cell, 0, value) for name, value in signed_probes(LIMIT).items()}}  # fmt: skip


def layers_heatmap_colours() -> dict[str, np.ndarray]:
    trace = fake_trace()
    gates = figures.layers_heatmap(trace, "input", [(0, 0)], TOKENS, np.arange(3))
    hidden = figures.layers_heatmap(trace, "hidden", [(0, 0)], TOKENS, np.arange(3))
    return {"gate 0": heatmap_colour(gates, 0, 0.0), "gate 1": heatmap_colour(gates, 0, 1.0),
            **{name: heatmap_colour(hidden, 0, value) for name, value in signed_probes(1.0).items()}}  # fmt: skip


def coloured_text_colours() -> dict[str, np.ndarray]:
    gates = figures.colored_text_figure(TOKENS, np.array([0.0, 1.0, 0.5, 0.5]), signed=False)
    signed = figures.colored_text_figure(TOKENS, np.array([1.6, -1.6, 0.0, 0.0]), signed=True, limit=LIMIT)
    drawn, signed_drawn = gates.data[0].marker.color, signed.data[0].marker.color
    return {"gate 0": rgb(drawn[0]), "gate 1": rgb(drawn[1]), "positive": rgb(signed_drawn[0]),
            "negative": rgb(signed_drawn[1])}  # fmt: skip


def gate_strip_colours() -> dict[str, np.ndarray]:
    figure = step_figures.gate_strips(step_detail(), unit=0)
    rows = [key for key, _, _ in step_figures.STRIP_ROWS]
    forget, candidate = rows.index("forget"), rows.index("candidate")
    return {"gate 0": heatmap_colour(figure, forget, 0.0), "gate 1": heatmap_colour(figure, forget, 1.0),
            **{name: heatmap_colour(figure, candidate, value) for name, value in signed_probes(1.0).items()}}  # fmt: skip


def cell_diagram_colours() -> dict[str, np.ndarray]:
    """The gate boxes (forget, input, candidate, output: the figure's rgb-filled rectangles, in that
    order) of unit 0 and unit 1, and the value labels of c and h."""
    step = step_detail()
    boxes = {}
    for unit in (0, 1):
        figure = cell_diagram_figure(step, unit)
        fills = [
            shape.fillcolor
            for shape in figure.layout.shapes
            if shape.type == "rect" and shape.fillcolor.startswith("rgb(")
        ]
        boxes[unit] = dict(zip(("forget", "input", "candidate", "output"), map(rgb, fills), strict=True))
        labels = {annotation.text.split(" =")[0]: annotation.bgcolor for annotation in figure.layout.annotations
                  if annotation.bgcolor and annotation.bgcolor.startswith("rgb(")}  # fmt: skip
        # c_t is +0.8 for unit 0 and -0.8 for unit 1; h_t the other way round
        assert side(rgb(labels["c<sub>t</sub>"])) == ("positive" if unit == 0 else "negative")
        assert side(rgb(labels["h<sub>t</sub>"])) == ("negative" if unit == 0 else "positive")
    return {"gate 0": boxes[0]["input"], "gate 1": boxes[0]["forget"], "positive": boxes[0]["candidate"],
            "negative": boxes[1]["candidate"]}  # fmt: skip


def corpus_match_colours() -> dict[str, np.ndarray]:
    values = np.array([[1.6, -1.6], [0.0, 0.0], [0.5, 0.5], [-1.6, 1.6]], dtype=np.float32)
    match = Match(text_index=0, start=1, end=2, units_on=2, mean_on=1.0)
    figure = corpus_figures.match_figure(values, TOKENS, [(0, 1), (1, -1)], match, first=0, signal="cell", limit=LIMIT)
    return {name: heatmap_colour(figure, 0, value) for name, value in signed_probes(LIMIT).items()}


def compare_difference_colours() -> dict[str, np.ndarray]:
    a = np.zeros((4, 2), dtype=np.float32)
    b = np.array([[1.6, -1.6], [0.0, 0.0], [1.0, 1.0], [-1.6, 1.6]], dtype=np.float32)
    figure = compare.difference_heatmap(a, b, TOKENS, ["same"] * 4, np.arange(2), "cell", limit=LIMIT)
    grey, _ = figure.data  # the grey layer of tokens only one text has comes first, the difference above it
    assert {color for _, color in grey.colorscale} == {palette.NO_VALUE}
    return {name: heatmap_colour(figure, 1, value) for name, value in signed_probes(LIMIT).items()}


def playground_colours() -> dict[str, np.ndarray]:
    trace = pg.run_unit(pg.PRESETS[pg.DEFAULT_PRESET].weights, np.array([2.0, -2.0, 0.0]))
    figure = pg.playground_figure(trace)
    (row,) = [index for index, item in enumerate(figure.data) if item.type == "heatmap"]  # the input x
    return {name: heatmap_colour(figure, row, value) for name, value in signed_probes(2.0).items()}


def gradient_forget_colours() -> dict[str, np.ndarray]:
    forget = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    profile = GradientProfile(np.ones(3), np.ones(3), np.ones(3), forget_gates=forget)
    comparison = GradientComparison(source="longlag", step_labels=("a", "b", "c"), target="a",
                                    profiles={("lstm", True): profile}, total_steps=3)  # fmt: skip
    figure = gradient_figures.forget_gate_chart(comparison)
    return {"gate 0": heatmap_colour(figure, 0, 0.0), "gate 1": heatmap_colour(figure, 0, 1.0)}


def unit_history_colours() -> dict[str, np.ndarray]:
    """The c and h points along the text are coloured by sign (tokens 2 and 3 hold +0.8 and -0.8)."""
    figure = step_figures.unit_history(fake_trace(), unit=0, t=2)
    cell = next(item for item in figure.data if item.yaxis == "y2")
    np.testing.assert_allclose(cell.y, [0.0, 1.0, 0.8, -0.8])
    return {"positive": rgb(cell.marker.color[2]), "negative": rgb(cell.marker.color[3])}


KINDS = {
    "gate heatmap": gate_heatmap_colours,
    "layers side by side": layers_heatmap_colours,
    "coloured text": coloured_text_colours,
    "gate strips (/step)": gate_strip_colours,
    "cell diagram": cell_diagram_colours,
    "corpus match": corpus_match_colours,
    "compare difference": compare_difference_colours,
    "playground input": playground_colours,
    "gradient forget gates": gradient_forget_colours,
    "unit history points": unit_history_colours,
}


@pytest.fixture(scope="module")
def colours() -> dict[str, dict[str, np.ndarray]]:
    return {kind: build() for kind, build in KINDS.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_follows_the_rule(colours, kind):
    for probe, colour in colours[kind].items():
        assert side(colour) == probe, f"{kind}: {probe} drawn as {colour.round()} ({side(colour)})"


@pytest.mark.parametrize("probe", PROBES)
def test_every_kind_draws_a_value_in_the_same_colour(colours, probe):
    drawn = {kind: found[probe] for kind, found in colours.items() if probe in found}
    assert len(drawn) >= 5, f"{probe} is read from too few kinds: {sorted(drawn)}"
    reference = (
        on_scale(palette.GATE_SCALE, 0, 1, {"gate 0": 0.0, "gate 1": 1.0}[probe])
        if probe.startswith("gate")
        else on_scale(palette.SIGNED_SCALE, -1, 1, 0.8 if probe == "positive" else -0.8)
    )
    for kind, colour in drawn.items():
        assert np.abs(colour - reference).max() <= 3, (
            f"{kind} draws {probe} as {colour.round()}, not {reference.round()}"
        )


def test_no_figure_names_a_plotly_scale(colours):
    """Plotly.js and Plotly's Python colours disagree on which end of a named scale is which: every
    colour scale must be the palette's own list."""
    built = [
        figures.gate_heatmap(np.zeros((4, 2), np.float32), TOKENS, np.arange(2), "cell"),
        figures.layers_heatmap(fake_trace(), "forget", [(0, 0)], TOKENS, np.arange(3)),
        figures.predictions_figure(TOKENS, [["a"]] * 4, np.ones((4, 1))),
        step_figures.gate_strips(step_detail(), unit=1),
        pg.playground_figure(pg.run_unit(pg.PRESETS[pg.DEFAULT_PRESET].weights, np.array([1.0, 0.0]))),
    ]
    scales = []

    def collect(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("colorscale", "sequential", "diverging", "sequentialminus"):
                    scales.append(item)
                elif key != "template":  # Plotly's default template, used by no trace that has its own scale
                    collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for figure in built:
        collect(figure.to_plotly_json())
    assert scales, "the figures drew no colour scale"
    for scale in scales:
        assert not isinstance(scale, str), f"a Plotly scale name: {scale!r}"
        assert [color for _, color in scale] in ([color for _, color in palette.GATE_SCALE],
                                                 [color for _, color in palette.SIGNED_SCALE],
                                                 [color for _, color in palette.PROBABILITY_SCALE])  # fmt: skip


def luminance(color: str) -> float:
    red, green, blue = rgb(color) / 255
    return 0.299 * red + 0.587 * green + 0.114 * blue


def test_frames_read_on_every_colour_of_both_scales_and_are_not_scale_colours():
    """A frame is a dark line on a white halo: on any cell one of the two stands out. Named units are
    dashed, the selection solid, so the two are told apart without a colour of their own."""
    samples = [on_scale(scale, 0, 1, where) for scale in (palette.GATE_SCALE, palette.SIGNED_SCALE)
               for where in np.linspace(0, 1, 33)]  # fmt: skip
    for sample in samples:
        cell = 0.299 * sample[0] / 255 + 0.587 * sample[1] / 255 + 0.114 * sample[2] / 255
        assert max(abs(luminance(palette.FRAME_DARK) - cell), abs(luminance(palette.FRAME_LIGHT) - cell)) > 0.4
    _, _, shapes = figures.unit_axis_marks(np.arange(3), {1: "subject gender"}, 0, 4, (2, 0))
    dashes = {(shape["line"]["color"], shape["line"]["dash"]) for shape in shapes}
    assert (palette.FRAME_DARK, "dash") in dashes and (palette.FRAME_DARK, "solid") in dashes
    assert {shape["line"]["color"] for shape in shapes} == {palette.FRAME_DARK, palette.FRAME_LIGHT}


def hue(color: str) -> tuple[float, float]:
    """(hue in degrees, saturation) of a colour."""
    found, _, saturation = colorsys.rgb_to_hls(*(rgb(color) / 255))
    return found * 360, saturation


@pytest.mark.parametrize(
    "color", sorted({*palette.LINE_COLORS.values(), *palette.CATEGORY_COLORS, palette.HIGHLIGHT, palette.NO_VALUE})
)
def test_lines_and_marks_take_no_colour_of_a_scale(color):
    """Lines, categories and highlights name things, never values: none is green (a gate), purple or
    orange (a sign), so no colour on a page reads as a value it is not."""
    found, saturation = hue(color)
    if saturation < 0.15:
        return  # black, white and greys carry no hue
    for scale_color in (palette.GATE_OPEN, "#74c476", palette.POSITIVE, "#f1a340", palette.NEGATIVE, "#998ec3"):
        scale_hue, _ = hue(scale_color)
        distance = min(abs(found - scale_hue), 360 - abs(found - scale_hue))
        assert distance > 15, f"{color} is {distance:.0f}° from the scale colour {scale_color}"


def test_the_diagram_has_a_legend_and_never_draws_a_closed_gate_like_a_candidate():
    step = step_detail()
    figure = cell_diagram_figure(step, 0)
    texts = " ".join(annotation.text for annotation in figure.layout.annotations)
    assert "closed 0" in texts and "1 open" in texts and "−1" in texts and "+1" in texts
    swatches = [shape.fillcolor for shape in figure.layout.shapes if shape.type == "rect"]
    for _, color in (*palette.GATE_SCALE, *palette.SIGNED_SCALE):
        assert color in swatches
    colours = cell_diagram_colours()
    assert np.abs(colours["gate 0"] - colours["positive"]).max() > 100  # no navy for both, as before
    scale_colours = {color for _, color in (*palette.GATE_SCALE, *palette.SIGNED_SCALE)}
    assert not scale_colours & {shape.fillcolor for shape in cell_diagram_figure().layout.shapes}  # bare: no legend


# ------------------------------------------------------------------- one colour, one meaning
def test_the_guesses_table_is_grey_neither_a_gate_nor_a_sign():
    """Green means a gate: the probabilities of the next-token guesses take the grey scale instead, and a
    likely guess is drawn in no colour a gate or a sign could have."""
    figure = figures.predictions_figure(TOKENS, [["he", "she"]] * 4, np.array([[1.0, 0.0]] * 4))
    likely, unlikely, middling = (heatmap_colour(figure, 0, p) for p in (1.0, 0.0, 0.5))
    assert side(unlikely) == "gate 0" and side(likely) == "other" and side(middling) == "other"
    for colour in (likely, middling):
        _, lightness, saturation = colorsys.rgb_to_hls(*(colour / 255))
        assert saturation < 0.05, f"a probability drawn with a hue: {colour.round()}"
    assert sum(likely) < sum(middling) < sum(unlikely)  # darker is more likely
    scale_colours = [rgb(color) for _, color in (*palette.GATE_SCALE, *palette.SIGNED_SCALE)]
    assert min(np.abs(likely - colour).max() for colour in scale_colours) > 30
    assert "dark grey" in accessibility.PREDICTIONS and "green" not in accessibility.PREDICTIONS
    assert palette.PROBABILITY_RULE in figures.legend_markdown(probabilities=True)


def legend_names(figure) -> set[str]:
    return {item.name for item in figure.data if item.name and item.showlegend is not False}


def figure_text(figure) -> str:
    texts = [figure.layout.title.text or "", *(annotation.text or "" for annotation in figure.layout.annotations)]
    return " ".join(texts)


def line_charts() -> dict[str, object]:
    trace = fake_trace()
    he, she = np.array([0.1, 0.2, 0.6, 0.7]), np.array([0.5, 0.4, 0.1, 0.1])
    playground_trace = pg.run_unit(pg.PRESETS[pg.DEFAULT_PRESET].weights, np.array([1.0, 0.0, -1.0]))
    return {
        "unit history": step_figures.unit_history(trace, unit=0, t=2),
        "word probabilities": ablation.word_probability_figure(
            TOKENS, {"he": he, "she": she}, 2, after={"he": he / 2, "she": she}, after_label="unit 0 off"
        ),  # fmt: skip
        "playground": pg.playground_figure(playground_trace, selected_step=2),
    }


@pytest.mark.parametrize("name", ["unit history", "word probabilities", "playground"])
def test_the_selected_token_is_a_light_blue_band_named_in_the_legend(name):
    """The selected token is marked by light blue alone (as the text highlights it), never by a dark
    or dashed line that could be read as a quantity, and the legend says what the band is."""
    figure = line_charts()[name]
    bands = [shape for shape in figure.layout.shapes if shape.type == "rect"]
    assert [band.fillcolor for band in bands] == [palette.HIGHLIGHT]
    assert bands[0].x1 - bands[0].x0 == pytest.approx(1.0)
    assert not [shape for shape in figure.layout.shapes if shape.type == "line" and luminance(shape.line.color) < 0.3]
    entries = [item for item in figure.data if item.name in ("selected token", "selected step")]
    assert len(entries) == 1 and entries[0].marker.color == palette.HIGHLIGHT and entries[0].showlegend
    assert name == "playground" or "selected token" in legend_names(figure)


def test_black_and_dashes_each_mean_one_thing_in_the_line_charts():
    """The output gate, a probability read with a unit switched off and the selected token each have a
    style of their own, and each is named in a legend or the figure's text."""
    charts = line_charts()
    history, words = charts["unit history"], charts["word probabilities"]
    output = next(item for item in history.data if item.name.startswith("output"))
    assert luminance(output.line.color) > 0.3  # not black: black marked the selected token before
    assert output.line.color not in {color for key, color in palette.LINE_COLORS.items() if key != "output"}
    assert "output o" in legend_names(history)
    switched_off = [item for item in words.data if "unit 0 off" in (item.name or "")]
    assert len(switched_off) == 2 and {item.line.dash for item in switched_off} == {palette.SWITCHED_OFF_DASH}
    assert palette.SWITCHED_OFF_DASH not in palette.LINE_DASHES.values()  # no gate's or state's dash
    assert {item.name for item in switched_off} <= legend_names(words)
    lines = [item for figure in charts.values() for item in figure.data if item.type == "scatter" and item.line.color]
    assert all(luminance(item.line.color) > 0.2 for item in lines if item.name not in ("cell c", "hidden h")), [
        (item.name, item.line.color) for item in lines if luminance(item.line.color) <= 0.2
    ]
    effect_bars = ablation.ablation_figure(switched_effect())
    before_bars, after_bars = effect_bars.data
    assert not before_bars.marker.pattern.shape and after_bars.marker.pattern.shape  # switched off: striped
    assert "striped: unit 5 switched off" in figure_text(effect_bars)


def switched_effect() -> ablation.AblationEffect:
    return ablation.ablation_effect(fake_language_model("words"), "bob is nice . he", (0, 0, 5))


def test_the_frame_legend_names_every_frame_style():
    """The heatmaps' three frame styles (solid: the selection, dotted: its column, dashed: a named
    unit) are all in the legend the pages show, with the light-blue selection."""
    _, _, shapes = figures.unit_axis_marks(np.arange(3), {1: "subject gender"}, 0, 4, (2, 0))
    dashes = {shape["line"]["dash"] for shape in shapes if shape["line"]["color"] == palette.FRAME_DARK}
    assert dashes == {"solid", "dot", "dash"}
    legend = figures.legend_markdown()
    for words in ("solid black", "dotted black", "dashed black", "Light blue"):
        assert words in legend


# ------------------------------------------------- a named unit's reading turns at its threshold, not 0
@pytest.mark.parametrize("name", ["words", "chars", "story"])
def test_the_coloured_text_of_a_named_unit_says_where_its_reading_turns(name):
    """The signed colours turn at 0; the gender unit's reading turns at its threshold (near 0 for `words`,
    below 0 for `story`, above 0 for `chars`, with the sides the other way round). The title states the
    threshold and which colours read as which side, from the model's own UnitInfo."""
    model = load_pretrained(name)
    info = model.units["subject gender"]
    values = np.array([info.threshold - 0.3, info.threshold + 0.3, 0.0, 0.0], dtype=np.float32)
    figure = figures.colored_text_figure(TOKENS, values, signed=True, limit=LIMIT, selected=1, title="unit",
                                         named=info)  # fmt: skip
    subtitle = figure.layout.title.subtitle.text
    cut = figures.threshold_text(info.threshold)
    if cut == "0":  # the reading turns where the colours do
        assert f"reads as {info.above} above 0 (orange), as {info.below} below 0 (purple)" in subtitle
    else:
        assert f"reads as {info.above} above {cut}" in subtitle and f"as {info.below} below it" in subtitle
        # the colours named on each side are the colours the figure draws there
        upper, lower = ("orange", "purple") if info.threshold < 0 else ("deeper orange", "paler orange, white and purple")
        above_part, below_part = subtitle.split(f"as {info.below} below it")
        assert upper in above_part and lower.split(",")[0] in below_part
        # between 0 and the threshold the colour and the reading disagree: that is why the title must say so
        between = info.threshold / 2
        red, _, blue = rgb(figures.color_for_value(palette.SIGNED_SCALE, between, signed=True, limit=0.5))
        on_orange_side = red > blue
        assert on_orange_side == (info.threshold > 0)
        assert info.read(between) == (info.below if info.threshold > 0 else info.above)
    assert f"(reads as {info.read(values[1])})" in subtitle  # the selected token's reading
    plain = figures.colored_text_figure(TOKENS, values, signed=True, limit=LIMIT, selected=1, title="unit")
    assert "reads as" not in plain.layout.title.subtitle.text


def test_the_reading_sentence_follows_the_threshold_not_a_model():
    below_zero = UnitInfo("subject gender", 0, 0, 7, -0.4, "male", "female", 0.9, 0.9)
    above_zero = UnitInfo("inside quotation", 0, 0, 9, 1.25, "inside", "outside", 0.9, 0.9)
    at_zero = UnitInfo("subject gender", 0, 0, 3, 0.001, "female", "male", 0.9, 0.9)
    assert figures.named_unit_colours(below_zero) == (
        "unit 7 (subject gender) reads as male above −0.40 (orange, white and the palest purple), "
        "as female below it (deeper purple)"
    )
    assert figures.named_unit_colours(above_zero) == (
        "unit 9 (inside quotation) reads as inside above 1.25 (deeper orange), "
        "as outside below it (paler orange, white and purple)"
    )
    assert (
        figures.named_unit_colours(at_zero)
        == "unit 3 (subject gender) reads as female above 0 (orange), as male below 0 (purple)"
    )


def test_probability_lines_never_take_a_gate_lines_colour():
    """A probability chart sits beside gate charts (the tutorial, /gates): P(he) must not be drawn in the
    forget gate's blue."""
    from ui.ablation import WORD_COLORS

    taken = {colour.lower() for colour in palette.LINE_COLORS.values()}
    assert not taken & {colour.lower() for colour in WORD_COLORS}
    figure = ablation.word_probability_figure(["a", "b", "c"], {"he": np.array([0.1, 0.2, 0.3]),
                                                                 "she": np.array([0.3, 0.2, 0.1])})  # fmt: skip
    drawn = {trace.line.color.lower() for trace in figure.data if trace.line.color}
    assert drawn and not drawn & taken
