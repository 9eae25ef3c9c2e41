"""The shipped `words` model: real English and any name. NumPy equals torch, no word is unknown to
its input, it beats a 5-gram model on held-out books, and it keeps the Bob/Dan story for names from
many cultures, including names no training story used.

Every behavioural check uses prompts and stories drawn fresh here with seeds that training and the
model cards never used (training draws with seeds 7 and 1234, the cards with 2_000_001..2_000_005).
Its cast (`assets/words/cast.json`) says which names the stories of training used and which were
held out.
"""

import json

import numpy as np
import pytest
import torch

from lstm_core import analysis
from lstm_core.config import ASSETS_DIR
from lstm_core.data import corpus
from lstm_core.data.everyday import EVERYDAY_SENTENCES
from lstm_core.models.language_model import LANGUAGE_MODELS, LanguageModel, load_pretrained
from lstm_core.training.language import CAST_FILE, Reading, TorchLanguageModel
from tests.test_language_model import assert_bob_dan_pairs_right

TEST_SEED = 31_337


@pytest.fixture(scope="module")
def words() -> LanguageModel:
    return load_pretrained("words")


def shipped_cast(name: str) -> dict:
    return json.loads((ASSETS_DIR / name / CAST_FILE).read_text())


def _torch_twin(model: LanguageModel) -> TorchLanguageModel:
    tied = model.decoder_is_input  # the decoder is each word's whole input vector, computed from the weights
    twin = TorchLanguageModel(len(model.vocab), model.lstm.input_size, model.lstm.hidden_size, model.lstm.num_layers,
                              tie_weights=tied, piece_buckets=model.pieces.bucket_count if model.pieces else 0,
                              name_records=model.names is not None)  # fmt: skip
    tensors = {name: torch.from_numpy(np.array(array)) for name, array in model.tensors().items()}
    if tied:
        tensors["decoder.weight"] = tensors["embedding.weight"]
    twin.load_state_dict(tensors, strict=True)
    if tied:
        twin.tie_whole_input(model.tokenizer, model.pieces, model.names)
    return twin.eval()


def test_numpy_inference_equals_torch_on_shipped_weights():
    model = load_pretrained("words")
    twin = _torch_twin(model)
    text = 'Priya is a nice person. Omar, on the other hand, is evil. He said: "I will be back." Brave Omar.'
    trace = model.trace(text)
    reading = None
    if model.reads_spelling:
        table = Reading.empty()
        ids = torch.from_numpy(table.type_ids(model.tokenizer.words(text), model.tokenizer, model.pieces, model.names))
        reading = table.tensors()
    else:
        ids = torch.from_numpy(model.encode(text))
    with torch.no_grad():
        torch_output, _ = twin.lstm(twin.embed(ids[None], reading))
        torch_probs = torch.softmax(twin(ids[None], reading), dim=-1)[0].numpy()
    np.testing.assert_allclose(trace.output, torch_output[0].numpy(), atol=2e-5)
    np.testing.assert_allclose(model.next_token_probs(trace), torch_probs, atol=2e-5)


def test_the_language_model_files_stay_small():
    total = sum(path.stat().st_size for name in LANGUAGE_MODELS for path in (ASSETS_DIR / name).iterdir())
    assert total <= 20 * 2**20


def test_the_word_model_beats_the_5_gram_on_real_text(words):
    metrics = words.metrics
    assert metrics["real_text_perplexity"] < metrics["ngram_real_text_perplexity"]
    assert metrics["real_text_windows"] >= 1000 and metrics["ngram_training_tokens"] > 1_000_000


def test_no_word_is_unknown_to_the_word_model(words):
    text = "Bob adores Zorblaxian xylophones, and Oluwaseun met Xiomara at the café 😀."
    tokens = words.tokens(text)
    assert "<unk>" not in tokens and tokens[:3] == ["bob", "adores", "zorblaxian"]
    assert "Zorblaxian" in words.unknown_words(text) and "bob" not in words.unknown_words(text)
    # Every word gets a vector of its own: two new words are not read alike.
    vectors = words.input_vectors("Zorblaxian Quimbleton")
    assert not np.allclose(vectors[0], vectors[1])
    reading = words.read_word("Xiomara")
    assert reading.girls_share is not None and reading.girls_share > 0.9
    # Everyday sentences: most of their words have vocabulary rows of their own.
    everyday = [word for sentence in EVERYDAY_SENTENCES for word in words.tokenizer.words(sentence)]
    outside = sum(word not in words.tokenizer.token_to_id for word in everyday) / len(everyday)
    assert outside <= 0.05


def test_pronoun_after_a_change_of_subject_with_held_out_names(words):
    cast = shipped_cast("words")
    prompts = corpus.pronoun_prompts(600, seed=TEST_SEED, names=cast["heldout"], genders=cast["genders"])
    assert analysis.pronoun_agreement(words, prompts) >= 0.95
    assert_bob_dan_pairs_right(words)


def test_brave_recalls_the_subjects_own_name_among_thousands(words):
    """"For his contributions, brave ___" names the subject: among the 3,040 names of its cast, the
    subject's own name comes first in nearly all prompts and among the ten likeliest in all but a few;
    its first guess is nearly always a name of the subject's gender."""
    cast = shipped_cast("words")
    prompts = corpus.recall_prompts(300, seed=TEST_SEED, names=cast["train"], genders=cast["genders"])
    probabilities = analysis.units._final_probs(words, [text for text, _ in prompts])
    ids = np.array([words.tokenizer.token_to_id[name] for name in cast["train"]])
    index = {name: position for position, name in enumerate(cast["train"])}
    ranks = np.array([int((row[ids] > row[ids][index[name]]).sum()) for row, (_, name) in zip(probabilities, prompts, strict=True)])
    assert np.mean(ranks == 0) >= 0.85 and np.mean(ranks < 10) >= 0.97
    right_gender = sum(cast["genders"].get(words.vocab[int(np.argmax(row))]) == cast["genders"][name]
                       for row, (_, name) in zip(probabilities, prompts, strict=True))  # fmt: skip
    assert right_gender / len(prompts) >= 0.9


def test_subject_gender_unit_reads_held_out_names_and_flips(words):
    cast = shipped_cast("words")
    unit = words.units["subject gender"]
    assert unit.accuracy >= 0.9 and {unit.above, unit.below} == {"male", "female"}
    held_out = {"names": cast["heldout"], "genders": cast["genders"]}
    stories = corpus.switch_stories(300, seed=TEST_SEED, **held_out)
    table = analysis.token_table(words, stories)
    values = table.states["cell"][unit.layer, unit.direction, :, unit.unit]
    assert np.mean(unit.read(values) == table.labels["subject_gender"].astype(str)) >= 0.9
    prompts = corpus.pronoun_prompts(200, seed=TEST_SEED + 1, **held_out)
    assert analysis.switch_flip_rate(words, unit, prompts) >= 0.9
    trace = words.trace("Mary is a nice person. Dan, on the other hand, is evil.")
    values = unit.values(trace)
    assert unit.read(values[trace.tokens.index(".")]) == "female" and unit.read(values[-1]) == "male"


def test_quotation_unit_is_stored(words):
    unit = words.units["inside quotation"]
    assert {unit.above, unit.below} == {"inside", "outside"} and unit.accuracy >= 0.9
