"""The part-of-speech taggers: NumPy exact against torch, files, training on tagged sentences, and
what the shipped taggers do with sentences whose tags need the words after them."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import lstm_core
from lstm_core.models.tagger import SHAPES, TAGGERS, Tagger, load_tagger, word_shape
from lstm_core.tags import UNIVERSAL_TAGS, universal_tag
from lstm_core.training import tagger as training

SENTENCES = [["The", "cat", "sat", "."], ["I", "can", "fish", "in", "Oslo", "."], ["A", "can", "of", "fish", "!"]]


def tiny_config(bidirectional: bool, **changes) -> training.TaggerConfig:
    settings = dict(embedding_size=12, hidden_size=8, num_layers=2, steps=5, batch_size=2, piece_buckets=64,
                    min_count=1, log_every=5)  # fmt: skip
    return training.TaggerConfig(bidirectional=bidirectional, **(settings | changes))


@pytest.mark.parametrize("bidirectional", [True, False])
def test_numpy_tagger_is_exact_against_torch_on_padded_batches(bidirectional):
    torch.manual_seed(0)
    config = tiny_config(bidirectional, dropout=0.0)
    vocab = training.build_vocabulary(SENTENCES[:1], min_count=1)  # most words of the others are unseen
    pieces = lstm_core.models.subwords.WordPieces(config.piece_buckets, config.piece_min_n, config.piece_max_n)
    types = training.WordTypes.of([w for s in SENTENCES for w in s], vocab, pieces)
    model = training.TorchTagger(len(vocab), config).eval()
    numpy_tagger = training.to_numpy_tagger(model, "tiny", vocab, pieces)
    # One padded batch: the backward direction must start at each sentence's own last word.
    lengths = torch.tensor([len(s) for s in SENTENCES])
    ids = torch.zeros((len(SENTENCES), int(lengths.max())), dtype=torch.int64)
    for row, sentence in enumerate(SENTENCES):
        ids[row, : len(sentence)] = torch.tensor([types.index[w] for w in sentence])
    with torch.no_grad():
        logits = model(model.type_vectors(types, ids), lengths).numpy()
    for row, sentence in enumerate(SENTENCES):
        expected = logits[row, : len(sentence)]
        got = numpy_tagger.logits(numpy_tagger.trace_words(sentence).output)
        np.testing.assert_allclose(got, expected, atol=2e-5)
    assert numpy_tagger.lstm.num_directions == (2 if bidirectional else 1) and numpy_tagger.lstm.num_layers == 2


def test_training_lowers_the_loss_and_saves_a_tagger_that_loads(tmp_path):
    words = [["the", "dog", "runs", "."], ["a", "cat", "sleeps", "."], ["the", "cat", "runs", "."]] * 8
    tags = {"the": "DET", "a": "DET", "dog": "NOUN", "cat": "NOUN", "runs": "VERB", "sleeps": "VERB", ".": "."}
    data = training.TaggedSentences(words, [np.array([UNIVERSAL_TAGS.index(tags[w]) for w in s]) for s in words])
    config = tiny_config(True, steps=80, learning_rate=0.02, dropout=0.0, word_dropout=0.0)
    model, vocab, pieces, losses = training.train(config, data, log=lambda message: None, threads=1)
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])
    tagger = training.to_numpy_tagger(model, "tiny", vocab, pieces)
    tagger.save(tmp_path / "tiny")
    loaded = Tagger.load(tmp_path / "tiny")
    assert loaded.tag(["the", "dog", "sleeps", "."]) == ["DET", "NOUN", "VERB", "."]
    metrics = training.evaluate(loaded, data, known_words=set(vocab))
    assert metrics["accuracy"] == 1.0 and metrics["unseen_word_tokens"] == 0
    assert metrics["per_tag_accuracy"]["NOUN"] == 1.0 and metrics["top_confusions"] == []


def test_a_language_model_directory_is_not_read_as_a_tagger():
    with pytest.raises(ValueError, match="not a tagger"):
        Tagger.load(lstm_core.config.ASSETS_DIR / "words")


def test_word_shapes():
    shapes = [SHAPES[word_shape(word)] for word in ("fish", "Oslo", "I", "NATO", "1961", "3rd", "--", "McDonald")]
    assert shapes == ["lower", "Capitalised", "Capitalised", "UPPER", "digits", "digits", "punctuation", "other"]


# ------------------------------------------------------------------------------------ shipped taggers
@pytest.fixture(scope="module", params=TAGGERS)
def shipped(request):
    return load_tagger(request.param)


def test_shipped_taggers_are_listed_and_have_the_documented_shape(shipped):
    assert shipped.name in lstm_core.PRETRAINED and lstm_core.load_pretrained(shipped.name) is shipped
    assert shipped.lstm.num_layers == 2 and shipped.labels == list(UNIVERSAL_TAGS)
    assert shipped.lstm.num_directions == (2 if shipped.name == "tagger" else 1)
    words = ["Priya", "refuses", "to", "eat", "broccoli", "."]
    probabilities = shipped.tag_probs(shipped.trace_words(words))
    assert probabilities.shape == (len(words), 12) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_recorded_test_accuracy_meets_the_issue_and_reading_backwards_wins():
    both, forward = (load_tagger(name).metrics["test"] for name in TAGGERS)
    assert both["accuracy"] >= 0.97
    assert both["accuracy"] - forward["accuracy"] >= 0.01
    assert both["tokens"] == forward["tokens"] > 90_000  # the whole test split: the 50 files ending in 0


def brown_test_sample() -> training.TaggedSentences:
    """200 Brown test-split sentences shipped with the tests (the data cache is not needed)."""
    sample = json.loads((Path(__file__).parent / "data" / "brown_test_sample.json").read_text())["sentences"]
    words = [[word for word, _ in sentence] for sentence in sample]
    tags = [np.array([UNIVERSAL_TAGS.index(universal_tag(tag)) for _, tag in sentence]) for sentence in sample]
    return training.TaggedSentences(words, tags)


def test_taggers_tag_held_out_brown_sentences_and_backwards_reading_helps():
    sample = brown_test_sample()
    both, forward = (training.evaluate(load_tagger(name), sample)["accuracy"] for name in TAGGERS)
    assert both >= 0.96 and both > forward


def test_bidirectional_tagger_uses_the_words_after_an_ambiguous_word():
    tagger = load_tagger("tagger")
    assert tagger.tag(["I", "can", "fish", "."])[1] == "VERB"
    assert tagger.tag(["a", "can", "of", "fish", "."])[1] == "NOUN"
    tags = tagger.tag("They refuse to permit us to obtain the refuse permit .".split())
    assert tags[1] == "VERB" and tags[8] == "NOUN"
    assert tagger.tag(["Time", "flies", "like", "an", "arrow", "."])[:2] == ["NOUN", "VERB"]


@pytest.mark.parametrize(
    ("words", "position", "tag"),
    [
        ("The zorbish wugs blicked quietly .", 1, "ADJ"),
        ("The zorbish wugs blicked quietly .", 2, "NOUN"),
        ("She blicked the wug .", 1, "VERB"),
        ("Yesterday Tamsinette visited Grobbleton .", 1, "NOUN"),
        ("It was frumptiously cold .", 2, "ADV"),
    ],
)  # fmt: skip
def test_words_never_seen_are_tagged_from_their_spelling_and_place(words, position, tag):
    tagger = load_tagger("tagger")
    assert words.split()[position].lower() not in tagger.word_to_id
    assert tagger.tag(words.split())[position] == tag


def test_text_is_split_as_a_student_types_it():
    tagger = load_tagger("tagger")
    tagged = tagger.tag_text("Don't panic, Anna!")
    assert [word for word, _ in tagged] == ["Don't", "panic", ",", "Anna", "!"]
    assert dict(tagged)["Anna"] == "NOUN" and dict(tagged)[","] == "."
    with pytest.raises(TypeError):
        tagger.tag("a string, not a list")
    with pytest.raises(ValueError, match="empty"):
        tagger.tag_text("   ")
