"""The pretrained language models the app explains: embedding -> LSTM -> linear decoder, in NumPy.

A `LanguageModel` reads text token by token (words or characters) and, after each token, gives a
probability for every possible next token:

    x_t = E[token_t]                  # (E,)  embedding row (+ spelling and name records, see below)
    h_t = LSTM(x_1 .. x_t)            # (H,)  the core `LSTM`, last layer
    p_t = softmax(W h_t + b)          # (V,)  next-token distribution

A word model may also read each word's spelling and, for a first name, birth records
(`lstm_core.models.subwords`): then no word is ever unknown to its input, though only vocabulary
words can be predicted.

The weights were trained with torch (`python -m lstm_core.training.language`) and are shipped in `assets/<name>/`
with their vocabulary and model card; loading needs NumPy only.

>>> model = load_pretrained("words")
>>> model.predict_next("Mary is a nice person. Dan, on the other hand, is evil.", k=1)[0][0]
'he'
>>> model.next_token_probs(model.trace("Bob knows swimming.")).shape     # (T, V)
(4, 341)
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_core.config import ASSETS_DIR
from lstm_core.io.checkpoint import load_checkpoint, save_checkpoint
from lstm_core.lstm import LSTM, BatchTrace, Trace
from lstm_core.models.subwords import NameRecords, WordPieces, WordReading, mean_piece_vectors, mean_piece_vectors_of
from lstm_core.models.tagger import TAGGERS, Tagger, load_tagger
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer, WordTokenizer
from lstm_core.numerics import softmax

__all__ = ["PRETRAINED", "LANGUAGE_MODELS", "UnitInfo", "LanguageModel", "load_pretrained"]

# words and chars read real English books and the story world: words any name (from its birth record)
# and any word (from its spelling), chars any text. story reads the story world's 341 words only.
# The taggers (`models.tagger`) tag each word of a sentence with its part of speech, one reading both
# ways, one forwards only.
LANGUAGE_MODELS: tuple[str, ...] = ("words", "chars", "story")
PRETRAINED: tuple[str, ...] = (*LANGUAGE_MODELS, *TAGGERS)

_CHECKPOINT_FILE = "model.safetensors"
_VOCAB_FILE = "vocab.json"
_NAMES_FILE = "names.json"


@dataclass(frozen=True)
class UnitInfo:
    """A named interpretable unit, found by `analysis` at training time and stored with the model.

    The unit's `signal` value (``"cell"``: the cell state) at ``[layer, direction, :, unit]`` of a
    trace reads as `above` when it is greater than `threshold` and as `below` otherwise.

    Attributes:
        accuracy: fraction of labelled tokens read correctly on names the unit was not chosen on.
        chosen_accuracy: the same on the names it was chosen on.
    """

    name: str
    layer: int
    direction: int
    unit: int
    threshold: float
    above: str
    below: str
    accuracy: float
    chosen_accuracy: float
    signal: str = "cell"
    description: str = ""

    def read(self, values: np.ndarray) -> np.ndarray:
        """The label (`above` or `below`) of each value; `values` of any shape."""
        return np.where(np.asarray(values) > self.threshold, self.above, self.below)

    def values(self, trace: Trace) -> np.ndarray:
        """(T,) this unit's `signal` along a trace."""
        states = trace.cell if self.signal == "cell" else trace.hidden
        return np.asarray(states[self.layer, self.direction, :, self.unit])


