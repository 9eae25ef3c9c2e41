"""Switching units off: the held-cell run against the plain cell stepped by hand, the unit means, the
before/after comparison, its figures and sentence, and the word picker."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from lstm_core import GATE_NAMES, LSTM
from lstm_core.analysis import ablation as core
from lstm_core.cell import cell_weights, lstm_cell_step
from lstm_core.data import corpus
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer, WordTokenizer
from tests.fake_models import fake_language_model
from tests.lstm_configs import LSTM_CONFIGS
from ui import ablation, palette
from ui.next_tokens import NextTokens

TEXT = "Mary is a nice person. Dan, on the other hand, is evil."


def small_model(num_layers: int = 2, bidirectional: bool = True, kind: str = "words", seed: int = 0) -> LanguageModel:
    """A random-weight model with several layers and both directions, in float64 so that the fast run and
    the reference agree to rounding."""
    tokenizer = WordTokenizer([UNKNOWN_TOKEN, *corpus.vocabulary()]) if kind == "words" else CharTokenizer()
    lstm = LSTM.random(12, 6, num_layers=num_layers, bidirectional=bidirectional, seed=seed, scale=1.5,
                       dtype=np.float64)  # fmt: skip
    rng = np.random.default_rng(seed)
    vocab_size = len(tokenizer.vocab)
    return LanguageModel(
        name=f"small {kind}", tokenizer=tokenizer, embedding=rng.normal(size=(vocab_size, 12)), lstm=lstm,
        decoder_weight=rng.normal(size=(vocab_size, lstm.num_directions * 6)), decoder_bias=rng.normal(size=vocab_size),
    )  # fmt: skip


def held_reference(lstm: LSTM, x: np.ndarray, held: dict[tuple[int, int, int], float]) -> dict[str, np.ndarray]:
    """Every gate, "cell" and "hidden" as (L, D, T, H), stepping `lstm_cell_step` one token at a time
    and, after each step, setting each held unit's cell to its value and its hidden state to
    o · tanh(value)."""
    L, D, H, T = lstm.num_layers, lstm.num_directions, lstm.hidden_size, len(x)
    values = {name: np.zeros((L, D, T, H), dtype=lstm.dtype) for name in (*GATE_NAMES, "cell", "hidden")}
    layer_input = x
    for layer in range(L):
        for d in range(D):
            weights = cell_weights(lstm, layer, d)
            h, c = np.zeros(H, dtype=lstm.dtype), np.zeros(H, dtype=lstm.dtype)
            for t in reversed(range(T)) if d == 1 else range(T):
                step = lstm_cell_step(layer_input[t], h, c, weights)
                c, h = step.c.copy(), step.h.copy()
                for (held_layer, held_direction, unit), value in held.items():
                    if (held_layer, held_direction) == (layer, d):
                        c[unit] = value
                        h[unit] = step.o[unit] * np.tanh(value)
                for name, gate in step.gates.items():
                    values[name][layer, d, t] = gate
                values["cell"][layer, d, t], values["hidden"][layer, d, t] = c, h
        layer_input = np.concatenate([values["hidden"][layer, d] for d in range(D)], axis=1)  # (T, D * H)
    return values


# ---------------------------------------------------------------------------------- the core
@pytest.mark.parametrize("seed, config", list(enumerate(LSTM_CONFIGS)), ids=str)
def test_held_cells_match_the_plain_cell_stepped_by_hand(seed, config):
    E, H, L, bidirectional, bias, scale, T = config
    D = 2 if bidirectional else 1
    lstm = LSTM.random(E, H, L, bidirectional, bias, scale=scale, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(200 + seed)
    x = (2 * rng.normal(size=(T, E))).astype(np.float64)
    held = {(int(rng.integers(L)), int(rng.integers(D)), int(rng.integers(H))): 0.0}
    held[(L - 1, D - 1, H - 1)] = float(rng.normal())  # a second unit, held at some other value
    held_cells = np.full((L, D, H), np.nan)
    for (layer, d, unit), value in held.items():
        held_cells[layer, d, unit] = value
    trace = lstm.run(x, held_cells=held_cells)
    expected = held_reference(lstm, x, held)
    for name in GATE_NAMES:
        np.testing.assert_allclose(trace.gates[name], expected[name], rtol=1e-11, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(trace.cell, expected["cell"], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(trace.hidden, expected["hidden"], rtol=1e-11, atol=1e-12)
    for (layer, d, unit), value in held.items():
        assert np.all(trace.cell[layer, d, :, unit] == value)


def test_ablated_trace_is_the_language_model_run_with_the_unit_held():
    model = small_model()
    units = [(0, 1, 2), (1, 0, 4)]
    trace = core.ablated_trace(model, TEXT, units)
    expected = held_reference(model.lstm, model.input_vectors(TEXT), dict.fromkeys(units, 0.0))
    np.testing.assert_allclose(trace.cell, expected["cell"], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(trace.hidden, expected["hidden"], rtol=1e-11, atol=1e-12)
    assert trace.tokens == tuple(model.tokens(TEXT))
    for layer, direction, unit in units:
        assert not trace.hidden[layer, direction, :, unit].any()  # held at 0: o · tanh(0) = 0
    # the layer above and the decoder read the changed state
    normal = model.trace(TEXT)
    assert not np.allclose(trace.output, normal.output)
    assert not np.allclose(model.next_token_probs(trace), model.next_token_probs(normal))


def test_no_units_switched_off_is_the_normal_trace():
    for model in (small_model(), fake_language_model("words"), fake_language_model("chars")):
        trace, normal = core.ablated_trace(model, TEXT, []), model.trace(TEXT)
        assert trace.held_cells is None
        np.testing.assert_array_equal(trace.record, normal.record)
        np.testing.assert_array_equal(trace.hidden_buffer, normal.hidden_buffer)
        assert trace.tokens == normal.tokens


@pytest.mark.parametrize(
    ("unit", "named"),
    [((0, 0, 6), "unit 6"), ((2, 0, 0), "layer 2"), ((0, 2, 1), "direction 2"), ((0, 0, -1), "unit -1")],
)
def test_a_unit_that_does_not_exist_raises_naming_it(unit, named):
    with pytest.raises(ValueError, match=named):
        core.ablated_trace(small_model(), TEXT, [unit])


@pytest.mark.parametrize("units", [[(0, 0)], [(0, 0, 1.5)], [(0, 0, True)], "0, 0, 1", 5])
def test_units_that_are_not_three_whole_numbers_raise(units):
    with pytest.raises(ValueError, match="layer, direction, unit"):
        core.ablated_trace(small_model(), TEXT, units)


def test_an_unknown_mode_raises():
    with pytest.raises(ValueError, match="mode"):
        core.ablated_trace(small_model(), TEXT, [(0, 0, 1)], mode="half")


def test_mean_mode_holds_each_unit_at_its_mean_over_the_reference_texts():
    model = small_model()
    texts = ["Bob is nice.", "Mary met Dan at the park. She likes tea.", "He is evil."]
    means = core.unit_mean_cells(model, texts)
    cells = np.concatenate([model.trace(text).cell for text in texts], axis=2)  # (L, D, all tokens, H)
    np.testing.assert_allclose(means, cells.mean(axis=2), rtol=1e-12)
    reference = core.unit_mean_cells(model)
    assert reference is core.unit_mean_cells(model)  # computed once per model
    assert reference.shape == (2, 2, 6) and not reference.flags.writeable
    units = [(1, 1, 3), (0, 0, 5)]
    trace = core.ablated_trace(model, TEXT, units, mode="mean")
    expected = held_reference(model.lstm, model.input_vectors(TEXT), {unit: reference[unit] for unit in units})
    np.testing.assert_allclose(trace.cell, expected["cell"], rtol=1e-11, atol=1e-12)
    for unit in units:
        assert np.all(trace.cell[unit[0], unit[1], :, unit[2]] == reference[unit])
    assert reference[1, 1, 3] != 0


def test_reference_texts_are_the_story_world_with_both_genders():
    texts = core.reference_texts()
    assert len(texts) == 2 * core.REFERENCE_STORIES
    assert texts == core.reference_texts()  # the same every time
    words = {word for text in texts for word in text.lower().split()}
    assert {"he", "she"} <= words


def test_step_of_an_ablated_trace_shows_the_held_unit():
    model = small_model()
    trace = core.ablated_trace(model, TEXT, [(1, 1, 2)], mode="mean")
    for t in (0, 5, trace.length - 1):
        for layer, direction in ((0, 0), (1, 1)):
            step = trace.step(t, layer, direction)
            np.testing.assert_allclose(step.cell, trace.cell[layer, direction, t], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(step.hidden, trace.hidden[layer, direction, t], rtol=1e-12, atol=1e-12)


def test_backward_refuses_a_trace_with_held_cells():
    model = small_model(num_layers=1, bidirectional=False)
    trace = core.ablated_trace(model, TEXT, [(0, 0, 1)])
    with pytest.raises(ValueError, match="held"):
        model.lstm.backward(trace)


@pytest.mark.parametrize(
    ("held", "message"),
    [(np.zeros((1, 1, 5)), "shape"), (np.full((1, 1, 6), np.inf), "finite")],
)
def test_run_checks_its_held_cells(held, message):
    lstm = LSTM.random(3, 6, seed=0)
    with pytest.raises(ValueError, match=message):
        lstm.run(np.ones((4, 3)), held_cells=held)


def test_run_with_every_unit_free_is_the_normal_run():
    lstm = LSTM.random(3, 6, seed=0)
    x = np.random.default_rng(0).normal(size=(9, 3))
    free = lstm.run(x, held_cells=np.full((1, 1, 6), np.nan))
    assert free.held_cells is None
    np.testing.assert_array_equal(free.record, lstm.run(x).record)


def test_the_shipped_gender_unit_moves_p_he(models):
    model = models["words"]
    gender = model.units["subject gender"]
    unit = (gender.layer, gender.direction, gender.unit)
    he = model.tokenizer.token_to_id["he"]
    before = model.next_token_probs(model.trace(TEXT))[-1, he]
    after = model.next_token_probs(core.ablated_trace(model, TEXT, [unit]))[-1, he]
    assert before > 0.5 and abs(after - before) > 0.05


# ------------------------------------------------------------------------- the comparison
def test_effect_holds_p_word_before_and_after_at_every_token():
    model = small_model()
    unit = (1, 0, 3)
    effect = ablation.ablation_effect(model, TEXT, unit, words=("he", "she", "."), mode="mean")
    ids = [model.tokenizer.token_to_id[word] for word in ("he", "she", ".")]
    before = model.next_token_probs(model.trace(TEXT))[:, ids]
    after = model.next_token_probs(core.ablated_trace(model, TEXT, [unit], mode="mean"))[:, ids]
    np.testing.assert_allclose(effect.before, before, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(effect.after, after, rtol=1e-5, atol=1e-7)
    assert effect.tokens == tuple(model.tokens(TEXT)) and effect.words == ("he", "she", ".")
    assert effect.unit == unit and effect.mode == "mean" and effect.kind == "words"
    assert effect.held_value == pytest.approx(core.unit_mean_cells(model)[unit])
    assert effect.unit_name is None


def test_effect_defaults_to_he_and_she_for_a_word_model_and_no_words_for_characters():
    words_model, chars_model = fake_language_model("words"), fake_language_model("chars")
    assert ablation.ablation_effect(words_model, TEXT, (0, 0, 5)).words == ("he", "she")
    effect = ablation.ablation_effect(chars_model, TEXT, (0, 0, 5))
    assert effect.words == () and effect.before.shape == (len(TEXT), 0)
    assert effect.unit_name == "subject gender"  # the fake models name unit 5
    with pytest.raises(ValueError, match="cannot predict 'he'"):
        ablation.ablation_effect(chars_model, TEXT, (0, 0, 5), words=("he",))


def test_top_choices_are_the_likeliest_before_and_after_with_both_probabilities():
    model = fake_language_model("chars")
    effect = ablation.ablation_effect(model, TEXT, (0, 0, 5))
    before = model.next_token_probs(model.trace(TEXT))
    after = model.next_token_probs(core.ablated_trace(model, TEXT, [(0, 0, 5)]))
    t = 10
    choices = effect.top_choices(t)
    expected = set(np.argsort(-before[t])[:5]) | set(np.argsort(-after[t])[:5])
    assert {model.vocab.index(token) for token, _, _ in choices} == expected
    for token, p_before, p_after in choices:
        index = model.vocab.index(token)
        assert p_before == pytest.approx(before[t, index], rel=1e-5)
        assert p_after == pytest.approx(after[t, index], rel=1e-5)
    assert [choice[1] for choice in choices] == sorted((choice[1] for choice in choices), reverse=True)


def test_compare_next_tokens_checks_the_lengths():
    model = fake_language_model("words")
    before = NextTokens.from_trace(model, model.trace(TEXT))
    after = NextTokens.from_trace(model, model.trace("Bob is nice."))
    with pytest.raises(ValueError, match="tokens"):
        ablation.compare_next_tokens(model, model.tokens(TEXT), before, after, (0, 0, 1))


# ----------------------------------------------------------------------------- the sentence
def numbers_in(sentence: str) -> list[str]:
    return re.findall(r"under 0\.0001|-?\d+\.\d+", sentence)


@pytest.mark.parametrize("t", [None, 0, 4, -2])
def test_the_sentence_states_the_numbers_of_the_effect(t):
    model = fake_language_model("words", seed=3)
    effect = ablation.ablation_effect(model, TEXT, (0, 0, 5), words=("he", "she", "is"))
    index = effect.token_index(t)
    sentence = ablation.ablation_sentence(effect, t)
    expected = []
    for column in range(3):
        expected += [ablation.probability_text(effect.before[index, column]),
                     ablation.probability_text(effect.after[index, column])]  # fmt: skip
    assert numbers_in(sentence) == expected, sentence
    assert sentence.startswith("With unit 5 (subject gender) switched off (its cell state held at 0), P(he) after “")
    assert "P(she) from" in sentence and " and P(is) from" in sentence and sentence.endswith(".")
    assert f"{effect.tokens[index]}”" in sentence


def test_the_sentence_names_the_mean_it_held_the_unit_at():
    model = small_model()
    effect = ablation.ablation_effect(model, TEXT, (1, 1, 3), mode="mean")
    sentence = ablation.ablation_sentence(effect)
    assert f"held at its mean, {effect.held_value:.2f}" in sentence
    assert sentence.startswith("With unit 3 (layer 1, backward) switched off")


def test_the_sentence_without_words_names_the_likeliest_next_token():
    model = fake_language_model("chars")
    effect = ablation.ablation_effect(model, TEXT, (0, 0, 5))
    for t in range(effect.length):
        sentence = ablation.ablation_sentence(effect, t)
        choices = effect.top_choices(t)
        first_before = max(choices, key=lambda choice: choice[1])
        first_after = max(choices, key=lambda choice: choice[2])
        assert numbers_in(sentence)[-2:] == [ablation.probability_text(first_before[1]),
                                             ablation.probability_text(first_after[2])], sentence  # fmt: skip
        verb = "stays" if first_before[0] == first_after[0] else "changes from"
        assert "the likeliest next character after “" in sentence and verb in sentence


def test_probability_text():
    assert [ablation.probability_text(p) for p in (1.0, 0.8249, 0.01, 0.00999, 0.0001, 0.00009, 0.0)] == [
        "1.00", "0.82", "0.01", "0.0100", "0.0001", "under 0.0001", "0.00",
    ]  # fmt: skip


# ------------------------------------------------------------------------------ the figures
def test_ablation_figure_draws_before_and_after_with_the_numbers_on_the_bars():
    model = fake_language_model("words", seed=1)
    effect = ablation.ablation_effect(model, TEXT, (0, 0, 5))
    figure = ablation.ablation_figure(effect, 3).to_plotly_json()
    before, after = figure["data"]
    assert list(before["x"]) == ["P(he)", "P(she)"] == list(after["x"])
    np.testing.assert_allclose(before["y"], effect.before[3])
    np.testing.assert_allclose(after["y"], effect.after[3])
    assert list(after["text"]) == [ablation.probability_text(p) for p in effect.after[3]]
    assert before["marker"]["color"] != after["marker"]["color"]
    assert figure["layout"]["yaxis"]["range"] == [0, 1.1]
    title = figure["layout"]["title"]["text"]
    assert "(token 3)" in title and "striped: unit 5 switched off" in title
    assert after["marker"]["pattern"]["shape"] and "pattern" not in before["marker"]  # the stripes mean "off"
    last = ablation.ablation_figure(effect).to_plotly_json()
    np.testing.assert_allclose(last["data"][0]["y"], effect.before[-1])


def test_ablation_figure_without_words_draws_the_top_choices():
    model = fake_language_model("chars")
    effect = ablation.ablation_effect(model, TEXT, (0, 0, 5))
    figure = ablation.ablation_figure(effect, 7).to_plotly_json()
    choices = effect.top_choices(7)
    assert len(figure["data"][0]["x"]) == len(choices) >= 5
    np.testing.assert_allclose(figure["data"][1]["y"], [choice[2] for choice in choices])
    assert "Next character after" in figure["layout"]["title"]["text"]


def test_figures_escape_what_a_model_or_text_can_carry():
    tokenizer = WordTokenizer([UNKNOWN_TOKEN, "<b>bob</b>", "is", "."])
    lstm = LSTM.random(4, 3, seed=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    model = LanguageModel("odd", tokenizer, rng.normal(size=(4, 4)), lstm, rng.normal(size=(4, 3)), np.zeros(4))
    effect = ablation.compare_next_tokens(
        model, ["<b>bob</b>", "is"],
        NextTokens.from_trace(model, lstm.run(rng.normal(size=(2, 4)))),
        NextTokens.from_trace(model, lstm.run(rng.normal(size=(2, 4)))), (0, 0, 1), words=["<b>bob</b>"],
    )  # fmt: skip
    spec = str(ablation.ablation_figure(effect, 0).to_plotly_json())
    assert "<b>bob" not in spec and "&lt;b&gt;bob" in spec
    lines = ablation.word_probability_figure(["<b>bob</b>", "is"], {"<b>bob</b>": np.array([0.1, 0.2])})
    assert "<b>bob" not in str(lines.to_plotly_json())


def test_word_probability_figure_draws_each_word_and_its_after_line():
    tokens = ["mary", "is", "nice", ".", "dan", "is", "evil", "."]
    he, she = np.linspace(0, 0.8, 8), np.linspace(0.5, 0.1, 8)
    figure = ablation.word_probability_figure(tokens, {"he": he, "she": she}, 6, after={"he": he / 2},
                                              after_label="unit 41 off", start=2, stop=8)  # fmt: skip
    assert [line.name for line in figure.data] == ["P(he)", "P(he), unit 41 off", "P(she)", "selected token"]
    np.testing.assert_array_equal(figure.data[0].x, np.arange(2, 8))
    np.testing.assert_allclose(figure.data[0].y, he[2:8])
    np.testing.assert_allclose(figure.data[1].y, he[2:8] / 2)
    assert figure.data[1].line.dash == palette.SWITCHED_OFF_DASH and figure.data[0].line.dash is None
    assert figure.data[0].line.color == figure.data[1].line.color != figure.data[2].line.color
    assert list(figure.layout.xaxis.ticktext) == tokens[2:8]
    assert tuple(figure.layout.yaxis.tickvals) == (0, 0.25, 0.5, 0.75, 1)
    assert figure.layout.yaxis.range[0] <= 0 and figure.layout.yaxis.range[1] >= 1
    (band,) = figure.layout.shapes  # the selected token, shaded light blue
    assert (band.x0, band.x1, band.fillcolor) == (5.5, 6.5, palette.HIGHLIGHT)
    outside = ablation.word_probability_figure(tokens, {"he": he}, 0, start=2)
    assert not outside.layout.shapes and [line.name for line in outside.data] == ["P(he)"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"probabilities": {"he": np.zeros(3)}}, "one value per token"), ({"start": 5, "stop": 3}, "window"),
     ({"after": {"he": np.zeros(9)}}, "one value per token"), ({"stop": 99}, "window")],
)  # fmt: skip
def test_word_probability_figure_checks_its_arguments(arguments, message):
    tokens = ["bob", "is", "nice", "."]
    with pytest.raises(ValueError, match=message):
        ablation.word_probability_figure(tokens, **{"probabilities": {"he": np.zeros(4)}, **arguments})


# ---------------------------------------------------------------------------- the word picker
@pytest.mark.parametrize(
    ("typed", "words", "notice"),
    [
        (None, ("he", "she"), None),
        ("   ", ("he", "she"), None),
        ("He, SHE", ("he", "she"), None),
        ("he she he", ("he", "she"), None),
        ("her his zorglub", ("her", "his"), "“zorglub” is not a word"),
        ("zorglub, <b>x</b>", ("he", "she"), "showing he, she instead"),
        ("<unk>", ("he", "she"), "“<unk>” is not a word"),
        ("he she his her him the", ("he", "she", "his", "her", "him"), "at most 5 words"),
        ("x" * 60, ("he", "she"), "x" * 20 + "…"),
    ],
)
def test_chosen_words_of_a_word_model(typed, words, notice):
    choice = ablation.chosen_words(fake_language_model("words"), typed)
    assert choice.words == words
    if notice is None:
        assert choice.notices == ()
    else:
        assert any(notice in text for text in choice.notices), choice.notices


@pytest.mark.parametrize(
    ("typed", "words", "notice"),
    [
        ("", (), None),
        ("e, a, H", ("e", "a", "H"), None),
        ("he, e", ("e",), "more than one character"),
        ("€", (), "not a character"),
    ],
)
def test_chosen_words_of_a_character_model(typed, words, notice):
    choice = ablation.chosen_words(fake_language_model("chars"), typed)
    assert choice.words == words
    assert (notice is None and choice.notices == ()) or any(notice in text for text in choice.notices)


def test_word_probabilities_are_the_next_token_columns():
    model = fake_language_model("words")
    next_tokens = NextTokens.from_trace(model, model.trace(TEXT))
    probabilities = ablation.word_probabilities(next_tokens, ("she", "he"))
    columns = next_tokens.columns([model.tokenizer.token_to_id["she"], model.tokenizer.token_to_id["he"]])
    np.testing.assert_array_equal(probabilities["she"], columns[:, 0])
    np.testing.assert_array_equal(probabilities["he"], columns[:, 1])


# ------------------------------------------------------- what the held value reads as, by the threshold
def with_gender_threshold(model: LanguageModel, threshold: float, above: str, below: str) -> LanguageModel:
    """`model` with its gender unit's threshold and sides replaced (as another training could leave them)."""
    gender = dataclasses.replace(model.units["subject gender"], threshold=threshold, above=above, below=below)
    model.units = {**model.units, "subject gender": gender}
    return model


