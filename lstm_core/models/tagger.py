"""Part-of-speech taggers: word vectors -> a stacked (bi)LSTM -> one universal tag per word, in NumPy.

A `Tagger` reads a sentence word by word and gives every word a probability for each of the 12
universal tags (`lstm_core.tags`):

    x_t = E[id(w_t)] + mean_s P[bucket(s)] + S[shape(w_t)]    # (E,) row, spelling, shape
    y_t = LSTM(x_1 .. x_T)[t]                                 # (D*H,) last layer, both directions
    p_t = softmax(W y_t + b)                                  # (12,) tag distribution of word t

- `E` has a row for each word seen at least twice in training (lowercased); any other word reads
  `<unk>`'s row, plus its spelling: the mean of the rows its character n-grams hash to ("<fi",
  "ish>", ...; `subwords.WordPieces`), so "-ly" and "-ing" words are tagged even when new.
- `S` has one row per word shape (lowercase, Capitalised, ALL CAPS, with digits, punctuation): a
  capital mid-sentence is how an unseen name shows it is a noun.
- A bidirectional tagger's step t has read the words 1..t forwards and T..t backwards, so the
  decoder sees the whole sentence; a forward one sees only up to t. That difference is the lesson:
  "can" in "I can fish" and "a can of fish" only differs by what comes after it.

The weights were trained with torch (`python -m lstm_core.training.tagger`) on the Brown corpus and
are shipped in `assets/<name>/` with their vocabulary and model card; loading needs NumPy only.

>>> tagger = load_tagger("tagger")
>>> tagger.tag(["I", "can", "fish", "."])
['PRON', 'VERB', 'VERB', '.']
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lstm_core.config import ASSETS_DIR
from lstm_core.io.checkpoint import load_checkpoint, save_checkpoint
from lstm_core.lstm import LSTM, BatchTrace, Trace
from lstm_core.models.subwords import WordPieces, mean_piece_vectors_of
from lstm_core.models.tokenize import UNKNOWN_TOKEN, split_words
from lstm_core.numerics import softmax
from lstm_core.tags import UNIVERSAL_TAGS

__all__ = ["TAGGERS", "SHAPES", "Tagger", "word_shape", "load_tagger"]

# The shipped taggers: the same size, data and training; one reads both ways, the other forwards only.
TAGGERS: tuple[str, ...] = ("tagger", "tagger-forward")

SHAPES: tuple[str, ...] = ("lower", "Capitalised", "UPPER", "digits", "punctuation", "other")

_CHECKPOINT_FILE = "model.safetensors"
_VOCAB_FILE = "vocab.json"


def word_shape(word: str) -> int:
    """The index in `SHAPES` of `word`'s shape: what its capitals, digits and marks look like.

    >>> [SHAPES[word_shape(w)] for w in ("fish", "Anna", "NATO", "1961", ",", "e-Mail")]
    ['lower', 'Capitalised', 'UPPER', 'digits', 'punctuation', 'other']
    """
    if any(char.isdigit() for char in word):
        return 3
    if not any(char.isalpha() for char in word):
        return 4
    if word.islower():
        return 0
    if word.isupper() and len(word) > 1:
        return 2
    if word[0].isupper() and (len(word) == 1 or word[1:].islower() or not any(c.isalpha() for c in word[1:])):
        return 1
    return 5


def normalise_word(word: str) -> str:
    """How a word is looked up: lowercased, with curly apostrophes and Brown's `` and '' quotes
    written as the plain characters a student types."""
    if word in ("``", "''"):
        return '"'
    return word.lower().replace("’", "'")


class Tagger:
    """Word vectors, the core `LSTM` (stacked, one or two directions) and a linear tag decoder; NumPy only.

    Args:
        name: ``"tagger"`` or ``"tagger-forward"`` for the shipped models, any string otherwise.
        vocab: the known words (lowercased), ``"<unk>"`` among them; row i of `embedding` is vocab[i].
        embedding: (V, E); piece_embedding: (pieces.bucket_count, E); shape_embedding: (len(SHAPES), E).
        lstm: the core `LSTM` with input_size E.
        decoder_weight: (len(tags), num_directions * H); decoder_bias: (len(tags),).
        tags: the output classes in decoder order (`UNIVERSAL_TAGS`).
        metrics: held-out evaluation results recorded at training time.
    """

    kind = "words"
    task = "tags"

    def __init__(
        self,
        name: str,
        vocab: Sequence[str],
        embedding: np.ndarray,
        pieces: WordPieces,
        piece_embedding: np.ndarray,
        shape_embedding: np.ndarray,
        lstm: LSTM,
        decoder_weight: np.ndarray,
        decoder_bias: np.ndarray,
        tags: Sequence[str] = UNIVERSAL_TAGS,
        metrics: dict | None = None,
    ) -> None:
        vocab = list(vocab)
        if UNKNOWN_TOKEN not in vocab:
            raise ValueError(f"vocab must contain {UNKNOWN_TOKEN!r}")
        output_size = lstm.num_directions * lstm.hidden_size
        expected = {
            "embedding": (embedding, (len(vocab), lstm.input_size)),
            "piece_embedding": (piece_embedding, (pieces.bucket_count, lstm.input_size)),
            "shape_embedding": (shape_embedding, (len(SHAPES), lstm.input_size)),
            "decoder_weight": (decoder_weight, (len(tags), output_size)),
            "decoder_bias": (decoder_bias, (len(tags),)),
        }
        for argument, (array, shape) in expected.items():
            if np.shape(array) != shape:
                raise ValueError(f"{argument} must have shape {shape}, got {np.shape(array)}")
        self.name = name
        self.vocab = vocab
        self.word_to_id = {word: index for index, word in enumerate(vocab)}
        self.unknown_id = self.word_to_id[UNKNOWN_TOKEN]
        self.lstm = lstm
        dtype = lstm.dtype
        self.embedding = np.asarray(embedding, dtype=dtype)
        self.pieces = pieces
        self.piece_embedding = np.asarray(piece_embedding, dtype=dtype)
        self.shape_embedding = np.asarray(shape_embedding, dtype=dtype)
        self.decoder_weight = np.asarray(decoder_weight, dtype=dtype)
        self.decoder_bias = np.asarray(decoder_bias, dtype=dtype)
        self.tags: list[str] = list(tags)
        self.metrics: dict = dict(metrics or {})
        self.units: dict = {}  # no named units: a tagger's story is told by tags and probes

    def __repr__(self) -> str:
        return f"Tagger(name={self.name!r}, vocab_size={len(self.vocab)}, lstm={self.lstm!r})"

    @property
    def labels(self) -> list[str]:
        """What the decoder scores, in its order: the tags."""
        return self.tags

    @property
    def reads_spelling(self) -> bool:
        """A word outside the vocabulary is read from its spelling and shape, never as nothing."""
        return True

    @property
    def bidirectional(self) -> bool:
        return self.lstm.num_directions == 2

    # ------------------------------------------------------------------------------- text
    def tokens(self, text: str) -> list[str]:
        """The words and punctuation marks of `text`, as typed: one tag each."""
        return split_words(_checked_text(text))

    def unknown_words(self, text: str) -> list[str]:
        """The distinct words of `text` the tagger has no row for (it reads them from their spelling)."""
        return list(dict.fromkeys(word for word in self.tokens(text) if normalise_word(word) not in self.word_to_id))

    def word_vectors(self, words: Sequence[str]) -> np.ndarray:
        """(len(words), E) what the LSTM reads for each word: its row, its spelling and its shape."""
        if len(words) == 0:
            raise ValueError("words is empty: give at least one word to tag")
        lowered = [normalise_word(word) for word in words]
        ids = np.array([self.word_to_id.get(word, self.unknown_id) for word in lowered], dtype=np.int64)
        shapes = np.array([word_shape(word) for word in words], dtype=np.int64)
        spelling = mean_piece_vectors_of(self.piece_embedding, self.pieces, lowered)
        return self.embedding[ids] + spelling + self.shape_embedding[shapes]

    def input_vectors(self, text: str) -> np.ndarray:
        """(T, E) one vector per word of `tokens(text)`."""
        return self.word_vectors(self.tokens(text))

    # --------------------------------------------------------------------------- forward
    def trace_words(self, words: Sequence[str]) -> Trace:
        """Run the LSTM over `words` (both directions for a bidirectional tagger) from a zero state."""
        words = [str(word) for word in words]
        trace = self.lstm.run(self.word_vectors(words))
        return dataclasses.replace(trace, tokens=tuple(words))

    def trace(self, text: str) -> Trace:
        """`trace_words` of `tokens(text)`."""
        return self.trace_words(self.tokens(text))

    def trace_texts(self, texts: Sequence[str]) -> BatchTrace:
        """Run many texts at once with the core's batched forward (zero-padded to the longest; the
        backward direction starts at each text's own last word)."""
        return self.lstm.run_batch([self.input_vectors(text) for text in texts])

    def logits(self, output: np.ndarray) -> np.ndarray:
        """(..., len(tags)) decoder scores for LSTM outputs of shape (..., num_directions * H)."""
        return output @ self.decoder_weight.T + self.decoder_bias

    def tag_probs(self, trace: Trace) -> np.ndarray:
        """(T, len(tags)): row t is the tag distribution of word t, from `trace.output`."""
        return softmax(self.logits(trace.output))

    def tag(self, words: Sequence[str]) -> list[str]:
        """One universal tag per word of `words` (a list of words, not a string)."""
        if isinstance(words, str):
            raise TypeError("tag takes a list of words; use tag_text for a sentence as one string")
        probabilities = self.tag_probs(self.trace_words(words))
        return [self.tags[index] for index in probabilities.argmax(axis=1)]

    def tag_text(self, text: str) -> list[tuple[str, str]]:
        """(word, tag) for every word of `text`."""
        words = self.tokens(text)
        return list(zip(words, self.tag(words), strict=True))

    # ------------------------------------------------------------------------ save / load
    def tensors(self) -> dict[str, np.ndarray]:
        """The weights under the torch module's own names."""
        tensors = {
            "embedding.weight": self.embedding,
            "pieces.weight": self.piece_embedding,
            "shapes.weight": self.shape_embedding,
        }
        tensors |= {f"lstm.{key}": value for key, value in self.lstm.state_dict().items()}
        tensors |= {"decoder.weight": self.decoder_weight, "decoder.bias": self.decoder_bias}
        return tensors

    def save(self, directory: str | Path, extra_config: dict | None = None, storage_dtype=None) -> None:
        """Write ``model.safetensors`` (weights and config) and ``vocab.json`` to `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "name": self.name,
            "task": self.task,
            "tags": self.tags,
            "vocab_size": len(self.vocab),
            "embedding_size": self.lstm.input_size,
            "hidden_size": self.lstm.hidden_size,
            "num_layers": self.lstm.num_layers,
            "bidirectional": self.bidirectional,
            "pieces": {
                "bucket_count": self.pieces.bucket_count,
                "min_n": self.pieces.min_n,
                "max_n": self.pieces.max_n,
            },
            "metrics": self.metrics,
            **(extra_config or {}),
        }
        tensors = self.tensors()
        if storage_dtype is not None:
            tensors = {name: array.astype(storage_dtype) for name, array in tensors.items()}
        save_checkpoint(directory / _CHECKPOINT_FILE, tensors, config)
        (directory / _VOCAB_FILE).write_text(json.dumps(self.vocab, ensure_ascii=False, indent=0) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> Tagger:
        """Rebuild a tagger written by `save`; reads data only, never executes code."""
        directory = Path(directory)
        tensors, config = load_checkpoint(directory / _CHECKPOINT_FILE)
        if config.get("task") != cls.task:
            raise ValueError(f"{directory}: not a tagger (task {config.get('task')!r})")
        vocab = json.loads((directory / _VOCAB_FILE).read_text())
        if not isinstance(vocab, list) or not all(isinstance(word, str) for word in vocab):
            raise ValueError(f"{directory / _VOCAB_FILE}: expected a JSON list of words")
        pieces = WordPieces(**{key: int(config["pieces"][key]) for key in ("bucket_count", "min_n", "max_n")})
        return cls(
            name=str(config["name"]),
            vocab=vocab,
            embedding=tensors["embedding.weight"],
            pieces=pieces,
            piece_embedding=tensors["pieces.weight"],
            shape_embedding=tensors["shapes.weight"],
            lstm=LSTM.from_state_dict(tensors, prefix="lstm."),
            decoder_weight=tensors["decoder.weight"],
            decoder_bias=tensors["decoder.bias"],
            tags=[str(tag) for tag in config.get("tags", UNIVERSAL_TAGS)],
            metrics=config.get("metrics", {}),
        )


@functools.cache
def load_tagger(name: str) -> Tagger:
    """The shipped tagger called `name` (one of `TAGGERS`), loaded once and then shared."""
    if name not in TAGGERS:
        raise ValueError(f"name must be one of {TAGGERS}, got {name!r}")
    directory = ASSETS_DIR / name
    if not (directory / _CHECKPOINT_FILE).exists():
        raise FileNotFoundError(
            f"{directory / _CHECKPOINT_FILE} is missing; run `python -m lstm_core.training.tagger {name}`"
        )
    return Tagger.load(directory)


def _checked_text(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("text is empty: type at least one word for the tagger to read")
    return text
