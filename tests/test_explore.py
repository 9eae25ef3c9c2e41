"""lstm_core.analysis.explore: LSTMVis's selection and matching on hand-made arrays with known answers, the
corpus trace against one trace per text, chunked saturation against one call, and on the shipped word
model the claims /corpus makes: a quotation finds other quotations, a female subject finds female subjects."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_core import LSTM
from lstm_core.analysis import explore
from lstm_core.analysis.units import gate_saturation
from lstm_core.data import corpus
from lstm_core.models.language_model import load_pretrained
from tests.fake_models import fake_language_model

# ------------------------------------------------------------------------------ selection
# (T=7, H=5). The range is tokens 2..4, threshold 0.5.
#   unit 0: on over 2..4, off everywhere else                  -> selected (+)
#   unit 1: on over 2..4 but also on at token 1 (just before)  -> not with a margin, selected without
#   unit 2: on at 2 and 4 but not at 3                         -> never
#   unit 3: below -0.9 over 2..4, near 0 around                -> selected (-) when negatives count
#   unit 4: on over 2..4, off at 1 and 5, on again at 0 and 6  -> margin 1 yes, margin 2 no
VALUES = np.array(
    [
        [0.0, 0.0, 0.0, 0.1, 0.9],
        [0.2, 0.8, 0.0, 0.0, 0.1],
        [0.9, 0.9, 0.9, -0.9, 0.7],
        [0.7, 0.9, 0.1, -0.95, 0.7],
        [0.8, 0.9, 0.9, -0.9, 0.7],
        [0.1, 0.0, 0.0, 0.2, 0.4],
        [0.0, 0.0, 0.0, 0.0, 0.9],
    ]
)


def chosen(selected) -> list[tuple[int, int]]:
    return [(unit.unit, unit.sign) for unit in selected]


def test_select_units_finds_exactly_the_units_on_inside_and_off_around():
    selected = explore.select_units(VALUES, 2, 4, threshold=0.5, margin=1)
    assert sorted(chosen(selected)) == [(0, 1), (4, 1)]
    by_unit = {unit.unit: unit for unit in selected}
    assert by_unit[0].inside_min == pytest.approx(0.7) and by_unit[0].outside_max == pytest.approx(0.2)
    assert by_unit[0].score == pytest.approx(0.2)  # min(0.7 - 0.5, 0.5 - 0.2)
    assert by_unit[4].score == pytest.approx(0.1)  # min(0.7 - 0.5, 0.5 - 0.4)
    assert chosen(selected) == [(0, 1), (4, 1)]  # best separated first


def test_negative_units_count_only_when_asked():
    both = explore.select_units(VALUES, 2, 4, threshold=0.5, margin=1, signs=(1, -1))
    assert chosen(both) == [(3, -1), (0, 1), (4, 1)]  # unit 3 clears 0.5 by 0.4 on both sides
    assert both[0].inside_min == pytest.approx(0.9) and both[0].outside_max == pytest.approx(0.0)
    assert both[0].score == pytest.approx(0.4)
    assert chosen(explore.select_units(VALUES, 2, 4, threshold=0.5, margin=1, signs=(-1,))) == [(3, -1)]


def test_the_margin_decides_how_far_around_the_range_must_be_off():
    assert sorted(chosen(explore.select_units(VALUES, 2, 4, 0.5, margin=0))) == [(0, 1), (1, 1), (4, 1)]
    assert sorted(chosen(explore.select_units(VALUES, 2, 4, 0.5, margin=2))) == [(0, 1)]
    without_margin = {unit.unit: unit for unit in explore.select_units(VALUES, 2, 4, 0.5, margin=0)}
    assert without_margin[0].outside_max is None and without_margin[0].score == pytest.approx(0.2)


def test_a_range_at_the_edge_of_the_text_needs_only_the_side_it_has():
    values = np.array([[0.9, 0.9], [0.8, 0.9], [0.0, 0.9]])
    assert chosen(explore.select_units(values, 0, 1, 0.5, margin=3)) == [(0, 1)]
    whole = explore.select_units(values, 0, 2, 0.5, margin=1)
    assert chosen(whole) == [(1, 1)] and whole[0].outside_max is None and whole[0].score == pytest.approx(0.4)


@pytest.mark.parametrize(
    "arguments",
    [
        {"start": 3, "end": 2},
        {"start": -1, "end": 2},
        {"start": 0, "end": 7},
        {"start": 0, "end": 1, "margin": -1},
        {"start": 0, "end": 1, "signs": (2,)},
        {"start": 0, "end": 1, "signs": ()},
    ],
)
def test_select_units_rejects_bad_arguments(arguments):
    with pytest.raises(ValueError):
        explore.select_units(VALUES, threshold=0.5, **arguments)


# ------------------------------------------------------------------------------- matching
# Two texts end to end: rows 0..5 are text 0, rows 6..9 text 1. Units 0 and 1, threshold 0.5.
CORPUS = np.array(
    [
        [0.9, 0.9],  # text 0, t=0  both on
        [0.9, 0.9],  # t=1          both on
        [0.0, 0.9],  # t=2          one on
        [0.9, 0.9],  # t=3          both on
        [0.0, 0.0],  # t=4
        [0.9, 0.9],  # t=5          both on, last token of text 0
        [0.9, 0.9],  # text 1, t=0  both on: must not join text 0's last token
        [0.9, 0.9],  # t=1
        [0.9, 0.9],  # t=2
        [0.0, 0.0],  # t=3
    ]
)
OFFSETS = [0, 6, 10]
UNITS = [(0, 1), (1, 1)]


def spans(matches) -> list[tuple[int, int, int]]:
    return [(match.text_index, match.start, match.end) for match in matches]


def test_matches_are_maximal_runs_that_never_cross_texts_longest_first():
    matches = explore.find_matches(CORPUS, OFFSETS, UNITS, threshold=0.5)
    assert spans(matches) == [(1, 0, 2), (0, 0, 1), (0, 3, 3), (0, 5, 5)]
    assert all(match.units_on == 2 and match.mean_on == 1.0 for match in matches)


def test_fewer_units_join_runs_and_rank_by_the_units_on_throughout():
    matches = explore.find_matches(CORPUS, OFFSETS, UNITS, threshold=0.5, min_units=1)
    assert spans(matches) == [(1, 0, 2), (0, 5, 5), (0, 0, 3)]
    wide = matches[2]
    assert wide.units_on == 1 and wide.length == 4 and wide.mean_on == pytest.approx(7 / 8)


def test_target_length_exclusion_limit_and_signs():
    matches = explore.find_matches(CORPUS, OFFSETS, UNITS, 0.5, target_length=1)
    assert spans(matches) == [(0, 3, 3), (0, 5, 5), (0, 0, 1), (1, 0, 2)]
    assert spans(explore.find_matches(CORPUS, OFFSETS, UNITS, 0.5, exclude=(1, 2, 5), limit=2)) == [
        (0, 0, 1),
        (0, 3, 3),
    ]
    negative = explore.find_matches(-CORPUS, OFFSETS, [(0, -1)], 0.5)
    assert spans(negative) == [(1, 0, 2), (0, 0, 1), (0, 3, 3), (0, 5, 5)]
    assert explore.find_matches(CORPUS, OFFSETS, [], 0.5) == []


def test_find_matches_rejects_bad_arguments():
    with pytest.raises(ValueError, match="offsets"):
        explore.find_matches(CORPUS, [0, 6, 9], UNITS, 0.5)
    with pytest.raises(ValueError, match="min_units"):
        explore.find_matches(CORPUS, OFFSETS, UNITS, 0.5, min_units=3)


# ----------------------------------------------------------------------------- the corpus
def test_trace_corpus_equals_one_trace_per_text():
    model = fake_language_model("words", hidden_size=12)
    texts = ["Bob is nice.", "Mary, on the other hand, is evil. She likes tea.", "Dan"]
    progress = []
    traced = explore.trace_corpus(model, texts, batch_size=2, on_progress=lambda done, total: progress.append(done))
    assert progress == [2, 3]
    assert traced.offsets.tolist() == [0, 4, 18, 19] and traced.token_count == 19
    for index, text in enumerate(texts):
        trace = model.trace(text)
        assert traced.tokens[index] == trace.tokens
        np.testing.assert_allclose(traced.text_values(index, "cell"), trace.cell[0, 0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(traced.text_values(index, "hidden"), trace.hidden[0, 0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        traced.values("forget")
    with pytest.raises(ValueError):
        explore.trace_corpus(model, [])


def test_chunked_saturation_equals_one_call():
    lstm = LSTM.random(input_size=3, hidden_size=6, num_layers=2, seed=1, scale=2.0)
    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(length, 3)) for length in (5, 9, 2, 7, 4)]
    whole = gate_saturation(lstm, sequences)
    progress = []
    chunked = explore.gate_saturation_chunks(lstm, sequences, chunk_size=2, on_progress=lambda d, t: progress.append(d))
    assert progress == [2, 4, 5] and chunked.timesteps == whole.timesteps == 27
    for gate in whole.below:
        np.testing.assert_allclose(chunked.below[gate], whole.below[gate])
        np.testing.assert_allclose(chunked.above[gate], whole.above[gate])
    assert any(whole.above[gate].max() > 0 for gate in whole.above)  # something saturates: the check has teeth


# --------------------------------------------------------------------------- shipped model
@pytest.fixture(scope="module", params=["words", "story"])
def word_model(request):
    return load_pretrained(request.param)


@pytest.fixture(scope="module")
def story_corpus(word_model):
    stories = corpus.generate_stories(150, seed=11, heldout=True)
    return stories, explore.trace_corpus(word_model, [story.text for story in stories])


def matched_rows(traced, matches) -> np.ndarray:
    return np.concatenate(
        [np.arange(match.start, match.end + 1) + traced.offsets[match.text_index] for match in matches]
    )


def test_a_quotation_selects_the_quotation_unit_and_finds_other_quotations(word_model, story_corpus):
    reference = corpus.generate_stories(100, seed=1, heldout=True)[0]  # the page's default: a quotation at 21..29
    tokens = word_model.tokens(reference.text)
    assert tokens[21] == tokens[29] == '"' and reference.in_quotation[22:29] == [True] * 7
    values = word_model.trace(reference.text).cell[0, 0]
    selected = explore.select_units(values, 21, 29, threshold=1.5, margin=1, signs=(1, -1))
    info = word_model.units["inside quotation"]
    sign = 1 if info.above == "inside" else -1  # the unit may go up or down inside a quotation
    assert (info.unit, sign) in chosen(selected)
    stories, traced = story_corpus
    quoted = np.concatenate([np.array(story.in_quotation) | (np.array(story.tokens) == '"') for story in stories])
    matches = explore.find_matches(traced.values("cell"), traced.offsets, chosen(selected), 1.5)
    rows = matched_rows(traced, matches)
    assert len(matches) >= 20
    assert quoted[rows].mean() > 0.95 > 20 * quoted.mean()  # nearly all matched tokens are quoted; few are overall


def test_a_female_subject_selects_the_gender_unit_and_finds_female_subjects(word_model, story_corpus):
    text = "Bob is a nice person. Mary, on the other hand, is evil. She likes tea. Dan is kind."
    tokens = word_model.tokens(text)
    start, end = tokens.index("mary"), tokens.index("dan") - 1  # Mary is the subject from her name to "dan"
    values = word_model.trace(text).cell[0, 0]
    gender_unit = word_model.units["subject gender"]
    sign = 1 if gender_unit.above == "female" else -1  # the unit may go up or down for a female subject
    selected = explore.select_units(values, start, end, threshold=0.2, margin=1, signs=(1, -1))
    assert (gender_unit.unit, sign) in chosen(selected)
    stories, traced = story_corpus
    gender = np.concatenate([[label or "none" for label in story.subject_gender] for story in stories])
    matches = explore.find_matches(traced.values("cell"), traced.offsets, [(gender_unit.unit, sign)], 0.2)
    rows = matched_rows(traced, matches)
    assert len(rows) > 1_000
    assert (gender[rows] == "female").mean() > 0.95 > 1.5 * (gender == "female").mean()
