"""The tutorial's lessons: the analysis on small models whose weights are set by hand, so the right
token and unit are known in advance; then the lessons of every shipped model, checked against its trace."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_core import LSTM
from lstm_core.analysis import explore
from lstm_core.analysis import lessons as analysis
from lstm_core.models.language_model import LANGUAGE_MODELS, LanguageModel, UnitInfo, load_pretrained
from lstm_core.models.tokenize import UNKNOWN_TOKEN, WordTokenizer
from tests.fake_models import fake_language_model
from ui import ablation, corpus_figures, figures, lessons, palette

GATE_ROWS = {"input": 0, "forget": 1, "candidate": 2, "output": 3}
OPEN, SHUT = 8.0, -8.0  # biases: σ(8) = 0.9997, σ(−8) = 0.0003
PUSH = 16.0  # an input weight that turns a shut gate open, or an open one shut


def hand_lstm(input_size: int, hidden_size: int, rows: dict[tuple[str, int], tuple[float, dict[int, float]]]) -> LSTM:
    """An LSTM whose (gate, unit) rows have the given bias and input weights; no recurrent weights, every
    other row 0. Inputs are one-hot, so input weight k is what token k adds to that gate."""
    weight_ih = np.zeros((4 * hidden_size, input_size))
    bias = np.zeros(4 * hidden_size)
    for (gate, unit), (row_bias, weights) in rows.items():
        row = GATE_ROWS[gate] * hidden_size + unit
        bias[row] = row_bias
        for index, weight in weights.items():
            weight_ih[row, index] = weight
    return LSTM.from_state_dict(
        {"weight_ih_l0": weight_ih, "weight_hh_l0": np.zeros((4 * hidden_size, hidden_size)), "bias_ih_l0": bias,
         "bias_hh_l0": np.zeros(4 * hidden_size)},
        dtype=np.float64,
    )  # fmt: skip


def one_hot_model(vocab: list[str], lstm: LSTM, decoder_weight: np.ndarray, units: dict | None = None) -> LanguageModel:
    return LanguageModel("hand", WordTokenizer(vocab), np.eye(len(vocab)), lstm, decoder_weight, np.zeros(len(vocab)),
                         units=units)  # fmt: skip


# ------------------------------------------------------- a model whose every answer is known
SMALL_VOCAB = [UNKNOWN_TOKEN, "a", "b", "x", "."]
A, B, X, STOP = 1, 2, 3, 4


def small_model(decoder_b: tuple[float, float, float] = (0.0, 2.0, 4.0)) -> LanguageModel:
    """Unit 0 takes in a value at "a" and forgets it at "."; unit 1 takes one in at "b" and never forgets;
    unit 2 takes in a smaller value at every token and forgets it at the next."""
    lstm = hand_lstm(
        len(SMALL_VOCAB),
        3,
        {
            ("input", 0): (SHUT, {A: PUSH}), ("candidate", 0): (3.0, {}), ("forget", 0): (OPEN, {STOP: -PUSH}),
            ("input", 1): (SHUT, {B: PUSH}), ("candidate", 1): (3.0, {}), ("forget", 1): (OPEN, {}),
            ("input", 2): (OPEN, {}), ("candidate", 2): (1.0, {}), ("forget", 2): (SHUT, {}),
            **{("output", unit): (OPEN, {}) for unit in range(3)},
        },
    )  # fmt: skip
    decoder = np.zeros((len(SMALL_VOCAB), 3))
    decoder[B] = decoder_b
    return one_hot_model(SMALL_VOCAB, lstm, decoder)


def test_the_forget_gate_drops_where_it_was_made_to_and_the_unit_that_erases_is_found():
    trace = small_model().trace("a b x x . x x")
    assert analysis.forget_drop(analysis.unit_steps(trace, 0)) == 4  # the "."
    assert analysis.forget_drop(analysis.unit_steps(trace, 1)) == 2  # never low: the lowest where it held something
    assert analysis.erasing_unit(trace) == 0
    assert analysis.erasing_unit(trace, tokens=[1, 2]) == 2  # at "b" and "x" only unit 2 erases anything
    steps = analysis.unit_steps(trace, 0)
    np.testing.assert_allclose(steps.cell, steps.kept + steps.written)  # c_t = f·c_{t-1} + i·g
    empty = analysis.unit_steps(small_model().trace("x x ."), 0)
    assert analysis.forget_drop(empty) is None  # unit 0 never takes anything in: nothing to forget


def test_the_value_kept_longest_is_the_one_never_forgotten():
    trace = small_model().trace("a b x x . x x")
    carried = analysis.carries(trace)
    assert (carried[0].unit, carried[0].kept_for) == (0, 3)  # "a" in unit 0: kept at x x, gone at "."
    assert (carried[1].unit, carried[1].kept_for) == (1, 5)  # "b" in unit 1: kept to the end
    assert carried[1].share_left == pytest.approx(float(trace.gates["forget"][0, 0, 2:, 1].prod()))
    assert all(carry.unit == 2 and carry.kept_for == 0 for carry in carried[2:])  # only unit 2 adds there
    best = analysis.longest_carry(carried)
    assert (best.t, best.unit, best.kept_for) == (1, 1, 5)
    assert best.written == pytest.approx(float(trace.gates["input"][0, 0, 1, 1] * trace.gates["candidate"][0, 0, 1, 1]))
    assert analysis.longest_carry([None, None]) is None
    assert analysis.carries(trace, min_write=2.0) == (None,) * trace.length  # |i·g| never reaches 2


def test_a_cell_value_splits_into_what_each_token_added():
    trace = small_model().trace("a b x x . x x")
    for unit in range(3):
        for t in (0, 3, 6):
            terms = analysis.cell_origins(trace, unit, t)
            assert terms.sum() == pytest.approx(float(trace.cell[0, 0, t, unit]))
            assert not terms[t + 1 :].any()
    assert int(np.argmax(np.abs(analysis.cell_origins(trace, 1, 6)))) == 1  # unit 1's value came from "b"
    assert int(np.argmax(np.abs(analysis.cell_origins(trace, 2, 6)))) == 6  # unit 2's from the last token


def test_a_backward_direction_reads_from_the_end():
    lstm = LSTM.random(input_size=2, hidden_size=3, num_layers=1, bidirectional=True, seed=1)
    trace = lstm.run(np.random.default_rng(0).normal(size=(6, 2)))
    terms = analysis.cell_origins(trace, 2, 3, direction=1)
    assert terms.sum() == pytest.approx(float(trace.cell[0, 1, 3, 2]), abs=1e-5) and not terms[:3].any()
    carried = analysis.carries(trace, direction=1, min_write=0.0)
    last = carried[-1]  # read first going backward: kept by the tokens before it
    assert last.t == 5 and last.direction == 1 and last.kept_for <= 5


def test_the_output_feed_finds_the_unit_set_where_the_guessed_word_was_read():
    model = small_model()
    trace = model.trace("b a x . x x")
    feed = analysis.output_feed(model, trace, 5)
    assert feed.guess == "b" and feed.source == 0
    assert [feeder.unit for feeder in feed.feeders] == [2, 1]  # unit 2 adds more, but was set at the last token
    assert feed.chosen.unit == 1 and feed.chosen.origin == 0 and feed.rank == 2 and feed.from_source
    assert feed.chosen.adds == pytest.approx(2.0 * float(trace.hidden[0, 0, 5, 1]))
    alone = analysis.output_feed(model, model.trace("a x x"), 2)  # "b" was never read: the top feeder
    assert alone.source is None and alone.chosen.unit == 2 and not alone.from_source


def test_explorer_spans_are_whole_runs_with_off_tokens_around():
    values = np.array([0.0, 2.0, 2.0, 0.0, 2.0, 2.0, 2.0, 0.0, 2.0, 2.0, 2.0, 2.0])
    offsets = np.array([0, 8, 12])
    assert analysis.explorer_span(values, offsets, 1, 1.0, max_length=10) == (1, 0, 3)  # the second text, whole
    assert analysis.explorer_span(values, offsets, 1, 1.0, max_length=3) == (0, 4, 6)
    assert analysis.explorer_span(values, offsets, -1, 1.0, max_length=10) is None
    chosen = explore.select_units(values[:8, None], 4, 6, 1.0, margin=1)
    assert [selected.unit for selected in chosen] == [0]


def test_drop_places_for_words_and_characters():
    words = ["mary", "is", ".", "dan", "is", "evil", "."]
    assert [analysis.drop_place(words, t, 3) for t in (3, 2, 6, 5)] == ["name", "stop before name", "stop", "other"]
    assert analysis.drop_place(words, 2, None) == "stop"
    chars = list("Ma is. Dan is.")
    assert analysis.drop_place(chars, 5, 7, 9) == "stop before name"  # only a space between
    assert analysis.drop_place(chars, 8, 7, 9) == "name"


# ---------------------------------------------------------------- the forget lesson, by hand
FORGET_VOCAB = [UNKNOWN_TOKEN, *dict.fromkeys(lessons.FORGET_TEXT.lower().replace(".", " .").replace(",", " ,").split()),
                "he", "she"]  # fmt: skip
GENDER = UnitInfo("subject gender", 0, 0, 0, threshold=0.0, above="male", below="female", accuracy=0.9,
                  chosen_accuracy=0.95)  # fmt: skip


def gender_model(forget_at: str) -> LanguageModel:
    """One unit: "mary" adds −1, "dan" adds +1, and its forget gate drops only at `forget_at`."""
    index = {word: position for position, word in enumerate(FORGET_VOCAB)}
    lstm = hand_lstm(
        len(FORGET_VOCAB),
        1,
        {
            ("input", 0): (SHUT, {index["mary"]: PUSH, index["dan"]: PUSH}),
            ("candidate", 0): (0.0, {index["mary"]: -3.0, index["dan"]: 3.0}),
            ("forget", 0): (OPEN, {index[forget_at]: -PUSH}),
            ("output", 0): (OPEN, {}),
        },
    )
    decoder = np.zeros((len(FORGET_VOCAB), 1))
    decoder[index["he"]], decoder[index["she"]] = 2.0, -2.0
    return one_hot_model(FORGET_VOCAB, lstm, decoder, {"subject gender": GENDER})


def test_a_model_that_forgets_at_the_full_stop_is_told_so_with_the_reason():
    lesson = lessons.forget_lesson(gender_model(forget_at="."))
    tokens = lesson.tokens
    assert tokens[lesson.t] == "." and tokens[lesson.t + 1] == "dan" and lesson.unit == 0 and lesson.found
    story = " ".join(lesson.story)
    assert "forgets at the full stop before the new name, not at the name" in story
    assert "Why a model might do that" in story
    assert lesson.question.labels[lesson.question.answer] == "."
    right = lesson.question.reveal(lesson.question.answer)
    assert right.right and right.text.startswith("Right: at “.” the forget gate is 0.00")
    wrong = lesson.question.reveal(tokens.index("dan"))
    assert not wrong.right and "The answer is “.”" in wrong.text
    assert "at “dan” the cell holds almost nothing, so its forget gate (1.00) has nothing to erase" in wrong.text
    assert lesson.question.reveal(None) is None
    rows = {row["token"]: row for row in lesson.table}
    assert rows[f"{lesson.t} ."]["forget gate f"] == f"{lesson.trace.gates['forget'][0, 0, lesson.t, 0]:.2f}"
    assert rows[f"{lesson.t} ."]["reads as"] == "female"  # what little is left is still on the female side
    assert lesson.effect is not None and lesson.effect.words == ("he", "she")


def test_a_model_that_forgets_at_the_name_is_told_so():
    lesson = lessons.forget_lesson(gender_model(forget_at="dan"))
    assert lesson.tokens[lesson.t] == "dan"
    story = " ".join(lesson.story)
    assert "forgets at the new name's token" in story and "Why a model might do that" not in story
    assert "(reads as female)" in story and "(reads as male)" in story  # before and after the name
    he, she = lesson.effect.before[-1]
    assert f"“he” {he:.2f}" in story and he > 10 * she


def test_what_switching_the_unit_off_shows_is_read_from_the_charts_numbers():
    model = gender_model(forget_at="dan")
    model.decoder_bias[FORGET_VOCAB.index("she")] = 0.5  # without the unit, "she" wins
    deciding = lessons.forget_lesson(model)
    assert deciding.effect.after[-1, 1] > deciding.effect.after[-1, 0]
    assert deciding.effect_reading == (
        "With unit 0 off, the model prefers “she” to “he”: this unit decides the choice between them."
    )
    pushing = lessons.forget_lesson(gender_model(forget_at="dan"))
    assert pushing.effect_reading.startswith("With unit 0 off, “he” stays ahead (")
    assert lessons.forget_lesson(fake_language_model("chars")).effect_reading == ""  # no words to compare


def test_the_switch_off_reading_says_what_a_cell_held_at_zero_reads_as():
    """With a threshold below 0, a cell held at 0 reads as the upper side: the reading under the charts says
    so, from the unit's own threshold."""
    model = gender_model(forget_at="dan")
    model.units = {"subject gender": UnitInfo("subject gender", 0, 0, 0, threshold=-0.5, above="male",
                                              below="female", accuracy=0.9, chosen_accuracy=0.95)}  # fmt: skip
    lesson = lessons.forget_lesson(model)
    held = ablation.held_reading(lesson.effect)
    assert held.startswith("Held at 0, unit 0 reads as male: 0 is above its threshold −0.50")
    assert lesson.effect_reading.startswith("With unit 0 off, ") and lesson.effect_reading.endswith(held)


