"""How the word model reads a word it may never have seen: its vocabulary row, its spelling, and,
for a first name, what birth records say about it.

The input vector of a word w (lowercased) is the sum of three parts (fastText's subword idea,
Bojanowski et al., 2017, plus one number from name records):

    x(w) = E[id(w)]                                  # (E,) its own row; <unk>'s row for a new word
         + mean over n-grams s of w of  P[bucket(s)]  # (E,) its spelling: "<pr", "pri", ..., "ya>"
         + r(w) * name_direction                      # (E,) r(w) = 2 * (share of girls) - 1

- n-grams are the character 3- to 5-grams of "<w>" ("<" and ">" mark the word's edges), each
  hashed (FNV-1a, 32 bit, over its UTF-8 bytes) into one of `bucket_count` rows of P. So every word,
  however new, has a vector, and words that share pieces ("swimming", "swimmer") share parts of it.
- r(w) is +1 for a name that only girls were given, -1 for one only boys were given, 0 for a word
  that is not a first name in the records (US Social Security births 1880-2017). Names are not
  genders: the records only say how parents named their children, and the model learns that
  association, nothing more.

    >>> pieces = WordPieces(bucket_count=1000)
    >>> pieces.ngrams("priya")[:4]
    ['<pr', 'pri', 'riy', 'iya']
    >>> pieces.buckets("priya").shape, bool((pieces.buckets("priya") < 1000).all())
    ((12,), True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["WordPieces", "fnv1a_32", "fnv1a_32_many", "mean_piece_vectors_of", "NameRecords", "WordReading", "NAMES_NOTE"]

# Said wherever the app or a model card shows a gender read from a name.
NAMES_NOTE = (
    "Names are not genders: the model learned how often parents gave a name to girls and to boys, a "
    "statistical association from birth records, and it is wrong for many people."
)

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619


def fnv1a_32(text: str) -> int:
    """The 32-bit FNV-1a hash of `text`'s UTF-8 bytes: the same number on every machine and run
    (Python's own `hash` of a str changes between runs)."""
    value = _FNV_OFFSET
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


@dataclass(frozen=True)
class WordPieces:
    """Character n-grams of a word and the embedding rows they hash to."""

    bucket_count: int
    min_n: int = 3
    max_n: int = 5
    _cache: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.bucket_count, int) or self.bucket_count < 1:
            raise ValueError(f"bucket_count must be a positive integer, got {self.bucket_count!r}")
        if not 1 <= self.min_n <= self.max_n:
            raise ValueError(f"need 1 <= min_n <= max_n, got {self.min_n}, {self.max_n}")

    def ngrams(self, word: str) -> list[str]:
        """The n-grams of "<word>", shortest first; a word shorter than `min_n` gives "<word>" itself."""
        marked = f"<{word}>"
        grams = [marked[i : i + n] for n in range(self.min_n, self.max_n + 1) for i in range(len(marked) - n + 1)]
        return grams or [marked]

    def buckets(self, word: str) -> np.ndarray:
        """(number of n-grams,) the rows of the piece embedding that `word`'s n-grams hash to."""
        cached = self._cache.get(word)
        if cached is None:
            cached = np.array([fnv1a_32(gram) % self.bucket_count for gram in self.ngrams(word)], dtype=np.int64)
            if len(self._cache) < 200_000:  # the words of a class's texts; bounded all the same
                self._cache[word] = cached
        return cached

    def bucket_lists(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The buckets of many words at once, hashed with array operations (a vocabulary of
        thousands in milliseconds): (rows, counts), every word's rows end to end and how many each has.
        The same rows as `buckets`, word by word."""
        grams = [self.ngrams(word) for word in words]
        counts = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
        encoded = [gram.encode("utf-8") for word_grams in grams for gram in word_grams]
        return fnv1a_32_many(encoded) % np.uint64(self.bucket_count), counts


def fnv1a_32_many(texts: Sequence[bytes]) -> np.ndarray:
    """(len(texts),) uint64: `fnv1a_32` of each byte string, one array step per byte position."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    flat = np.frombuffer(b"".join(texts), dtype=np.uint8).astype(np.uint64)
    starts = np.cumsum(lengths) - lengths
    values = np.full(len(texts), _FNV_OFFSET, dtype=np.uint64)
    for position in range(int(lengths.max(initial=0))):
        active = np.flatnonzero(lengths > position)
        # (value ^ byte) < 2**32 and the prime < 2**25: the product fits in 64 bits before the mask.
        values[active] = ((values[active] ^ flat[starts[active] + position]) * np.uint64(_FNV_PRIME)) & np.uint64(0xFFFFFFFF)
    return values


@dataclass(frozen=True)
class NameRecords:
    """The share of girls among the babies given each first name, from birth records.

    `shares` maps a lowercase name to a share in [0, 1]; `value(word)` is 2 * share - 1 (+1 girls
    only, -1 boys only) and 0 for a word that is not in the records.
    """

    shares: Mapping[str, float]
    source: str = ""

    def value(self, word: str) -> float:
        share = self.shares.get(word)
        return 0.0 if share is None else 2.0 * float(share) - 1.0

    def share(self, word: str) -> float | None:
        share = self.shares.get(word)
        return None if share is None else float(share)


@dataclass(frozen=True)
class WordReading:
    """What the model made of one word: for the app's notice on words outside the vocabulary.

    known: the word has its own vocabulary row; pieces: its n-grams; girls_share: the share of girls
    among babies given this name in the records (None when it is not a name there); nearest: the
    vocabulary words whose input vectors are closest to this word's (cosine), with their similarity.
    """

    word: str
    known: bool
    pieces: tuple[str, ...]
    girls_share: float | None
    nearest: tuple[tuple[str, float], ...]


def mean_piece_vectors(piece_embedding: np.ndarray, buckets: Sequence[np.ndarray]) -> np.ndarray:
    """(len(buckets), E): the mean of the piece rows of each word."""
    out = np.empty((len(buckets), piece_embedding.shape[1]), dtype=piece_embedding.dtype)
    for index, rows in enumerate(buckets):
        out[index] = piece_embedding[rows].mean(axis=0)
    return out


def mean_piece_vectors_of(piece_embedding: np.ndarray, pieces: WordPieces, words: Sequence[str]) -> np.ndarray:
    """(len(words), E) as `mean_piece_vectors`, for many words at once (a whole vocabulary)."""
    rows, counts = pieces.bucket_lists(words)
    starts = np.cumsum(counts) - counts
    sums = np.zeros((len(words), piece_embedding.shape[1]), dtype=piece_embedding.dtype)
    # One array step per n-gram position (a few dozen), each adding one row to every word that has it.
    for position in range(int(counts.max(initial=0))):
        active = np.flatnonzero(counts > position)
        sums[active] += piece_embedding[rows[starts[active] + position]]
    return sums / np.maximum(counts, 1)[:, None].astype(piece_embedding.dtype)
