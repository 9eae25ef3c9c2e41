"""The sentences and equations of /step, on steps built by hand with known numbers, and the helpers
that choose what the tutorial and the URL open."""

import dataclasses
import math

import numpy as np
import pytest

from lstm_core import GATE_NAMES, StepDetail
from lstm_core.models.language_model import UnitInfo
from lstm_core.models.subwords import NAMES_NOTE
from tests.fake_models import fake_language_model
from ui import explain, model_store
from ui.query import check_view, step_url, view_query

FORGET_SENTENCE = ["bob", "is", "a", "nice", "person", ".", "dan", ",", "on"]
GENDER = UnitInfo(
    name="subject gender",
    layer=0,
    direction=0,
    unit=1,
    threshold=0.0,
    above="female",
    below="male",
    accuracy=0.9,
    chosen_accuracy=0.95,
)


def sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def make_step(
    preactivation: dict[str, float],
    c_prev: float,
    unit: int = 1,
    hidden_size: int = 3,
    t: int = 6,
    token: str = "dan",
    direction: int = 0,
    split: float = 0.4,
) -> StepDetail:
    """A StepDetail whose unit `unit` has the given pre-activations (split into a token part and a
    memory part) and whose gates, cell and hidden follow from them exactly as in the LSTM."""
    rest = np.linspace(0.1, 0.3, hidden_size)
    input_part, recurrent_part, gates = {}, {}, {}
    for name in GATE_NAMES:
        total = np.full(hidden_size, 0.5) + rest
        total[unit] = preactivation[name]
        input_part[name] = total * split
        recurrent_part[name] = total * (1 - split)
        squash = np.tanh if name == "candidate" else np.vectorize(sigmoid)
        gates[name] = squash(input_part[name] + recurrent_part[name])
    c_before = np.full(hidden_size, 0.2)
    c_before[unit] = c_prev
    cell = gates["forget"] * c_before + gates["input"] * gates["candidate"]
    hidden = gates["output"] * np.tanh(cell)
    return StepDetail(
        t=t,
        layer=0,
        direction=direction,
        token=token,
        x=np.zeros(4),
        h_prev=np.zeros(hidden_size),
        c_prev=c_before,
        input_part=input_part,
        recurrent_part=recurrent_part,
        gates=gates,
        cell=cell,
        hidden=hidden,
    )


# σ(-3.12) = 0.042, σ(2.6) = 0.931, tanh(-1.33) = -0.869, σ(2.2) = 0.900
SWITCH = {"input": 2.6, "forget": -3.12, "candidate": -1.33, "output": 2.2}


def test_forget_and_input_at_a_new_subject_name_the_old_and_the_new():
    step = make_step(SWITCH, c_prev=0.83)
    sentences = explain.explain_step(step, 1, FORGET_SENTENCE)
    assert sentences[0] == "Unit 1 reads Dan."
    assert sentences[1].startswith(
        "The forget gate of unit 1 is 0.04: it erases the value the cell kept while Bob was the subject"
    )
    assert "(0.83 becomes 0.04)" in sentences[1]
    assert sentences[2] == (
        "The input gate is 0.93 and the candidate g is -0.87: reading Dan pushes the cell strongly down "
        "(i·g = -0.81 is added to it)."
    )
    assert sentences[3] == "So the cell goes from 0.83 to 0.04 − 0.81 = -0.77."
    assert sentences[4].startswith("The output gate is 0.90: it passes the cell on, so h = o·tanh(c) = ")
    assert len(sentences) == 5  # no named units given


def test_high_forget_keeps_and_a_shut_input_writes_nothing():
    step = make_step({"input": -3.0, "forget": 3.0, "candidate": 1.0, "output": -3.0}, c_prev=0.6, token="phone")
    sentences = explain.explain_step(step, 1, [*FORGET_SENTENCE[:6], "phone"])
    assert "The forget gate of unit 1 is 0.95: it keeps the cell's value (0.60 becomes 0.57)." == sentences[1]
    assert "nearly shut, so reading “phone” barely moves the cell (i·g = 0.04)" in sentences[2]
    # "about Bob" is not claimed for an ordinary word and an unnamed unit
    assert "Bob" not in sentences[1]
    assert "hides the cell for now (h = 0.03 although c = 0.61)" in sentences[4]


