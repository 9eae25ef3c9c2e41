"""What the app says about words outside a model's vocabulary, and Home's "About the models"."""

import numpy as np
import pytest

from lstm_core import LSTM
from lstm_core.models.language_model import LanguageModel, UnitInfo
from lstm_core.models.subwords import NAMES_NOTE, NameRecords, WordPieces
from lstm_core.models.tokenize import UNKNOWN_TOKEN, WordTokenizer
from ui import about_models, word_notices

VOCAB = [UNKNOWN_TOKEN, "anna", "maria", "bob", "is", "a", "doctor", "she", "he", ".", "teacher"]


def spelling_model(reads_spelling: bool = True) -> LanguageModel:
    rng = np.random.default_rng(0)
    lstm = LSTM.random(input_size=8, hidden_size=8, seed=0)
    extra = {}
    if reads_spelling:
        extra = dict(pieces=WordPieces(64), piece_embedding=rng.normal(size=(64, 8)),
                     names=NameRecords({"priya": 1.0, "omar": 0.002, "anna": 0.997}),
                     name_direction=rng.normal(size=8))  # fmt: skip
    gender = UnitInfo("subject gender", 0, 0, 3, 0.0, "female", "male", accuracy=0.93, chosen_accuracy=0.95)
    return LanguageModel("words", WordTokenizer(VOCAB), rng.normal(size=(len(VOCAB), 8)), lstm,
                         rng.normal(size=(len(VOCAB), 8)), np.zeros(len(VOCAB)), units={"subject gender": gender},
                         metrics={"pronoun_agreement": 0.97, "pronoun_names": "held-out", "real_text_perplexity": 120.5,
                                  "ngram_real_text_perplexity": 150.25, "recall_accuracy": 0.875}, **extra)  # fmt: skip


def test_a_spelling_model_says_what_it_made_of_new_words_and_names():
    model = spelling_model()
    text = "Priya is a doctor. Omar is a xylophonist."
    unknown = model.unknown_words(text)
    assert unknown == ["Priya", "Omar", "xylophonist"]
    notice = word_notices.vocabulary_notice(model, unknown, "words", tokens=model.tokens(text))
    assert notice.startswith("New to the words model, which reads them from their spelling")
    assert "“Priya” (a first name in the birth records, 100% girls; reads most like “" in notice
    assert "“Omar” (a first name in the birth records, 0% girls" in notice
    assert "“xylophonist” (reads most like “" in notice and "<unk>" not in notice
    assert notice.endswith(NAMES_NOTE)
    # The nearest words are the vocabulary's, never the word itself or <unk>.
    reading = model.read_word("anna")
    assert reading.known and all(word not in ("anna", UNKNOWN_TOKEN) for word, _ in reading.nearest)


def test_a_vocabulary_model_still_says_read_as_unk():
    model = spelling_model(reads_spelling=False)
    text = "Priya is a doctor."
    notice = word_notices.vocabulary_notice(model, model.unknown_words(text), "words", tokens=model.tokens(text))
    assert notice == "Not in the words model's vocabulary (read as <unk>): “Priya”"
    nothing = "Zorp blarg"
    notice = word_notices.vocabulary_notice(model, model.unknown_words(nothing), "words", tokens=model.tokens(nothing))
    assert notice.startswith("The words model knows none of this text (read as <unk>)")
    assert word_notices.vocabulary_notice(model, [], "words") is None


@pytest.mark.parametrize("count", [1, 4, 5, 13])
def test_long_lists_are_cut_and_marked(count):
    model = spelling_model()
    words = [f"zz{chr(97 + index)}q" for index in range(count)]
    notice = word_notices.vocabulary_notice(model, words, "words")
    shown = min(count, word_notices.MAX_WORDS_SHOWN)
    assert all(f"“{word}”" in notice for word in words[:shown])
    assert notice.count("reads most like") == min(count, word_notices.MAX_WORDS_DESCRIBED)
    assert (" …" in notice) == (count > word_notices.MAX_WORDS_SHOWN)


def test_about_the_models_gives_every_number_from_the_model_and_every_licence():
    text = about_models.about_models_markdown({"words": spelling_model()})
    assert "perplexity is 120.5 per word (a 5-gram model of the same text: 150.2" in text
    assert "right pronoun in 97.0% of held-out prompts told with names it never saw" in text
    assert "unit 3 tracks the current subject's gender, right on 93.0%" in text
    assert "brave” its likeliest next word among the names of its stories is the subject's own in 87.5%" in text
    for key in about_models.SOURCE_KEYS:
        source = about_models.SOURCES[key]
        assert source.label in text and source.licence in text
    assert NAMES_NOTE in text and "cannot do" in text
    # A model that read only the story world is not said to have read books.
    old = spelling_model(reads_spelling=False)
    old.metrics = {}
    mixed = about_models.about_models_markdown({"words": spelling_model(), "chars": old})
    assert "**What `words` read.**" in mixed and "**What `chars` read.** Only the generated story world" in mixed
