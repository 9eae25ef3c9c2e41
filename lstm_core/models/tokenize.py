"""Tokenizers for the two pretrained language models.

`WordTokenizer` lowercases the text and splits it into words and punctuation marks: each of
``, . ! ? : ; "`` is a token of its own, and words joined by an apostrophe or a hyphen
("single-handedly", "don't") stay whole. A word outside the vocabulary becomes ``<unk>``.

`CharTokenizer` keeps every character (case included) from a fixed alphabet; any other character
becomes ``<unk>``.

Both expose the same small interface the language model and the app use:

>>> tokenizer = WordTokenizer(["<unk>", "bob", "is", "nice", "."])
>>> tokenizer.tokens("Bob is NICE, truly.")
['bob', 'is', 'nice', '<unk>', '<unk>', '.']
>>> tokenizer.unknown("Bob is NICE, truly.")
[',', 'truly']
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

__all__ = ["UNKNOWN_TOKEN", "CHAR_ALPHABET", "WordTokenizer", "CharTokenizer", "split_words"]

UNKNOWN_TOKEN = "<unk>"

# Printable ASCII without the rarely typed tab/vertical-tab/form-feed; newline is kept because
# pasted paragraphs contain it. The order is fixed so that character ids never change.
CHAR_ALPHABET: str = string.ascii_lowercase + string.ascii_uppercase + string.digits + " \n" + string.punctuation

# A word is letters/digits, optionally joined by apostrophes or hyphens ("single-handedly",
# "don't"); every other non-space character is a token of its own, so "evil." -> "evil", ".".
_WORD_PATTERN = re.compile(r"[^\W_]+(?:['\-’][^\W_]+)*|\S")


def split_words(text: str) -> list[str]:
    """Split `text` into words and single punctuation characters, keeping the user's spelling.

    >>> split_words('Dan, on the other hand, is "evil".')
    ['Dan', ',', 'on', 'the', 'other', 'hand', ',', 'is', '"', 'evil', '"', '.']
    """
    return _WORD_PATTERN.findall(text)


class WordTokenizer:
    """Lowercasing word tokenizer over a fixed vocabulary.

    Args:
        vocab: the model's tokens in id order; must contain ``"<unk>"``.
    """

    kind = "words"

    def __init__(self, vocab: Sequence[str]) -> None:
        if UNKNOWN_TOKEN not in vocab:
            raise ValueError(f"vocab must contain {UNKNOWN_TOKEN!r}")
        self.vocab: list[str] = list(vocab)
        self.token_to_id: dict[str, int] = {token: i for i, token in enumerate(self.vocab)}
        self.unknown_id: int = self.token_to_id[UNKNOWN_TOKEN]

    def tokens(self, text: str) -> list[str]:
        """The model's tokens for `text` (lowercased; unknown words become ``<unk>``)."""
        return [word if word in self.token_to_id else UNKNOWN_TOKEN for word in self.words(text)]

    def encode(self, text: str) -> list[int]:
        """Token ids for `text`, one per token of `tokens(text)`."""
        return [self.token_to_id.get(word, self.unknown_id) for word in self.words(text)]

    def unknown(self, text: str) -> list[str]:
        """The distinct words of `text` outside the vocabulary, as typed, in order of appearance."""
        return list(
            dict.fromkeys(word for word in split_words(text) if word.lower().replace("’", "'") not in self.token_to_id)
        )

    @staticmethod
    def words(text: str) -> list[str]:
        """Every word and punctuation mark of `text` as the model reads it (lowercased), known or not."""
        # The curly apostrophe of phones and word processors means the same as the straight one.
        return [word.lower().replace("’", "'") for word in split_words(text)]


class CharTokenizer:
    """Character tokenizer over `CHAR_ALPHABET` plus ``<unk>`` (id 0).

    Case is kept: the character model reads capitals as a cue for names and sentence starts.
    """

    kind = "chars"

    def __init__(self, vocab: Sequence[str] | None = None) -> None:
        self.vocab: list[str] = list(vocab) if vocab is not None else [UNKNOWN_TOKEN, *CHAR_ALPHABET]
        if UNKNOWN_TOKEN not in self.vocab:
            raise ValueError(f"vocab must contain {UNKNOWN_TOKEN!r}")
        self.token_to_id: dict[str, int] = {token: i for i, token in enumerate(self.vocab)}
        self.unknown_id: int = self.token_to_id[UNKNOWN_TOKEN]

    def tokens(self, text: str) -> list[str]:
        """One token per character of `text`; characters outside the alphabet become ``<unk>``."""
        return [char if char in self.token_to_id else UNKNOWN_TOKEN for char in text]

    @staticmethod
    def words(text: str) -> list[str]:
        """The characters of `text`, known or not (a character model's "words")."""
        return list(text)

    def encode(self, text: str) -> list[int]:
        """Token ids for `text`, one per character."""
        return [self.token_to_id.get(char, self.unknown_id) for char in text]

    def unknown(self, text: str) -> list[str]:
        """The characters of `text` outside the alphabet, in order of first appearance."""
        return list(dict.fromkeys(char for char in text if char not in self.token_to_id))