def test_a_question_shows_its_answer_alone_to_a_student_who_asks():
    question = lessons.forget_lesson(gender_model(forget_at=".")).question
    shown = question.shown()
    assert shown.right is None  # neither right nor wrong: nothing was picked
    assert (
        shown.text
        == f"The answer is “{question.labels[question.answer]}”: {question.facts[question.answer]}, {question.why}."
    )


def test_lessons_survive_models_without_named_units_or_known_words():
    for name in ("words", "chars"):
        model = fake_language_model(name)
        model.units.clear()
        built = lessons.build_lessons(model, "fake")
        assert [lesson.key for lesson in built.lessons] == ["forget", "input", "output"]
        for lesson in built.lessons:
            assert 0 <= lesson.t < len(lesson.tokens) and lesson.story and lesson.question.labels
            assert lesson.question.reveal(lesson.question.answer).right
    strange = one_hot_model([UNKNOWN_TOKEN, "zebra"], hand_lstm(2, 2, {}), np.zeros((2, 2)))
    built = lessons.build_lessons(strange, "strange")  # every word is <unk>: nothing to find, nothing to fail
    assert not built.lessons[0].found and not built.lessons[2].found


# ------------------------------------------------------------------------ the shipped models
@pytest.fixture(scope="module")
def shipped() -> dict[str, tuple[LanguageModel, lessons.ModelLessons]]:
    loaded = {name: load_pretrained(name) for name in LANGUAGE_MODELS}
    return {name: (model, lessons.build_lessons(model, name)) for name, model in loaded.items()}


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_the_forget_lesson_matches_the_trace(shipped, name):
    model, built = shipped[name]
    lesson = built.lessons[0]
    trace = model.trace(lessons.FORGET_TEXT)
    forget = trace.gates["forget"][lesson.layer, lesson.direction, :, lesson.unit]
    before = np.r_[0.0, trace.cell[lesson.layer, lesson.direction, :-1, lesson.unit]]
    held = np.abs(before) >= analysis.EMPTY_CELL
    assert held[lesson.t] and forget[lesson.t] == forget[held].min()  # the lowest gate where there was something
    gender = model.units.get("subject gender")
    if gender is not None:
        assert (lesson.layer, lesson.direction, lesson.unit) == (gender.layer, gender.direction, gender.unit)
    story = " ".join(lesson.story)
    assert f"f = {forget[lesson.t]:.2f}" in story and f"(token {lesson.t})" in story
    row = next(row for row in lesson.table if row["token"].startswith(f"{lesson.t} "))
    assert row["forget gate f"] == f"{forget[lesson.t]:.2f}" and row["cell before"] == f"{before[lesson.t]:.2f}"
    answer = lesson.question.labels[lesson.question.answer]
    assert (answer == lesson.tokens[lesson.t]) if model.kind == "words" else (lesson.tokens[lesson.t] in answer)
    assert f"{forget[lesson.t]:.2f}" in lesson.question.reveal(lesson.question.answer).text
    if lesson.effect.words:
        assert f"“he” {lesson.effect.before[-1, 0]:.2f}" in story  # the number of the switch-off chart's grey bar
    # What shuts the gate: its sum before the sigmoid, split into the word's part and the part carried from
    # before, as the sentence and the table give them; the two add up to the gate the trace shows.
    word_text, before_text = row["f's sum: from the word"], row["from before"]
    word_part, before_part = float(word_text.replace("−", "-")), float(before_text.replace("−", "-"))
    assert 1 / (1 + np.exp(-(word_part + before_part))) == pytest.approx(forget[lesson.t], abs=0.01)
    assert f"{word_text} from the word itself and {before_text} from" in story
    mostly_before = before_part < 0 and abs(before_part) > 2 * abs(word_part)
    assert ("it is mostly what the model read before" in story) == mostly_before


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_the_input_lesson_matches_the_trace(shipped, name):
    model, built = shipped[name]
    lesson = built.lessons[1]
    trace = model.trace(lessons.INPUT_TEXT)
    forget = trace.gates["forget"][0, 0].astype(np.float64)
    written = (trace.gates["input"][0, 0] * trace.gates["candidate"][0, 0]).astype(np.float64)

    def kept_for(t: int, unit: int) -> int:
        share, count = 1.0, 0
        for later in range(t + 1, trace.length):
            share *= forget[later, unit]
            if share < analysis.KEPT_SHARE:
                break
            count += 1
        return count

    longest = max(kept_for(t, unit) for t in range(trace.length) for unit in np.flatnonzero(np.abs(written[t]) >= 0.5))
    assert kept_for(lesson.t, lesson.unit) == longest == lesson.carried[lesson.t].kept_for
    assert abs(written[lesson.t, lesson.unit]) >= analysis.STRONG_WRITE
    story = " ".join(lesson.story)
    assert f"i·g = {written[lesson.t, lesson.unit]:.2f}" in story and f"{longest} tokens later" in story
    assert lesson.table[0]["tokens kept (half or more)"] == str(longest)
    assert lesson.tokens[lesson.t] in lesson.question.labels[lesson.question.answer]


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_the_output_lesson_matches_the_trace(shipped, name):
    model, built = shipped[name]
    lesson = built.lessons[2]
    trace = model.trace(lessons.OUTPUT_TEXT)
    assert "brave" in "".join(lesson.tokens[max(0, lesson.t - 5) : lesson.t + 1])
    probabilities = model.next_token_probs(trace)[lesson.t]
    guess = int(np.argmax(probabilities))
    feed = lesson.feed
    assert feed.guess == model.vocab[guess] and feed.probability == pytest.approx(float(probabilities[guess]), rel=1e-4)
    column = lesson.direction * model.lstm.hidden_size + lesson.unit
    assert feed.chosen.adds == pytest.approx(
        float(model.decoder_weight[guess, column] * trace.output[lesson.t, column])
    )
    assert lesson.origins.sum() == pytest.approx(
        float(trace.cell[lesson.layer, lesson.direction, lesson.t, lesson.unit]), abs=1e-4
    )
    assert feed.chosen.origin == int(np.argmax(np.abs(lesson.origins)))
    if feed.from_source:
        assert lesson.tokens[feed.chosen.origin] == feed.guess
    story = " ".join(lesson.story)
    assert f"{_signed(feed.chosen.adds)} to the score of" in story and f"({feed.probability:.1%})" in story


