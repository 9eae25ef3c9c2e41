"""The shipped models: their common interface; the story-world models' NumPy equals torch, and the
story-world model `story` shows the three classic behaviours.

Every behavioural check uses prompts and stories drawn fresh here with seeds that training and the
model card never used (training draws with seeds 7 and 1234, the model card with 2_000_001..2_000_005).
"""


import numpy as np
import pytest
import torch

from lstm_core import analysis
from lstm_core.config import ASSETS_DIR
from lstm_core.data import corpus
from lstm_core.models.language_model import LANGUAGE_MODELS, LanguageModel, load_pretrained
from lstm_core.training.language import TorchLanguageModel

TEST_SEED = 31_337
STORY_MODELS = ("story",)  # the story-world model; tests/test_words_model.py and test_chars_model.py have their own
CHARACTER_AND_STORY_MODELS = ("story", "chars")  # the models that read their vocabulary alone
WORD_MODELS = ("words", "story")


def assert_bob_dan_pairs_right(model: LanguageModel) -> None:
    """The issue's own example, both ways round, with every pair of the story world's names of
    different gender: the right pronoun in at least 98% of them."""
    wrong = []
    for female in corpus.FEMALE_NAMES:
        for male in corpus.MALE_NAMES:
            for first, second, pronoun, other in ((female, male, "he", "she"), (male, female, "she", "he")):
                text = f"{first.title()} is a nice person. {second.title()}, on the other hand, is evil."
                probabilities = dict(model.predict_next(text))
                if probabilities[pronoun] <= probabilities[other]:
                    wrong.append(text)
    assert len(wrong) <= 0.02 * 2 * len(corpus.FEMALE_NAMES) * len(corpus.MALE_NAMES), wrong[:5]


@pytest.fixture(scope="module")
def story() -> LanguageModel:
    return load_pretrained("story")


def _torch_twin(model: LanguageModel) -> TorchLanguageModel:
    tied = model.decoder_weight.shape == model.embedding.shape and np.array_equal(model.decoder_weight, model.embedding)
    twin = TorchLanguageModel(len(model.vocab), model.lstm.input_size, model.lstm.hidden_size, model.lstm.num_layers,
                              tie_weights=tied)  # fmt: skip
    tensors = {name: torch.from_numpy(np.array(array)) for name, array in model.tensors().items()}
    twin.load_state_dict(tensors, strict=True)
    return twin.eval()


@pytest.mark.parametrize("name", CHARACTER_AND_STORY_MODELS)
def test_numpy_inference_equals_torch_on_shipped_weights(name):
    model = load_pretrained(name)
    twin = _torch_twin(model)
    text = 'Mary is a nice person. Dan, on the other hand, is evil. He said: "I will be back." Brave Dan.'
    trace = model.trace(text)
    ids = torch.from_numpy(model.encode(text))[None]
    with torch.no_grad():
        torch_output, _ = twin.lstm(twin.embedding(ids))
        torch_probs = torch.softmax(twin(ids), dim=-1)[0].numpy()
    np.testing.assert_allclose(trace.output, torch_output[0].numpy(), atol=2e-5)
    np.testing.assert_allclose(model.next_token_probs(trace), torch_probs, atol=2e-5)


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_pretrained_interface(name):
    model = load_pretrained(name)
    assert load_pretrained(name) is model  # cached: the app shares one copy
    assert model.name == name and model.vocab[0] == "<unk>"
    text = "Bob knows swimming."
    trace = model.trace(text)
    assert list(trace.tokens) == model.tokens(text)
    probabilities = model.next_token_probs(trace)
    assert probabilities.shape == (len(trace.tokens), len(model.vocab))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    everything = model.predict_next(text)
    assert len(everything) == len(model.vocab)
    assert [p for _, p in everything] == sorted((p for _, p in everything), reverse=True)
    assert everything[0][1] == pytest.approx(probabilities[-1].max())
    assert model.predict_next(text, k=5) == everything[:5]
    card = (ASSETS_DIR / name / "model_card.md").read_text()
    assert card.count("perplexity") >= 1
    if name in STORY_MODELS:
        assert model.metrics["heldout_perplexity"] < 3.0
    else:
        assert "Names are not genders" in card
        assert model.metrics["story_perplexity"] < (2.0 if model.kind == "chars" else 10.0)


@pytest.mark.parametrize("name", WORD_MODELS)
def test_bad_text_is_rejected_clearly(name):
    words = load_pretrained(name)
    for empty in ("", "   \n\t"):
        with pytest.raises(ValueError, match="empty"):
            words.trace(empty)
        with pytest.raises(ValueError, match="empty"):
            words.predict_next(empty)
    with pytest.raises(TypeError, match="str"):
        words.trace(None)
    with pytest.raises(ValueError, match="k"):
        words.predict_next("Bob", k=0)
    with pytest.raises(ValueError, match="name"):
        load_pretrained("pixels")