def test_middle_values_and_a_faint_candidate():
    step = make_step({"input": 2.5, "forget": 0.0, "candidate": 0.1, "output": 0.0}, c_prev=-0.5, token="the")
    sentences = explain.explain_step(step, 1, [*FORGET_SENTENCE[:6], "the"])
    assert "is 0.50: it keeps part of the cell's value (-0.50 becomes -0.25)." in sentences[1]
    assert (
        "the gate is open but the candidate is faint, so reading “the” barely moves the cell (i·g = 0.09)"
        in sentences[2]
    )
    assert "it passes part of the cell on to the prediction (h = o·tanh(c) = -0.08)" in sentences[4]


def test_first_token_and_empty_cell_say_there_was_nothing_to_forget():
    first = make_step(SWITCH, c_prev=0.0, t=0, token="bob")
    assert "this is the first token, so the cell starts empty" in explain.explain_step(first, 1, ["bob", "is"])[1]
    empty = make_step(SWITCH, c_prev=0.01, t=2, token="nice")
    assert "the cell held almost nothing (0.01)" in explain.explain_step(empty, 1, ["bob", "is", "nice"])[1]


def test_named_unit_says_which_side_of_the_threshold_and_when_it_switched():
    step = make_step(SWITCH, c_prev=0.83)  # cell goes from 0.83 (female side) to -0.77 (male side)
    sentences = explain.explain_step(step, 1, FORGET_SENTENCE, named_units={"subject gender": GENDER})
    assert sentences[-2] == (
        "Unit 1 is the “subject gender” unit: its cell value -0.77 is below 0, which reads as male "
        "(it read female before this token)."
    )
    assert sentences[-1] == NAMES_NOTE  # said wherever a gender is read from a name
    other = explain.explain_step(step, 0, FORGET_SENTENCE, named_units={"subject gender": GENDER})
    assert not any("subject gender" in sentence for sentence in other) and NAMES_NOTE not in other


def test_character_model_names_the_word_around_the_character():
    tokens = list("Bob is nice. Dan, on")
    t = tokens.index("a")  # the "a" of "Dan"
    assert explain.word_at(tokens, t, "chars") == "Dan"
    assert explain.word_at(tokens, 3, "chars") == ""  # a space
    assert explain.subject_before(tokens, t, "chars") == "Bob"
    assert explain.subject_before(tokens, 1, "chars") is None  # inside "Bob" itself
    step = make_step(SWITCH, c_prev=0.83, t=t, token="a")
    sentences = explain.explain_step(step, 1, tokens, kind="chars")
    assert sentences[0] == "Unit 1 reads the character “a” of Dan."
    assert "while Bob was the subject" in sentences[1] and "reading Dan pushes the cell" in sentences[2]


def test_backward_direction_and_bad_arguments():
    step = make_step(SWITCH, c_prev=0.83, direction=1)
    assert "reading backward" in explain.explain_step(step, 1, FORGET_SENTENCE)[0]
    with pytest.raises(ValueError, match="unit"):
        explain.explain_step(step, 3, FORGET_SENTENCE)
    with pytest.raises(ValueError, match="tokens"):
        explain.explain_step(step, 1, FORGET_SENTENCE[:3])
    with pytest.raises(ValueError, match="unit"):
        explain.numeric_equations(step, -1)


def test_numeric_equations_substitute_the_units_numbers():
    step = make_step(SWITCH, c_prev=0.83)
    lines = explain.numeric_equations(step, 1)
    assert len(lines) == 6 == len(explain.symbolic_equations())
    forget = lines[1]
    # split 0.4 / 0.6 of the pre-activation -3.12 into the token part and the memory part
    assert forget.startswith(r"f_{t} = \sigma\big(\underbrace{-1.25}")
    assert r"\underbrace{(-1.87)}_{\text{from } h_{t-1}}" in forget
    assert forget.endswith(r"= \sigma(-3.12) = 0.04")
    assert lines[2].endswith(r"= \tanh(-1.33) = -0.87")
    assert lines[4] == (
        r"\begin{aligned} c_t &= 0.04 \times 0.83 + 0.93 \times (-0.87) \\ &= 0.04 + (-0.81) = -0.77 \end{aligned}"
    )
    assert lines[5].startswith(r"\begin{aligned} h_t &= 0.90 \times \tanh(-0.77) \\ &= 0.90 \times (-0.65) = ")
    assert [line[0] for line in lines[:4]] == ["i", "f", "g", "o"]