@pytest.mark.parametrize(
    ("threshold", "above", "below", "zero_reads", "side"),
    [(-0.13, "male", "female", "male", "above"), (0.32, "female", "male", "male", "below")],
)
def test_holding_at_zero_says_what_zero_reads_as_by_the_units_threshold(threshold, above, below, zero_reads, side):
    """0 is not neutral for a named unit whose threshold is not 0: the help and the result say which side a
    cell held at 0 reads as, from the unit's own threshold (below 0 for the word model's unit, above 0 for
    the character model's)."""
    model = with_gender_threshold(fake_language_model("words"), threshold, above, below)
    info = model.units["subject gender"]
    cut = f"{threshold:.2f}".replace("-", "−")
    help_text = ablation.mode_help(info)
    assert help_text.startswith(ablation.MODE_HELP)
    assert f"0 is {side} its threshold {cut}, so a cell held at 0 reads as {zero_reads}" in help_text
    effect = ablation.ablation_effect(model, TEXT, (0, 0, 5))
    assert effect.info == info
    reading = ablation.held_reading(effect)
    assert reading.startswith(f"Held at 0, unit 5 reads as {zero_reads}: 0 is {side} its threshold {cut}")
    assert "mean is the fairer test" in reading


def test_holding_at_the_mean_says_where_the_mean_falls():
    model = with_gender_threshold(fake_language_model("words"), -0.13, "male", "female")
    effect = ablation.ablation_effect(model, TEXT, (0, 0, 5), mode="mean")
    info, held = effect.info, effect.held_value
    reading = ablation.held_reading(effect)
    assert reading.startswith(
        f"Held at its mean, {held:.2f}".replace("-", "−") + f", unit 5 reads as {info.read(held)} ("
    )
    assert f"{abs(held - info.threshold):.2f} away" in reading