class LanguageModel:
    """Embedding, the core `LSTM` and a linear decoder over a fixed vocabulary; NumPy only.

    Args:
        name: ``"words"`` or ``"chars"`` for the shipped models, any string otherwise.
        tokenizer: a `WordTokenizer` or `CharTokenizer`; its vocab is the model's.
        embedding: (V, E) one row per token id.
        lstm: the core `LSTM` with input_size E.
        decoder_weight: (V, num_directions * H); decoder_bias: (V,). None with `decoder_is_input`.
        units: named interpretable units (see `UnitInfo`).
        metrics: held-out evaluation results recorded at training time.
        pieces, piece_embedding: (bucket_count, E) rows for the character n-grams of each word (word
            models only; None for a model that reads its vocabulary alone).
        names, name_direction: (E,) birth records of first names and the direction in which a name's
            record moves its input vector (both None, or both given).
        decoder_is_input: each word's decoder row is its whole input vector (its row, its spelling and
            its record), computed here rather than stored: to predict a name it read long ago, the
            model only has to keep what that name's input looked like.
    """

    def __init__(
        self,
        name: str,
        tokenizer: WordTokenizer | CharTokenizer,
        embedding: np.ndarray,
        lstm: LSTM,
        decoder_weight: np.ndarray | None,
        decoder_bias: np.ndarray,
        units: dict[str, UnitInfo] | None = None,
        metrics: dict | None = None,
        pieces: WordPieces | None = None,
        piece_embedding: np.ndarray | None = None,
        names: NameRecords | None = None,
        name_direction: np.ndarray | None = None,
        decoder_is_input: bool = False,
    ) -> None:
        vocab_size = len(tokenizer.vocab)
        output_size = lstm.num_directions * lstm.hidden_size
        expected = {
            "embedding": (embedding, (vocab_size, lstm.input_size)),
            "decoder_bias": (decoder_bias, (vocab_size,)),
        }
        if decoder_is_input:
            if decoder_weight is not None or lstm.input_size != output_size:
                raise ValueError("decoder_is_input computes the decoder from the inputs: pass decoder_weight=None "
                                 "and use input_size == num_directions * hidden_size")  # fmt: skip
        else:
            expected["decoder_weight"] = (decoder_weight, (vocab_size, output_size))
        if (pieces is None) != (piece_embedding is None) or (names is None) != (name_direction is None):
            raise ValueError("pieces and piece_embedding, and names and name_direction, come in pairs")
        if (pieces is not None or names is not None) and tokenizer.kind != "words":
            raise ValueError("spelling and name records are for word models only")
        if pieces is not None:
            expected["piece_embedding"] = (piece_embedding, (pieces.bucket_count, lstm.input_size))
        if names is not None:
            expected["name_direction"] = (name_direction, (lstm.input_size,))
        for argument, (array, shape) in expected.items():
            if np.shape(array) != shape:
                raise ValueError(f"{argument} must have shape {shape}, got {np.shape(array)}")
        self.name = name
        self.tokenizer = tokenizer
        self.lstm = lstm
        self.embedding = np.asarray(embedding, dtype=lstm.dtype)
        self.decoder_bias = np.asarray(decoder_bias, dtype=lstm.dtype)
        self.units: dict[str, UnitInfo] = dict(units or {})
        self.metrics: dict = dict(metrics or {})
        self.pieces = pieces
        self.piece_embedding = None if pieces is None else np.asarray(piece_embedding, dtype=lstm.dtype)
        self.names = names
        self.name_direction = None if names is None else np.asarray(name_direction, dtype=lstm.dtype)
        self.decoder_is_input = decoder_is_input
        if decoder_is_input:
            decoder_weight = self._vocabulary_vectors()
        self.decoder_weight = np.asarray(decoder_weight, dtype=lstm.dtype)

    task = "next"  # what the decoder scores: the next token (a tagger's is "tags": the tag of each word)

    def __repr__(self) -> str:
        return f"LanguageModel(name={self.name!r}, vocab_size={len(self.vocab)}, lstm={self.lstm!r})"

    # ------------------------------------------------------------------------------- text
    @property
    def vocab(self) -> list[str]:
        return self.tokenizer.vocab

    @property
    def labels(self) -> list[str]:
        """What the decoder scores, in its order: the vocabulary (a tagger's are its tags)."""
        return self.tokenizer.vocab

    @property
    def kind(self) -> str:
        """``"words"`` or ``"chars"``: what one token is."""
        return self.tokenizer.kind

    @property
    def reads_spelling(self) -> bool:
        """True when a word outside the vocabulary is read from its spelling instead of as ``<unk>``."""
        return self.pieces is not None

    def tokens(self, text: str) -> list[str]:
        """The tokens the model reads for `text`: unknown words/characters as ``<unk>``, or, for a
        model that reads spelling, every word as it is (lowercased)."""
        text = _checked_text(text)
        if self.reads_spelling:
            return self.tokenizer.words(text)
        return self.tokenizer.tokens(text)

    def encode(self, text: str) -> np.ndarray:
        """(T,) token ids of `text`."""
        return np.asarray(self.tokenizer.encode(_checked_text(text)), dtype=np.int64)

    def unknown_words(self, text: str) -> list[str]:
        """The words (characters, for the char model) of `text` outside the vocabulary, as typed."""
        return self.tokenizer.unknown(_checked_text(text))

    def input_vectors(self, text: str) -> np.ndarray:
        """(T, E) what the LSTM reads: one vector per token of `tokens(text)`."""
        text = _checked_text(text)
        return self._vectors(self.tokenizer.words(text) if self.kind == "words" else list(text), self.encode(text))

    def _vectors(self, words: Sequence[str], ids: np.ndarray) -> np.ndarray:
        vectors = self.embedding[ids]
        if self.pieces is not None:
            vectors = vectors + mean_piece_vectors(self.piece_embedding, [self.pieces.buckets(word) for word in words])
        if self.names is not None:
            records = np.array([self.names.value(word) for word in words], dtype=vectors.dtype)
            vectors = vectors + records[:, None] * self.name_direction
        return vectors

    def read_word(self, word: str, nearest: int = 3) -> WordReading:
        """What the model makes of `word`: whether it has its own row, its pieces, its name record,
        and the vocabulary words whose input vectors are closest to its own."""
        words = self.tokenizer.words(word)
        word = words[0] if words else word.lower()
        known = word in self.tokenizer.token_to_id and word != UNKNOWN_TOKEN
        vector = self._vectors([word], np.array([self.tokenizer.token_to_id.get(word, self.tokenizer.unknown_id)]))[0]
        similarity = self._vocabulary_unit_vectors @ vector / (np.linalg.norm(vector) + 1e-12)
        similarity[self.tokenizer.unknown_id] = -np.inf
        if known:
            similarity[self.tokenizer.token_to_id[word]] = -np.inf
        order = np.argsort(-similarity, kind="stable")[:nearest]
        return WordReading(
            word=word, known=known, pieces=tuple(self.pieces.ngrams(word)) if self.pieces else (),
            girls_share=self.names.share(word) if self.names else None,
            nearest=tuple((self.vocab[index], float(similarity[index])) for index in order),
        )  # fmt: skip

    def _vocabulary_vectors(self) -> np.ndarray:
        """(V, E) the input vector of every vocabulary word, as `_vectors` gives it, computed at once."""
        vectors = self.embedding.copy()
        if self.pieces is not None:
            vectors += mean_piece_vectors_of(self.piece_embedding, self.pieces, self.vocab)
        if self.names is not None:
            records = np.array([self.names.value(word) for word in self.vocab], dtype=vectors.dtype)
            vectors += records[:, None] * self.name_direction
        return vectors

    @functools.cached_property
    def _vocabulary_unit_vectors(self) -> np.ndarray:
        """(V, E) the input vector of every vocabulary word, scaled to length 1."""
        vectors = self.decoder_weight if self.decoder_is_input else self._vocabulary_vectors()
        return vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)

    # --------------------------------------------------------------------------- forward
    def trace(self, text: str) -> Trace:
        """Run the LSTM over `text` from a zero state; the trace's `tokens` are `tokens(text)`."""
        text = _checked_text(text)
        trace = self.lstm.run(self.input_vectors(text))
        return dataclasses.replace(trace, tokens=tuple(self.tokens(text)))

    def trace_texts(self, texts: Sequence[str]) -> BatchTrace:
        """Run many texts at once with the core's batched forward (zero-padded to the longest)."""
        return self.lstm.run_batch([self.input_vectors(text) for text in texts])

    def logits(self, output: np.ndarray) -> np.ndarray:
        """(..., V) decoder scores for LSTM outputs of shape (..., num_directions * H)."""
        return output @ self.decoder_weight.T + self.decoder_bias

    def next_token_probs(self, trace: Trace) -> np.ndarray:
        """(T, V): row t is the distribution of the token after token t, from `trace.output`."""
        return softmax(self.logits(trace.output))

    def predict_next(self, text: str, k: int | None = None) -> list[tuple[str, float]]:
        """The next-token distribution after the whole of `text`, most probable first.

        Returns the `k` most probable ``(token, probability)`` pairs, or the whole vocabulary when
        `k` is None.
        """
        if k is not None and (not isinstance(k, int) or k < 1):
            raise ValueError(f"k must be a positive integer or None, got {k!r}")
        probabilities = self.next_token_probs(self.trace(text))[-1]
        order = np.argsort(-probabilities, kind="stable")[:k]
        return [(self.vocab[index], float(probabilities[index])) for index in order]

    # ------------------------------------------------------------------------ save / load
    def tensors(self) -> dict[str, np.ndarray]:
        """The weights under the torch module's own names (``embedding.weight``, ``lstm.*``, ...)."""
        tensors = {"embedding.weight": self.embedding}
        tensors |= {f"lstm.{key}": value for key, value in self.lstm.state_dict().items()}
        if not self.decoder_is_input:
            tensors["decoder.weight"] = self.decoder_weight
        tensors["decoder.bias"] = self.decoder_bias
        if self.pieces is not None:
            tensors["pieces.weight"] = self.piece_embedding
        if self.names is not None:
            tensors["name_direction"] = self.name_direction
        return tensors

    def save(self, directory: str | Path, extra_config: dict | None = None, storage_dtype=None) -> None:
        """Write ``model.safetensors`` (weights and config) and ``vocab.json`` to `directory`.

        `storage_dtype` (e.g. ``np.float16``) stores the weights at that precision, to keep the files
        small; they are read back in the LSTM's own dtype.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "name": self.name,
            "tokenizer": self.kind,
            "vocab_size": len(self.vocab),
            "embedding_size": self.lstm.input_size,
            "hidden_size": self.lstm.hidden_size,
            "num_layers": self.lstm.num_layers,
            "units": {name: dataclasses.asdict(unit) for name, unit in self.units.items()},
            "metrics": self.metrics,
            **(extra_config or {}),
        }
        if self.pieces is not None:
            config["pieces"] = {"bucket_count": self.pieces.bucket_count, "min_n": self.pieces.min_n,
                                "max_n": self.pieces.max_n}  # fmt: skip
        if self.names is not None:
            config["names_source"] = self.names.source
            shares = {name: round(float(share), 4) for name, share in sorted(self.names.shares.items())}
            (directory / _NAMES_FILE).write_text(json.dumps(shares, ensure_ascii=False, separators=(",", ":")) + "\n")
        tensors = self.tensors()
        # A decoder tied to the embedding (the same matrix) is stored once; one that is the inputs
        # themselves is not stored at all.
        config["decoder_is_input"] = self.decoder_is_input
        config["tied_decoder"] = not self.decoder_is_input and bool(np.array_equal(self.decoder_weight, self.embedding))
        if config["tied_decoder"]:
            del tensors["decoder.weight"]
        if storage_dtype is not None:
            tensors = {name: array.astype(storage_dtype) for name, array in tensors.items()}
        save_checkpoint(directory / _CHECKPOINT_FILE, tensors, config)
        (directory / _VOCAB_FILE).write_text(json.dumps(self.vocab, ensure_ascii=False, indent=0) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> LanguageModel:
        """Rebuild a model written by `save`; reads data only, never executes code."""
        directory = Path(directory)
        tensors, config = load_checkpoint(directory / _CHECKPOINT_FILE)
        vocab = json.loads((directory / _VOCAB_FILE).read_text())
        tokenizers = {"words": WordTokenizer, "chars": CharTokenizer}
        if config.get("tokenizer") not in tokenizers:
            raise ValueError(f"{directory}: unknown tokenizer {config.get('tokenizer')!r}")
        lstm = LSTM.from_state_dict(tensors, prefix="lstm.")
        pieces = names = None
        if "pieces" in config:
            pieces = WordPieces(**{key: int(config["pieces"][key]) for key in ("bucket_count", "min_n", "max_n")})
        if "name_direction" in tensors:
            shares = json.loads((directory / _NAMES_FILE).read_text())
            if not isinstance(shares, dict) or not all(isinstance(v, int | float) for v in shares.values()):
                raise ValueError(f"{directory / _NAMES_FILE}: expected a JSON object of name -> share of girls")
            names = NameRecords({str(k): float(v) for k, v in shares.items()}, source=str(config.get("names_source", "")))
        return cls(
            name=config["name"],
            tokenizer=tokenizers[config["tokenizer"]](vocab),
            embedding=tensors["embedding.weight"],
            lstm=lstm,
            decoder_weight=None if config.get("decoder_is_input") else
            tensors["embedding.weight"] if config.get("tied_decoder") else tensors["decoder.weight"],
            decoder_bias=tensors["decoder.bias"],
            units={name: UnitInfo(**fields) for name, fields in config.get("units", {}).items()},
            metrics=config.get("metrics", {}),
            pieces=pieces,
            piece_embedding=tensors.get("pieces.weight"),
            names=names,
            name_direction=tensors.get("name_direction"),
            decoder_is_input=bool(config.get("decoder_is_input", False)),
        )


@functools.cache
def load_pretrained(name: str) -> LanguageModel | Tagger:
    """The shipped model called `name` (one of `PRETRAINED`), loaded once and then shared: a
    `LanguageModel`, or a `Tagger` for the names in `TAGGERS`."""
    if name not in PRETRAINED:
        raise ValueError(f"name must be one of {PRETRAINED}, got {name!r}")
    if name in TAGGERS:
        return load_tagger(name)
    directory = ASSETS_DIR / name
    if not (directory / _CHECKPOINT_FILE).exists():
        raise FileNotFoundError(f"{directory / _CHECKPOINT_FILE} is missing; run `python -m lstm_core.training.language {name}`")
    return LanguageModel.load(directory)


def _checked_text(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("text is empty: type at least one word for the model to read")
    return text