def test_no_user_text_reaches_latex_and_markdown_is_escaped():
    step = make_step(SWITCH, c_prev=0.83, token="$\\evil")
    assert all("evil" not in line for line in explain.numeric_equations(step, 1))
    assert explain.as_markdown("<script>alert(1)</script>") == "\\<script\\>alert\\(1\\)\\</script\\>"
    assert explain.as_markdown("[x](javascript:1) **b**") == "\\[x\\]\\(javascript\\:1\\) \\*\\*b\\*\\*"
    marked = explain.highlighted_text(["<b>", "*", "x"], 1)
    assert marked == "\\<b\\> :blue-background[**\\***] x"
    long = explain.highlighted_text([str(i) for i in range(500)], 250, radius=10)
    assert long.startswith("… 240 ") and long.endswith(" 260 …")
    assert explain.highlighted_text(list("a b"), 1, kind="chars") == "a:blue-background[**·**]b"


def test_token_names_make_invisible_tokens_visible():
    assert [explain.token_name(token) for token in (" ", "\n", "bob")] == ["space", "line break", "bob"]


def test_top_predictions_most_probable_first():
    assert explain.top_predictions(np.array([0.1, 0.6, 0.3]), ["a", "b", "c"], k=2) == [
        ("b", pytest.approx(0.6)),
        ("c", pytest.approx(0.3)),
    ]


# ------------------------------------------------------------------------ what values do
@pytest.mark.parametrize("seed", range(40))
def test_no_sentence_says_a_number_writes_or_holds_a_word(seed):
    rng = np.random.default_rng(seed)
    preactivation = dict(zip(GATE_NAMES, rng.normal(scale=3.0, size=4), strict=True))
    step = make_step(preactivation, c_prev=float(rng.normal()), t=int(rng.integers(0, 7)))
    sentences = explain.explain_step(step, 1, FORGET_SENTENCE, named_units={"subject gender": GENDER})
    for sentence in sentences:
        assert not any(word in sentence for word in ("writes", "written", "holds", " in (i·g")), sentence
    assert "cell" in sentences[2]  # what the token does to the cell, whatever the numbers


def test_score_sentence_names_the_words_a_hidden_value_raises_and_lowers():
    vocab = ["<unk>", "he", "she", "dan"]
    weights = np.array([0.0, 1.5, -2.0, 0.5])
    sentence = explain.score_sentence(41, 0.8, weights, vocab)
    assert sentence == (
        "Unit 41's hidden value h = 0.80, times its weight for each word, raises the score of “he” the most (+1.20) "
        "and lowers “she” the most (−1.60)."
    )
    only_up = explain.score_sentence(41, 1.0, np.array([0.0, 0.0, 0.0, 3.0]), vocab)
    assert only_up.endswith("raises the score of Dan the most (+3.00).")  # names as names; nothing is lowered
    assert "next to nothing" in explain.score_sentence(41, 0.0, weights, vocab, noun="character")
    with pytest.raises(ValueError, match="vocabulary"):
        explain.score_sentence(41, 0.8, weights[:2], vocab)


# --------------------------------------------------------------------------------- URLs
SIZES = {"t": 12, "unit": 128, "layer": 1, "direction": 1}


def test_check_view_accepts_good_links_and_explains_every_bad_value():
    good = check_view({"text": "x", "model": "chars", "t": "5", "unit": "17", "layer": "0"}, SIZES)
    assert (good.model, good.corrected, good.notices) == ("chars", {}, ())
    bad = check_view({"t": "abc", "unit": "-3", "model": "evil", "layer": "7", "direction": ["1", "0"]}, SIZES)
    assert bad.model == "words"
    assert bad.corrected == {"t": 0, "unit": 0, "layer": 0, "direction": 0}
    assert len(bad.notices) == 5
    assert bad.notices[0].startswith("There is no model called “evil”")
    assert any("token “abc”" in notice and "not a whole number" in notice for notice in bad.notices)
    assert any("unit “-3”" in notice and "showing 0" in notice for notice in bad.notices)
    assert check_view({"t": "999"}, SIZES).corrected == {"t": 11}
    assert "…" in check_view({"model": "m" * 100}, SIZES).notices[0]


