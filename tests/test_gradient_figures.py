"""Figures and sentences of /gradients: pure functions, checked without Streamlit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_core import LSTM, RNN
from lstm_core.analysis.gradient_comparison import GradientComparison, compare_on_task
from lstm_core.analysis.gradients import GradientProfile
from lstm_core.models.task_model import TaskModel
from ui import gradient_figures as figures


def task_model(kind: str, seed: int, forget_bias: float = 0.0) -> TaskModel:
    """A stand-in for a trained long-lag model: random weights, an LSTM's forget gate opened by its bias."""
    if kind == "rnn":
        cell = RNN.random(8, 6, seed=seed)
    else:
        params = LSTM.random(8, 6, seed=seed).state_dict()
        params["bias_ih_l0"][6:12] = forget_bias
        cell = LSTM.from_state_dict(params)
    rng = np.random.default_rng(seed)
    return TaskModel(cell, rng.normal(size=(4, 6)), rng.normal(size=4), "remember_first", lag=20)


@pytest.fixture(scope="module")
def comparison() -> GradientComparison:
    trained = {"rnn": task_model("rnn", 1), "lstm": task_model("lstm", 2, forget_bias=6.0)}
    return compare_on_task(trained, lag=50, seed=3)


def synthetic(labels=None, length: int = 41) -> GradientComparison:
    """Known curves: the RNN's gradient halves at every step back, the trained LSTM's loses 1%."""
    back = np.arange(length)[::-1]  # distance back of each step t
    rnn = GradientProfile(0.5**back, 0.5**back, None)
    forget = np.full((length, 3), 0.5)
    forget[:, 1] = 0.9  # unit 1 is the most open
    lstm = GradientProfile(0.99**back, 0.99**back, 0.99**back, forget_gates=forget)
    labels = labels or tuple(f"w{t}" for t in range(length))
    return GradientComparison("longlag", tuple(labels), "A", {("rnn", True): rnn, ("lstm", True): lstm}, length,
                              {("rnn", True): 0.25, ("lstm", True): 0.999})  # fmt: skip


def spec_of(figure) -> dict:
    return json.loads(figure.to_json())