def test_no_threshold_caveat_where_zero_is_the_threshold_or_the_unit_is_not_named():
    model = fake_language_model("words")  # its gender unit's threshold is 0
    assert ablation.mode_help(model.units["subject gender"]) == ablation.MODE_HELP == ablation.mode_help(None)
    assert ablation.held_reading(ablation.ablation_effect(model, TEXT, (0, 0, 5))) == ""
    unnamed = ablation.ablation_effect(model, TEXT, (0, 0, 4))
    assert unnamed.info is None and ablation.held_reading(unnamed) == ""


# ------------------------------------------------ what to follow when a model has no words by default
def test_most_changed_tokens_are_those_switching_off_moves_the_most():
    model = fake_language_model("chars", seed=2)
    text = "Bob is nice. Mary is evil."
    before = NextTokens.from_trace(model, model.trace(text))
    after = NextTokens.from_trace(model, core.ablated_trace(model, text, [(0, 0, 5)]))
    found = ablation.most_changed_tokens(before, after, count=3)
    assert len(found) == 3 and [change for _, change in found] == sorted((change for _, change in found), reverse=True)
    ids = [model.tokenizer.token_to_id[token] for token, _ in found]
    largest = np.abs(after.columns(ids) - before.columns(ids)).max(axis=0)
    np.testing.assert_allclose([change for _, change in found], largest, rtol=1e-6)
    everything = [index for index, token in enumerate(model.vocab) if token != UNKNOWN_TOKEN and token.strip()]
    all_changes = np.abs(after.columns(everything) - before.columns(everything)).max(axis=0)
    assert found[0][1] == pytest.approx(all_changes.max(), rel=1e-6)  # the largest of all is among the candidates
    assert all(token.strip() and token != UNKNOWN_TOKEN for token, _ in found)
    assert ablation.most_changed_tokens(before, before) and all(
        change == 0 for _, change in ablation.most_changed_tokens(before, before)
    )
    note = ablation.followed_note(found[:2], 5, "zero")
    assert "switching unit 5 off (held at 0) changes the most" in note
    assert all(f"by up to {ablation.probability_text(change)}" in note for _, change in found[:2])
