"""The shipped `chars` model: real English and the story world read character by character. It carries
the subject's gender to the next pronoun, for names from many cultures, including names no training
story used (a name's spelling carries gender statistically).

Scored by chaining over characters: P("He ") against P("She ") after the prompt and a space. Every
check draws its prompts and stories here with seeds that training and the model card never used.
"""

import json

import numpy as np
import pytest

from lstm_core import analysis
from lstm_core.config import ASSETS_DIR
from lstm_core.data import corpus
from lstm_core.models.language_model import LanguageModel, load_pretrained
from lstm_core.training.language import CAST_FILE

TEST_SEED = 41_414


@pytest.fixture(scope="module")
def chars() -> LanguageModel:
    return load_pretrained("chars")


@pytest.fixture(scope="module")
def cast() -> dict:
    return json.loads((ASSETS_DIR / "chars" / CAST_FILE).read_text())


def test_pronoun_after_a_change_of_subject_with_training_names(chars, cast):
    prompts = corpus.pronoun_prompts(400, seed=TEST_SEED, names=cast["train"], genders=cast["genders"])
    assert analysis.pronoun_agreement(chars, prompts) >= 0.9


def test_pronoun_after_a_change_of_subject_with_names_it_never_saw(chars, cast):
    assert not set(cast["heldout"]) & set(cast["train"])
    prompts = corpus.pronoun_prompts(400, seed=TEST_SEED + 1, names=cast["heldout"], genders=cast["genders"])
    assert analysis.pronoun_agreement(chars, prompts) >= 0.85


def test_the_issues_own_example_both_ways_round(chars):
    """Mary then Dan asks for "He", Dan then Mary for "She": the guess follows the latest subject."""
    from lstm_core.analysis.units import _continuation_log_probs

    texts = ["Mary is a nice person. Dan, on the other hand, is evil. ",
             "Dan is a nice person. Mary, on the other hand, is evil. "]  # fmt: skip
    he, she = _continuation_log_probs(chars, texts, ("He ", "She "))
    assert he[0] > she[0] and she[1] > he[1]


def test_subject_gender_unit_is_found_and_reads_held_out_names(chars, cast):
    unit = chars.units["subject gender"]
    assert {unit.above, unit.below} == {"male", "female"} and unit.accuracy >= 0.75
    stories = corpus.switch_stories(60, seed=TEST_SEED, names=cast["heldout"], genders=cast["genders"])
    table = analysis.token_table(chars, stories)
    values = table.states[unit.signal][unit.layer, unit.direction, :, unit.unit]
    labels = table.labels["subject_gender"].astype(str)
    known = labels != "None"
    assert np.mean(unit.read(values[known]) == labels[known]) >= 0.7


def test_the_card_says_what_it_read_and_how_it_was_scored():
    card = (ASSETS_DIR / "chars" / "model_card.md").read_text()
    for phrase in ("Gutenberg", "Brown", "birth records", "chrono", "He ", "held-out"):
        assert phrase in card, phrase


def test_no_unit_is_named_for_two_things(chars):
    named = [(unit.layer, unit.direction, unit.unit) for unit in chars.units.values()]
    assert len(named) == len(set(named)) == 2
