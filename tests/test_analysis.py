"""Unit ranking, token tables and gate saturation, on data whose answer is known."""

import numpy as np
import pytest

from lstm_core import analysis
from lstm_core.data import corpus
from lstm_core.lstm import LSTM
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.tokenize import UNKNOWN_TOKEN, WordTokenizer


def test_rank_units_finds_the_separating_unit_and_its_sign():
    rng = np.random.default_rng(0)
    labels = rng.choice(["female", "male"], size=500)
    values = rng.normal(size=(500, 6))
    values[:, 4] = np.where(labels == "female", -1.0, 1.0) + 0.3 * rng.normal(size=500)
    ranking = analysis.rank_units(values, labels)
    best = ranking[0]
    assert best.unit == 4 and best.score > 0.99
    assert (best.above, best.below) == ("male", "female")
    assert -0.6 < best.threshold < 0.6
    assert best.auc > 0.99
    assert all(0.5 <= score.score <= 0.65 for score in ranking[1:])  # noise units are near chance


def test_rank_units_reversed_sign_and_exact_threshold():
    values = np.array([[3.0], [2.0], [-1.0], [-2.0]])
    best = analysis.rank_units(values, np.array([True, True, False, False]))[0]
    assert best.score == 1.0 and best.above is True and best.below is False
    assert best.threshold == pytest.approx(0.5)
    flipped = analysis.rank_units(-values, np.array([True, True, False, False]))[0]
    assert flipped.above is False and flipped.threshold == pytest.approx(-0.5)


def test_rank_units_numeric_labels_use_correlation():
    positions = np.arange(50) % 10
    values = np.stack([np.sin(np.arange(50)), -2.0 * positions + 1.0], axis=1)
    best = analysis.rank_units(values, positions)[0]
    assert best.unit == 1 and best.score == pytest.approx(1.0) and best.correlation == pytest.approx(-1.0)


def test_rank_units_rejects_bad_input():
    with pytest.raises(ValueError, match="two different"):
        analysis.rank_units(np.zeros((3, 2)), np.array(["a", "a", "a"]))
    with pytest.raises(ValueError, match=r"\(N, H\)"):
        analysis.rank_units(np.zeros(3), np.array([0, 1, 0]))


def _tiny_model(seed=0):
    tokenizer = WordTokenizer([UNKNOWN_TOKEN, *corpus.vocabulary()])
    rng = np.random.default_rng(seed)
    vocab_size = len(tokenizer.vocab)
    lstm = LSTM.random(input_size=8, hidden_size=6, num_layers=2, seed=seed)
    return LanguageModel(
        "tiny", tokenizer, rng.normal(size=(vocab_size, 8)), lstm,
        rng.normal(size=(vocab_size, 6)), np.zeros(vocab_size),
    )  # fmt: skip


def test_token_table_matches_single_runs_and_labels():
    model = _tiny_model()
    stories = corpus.generate_stories(5, seed=1)
    table = analysis.token_table(model, stories)
    total = sum(len(story.tokens) for story in stories)
    assert table.states["cell"].shape == (2, 1, total, 6) and table.states["forget"].shape == (2, 1, total, 6)
    first = stories[0]
    trace = model.trace(first.text)
    np.testing.assert_allclose(table.states["cell"][:, :, : len(first.tokens)], trace.cell, atol=1e-6)
    np.testing.assert_allclose(table.states["input"][:, :, : len(first.tokens)], trace.gates["input"], atol=1e-6)
    assert list(table.tokens[: len(first.tokens)]) == first.tokens
    assert list(table.labels["in_quotation"]) == [flag for story in stories for flag in story.in_quotation]
    assert list(table.story_index[:2]) == [0, 0] and table.story_index[-1] == 4


def test_gate_saturation_counts_only_real_timesteps():
    lstm = LSTM.random(input_size=3, hidden_size=4, num_layers=2, seed=1, scale=3.0)
    rng = np.random.default_rng(1)
    sequences = [rng.normal(size=(length, 3)) for length in (5, 9, 2)]
    saturation = analysis.gate_saturation(lstm, sequences)
    assert saturation.timesteps == 16
    gates = np.concatenate([lstm.run(x).gates["forget"] for x in sequences], axis=2)  # (L, D, 16, H)
    np.testing.assert_allclose(saturation.below["forget"], (gates < 0.1).mean(axis=2))
    np.testing.assert_allclose(saturation.above["forget"], (gates > 0.9).mean(axis=2))
    assert saturation.below["input"].shape == (2, 1, 4)
    assert saturation.above["output"].max() > 0  # large weights do saturate some units
    with pytest.raises(ValueError, match="gates"):
        analysis.gate_saturation(lstm, sequences, gates=("forgetful",))


def test_metrics_on_a_random_model_are_in_range():
    model = _tiny_model()
    stories = corpus.generate_stories(10, seed=3, heldout=True)
    perplexity = analysis.perplexity(model, stories)
    assert 1.0 < perplexity < 10 * len(model.vocab)
    agreement = analysis.pronoun_agreement(model, corpus.pronoun_prompts(20, seed=3))
    assert 0.0 <= agreement <= 1.0
    unit = analysis.find_subject_gender_unit(model, story_count=20)
    assert unit.layer in (0, 1) and 0 <= unit.unit < 6 and {unit.above, unit.below} == {"male", "female"}
    assert 0.0 <= unit.accuracy <= 1.0
    quotation = analysis.find_quotation_unit(model, story_count=20)
    assert {quotation.above, quotation.below} == {"inside", "outside"}
    named = (quotation.layer, quotation.direction, quotation.unit)
    other = analysis.find_quotation_unit(model, story_count=20, exclude=[named])
    assert (other.layer, other.direction, other.unit) != named  # never named for two things
    with pytest.raises(ValueError, match="share"):
        analysis.find_subject_gender_unit(model, choose_names=corpus.NAMES, score_names=corpus.NAMES)