def test_gradient_chart_draws_each_cell_on_a_log_axis_with_the_profiles_values(comparison):
    figure = figures.gradient_chart(comparison, "input")
    assert figure.layout.yaxis.type == "log"
    assert [trace.name for trace in figure.data] == [
        "RNN, untrained",
        "RNN, trained",
        "LSTM, untrained",
        "LSTM, trained",
    ]
    for trace, (key, profile) in zip(figure.data, comparison.profiles.items(), strict=True):
        kind, trained = key
        assert trace.line.color == figures.CELL_COLORS[kind]
        assert trace.line.dash == ("solid" if trained else "dash")
        relative = profile.relative_by_distance("input")
        np.testing.assert_allclose(trace.y, np.maximum(relative, figures.FLOOR).astype(np.float32), rtol=1e-6)
        np.testing.assert_allclose(trace.customdata, np.log10(relative), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(trace.x, np.arange(comparison.length))
        assert trace.y[0] == 1.0  # the last step, relative to itself
    assert figures.CELL_COLORS["rnn"] != figures.CELL_COLORS["lstm"]


def test_gradient_chart_sends_float32(comparison):
    spec = spec_of(figures.gradient_chart(comparison, "cell"))
    for trace in spec["data"]:
        assert trace["y"]["dtype"] == "f4" and trace["customdata"]["dtype"] == "f4"


@pytest.mark.parametrize("measure", ["input", "hidden", "cell"])
def test_each_measure_draws_its_own_norms(comparison, measure):
    figure = figures.gradient_chart(comparison, measure)
    lstm = comparison.profiles[("lstm", True)]
    expected = {"input": lstm.input_norms, "hidden": lstm.hidden_norms, "cell": lstm.cell_norms}[measure]
    np.testing.assert_allclose(figure.data[3].y, (expected[::-1] / expected[-1]).astype(np.float32), rtol=1e-5)
    rnn = comparison.profiles[("rnn", True)]  # a plain RNN's memory is its hidden state
    expected = rnn.input_norms if measure == "input" else rnn.hidden_norms
    np.testing.assert_allclose(
        figure.data[1].y, np.maximum(expected[::-1] / expected[-1], figures.FLOOR).astype(np.float32), rtol=1e-5
    )
    assert "∂" in figure.layout.yaxis.title.text


def test_values_below_the_floor_are_drawn_on_it_with_a_line_and_their_true_size_on_hover():
    comparison = compare_on_task({}, lag=300, seed=0)  # an untrained RNN goes far below 10^-30
    figure = figures.gradient_chart(comparison, "input")
    rnn = figure.data[0]
    assert np.nanmin(rnn.y) == np.float32(figures.FLOOR)
    assert np.nanmin(rnn.customdata) < -30  # the hover still says how small it really is
    assert any(shape.y0 == figures.FLOOR for shape in figure.layout.shapes)
    assert figure.layout.yaxis.range[0] >= np.log10(figures.FLOOR) - 1


def test_user_words_are_escaped_in_the_figures():
    hostile = ("<script>alert(1)</script>", "<b>bob</b>", *[f"w{t}" for t in range(39)])
    text = json.dumps(spec_of(figures.gradient_chart(synthetic(hostile), "input")))
    assert "<script>" not in text and "<b>bob" not in text
    assert "&lt;script&gt;" in text


def test_forget_gate_chart_shows_each_lstm_sorted_most_open_first(comparison):
    figure = figures.forget_gate_chart(comparison)
    assert [trace.type for trace in figure.data] == ["heatmap", "heatmap"]  # untrained, trained LSTM
    for trace, key in zip(figure.data, [("lstm", False), ("lstm", True)], strict=True):
        forget = comparison.profiles[key].forget_gates
        order = np.argsort(-forget.mean(axis=0), kind="stable")
        np.testing.assert_allclose(trace.z, forget[::-1, order].T.astype(np.float32))
        assert list(trace.y) == [f"unit {unit}" for unit in order]
        assert (trace.zmin, trace.zmax) == (0, 1)
    assert spec_of(figure)["data"][0]["z"]["dtype"] == "f4"
    # The open forget gate of the stand-in trained LSTM reads near 1, the untrained one's near 0.5.
    assert figure.data[1].z.mean() > 0.95 and 0.4 < figure.data[0].z.mean() < 0.6
    rnn_only = GradientComparison(
        "longlag", ("A", "w"), "A", {("rnn", False): GradientProfile(np.ones(2), np.ones(2), None)}, 2
    )
    with pytest.raises(ValueError, match="no LSTM"):
        figures.forget_gate_chart(rnn_only)


def test_sentences_are_made_from_the_numbers():
    sentences = figures.summary_sentences(synthetic(), "input")
    # 0.5^30 ≈ 9.3e-10 and 0.99^30 ≈ 0.74; 0.5^40 ≈ 9.1e-13 and 0.99^40 ≈ 0.67.
    assert sentences[0] == (
        "After 30 steps back, the gradient is 10⁻⁹ of its size at the last step in the trained RNN, "
        "but 0.74 in the trained LSTM."
    )
    assert sentences[1] == (
        "At the first step, “w0”, 40 steps back, the gradient is 10⁻¹² of its size at the last step in the "
        "trained RNN, but 0.67 in the trained LSTM."
    )
    assert sentences[2] == (
        "From 10 steps back to the first step, each step back multiplies the gradient by 0.50 (RNN, trained), "
        "0.99 (LSTM, trained): below 1 it keeps shrinking, near 1 it is carried back whole."
    )


def test_sentences_follow_the_real_profiles(comparison):
    sentences = figures.summary_sentences(comparison, "cell")
    lstm = comparison.profiles[("lstm", True)].relative_by_distance("cell")
    rnn = comparison.profiles[("rnn", True)].relative_by_distance("cell")
    assert f"is {figures.ratio_text(rnn[30])} of its size" in sentences[0]
    assert figures.ratio_text(lstm[30]) in sentences[0]
    assert "(RNN, untrained: " in sentences[0] and "LSTM, untrained: " in sentences[0]
    assert sentences[1].startswith(f"At the first step, “{comparison.step_labels[0]}”, 50 steps back")


def test_short_sequences_get_one_sentence_per_distance_and_a_single_step_none():
    short = synthetic(length=12)
    sentences = figures.summary_sentences(short, "input")
    assert len(sentences) == 2 and sentences[0].startswith("At the first step, “w0”, 11 steps back")
    assert "only one step" in figures.summary_sentences(synthetic(length=1), "input")[0]


def test_forget_sentences_multiply_the_most_open_units_gates():
    sentences = figures.forget_sentences(synthetic())
    assert sentences == [
        "LSTM, trained: mean forget gate 0.63. Along the cell state of its most open unit (1, mean f = 0.900) "
        "the forget gates of the 40 steps multiply to 0.015: that much of the gradient this path carries back to "
        "the first step."
    ]  # 0.9^40 ≈ 0.0148


def test_probability_sentence_and_notes():
    assert figures.probability_sentence(synthetic()) == (
        "The probability each cell gives to the right answer, “A”: RNN, trained 25%, LSTM, trained over 99%."
    )
    trained = {"rnn": task_model("rnn", 1), "lstm": task_model("lstm", 2)}
    for kind, score in (("rnn", 0.26), ("lstm", 1.0)):
        trained[kind].metrics.update(validation_score=score, chance=0.25, config={"steps": 800, "noise": 0.3})
    note = figures.task_models_note(trained, seed=7)
    assert "with a 20-step lag and noise σ = 0.3 for 800 steps" in note and "RNN 26%, LSTM 100% (chance: 25%)" in note
    assert "seed 7" in note
    assert "both cells here are untrained" in figures.task_models_note({}, seed=0)


@pytest.mark.parametrize(
    ("value", "text", "phrase"),
    [
        (9.3e-10, "10⁻⁹", "10⁻⁹ of its size at the last step"),
        (0.0148, "0.015", "0.015 of its size at the last step"),
        (1.06, "1.1", "1.1 times its size at the last step"),
        (0.999, "1.0", "1.0 times its size at the last step"),
        (0.45, "0.45", "0.45 of its size at the last step"),
        (1.001, "1.0", "1.0 times its size at the last step"),
        (20.4, "20", "20 times its size at the last step"),
        (3e5, "10⁵", "10⁵ times its size at the last step"),
        (0.0, "0", "zero: smaller than the computer can hold"),
        (float("nan"), "undefined", "undefined (its gradient at the last step is zero)"),
    ],
)
def test_ratio_text(value, text, phrase):
    assert figures.ratio_text(value) == text
    assert figures.size_phrase(value) == phrase


def test_sequence_preview():
    assert figures.sequence_preview(list("abc")) == "a b c"
    assert figures.sequence_preview(list("abcdefghijklmnop")) == "a b c d e f g h … (5 more) … n o p"