def _signed(value: float) -> str:
    return ("−" if value < 0 else "+") + f"{abs(value):.2f}"


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_each_named_unit_links_to_a_corpus_range_that_selects_it(shipped, name):
    model, _ = shipped[name]
    texts = corpus_figures.story_texts(lessons.EXPLORER_STORIES[model.kind], corpus_figures.SEED_LIMITS[2])
    corpus = explore.trace_corpus(model, texts)
    for info in model.units.values():
        story = lessons.named_unit_story(model, name, info, corpus)
        query = story.explorer
        assert query["model"] == name and query["stories"] == str(len(texts))
        sign = -1 if query["polarity"] == "negative" else 1
        values = corpus.text_values(int(query["ref"]), query["signal"], info.layer, info.direction)
        selected = explore.select_units(values, int(query["start"]), int(query["end"]), float(query["threshold"]),
                                        int(query["margin"]), (sign,))  # fmt: skip
        assert info.unit in [unit.unit for unit in selected]
        text = " ".join(story.sentences)
        assert f"{info.accuracy:.1%}" in text and f"{info.chosen_accuracy:.1%}" in text  # held out, and chosen on
        assert f"Why {figures.threshold_text(info.threshold)}" in text and "midway" in text
        assert story.sample is not None and story.sample.accuracy > 0.5
        assert set(np.unique(story.sample.labels)) == {info.above, info.below}


