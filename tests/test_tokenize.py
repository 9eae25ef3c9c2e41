"""Word and character tokenizers: splitting, lowercasing, unknowns, and agreement with the corpus."""

import pytest

from lstm_core.data import corpus
from lstm_core.models.tokenize import CHAR_ALPHABET, UNKNOWN_TOKEN, CharTokenizer, WordTokenizer, split_words

WORDS = WordTokenizer([UNKNOWN_TOKEN, *corpus.vocabulary()])


def test_punctuation_is_split_and_text_lowercased():
    text = 'Dan, on the other hand, is evil. Bob said: "Help me!" Why? Yes; no.'
    assert WORDS.tokens(text) == [
        "dan", ",", "on", "the", "other", "hand", ",", "is", "evil", ".",
        "bob", "said", ":", '"', "help", "me", "!", '"', "<unk>", "?", "<unk>", ";", "<unk>", ".",
    ]  # fmt: skip


def test_hyphenated_and_apostrophe_words_stay_whole():
    assert split_words("Bob single-handedly fought; don't stop, rock'n'roll") == [
        "Bob", "single-handedly", "fought", ";", "don't", "stop", ",", "rock'n'roll",
    ]  # fmt: skip
    assert WORDS.tokens("single-handedly")[0] == "single-handedly"
    assert split_words("don’t") == ["don’t"]


def test_unknown_words_are_reported_as_typed_once_each():
    text = "Bob met Zorro or ZORRO met Xena-Warrior."
    tokens = WORDS.tokens(text)
    assert tokens.count(UNKNOWN_TOKEN) == 4  # zorro twice, or, xena-warrior
    assert WORDS.unknown(text) == ["Zorro", "or", "ZORRO", "Xena-Warrior"]
    assert len(WORDS.encode(text)) == len(tokens)
    assert WORDS.encode(text)[0] == WORDS.token_to_id["bob"]


def test_issue_sentences_are_fully_known():
    text = (
        "Bob is a nice person. Dan, on the other hand, is evil. Bob knows swimming. He told me over the "
        "phone that he had served the navy for four long years. Bob single-handedly fought the enemy and "
        "died for his country. For his contributions, brave Bob."
    )
    assert WORDS.unknown(text) == []


def test_char_tokenizer_keeps_case_and_flags_unknown_characters():
    tokenizer = CharTokenizer()
    assert tokenizer.vocab[0] == UNKNOWN_TOKEN and len(tokenizer.vocab) == len(CHAR_ALPHABET) + 1
    assert tokenizer.tokens('Hi "é"!') == ["H", "i", " ", '"', UNKNOWN_TOKEN, '"', "!"]
    assert tokenizer.unknown("é€é") == ["é", "€"]
    assert tokenizer.encode("a") == [1]


def test_vocab_without_unknown_token_is_rejected():
    with pytest.raises(ValueError, match="<unk>"):
        WordTokenizer(["bob"])


def test_word_tokens_of_rendered_stories_match_the_generator():
    for story in corpus.generate_stories(300, seed=7):
        assert WORDS.tokens(story.text) == story.tokens