def test_step_links_carry_the_view():
    assert view_query("Bob is nice.", "words", 2, 17) == {
        "text": "Bob is nice.",
        "model": "words",
        "t": "2",
        "unit": "17",
    }
    assert step_url("Bob & Dan", "chars", 5, 3, layer=1) == "/step?text=Bob+%26+Dan&model=chars&t=5&unit=3&layer=1"


def test_directions_travel_by_name_as_the_bound_selectboxes_write_them():
    assert view_query("x", "words", 0, 0, direction=1)["direction"] == "backward"
    two_directions = {**SIZES, "direction": 2}
    assert check_view({"direction": "backward"}, two_directions).corrected == {}
    assert check_view({"direction": "1"}, two_directions).corrected == {}
    one_direction = check_view({"direction": "backward"}, SIZES)
    assert one_direction.corrected == {"direction": 0} and "direction “backward”" in one_direction.notices[0]


def test_pages_open_on_the_subject_gender_unit_when_the_model_has_one():
    model = fake_language_model("words")
    model.units = {"subject gender": dataclasses.replace(GENDER, unit=17, layer=0, direction=0)}
    assert model_store.default_unit(model) == 17
    model.units = {"subject gender": dataclasses.replace(GENDER, unit=17, layer=1)}
    assert model_store.default_unit(model) == 0  # the pages open on layer 0
    model.units = {}
    assert model_store.default_unit(model) == 0


def test_highlighted_text_without_a_token_highlights_nothing():
    tokens = ["mary", "is", "nice", ".", "dan", "is", "evil", "."]
    plain = explain.highlighted_text(tokens, None)
    assert plain == "mary is nice \\. dan is evil \\." and "blue-background" not in plain  # escaped Markdown
    assert explain.highlighted_text(tokens, None, radius=1) == "mary is nice …"


def test_unit_summary_states_what_the_unit_tracks_with_its_numbers():
    tokens = ["mary", "is", "nice", ".", "dan", "is", "evil", "."]
    cell = np.array([-0.6, -0.7, -0.65, -0.1, 0.8, 0.85, 0.8, 0.7])
    info = UnitInfo("subject gender", 0, 0, 41, -0.13, "male", "female", accuracy=0.912, chosen_accuracy=0.95)
    named, summary = explain.unit_summary(cell, tokens, 2, 41, info)
    assert named == ("Unit 41 is this model's “subject gender” unit: its cell state reads as male above −0.13 and as "
                     "female below it (right on 91.2% of held-out tokens). At token 2 “nice” it is −0.65, so it reads "
                     "as female.")  # fmt: skip
    assert summary == ("Along this text the cell state of unit 41 runs from −0.70 (token 1 “is”) to 0.85 (token 5 "
                       "“is”); it moves the most at token 4 “dan”, from −0.10 to 0.80.")  # fmt: skip
    assert explain.unit_summary(cell, tokens, 2, 41) == [summary]  # an unnamed unit: its numbers only
    (single,) = explain.unit_summary(np.array([0.4]), ["bob"], 0, 3)
    assert single == "At its only token, token 0 “bob”, the cell state of unit 3 is 0.40."
    with pytest.raises(ValueError, match="one number per token"):
        explain.unit_summary(cell[:3], tokens, 0, 41)


def test_a_backward_units_move_is_counted_in_its_reading_order():
    values = np.array([0.46, -1.40, -0.47, -0.02])  # read from the last token: 0 → −0.02 → −0.47 → −1.40 → 0.46
    (sentence,) = explain.unit_summary(values, ["can", "of", "fish", "."], 0, 18, backward=True)
    assert sentence.endswith("it moves the most at token 0 “can”, from −1.40 to 0.46.")
    (forward,) = explain.unit_summary(values, ["can", "of", "fish", "."], 0, 18)
    assert forward.endswith("it moves the most at token 1 “of”, from 0.46 to −1.40.")