def test_unknown_words_and_characters_are_reported(story):
    assert story.unknown_words("Bob adores Zorro's xylophone.") == ["adores", "Zorro's", "xylophone"]
    assert story.tokens("Bob adores it.") == ["bob", "<unk>", "it", "."]
    chars = load_pretrained("chars")
    assert chars.unknown_words("Café ☕") == ["é", "☕"]
    assert chars.tokens("é")[0] == "<unk>"


@pytest.mark.parametrize("name", WORD_MODELS)
def test_a_long_text_is_traced_whole(name):
    words = load_pretrained(name)
    sentence = "Bob is a nice person. He told me over the phone that he had served the navy for four long years. "
    trace = words.trace(sentence * 300)  # about 7,000 tokens
    assert trace.length == 300 * len(words.tokens(sentence))
    assert np.isfinite(trace.cell).all()


def test_pronoun_agreement_after_a_change_of_subject(story):
    prompts = corpus.pronoun_prompts(600, seed=TEST_SEED)
    assert analysis.pronoun_agreement(story, prompts) >= 0.95
    assert_bob_dan_pairs_right(story)


def test_brave_puts_the_subject_above_every_other_name(story):
    for name in corpus.NAMES:
        possessive = "his" if corpus.gender_of(name) == "male" else "her"
        text = (
            f"{name.title()} single-handedly fought the enemy and died for {possessive} country. "
            f"For {possessive} contributions, brave"
        )
        probabilities = dict(story.predict_next(text))
        best_other = max(probabilities[other] for other in corpus.NAMES if other != name)
        assert probabilities[name] > best_other, (text, story.predict_next(text, k=3))
    prompts = corpus.recall_prompts(300, seed=TEST_SEED)
    assert analysis.recall_accuracy(story, prompts) >= 0.95


def test_subject_gender_unit_reads_held_out_names_and_flips(story):
    unit = story.units["subject gender"]
    assert unit.accuracy >= 0.9 and {unit.above, unit.below} == {"male", "female"}
    # Re-measure on fresh stories whose people all come from the names the unit was not chosen on.
    stories = corpus.generate_stories(200, seed=TEST_SEED, names=corpus.split_names(1), heldout=True)
    table = analysis.token_table(story, stories)
    gender = table.labels["subject_gender"]
    known = gender != None  # noqa: E711 - elementwise on an object array
    values = table.states["cell"][unit.layer, unit.direction, known, unit.unit]
    assert np.mean(unit.read(values) == gender[known].astype(str)) >= 0.9
    # Short stories with a change of subject: the unit must read each new subject at once.
    table = analysis.token_table(story, corpus.switch_stories(300, seed=TEST_SEED, names=corpus.split_names(1)))
    values = table.states["cell"][unit.layer, unit.direction, :, unit.unit]
    assert np.mean(unit.read(values) == table.labels["subject_gender"].astype(str)) >= 0.9
    # It changes sides when the subject changes gender.
    prompts = corpus.pronoun_prompts(200, seed=TEST_SEED + 1)
    assert analysis.switch_flip_rate(story, unit, prompts) >= 0.9
    trace = story.trace("Mary is a nice person. Dan, on the other hand, is evil.")
    values = unit.values(trace)
    assert unit.read(values[trace.tokens.index(".")]) == "female" and unit.read(values[-1]) == "male"


def test_the_gender_unit_is_found_from_data(story):
    found = analysis.find_subject_gender_unit(story, story_count=120, choose_seed=TEST_SEED, score_seed=TEST_SEED + 1)
    assert found.accuracy >= 0.9
    # The other way round: chosen on the other half of the names.
    reverse = analysis.find_subject_gender_unit(
        story, choose_names=corpus.split_names(1), score_names=corpus.split_names(0), story_count=120,
        choose_seed=TEST_SEED + 2, score_seed=TEST_SEED + 3,
    )  # fmt: skip
    assert reverse.accuracy >= 0.9


@pytest.mark.parametrize("name", CHARACTER_AND_STORY_MODELS)
def test_quotation_unit_is_stored(name):
    unit = load_pretrained(name).units["inside quotation"]
    assert {unit.above, unit.below} == {"inside", "outside"}
    assert unit.accuracy >= (0.9 if name == "story" else 0.8)  # scored on balanced tokens: chance is 50%


def test_word_quotation_unit_reads_a_quotation(story):
    unit = story.units["inside quotation"]
    trace = story.trace('Bob said: "We will win, the war is over." He went home.')
    read = unit.read(unit.values(trace))
    opening = trace.tokens.index('"')
    closing = trace.tokens.index('"', opening + 1)
    assert list(read[opening + 1 : closing - 1]) == ["inside"] * (closing - 2 - opening)
    assert list(read[closing + 2 :]) == ["outside"] * (len(read) - closing - 2)
