"""Figures and sentences of /gradients: pure functions, checked without Streamlit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_core import LSTM, RNN
from lstm_core.analysis.gradient_comparison import GradientComparison, compare_on_task
from lstm_core.analysis.gradients import GradientProfile, forget_marks
from lstm_core.models.task_model import TaskModel
from lstm_core.models.text_rnn import TextRNN
from lstm_core.models.tokenize import WordTokenizer
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


def synthetic(labels=None, length: int = 41, rnn_factor: float = 0.5, source: str = "longlag") -> GradientComparison:
    """Known curves: the RNN's gradient halves (`rnn_factor`) at every step back, the trained LSTM's loses 1%."""
    back = np.arange(length)[::-1]  # distance back of each step t
    rnn = GradientProfile(rnn_factor**back, rnn_factor**back, None)
    forget = np.full((length, 3), 0.5)
    forget[:, 1] = 0.9  # unit 1 is the most open
    forget[::4, 0] = 0.2  # unit 0 closes at every fourth step
    lstm = GradientProfile(0.99**back, 0.99**back, 0.99**back, forget_gates=forget)
    labels = labels or tuple(f"w{t}" for t in range(length))
    return GradientComparison(source, tuple(labels), "A", {("rnn", True): rnn, ("lstm", True): lstm}, length,
                              {("rnn", True): 0.25, ("lstm", True): 0.999})  # fmt: skip


def spec_of(figure) -> dict:
    return json.loads(figure.to_json())


def test_gradient_chart_draws_each_cell_on_a_log_axis_with_the_profiles_values_in_reading_order(comparison):
    figure = figures.gradient_chart(comparison, "input")
    assert figure.layout.yaxis.type == "log" and "(log scale)" in figure.layout.yaxis.title.text
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
        relative = profile.relative_by_distance("input")[::-1]  # the first word on the left
        np.testing.assert_allclose(trace.y, np.maximum(relative, figures.FLOOR).astype(np.float32), rtol=1e-6)
        np.testing.assert_allclose(trace.customdata[:, 0], np.log10(relative), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(trace.customdata[:, 1], np.arange(comparison.length)[::-1])  # words back
        np.testing.assert_array_equal(trace.x, np.arange(comparison.length))
        assert trace.y[-1] == 1.0  # the last step, relative to itself
    assert figures.CELL_COLORS["rnn"] != figures.CELL_COLORS["lstm"]
    # The words themselves on the x axis, and a reference line at 1 with its label.
    assert list(figure.layout.xaxis.ticktext) == [comparison.step_labels[t] for t in figure.layout.xaxis.tickvals]
    assert figure.layout.xaxis.tickvals[0] == 0 and len(figure.layout.yaxis.title.text) > 0
    assert any(shape.y0 == 1.0 and shape.y1 == 1.0 for shape in figure.layout.shapes)
    assert any("1 = its size at the last step" in annotation.text for annotation in figure.layout.annotations)


def test_curves_within_two_powers_of_ten_get_a_linear_axis_from_zero_with_a_zero_line():
    close = synthetic(rnn_factor=0.95)  # 0.95^40 ≈ 0.13: one power of ten
    assert not figures.uses_log_scale(close) and figures.uses_log_scale(synthetic())
    figure = figures.gradient_chart(close, "input")
    assert figure.layout.yaxis.type == "linear" and figure.layout.yaxis.range[0] == 0
    assert figure.layout.yaxis.zeroline and "log" not in figure.layout.yaxis.title.text
    np.testing.assert_allclose(figure.data[0].y, (0.95 ** np.arange(41)[::-1]).astype(np.float32), rtol=1e-6)
    assert "starts at 0" in figures.chart_caption(close) and "logarithmic" in figures.chart_caption(synthetic())


def test_forget_marks_shade_exactly_the_words_where_the_gate_is_below_the_threshold():
    comparison = synthetic()
    marks = forget_marks(comparison.profiles[("lstm", True)], units=[0])
    figure = figures.gradient_chart(comparison, "input", marks, "LSTM, trained: forget gate, unit 0")
    shaded = sorted(int(shape.x0 + 0.5) for shape in figure.layout.shapes if shape.type == "rect")
    assert shaded == list(range(0, 41, 4)) == marks.steps.tolist()  # f = 0.2 at every fourth word, 0.5 elsewhere
    assert all(shape.yref == "paper" and (shape.y0, shape.y1) == (0, 1) for shape in figure.layout.shapes
               if shape.type == "rect")  # fmt: skip
    gate = next(trace for trace in figure.data if trace.yaxis == "y2")
    np.testing.assert_allclose(gate.y, comparison.profiles[("lstm", True)].forget_gates[:, 0].astype(np.float32))
    assert gate.name == "LSTM, trained: forget gate, unit 0"
    assert figure.layout.yaxis2.range[0] == 0 and figure.layout.yaxis2.title.text == "forget gate f"
    assert any(shape.yref == "y2" and shape.y0 == 0.5 for shape in figure.layout.shapes)  # the threshold
    assert any(trace.name == "shaded: forget gate below 0.5" for trace in figure.data)
    # The most open unit never closes: nothing is shaded.
    open_marks = forget_marks(comparison.profiles[("lstm", True)], units=[1])
    assert not [shape for shape in figures.gradient_chart(comparison, "input", open_marks).layout.shapes
                if shape.type == "rect"]  # fmt: skip


def test_marks_sentences_name_the_closing_words_and_what_that_does_to_the_gradient():
    comparison = synthetic()
    marks = forget_marks(comparison.profiles[("lstm", True)], units=[0])
    first, second = figures.marks_sentences(comparison, marks, "unit 0's forget gate")
    assert first.startswith("Shaded: the 11 steps where unit 0's forget gate is below 0.5: “w0” (0.20), “w4” (0.20)")
    assert first.endswith("and 5 more.")
    kept = 0.2**10 * 0.5**30  # f of the 40 steps after the first: ten at 0.2, thirty at 0.5
    assert f"it keeps {figures.ratio_text(kept)} of its size along this path" in second
    assert "multiplied by that same small number" in second
    never = figures.marks_sentences(
        comparison, forget_marks(comparison.profiles[("lstm", True)], units=[1]), "unit 1's forget gate"
    )
    assert never == [
        "Unit 1's forget gate never drops below 0.5 here (lowest 0.90, at “w0”), so nothing is shaded: along that "
        "cell state the gradient is carried back through every step, multiplied by 0.90 or more at each."
    ]


def test_gradient_chart_sends_float32(comparison):
    spec = spec_of(figures.gradient_chart(comparison, "cell"))
    for trace in spec["data"]:
        assert trace["y"]["dtype"] == "f4" and trace["customdata"]["dtype"] == "f4"


@pytest.mark.parametrize("measure", ["input", "hidden", "cell"])
def test_each_measure_draws_its_own_norms(comparison, measure):
    figure = figures.gradient_chart(comparison, measure)
    lstm = comparison.profiles[("lstm", True)]
    expected = {"input": lstm.input_norms, "hidden": lstm.hidden_norms, "cell": lstm.cell_norms}[measure]
    np.testing.assert_allclose(figure.data[3].y, (expected / expected[-1]).astype(np.float32), rtol=1e-5)
    rnn = comparison.profiles[("rnn", True)]  # a plain RNN's memory is its hidden state
    expected = rnn.input_norms if measure == "input" else rnn.hidden_norms
    np.testing.assert_allclose(
        figure.data[1].y, np.maximum(expected / expected[-1], figures.FLOOR).astype(np.float32), rtol=1e-5
    )
    assert "∂" in figure.layout.yaxis.title.text


def test_values_below_the_floor_are_drawn_on_it_with_a_line_and_their_true_size_on_hover():
    comparison = compare_on_task({}, lag=300, seed=0)  # an untrained RNN goes far below 10^-30
    figure = figures.gradient_chart(comparison, "input")
    rnn = figure.data[0]
    assert np.nanmin(rnn.y) == np.float32(figures.FLOOR)
    assert np.nanmin(rnn.customdata[:, 0]) < -30  # the hover still says how small it really is
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
        np.testing.assert_allclose(trace.z, forget[:, order].T.astype(np.float32))  # words in reading order
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
        "LSTM, trained: mean forget gate 0.61. Along the cell state of its most open unit (1, mean f = 0.900) "
        "the forget gates of the 40 steps multiply to 0.015: that much of the gradient this path carries back to "
        "the first step."
    ]  # 0.9^40 ≈ 0.0148; the mean: (0.5 and 0.2 in unit 0, 0.9, 0.5) ≈ 0.61


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


def test_the_fair_pair_is_the_trained_cells_unless_asked_or_one_is_missing(comparison):
    assert list(figures.cells_to_show(comparison).profiles) == [("rnn", True), ("lstm", True)]
    assert list(figures.cells_to_show(comparison).target_probabilities) == [("rnn", True), ("lstm", True)]
    assert figures.cells_to_show(comparison, with_untrained=True) is comparison
    lstm_only = comparison.with_cells([("rnn", False), ("lstm", False), ("lstm", True)])
    assert figures.cells_to_show(lstm_only) is lstm_only  # no trained RNN: the untrained one stands in
    assert figures.marked_lstm(comparison) == ("lstm", True)
    assert figures.marked_lstm(comparison.with_cells([("rnn", True), ("lstm", False)])) == ("lstm", False)
    with pytest.raises(ValueError, match="no LSTM"):
        figures.marked_lstm(comparison.with_cells([("rnn", True)]))
    assert figures.marks_names([41]) == ("unit 41", "unit 41's forget gate")
    assert figures.marks_names([]) == ("the mean of all units", "the mean forget gate of all units")


def test_gap_accuracy_chart_and_sentence_show_each_cells_numbers():
    rows = {
        ("rnn", True): [{"clauses": 1, "gap": 12.0, "accuracy": 1.0, "count": 200},
                        {"clauses": 32, "gap": 159.4, "accuracy": 0.6, "count": 200}],
        ("lstm", True): [{"clauses": 1, "gap": 12.0, "accuracy": 1.0, "count": 200},
                         {"clauses": 32, "gap": 159.4, "accuracy": 0.96, "count": 200}],
    }  # fmt: skip
    figure = figures.gap_accuracy_chart(rows)
    assert [trace.name for trace in figure.data] == ["RNN, trained", "LSTM, trained"]
    np.testing.assert_allclose(figure.data[0].y, [1.0, 0.6])
    np.testing.assert_allclose(figure.data[1].x, [12.0, 159.4], rtol=1e-6)
    assert list(figure.data[1].text) == ["100%", "96%"]  # the values, without hovering
    assert figure.layout.yaxis.range[0] == 0 and figure.layout.yaxis.zeroline
    assert any(shape.y0 == 0.5 for shape in figure.layout.shapes)  # chance
    assert figures.gap_accuracy_sentence(rows) == (
        "Right pronoun, out of 200 held-out prompts per gap (chance is 50%): RNN, trained 100% after about 12 "
        "words, 60% after about 159; LSTM, trained 100% after about 12 words, 96% after about 159."
    )


def test_text_models_note_says_what_each_cell_was_trained_on():
    rnn = TextRNN(WordTokenizer(["<unk>", "a"]), np.zeros((2, 3)), RNN.random(3, 3, seed=0), np.zeros(2),
                  {"config": {"steps": 6000, "batch_size": 64}})  # fmt: skip
    note = figures.text_models_note(128, rnn, seed=4)
    assert "word model's own (128 units)" in note and "for the same 6,000 steps of 64 stories" in note
    assert "only the cell differs" in note and "seed 4" in note
    assert "No RNN trained on the stories is installed" in figures.text_models_note(128, None, seed=0)


def test_reach_sentences_set_the_gradient_at_the_name_beside_the_rnns_accuracy():
    labels = ("bob", "is", "nice", ".", "mary", "said", *[f"w{t}" for t in range(34)], "later", ",")
    comparison = synthetic(labels, length=42, source="text")
    # The name "mary" is 37 words back: 0.5^37 ≈ 7.3e-12 in the RNN, 0.99^37 ≈ 0.69 in the LSTM.
    rows = {
        ("rnn", True): [{"gap": 12.0, "accuracy": 1.0, "count": 200}, {"gap": 159.4, "accuracy": 0.92, "count": 200}]
    }
    distances = {"median": 6, "longest": 20, "pronouns": 5260}
    first, second = figures.reach_sentences(comparison, "input", rows, distances)
    assert first == (
        "At “mary”, the last name, 37 words back: the gradient is 10⁻¹¹ of its size at the last word in the trained "
        "RNN and 0.69 in the trained LSTM (10¹¹ times more reaches the name in the LSTM)."
    )
    assert second.startswith("Yet the trained RNN still says the right pronoun 92% of the time after about 159 words.")
    assert "at most 20 words after the last word that gave the gender" in second and "median 6, over 5,260" in second
    rows[("rnn", True)][-1]["accuracy"] = 0.55
    assert figures.reach_sentences(comparison, "input", rows, distances)[1] == (
        "And the trained RNN loses the gender as the gap grows: 55% right after about 159 words."
    )
    assert len(figures.reach_sentences(comparison, "input")) == 1  # without the scores: the gradient alone
    assert figures.reach_sentences(synthetic(tuple(f"w{t}" for t in range(41)), source="text")) == []  # no name
    assert figures.reach_sentences(comparison.with_cells([("lstm", True)])) == []  # no trained RNN to compare


def test_reach_sentences_on_a_long_lag_sequence_say_when_the_lstm_lets_only_the_first_symbol_in():
    back = np.arange(41)[::-1]
    lstm = 1e-3 * np.ones(41)
    lstm[0], lstm[-1] = 0.05, 1.0  # small on the distractors, large at the first symbol
    profiles = {("rnn", True): GradientProfile(0.5**back, 0.5**back, None),
                ("lstm", True): GradientProfile(lstm, lstm, lstm, forget_gates=np.full((41, 2), 0.99))}  # fmt: skip
    comparison = GradientComparison("longlag", tuple("A" + "w" * 40), "A", profiles, 41)
    assert figures.reach_sentences(comparison, "input") == [
        "The trained LSTM's gradient is larger at the first step (0.05) than 20 steps back (10⁻³): it learned to "
        "shut the distractors out and to let the first symbol in, the one it must remember."
    ]
    assert figures.reach_sentences(comparison, "cell") == []
