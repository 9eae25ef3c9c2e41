"""The playground's one-unit LSTM, its typed input, its presets' claims, its links and its figure.

The unit is held against the LSTM equations written out in NumPy and against `torch.nn.LSTM(1, 1)`
with the same weights; every preset is run and checked to do what its note says.
"""

import math
import random
import re

import numpy as np
import pytest
import torch

from lstm_core import GATE_NAMES
from tests.torch_reference import lstm_reference
from ui import palette
from ui import playground as pg

torch.set_num_threads(1)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def random_weights(seed: int, scale: float = 3.0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {name: float(rng.uniform(-scale, scale)) for name in pg.PARAMETER_NAMES}


def handwritten_lstm(weights, inputs, c0=0.0, h0=0.0, no_forget_gate=False):
    """The six equations of one unit, one line each, in plain NumPy floats."""
    w = {name: weights[name] for name in pg.PARAMETER_NAMES}
    c, h = c0, h0
    rows = []
    for x in inputs:
        i = sigmoid(w["w_i"] * x + w["u_i"] * h + w["b_i"])
        f = 1.0 if no_forget_gate else sigmoid(w["w_f"] * x + w["u_f"] * h + w["b_f"])
        g = np.tanh(w["w_g"] * x + w["u_g"] * h + w["b_g"])
        o = sigmoid(w["w_o"] * x + w["u_o"] * h + w["b_o"])
        c = f * c + i * g
        h = o * np.tanh(c)
        rows.append((i, f, g, o, c, h))
    return {
        name: np.array(column)
        for name, column in zip((*GATE_NAMES, "cell", "hidden"), zip(*rows, strict=True), strict=True)
    }


def run_preset(key: str, **changes):
    preset = pg.PRESETS[key]
    parsed = pg.parse_sequence(changes.pop("sequence", preset.sequence))
    no_forget_gate = changes.pop("no_forget_gate", preset.no_forget_gate)
    weights = dict(preset.weights) | changes
    trace = pg.run_unit(weights, parsed.values, preset.c0, preset.h0, no_forget_gate)
    return np.array(parsed.values), pg.unit_values(trace)


# ------------------------------------------------------------------------------ the cell itself
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("no_forget_gate", [False, True])
def test_unit_is_the_handwritten_equations(seed, no_forget_gate):
    rng = np.random.default_rng(100 + seed)
    weights = random_weights(seed)
    inputs = rng.uniform(-2, 2, size=int(rng.integers(1, 40)))
    c0, h0 = float(rng.uniform(-2, 2)), float(rng.uniform(-1, 1))
    values = pg.unit_values(pg.run_unit(weights, inputs, c0, h0, no_forget_gate))
    expected = handwritten_lstm(weights, inputs, c0, h0, no_forget_gate)
    for name, column in expected.items():
        np.testing.assert_allclose(values[name], column, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(values["x"], inputs)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("no_forget_gate", [False, True])
def test_unit_is_torch_nn_lstm_with_the_same_weights(seed, no_forget_gate):
    weights = random_weights(seed, scale=5.0)
    rng = np.random.default_rng(seed)
    inputs = rng.choice([-1.0, 0.0, 1.0, 0.5], size=25)
    c0, h0 = 0.7, -0.3
    module = torch.nn.LSTM(1, 1, dtype=torch.float64)
    module.load_state_dict(
        {name: torch.from_numpy(array) for name, array in pg.state_dict(weights, no_forget_gate).items()}
    )
    x = torch.from_numpy(inputs).reshape(-1, 1)
    states = (torch.tensor([[h0]], dtype=torch.float64), torch.tensor([[c0]], dtype=torch.float64))
    with torch.no_grad():
        output, (h_n, c_n) = module(x, states)
        _, _, _, gates, cells, _ = lstm_reference(module, x, *states)
    values = pg.unit_values(pg.run_unit(weights, inputs, c0, h0, no_forget_gate))
    np.testing.assert_allclose(values["hidden"], output.numpy()[:, 0], atol=1e-6)
    np.testing.assert_allclose(values["cell"][-1], c_n.item(), atol=1e-6)
    np.testing.assert_allclose(values["hidden"][-1], h_n.item(), atol=1e-6)
    np.testing.assert_allclose(values["cell"], torch.stack(cells[0, 0]).numpy()[:, 0], atol=1e-6)
    for name in GATE_NAMES:
        np.testing.assert_allclose(values[name], [step[name].item() for step in gates[0, 0]], atol=1e-6, err_msg=name)
    if no_forget_gate:
        assert all(step["forget"].item() == 1.0 for step in gates[0, 0])  # torch agrees: exactly 1


def test_state_dict_has_torchs_names_shapes_and_row_order():
    weights = {name: float(index) for index, name in enumerate(pg.PARAMETER_NAMES)}
    tensors = pg.state_dict(weights)
    assert {name: array.shape for name, array in tensors.items()} == {
        "weight_ih_l0": (4, 1), "weight_hh_l0": (4, 1), "bias_ih_l0": (4,), "bias_hh_l0": (4,),
    }  # fmt: skip
    assert pg.PARAMETER_NAMES[:4] == ("w_i", "w_f", "w_g", "w_o")  # PyTorch's rows: i, f, g, o
    np.testing.assert_array_equal(tensors["weight_ih_l0"][:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(tensors["weight_hh_l0"][:, 0], [4, 5, 6, 7])
    np.testing.assert_array_equal(tensors["bias_ih_l0"], [8, 9, 10, 11])
    np.testing.assert_array_equal(tensors["bias_hh_l0"], [0, 0, 0, 0])
    without = pg.state_dict(weights, no_forget_gate=True)
    assert (without["weight_ih_l0"][1, 0], without["weight_hh_l0"][1, 0], without["bias_ih_l0"][1]) == (0, 0, 50)
    np.testing.assert_array_equal(np.delete(without["bias_ih_l0"], 1), [8, 10, 11])  # the other rows untouched


def test_without_a_forget_gate_f_is_exactly_one_and_the_cell_only_adds():
    rng = np.random.default_rng(7)
    for seed in range(5):
        weights = random_weights(seed, scale=10.0)
        values = pg.unit_values(pg.run_unit(weights, rng.uniform(-10, 10, size=30), 1.5, 0.2, no_forget_gate=True))
        assert np.all(values["forget"] == 1.0)
        added = np.diff(np.r_[1.5, values["cell"]])
        np.testing.assert_allclose(added, values["input"] * values["candidate"], atol=1e-12)


def test_pytorch_code_builds_the_same_unit():
    weights = dict(pg.PRESETS["count"].weights)
    for no_forget_gate in (False, True):
        namespace: dict = {}
        exec(pg.pytorch_code(weights, no_forget_gate), namespace)  # noqa: S102 - our own generated code
        built = namespace["lstm"].state_dict()
        for name, array in pg.state_dict(weights, no_forget_gate).items():
            np.testing.assert_allclose(built[name].numpy(), array, atol=1e-12)


@pytest.mark.parametrize(
    ("weights", "inputs", "message"),
    [
        ({"w_i": 1.0}, [1.0], "missing"),
        ({**{name: 0.0 for name in pg.PARAMETER_NAMES}, "b_o": math.nan}, [1.0], "not finite"),
        ({name: 0.0 for name in pg.PARAMETER_NAMES}, [], "empty"),
    ],
)
def test_bad_weights_and_inputs_are_refused_clearly(weights, inputs, message):
    with pytest.raises(ValueError, match=message):
        pg.run_unit(weights, inputs)


# ------------------------------------------------------------------------------- typed input
@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("1 0 0 -1", (1.0, 0.0, 0.0, -1.0)),
        ("1,0;0 , -1", (1.0, 0.0, 0.0, -1.0)),
        ("  1\t0\n-1  ", (1.0, 0.0, -1.0)),
        ("−1 –2", (-1.0, -2.0)),  # typographic minus and dash
        ("+1 .5 0.25 1e-1 -0", (1.0, 0.5, 0.25, 0.1, 0.0)),
        ("7", (7.0,)),
    ],
)
def test_good_sequences_are_read_without_notices(text, values):
    parsed = pg.parse_sequence(text)
    assert parsed.values == values and not parsed.notices
    assert parsed.labels == tuple(pg.format_number(value) for value in values)
    assert all(math.copysign(1, value) == 1 or value != 0 for value in parsed.values)  # no -0 shown as "-0"


@pytest.mark.parametrize(
    ("text", "values", "notice"),
    [
        ("", (), None),
        ("   , ;  ", (), None),
        (None, (), None),
        ("a b c", (), "not a number: “a”, “b”, “c”"),
        ("1 x 0", (1.0, 0.0), "“x”"),
        ("1 😀 0", (1.0, 0.0), "“😀”"),
        ("<script>alert(1)</script> 1", (1.0,), "“<script>ale…”"),
        ("nan inf 1_000 0x10 1", (1.0,), "“nan”"),
        ("99 -1e9 1", (10.0, -10.0, 1.0), "2 numbers beyond ±10"),
        ("1e999", (10.0,), "beyond ±10"),
        (" ".join(["1"] * 61), (1.0,) * 60, "has 61 steps"),
        ("1 " * 5_000, (1.0,) * 60, "first 2000 characters"),
    ],
)
def test_bad_sequences_get_a_clear_notice_never_an_exception(text, values, notice):
    parsed = pg.parse_sequence(text)
    assert parsed.values == values
    assert parsed.empty == (not values)
    if notice is None:
        assert not parsed.notices
    else:
        assert any(notice in message for message in parsed.notices), parsed.notices


def test_parsing_never_raises_on_random_text():
    rng = random.Random(0)
    alphabet = "0123456789 .,;-+eE−\t\nabc<>/&\"'😀\u200b\x00\x1b"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        parsed = pg.parse_sequence(text)
        assert len(parsed.values) <= pg.MAX_STEPS
        assert all(math.isfinite(value) and abs(value) <= pg.INPUT_LIMIT for value in parsed.values)
        assert all(re.fullmatch(r"-?[0-9.e+-]+", label) for label in parsed.labels)  # labels from numbers only


# --------------------------------------------------------------------- the presets keep their word
def test_every_preset_is_complete_and_reads_cleanly():
    assert list(pg.PRESETS) == ["keep", "reset", "count", "1997"] and pg.DEFAULT_PRESET in pg.PRESETS
    for preset in pg.PRESETS.values():
        assert set(preset.weights) == set(pg.PARAMETER_NAMES)
        assert all(abs(value) <= pg.WEIGHT_LIMIT for value in preset.weights.values())
        parsed = pg.parse_sequence(preset.sequence)
        assert not parsed.notices and len(parsed.values) >= 15
        assert 1 <= preset.step <= len(parsed.values)
        assert set(preset.widget_values()) == {*pg.PARAMETER_NAMES, "c0", "h0", "sequence", "no_forget", "step"}
        assert 1 <= len(re.findall(r"[.!?](?:\s|$)", preset.note)) <= 3  # one to three sentences


def test_a_preset_knows_its_own_values():
    preset = pg.PRESETS["count"]
    assert preset.matches(preset.widget_values())
    assert preset.matches({"w_g": 0.1 + 0.2, "sequence": preset.sequence})  # 0.30000000000000004
    assert not preset.matches({"w_g": 0.4})
    assert not preset.matches({"sequence": "1 0"}) and not preset.matches({"no_forget": True})


def test_keep_a_bit_holds_the_first_write_for_twenty_steps():
    x, values = run_preset("keep")
    cell, input_gate = values["cell"], values["input"]
    assert len(x) >= 20 and x[0] == 1
    assert input_gate[0] > 0.9 and np.all(input_gate[1:] < 0.05)  # input only at the first step
    assert np.all(values["forget"] > 0.999)
    assert np.all(np.abs(cell[:20] - cell[0]) <= 0.05 * cell[0])  # within 5% of c_1 for 20 steps
    assert np.all(np.abs(cell - cell[0]) <= 0.05 * cell[0])  # and to the end
    # the numbers its note quotes
    for quoted in (f"i = {input_gate[0]:.2f}", f"c = {cell[0]:.2f}", f"f = {values['forget'][0]:.4f}",
                   f"${cell[-1]:.2f}$", f"i = {input_gate[x == 1][1:].max():.2f}"):  # fmt: skip
        assert quoted in pg.PRESETS["keep"].note, quoted
    assert f"{len(x) - 1} steps later" in pg.PRESETS["keep"].note


def test_keep_a_bit_latches_whichever_way_the_later_input_goes():
    # u_i = -10 is what shuts the gate after the first write: without it, later 1s add as much again
    _, latched = run_preset("keep")
    _, unlatched = run_preset("keep", u_i=0.0)
    assert unlatched["cell"][-1] > 2.5 * latched["cell"][-1]


def test_reset_on_a_marker_empties_the_cell_right_after_each_marker():
    x, values = run_preset("reset")
    cell, forget = values["cell"], values["forget"]
    before = np.r_[0.0, cell[:-1]]
    markers = np.flatnonzero(x == -1)
    assert len(markers) >= 3
    for t in markers:
        assert before[t] > 0.9  # something was stored, and the marker wipes it
        assert abs(cell[t]) < 0.05 and abs(cell[t]) < 0.05 * before[t]
        assert forget[t] < 0.05
    kept = np.flatnonzero(x != -1)
    assert np.all(forget[kept] > 0.99) and np.all(cell[kept] >= 0.99 * before[kept])  # elsewhere it keeps
    note = pg.PRESETS["reset"].note
    assert f"{cell[0]:.2f}" in note and f"f = {forget[1]:.3f}" in note and f"f = {forget[markers[0]]:.2f}" in note
    assert f"c = {cell[markers[0]]:.2f}" in note


def test_count_adds_the_same_amount_for_every_one():
    x, values = run_preset("count")
    steps = np.diff(np.r_[0.0, values["cell"]])
    ones, zeros = steps[x == 1], steps[x == 0]
    assert len(ones) == 8
    np.testing.assert_allclose(ones, ones.mean(), rtol=0.01)  # a constant amount per occurrence
    assert np.all(np.abs(zeros) < 1e-3)
    np.testing.assert_allclose(values["cell"][-1], 8 * ones.mean(), rtol=0.01)
    assert np.all(np.diff(values["hidden"]) > -1e-3) and values["hidden"][-1] < values["cell"][-1]  # h bends
    note = pg.PRESETS["count"].note
    assert f"${ones.mean():.2f}$" in note and f"c = {values['cell'][-1]:.2f}" in note
    assert f"f = {values['forget'].min():.5f}" in note


def test_the_1997_cell_cannot_reset_and_the_forget_gate_can():
    x, values = run_preset("1997")
    cell, candidate = values["cell"], values["candidate"]
    before = np.r_[0.0, cell[:-1]]
    assert np.all(values["forget"] == 1.0)
    assert np.all(cell[candidate > 0] >= before[candidate > 0])  # c never decreases when g > 0
    assert np.all(cell >= before - 1e-6)  # nor anywhere: the input gate is shut where g < 0
    markers = np.flatnonzero(x == -1)
    assert np.all(cell[markers] >= 0.999 * before[markers])  # a reset is impossible
    assert cell[-1] > 7 and abs(values["hidden"][-1] - values["output"][-1]) < 0.01  # h stuck at o
    # the same weights and sequence with the forget gate: the markers reset the cell again
    x_reset, with_forget = run_preset("1997", no_forget_gate=False)
    np.testing.assert_array_equal(x_reset, x)
    assert np.all(with_forget["cell"][markers] < 0.05) and with_forget["cell"].max() < 2
    assert dict(pg.PRESETS["1997"].weights) == dict(pg.PRESETS["reset"].weights)
    assert pg.PRESETS["1997"].sequence == pg.PRESETS["reset"].sequence
    note = pg.PRESETS["1997"].note
    assert f"${cell[-1]:.2f}$" in note and f"o = {values['output'][-1]:.2f}" in note and "2000" in note


# ---------------------------------------------------------------------------------- links
def test_check_link_accepts_a_good_link_untouched():
    check = pg.check_link({"preset": "Count the 1s", "w_g": "0.5", "c0": "-1", "no_forget": "true", "step": "4"})
    assert (check.preset, check.corrected, check.notices, check.repaired) == ("count", {}, (), None)
    assert pg.check_link({}).preset == pg.DEFAULT_PRESET


@pytest.mark.parametrize(
    ("raw", "preset", "corrected", "notice"),
    [
        ({"preset": "count"}, "count", {"preset": "count"}, None),
        ({"preset": "COUNT THE 1S"}, "count", {"preset": "count"}, None),
        ({"preset": "1997"}, "1997", {"preset": "1997"}, None),
        ({"preset": "<b>evil</b>"}, "keep", {}, "no preset called “<b>evil</b>”"),
        ({"preset": ["reset", "count"]}, "reset", {"preset": "reset"}, None),
        ({"w_i": "99"}, "keep", {"w_i": 10.0}, "w_i to 99; the slider stops at ±10"),
        ({"b_f": "−25"}, "keep", {"b_f": -10.0}, "b_f to -25"),
        ({"c0": "7"}, "keep", {"c0": 5.0}, "±5"),
        ({"h0": "-3"}, "keep", {"h0": -1.0}, "±1"),
        ({"w_o": "abc"}, "keep", {}, "w_o to “abc”, which is not a number; using the preset's 0"),
        ({"preset": "count", "b_i": "nan"}, "count", {"preset": "count"}, "using the preset's -5"),
        ({"no_forget": "maybe"}, "keep", {}, "true or false"),
    ],
)
def test_check_link_corrects_what_it_can_and_says_so(raw, preset, corrected, notice):
    check = pg.check_link(raw)
    assert check.preset == preset and check.corrected == corrected
    if notice is None:
        assert not check.notices
    else:
        assert any(notice in message for message in check.notices), check.notices
    if corrected:
        # reopening the page on the repaired link needs no further repair: no redirect loop
        assert pg.check_link(check.repaired).repaired is None
        assert all(value != "nan" for value in check.repaired.values())
    else:
        assert check.repaired is None


@pytest.mark.parametrize(
    ("asked", "length", "shown"),
    [("3", 10, None), ("10", 10, None), ("11", 10, 10), ("0", 10, 1), ("-4", 10, 1), ("abc", 10, 1), ("9" * 30, 5, 1)],
)
def test_check_step(asked, length, shown):
    value, notice = pg.check_step({"step": asked}, length)
    assert value == shown and (notice is None) == (shown is None)
    assert pg.check_step({}, 5) == (None, None)


# ------------------------------------------------------------------------------ the figure
@pytest.fixture(scope="module")
def count_trace():
    preset = pg.PRESETS["count"]
    return pg.run_unit(preset.weights, pg.parse_sequence(preset.sequence).values, c0=0.4, h0=-0.2)


def test_figure_draws_the_computed_values(count_trace):
    figure = pg.playground_figure(count_trace, selected_step=3)
    values = pg.unit_values(count_trace)
    by_name = {trace.name: trace for trace in figure.data}
    assert {"input gate i", "forget gate f", "output gate o", "candidate g", "hidden state h", "cell state c",
            "input x"} <= set(by_name)  # fmt: skip
    for name, key in (("input gate i", "input"), ("forget gate f", "forget"), ("output gate o", "output"),
                      ("candidate g", "candidate")):  # fmt: skip
        np.testing.assert_array_equal(by_name[name].y, values[key])
        np.testing.assert_array_equal(by_name[name].x, np.arange(1, count_trace.length + 1))
    # h and c start from their initial values at t = 0
    np.testing.assert_array_equal(by_name["cell state c"].y, np.r_[0.4, values["cell"]])
    np.testing.assert_array_equal(by_name["hidden state h"].y, np.r_[-0.2, values["hidden"]])
    np.testing.assert_array_equal(by_name["cell state c"].x, np.arange(count_trace.length + 1))
    heatmap = next(trace for trace in figure.data if trace.type == "heatmap")
    np.testing.assert_array_equal(np.asarray(heatmap.z)[0], values["x"])
    assert list(np.asarray(heatmap.text)[0]) == [pg.format_number(value) for value in values["x"]]
    for trace in figure.data:
        if trace.type == "scatter" and trace.showlegend is not False and trace.name != "selected step":
            assert ":.4f" in trace.hovertemplate  # exact values on hover (the band's legend entry has none)
    assert figure.layout.hovermode == "x unified"


def test_figure_axes_gates_fixed_to_0_1_and_c_fits(count_trace):
    figure = pg.playground_figure(count_trace)
    by_name = {trace.name: trace for trace in figure.data}
    gate_axis = figure.layout["yaxis" + by_name["forget gate f"].yaxis[1:]]
    assert tuple(gate_axis.range) == (-0.05, 1.05) and gate_axis.fixedrange
    assert by_name["input gate i"].yaxis == by_name["output gate o"].yaxis == by_name["forget gate f"].yaxis
    tanh_axis = figure.layout["yaxis" + by_name["candidate g"].yaxis[1:]]
    assert tuple(tanh_axis.range) == (-1.1, 1.1)
    cell_axis = figure.layout["yaxis" + by_name["cell state c"].yaxis[1:]]
    cell = pg.unit_values(count_trace)["cell"]
    assert cell_axis.range[0] <= 0 and cell_axis.range[1] >= cell.max()
    # a weak gate keeps its 0..1 axis: the axis never follows the data
    weak = pg.run_unit(dict.fromkeys(pg.PARAMETER_NAMES, 0.0), [1.0, 0.0])
    assert tuple(pg.playground_figure(weak).layout["yaxis" + by_name["forget gate f"].yaxis[1:]].range) == (-0.05, 1.05)
    # the panels stack without overlapping
    domains = sorted(tuple(figure.layout[name].domain) for name in ("yaxis", "yaxis2", "yaxis3", "yaxis4"))
    assert all(lower[1] < upper[0] for lower, upper in zip(domains, domains[1:], strict=False))


def test_figure_colours_are_distinct_and_lines_differ_without_colour(count_trace):
    figure = pg.playground_figure(count_trace)
    lines = [trace for trace in figure.data if trace.type == "scatter" and trace.mode == "lines+markers"]
    assert len({trace.line.color for trace in lines}) == len(lines) == 6
    assert len({(trace.line.dash, trace.marker.symbol) for trace in lines}) == 6
    assert pg.COLORS == palette.LINE_COLORS  # the app's line colours, on neither colour scale


def test_figure_marks_the_selected_step_and_the_missing_forget_gate(count_trace):
    marked = pg.playground_figure(count_trace, selected_step=5)
    (shade,) = marked.layout.shapes
    assert (shade.x0, shade.x1, shade.fillcolor) == (4.5, 5.5, palette.HIGHLIGHT)
    assert "selected step" in [trace.name for trace in marked.data if trace.showlegend]  # the band in the legend
    assert pg.playground_figure(count_trace).layout.shapes == ()
    assert "selected step" not in [trace.name for trace in pg.playground_figure(count_trace).data]
    names = [trace.name for trace in pg.playground_figure(count_trace, no_forget_gate=True).data]
    assert "forget gate f = 1 (no forget gate)" in names
    for bad in (0, count_trace.length + 1):
        with pytest.raises(ValueError, match="selected_step"):
            pg.playground_figure(count_trace, selected_step=bad)
    from lstm_core import LSTM

    with pytest.raises(ValueError, match="one unit"):
        pg.playground_figure(LSTM.random(2, 3, seed=0).run(np.ones((4, 2))))


def test_describe_step_says_what_the_numbers_did():
    preset = pg.PRESETS["reset"]
    trace = pg.run_unit(preset.weights, pg.parse_sequence(preset.sequence).values)
    values = pg.unit_values(trace)
    sentences = pg.describe_step(trace, 5)
    assert sentences[0] == "Step 5 reads $x_{5} = -1$."
    assert f"f = {values['forget'][4]:.2f}" in sentences[1]
    assert f"= {values['cell'][4]:.2f}$" in sentences[3]
    assert "no forget gate" in pg.describe_step(trace, 5, no_forget_gate=True)[1]
    with pytest.raises(ValueError, match="step"):
        pg.describe_step(trace, 0)