# --------------------------------------------------------------------------------- figures
def test_lesson_figures_write_their_numbers_and_colour_signs_by_the_palette():
    trace = small_model().trace("a b x x . x x")
    carried = analysis.carries(trace)
    bars = lessons.carry_figure(trace.tokens, carried, answer_t=1).to_dict()["data"][0]
    assert list(bars["y"]) == [carry.kept_for for carry in carried]
    assert bars["text"][1] == "5" and bars["customdata"][1] == 1
    assert bars["marker"]["color"][1] != bars["marker"]["color"][0]  # the answer stands out
    model = fake_language_model("words")
    fake_trace = model.trace(lessons.OUTPUT_TEXT)
    origins = analysis.cell_origins(fake_trace, 3, 10)
    drawn = lessons.origin_figure(fake_trace.tokens, origins, 10, 3).data[0]
    assert len(drawn.x) == 11 and (origins[:11] > 0).any() and (origins[:11] < 0).any()
    for value, color, text in zip(origins[:11], drawn.marker.color, drawn.text, strict=True):
        assert color == (palette.POSITIVE if value > 0 else palette.NEGATIVE)
        assert text in ("", f"{value:.2f}".replace("-0.00", "0.00"))
    sample = analysis.UnitSample(np.array([-1.0, -0.8, 0.7, 0.9]), np.array(["female"] * 2 + ["male"] * 2), 1, 1.0)
    histogram = lessons.unit_sample_figure(sample, GENDER).to_dict()
    assert [trace["name"] for trace in histogram["data"]] == ["female (2 tokens)", "male (2 tokens)"]
    assert histogram["layout"]["shapes"][0]["x0"] == GENDER.threshold


def test_the_units_that_add_more_are_named_once_with_where_their_cells_were_set():
    assert lessons._stronger_sentence([151], ["“his” (token 12)"]) == (
        "Unit 151, which adds more, had its cell set at “his” (token 12).")
    assert lessons._stronger_sentence([151, 8], ["“his” (token 12)"] * 2) == (
        "Units 151 and 8, which add more, both had their cells set at “his” (token 12).")
    assert lessons._stronger_sentence([151, 8, 3], ["“a” (token 1)", "“b” (token 2)", "“a” (token 1)"]) == (
        "Units 151, 8 and 3, which add more, had their cells set at “a” (token 1), “b” (token 2) and “a” (token 1).")
