"""Train the part-of-speech taggers on the Brown corpus with torch, then ship them as NumPy `Tagger`s.

    python -m lstm_core.data fetch                 # once: the Brown corpus into the data cache
    python -m lstm_core.training.tagger tagger     # 2-layer bidirectional LSTM -> assets/tagger
    python -m lstm_core.training.tagger tagger-forward

Both taggers have the same size, data, seed and number of steps; they differ only in reading
backwards too. The Brown files whose number ends in 0 are the test set and are read once, after
training; the files ending in 5 ("valid") pick nothing but are reported beside it.

A word is read as its vocabulary row (words seen at least `min_count` times; the others read as
<unk>), plus the mean of its character n-gram rows, plus its shape's row (`models.tagger`). During
training a known word is read as <unk> with probability `word_dropout`, so that the spelling and
shape rows learn to carry an unseen word on their own.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_core.config import ASSETS_DIR
from lstm_core.lstm import LSTM
from lstm_core.models.subwords import WordPieces
from lstm_core.models.tagger import SHAPES, Tagger, normalise_word, word_shape
from lstm_core.models.tokenize import UNKNOWN_TOKEN
from lstm_core.tags import UNIVERSAL_TAGS, universal_tag
from lstm_core.training.language import optimise, report_step

__all__ = ["TaggerConfig", "CONFIGS", "TaggedSentences", "tagged_sentences", "train", "to_numpy_tagger",
           "evaluate", "main"]  # fmt: skip


@dataclass(frozen=True)
class TaggerConfig:
    bidirectional: bool
    embedding_size: int = 96
    hidden_size: int = 96  # per direction
    num_layers: int = 2
    steps: int = 3000
    batch_size: int = 32  # sentences per step
    learning_rate: float = 3e-3
    min_count: int = 2  # a word needs this many training occurrences for a row of its own
    word_dropout: float = 0.05
    dropout: float = 0.2  # between layers and before the decoder
    piece_buckets: int = 4096
    piece_min_n: int = 2
    piece_max_n: int = 4
    max_length: int = 80  # longer sentences are cut (a handful in Brown)
    seed: int = 1234
    max_minutes: float = 0.0
    log_every: int = 250


CONFIGS: dict[str, TaggerConfig] = {
    "tagger": TaggerConfig(bidirectional=True),
    "tagger-forward": TaggerConfig(bidirectional=False),
}


def _log(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------------------- data
@dataclass
class TaggedSentences:
    """Sentences as (words as written, universal tag ids)."""

    words: list[list[str]]
    tags: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.words)

    @property
    def token_count(self) -> int:
        return sum(len(sentence) for sentence in self.words)


def tagged_sentences(split: str, cache: Path | None = None) -> TaggedSentences:
    """The Brown sentences of `split` ("train", "valid", "test") with universal tags."""
    from lstm_core.data.real_text import load_brown_tagged

    tag_ids = {tag: index for index, tag in enumerate(UNIVERSAL_TAGS)}
    words, tags = [], []
    for sentence in load_brown_tagged(split, cache):
        words.append([word for word, _ in sentence])
        tags.append(np.array([tag_ids[universal_tag(tag)] for _, tag in sentence], dtype=np.int64))
    return TaggedSentences(words, tags)


def build_vocabulary(sentences: Sequence[Sequence[str]], min_count: int) -> list[str]:
    """<unk> and every lowercased word seen at least `min_count` times, most frequent first."""
    counts = Counter(normalise_word(word) for sentence in sentences for word in sentence)
    return [UNKNOWN_TOKEN, *(word for word, count in counts.most_common() if count >= min_count)]


@dataclass
class WordTypes:
    """Every distinct written word of the training data, read once: its row, shape and n-gram rows.

    piece_matrix: (types, most n-grams) each type's n-gram rows, padded with `bucket_count` (a row
    that `nn.EmbeddingBag` leaves out of the mean).
    """

    index: dict[str, int]
    ids: torch.Tensor  # (types,)
    shapes: torch.Tensor  # (types,)
    piece_matrix: torch.Tensor

    @classmethod
    def of(cls, words: Sequence[str], vocab: Sequence[str], pieces: WordPieces) -> WordTypes:
        word_to_id = {word: index for index, word in enumerate(vocab)}
        distinct = list(dict.fromkeys(words))
        lowered = [normalise_word(word) for word in distinct]
        rows, counts = pieces.bucket_lists(lowered)
        matrix = np.full((len(distinct), int(counts.max(initial=1))), pieces.bucket_count, dtype=np.int64)
        columns = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        matrix[np.repeat(np.arange(len(distinct)), counts), columns] = rows.astype(np.int64)
        return cls(
            index={word: position for position, word in enumerate(distinct)},
            ids=torch.tensor([word_to_id.get(word, 0) for word in lowered], dtype=torch.int64),
            shapes=torch.tensor([word_shape(word) for word in distinct], dtype=torch.int64),
            piece_matrix=torch.from_numpy(matrix),
        )


# ------------------------------------------------------------------------------------------ model
class TorchTagger(nn.Module):
    """What `models.tagger.Tagger` computes, in torch, with the same parameter names."""

    def __init__(self, vocab_size: int, config: TaggerConfig, tag_count: int = len(UNIVERSAL_TAGS)) -> None:
        super().__init__()
        size = config.embedding_size
        self.embedding = nn.Embedding(vocab_size, size)
        # One extra row, the padding of `WordTypes.piece_matrix`: left out of every mean, never shipped.
        self.pieces = nn.EmbeddingBag(config.piece_buckets + 1, size, mode="mean", padding_idx=config.piece_buckets)
        self.shapes = nn.Embedding(len(SHAPES), size)
        self.lstm = nn.LSTM(size, config.hidden_size, num_layers=config.num_layers, batch_first=True,
                            bidirectional=config.bidirectional, dropout=config.dropout if config.num_layers > 1 else 0.0)  # fmt: skip
        self.dropout = nn.Dropout(config.dropout)
        directions = 2 if config.bidirectional else 1
        self.decoder = nn.Linear(directions * config.hidden_size, tag_count)
        for name, parameter in self.lstm.named_parameters():
            if name.startswith("bias"):  # forget-gate bias 1 (Gers et al., 2000): remember by default
                with torch.no_grad():
                    parameter.zero_()
                    parameter[config.hidden_size : 2 * config.hidden_size] = 0.5
        for table in (self.embedding, self.pieces, self.shapes):
            nn.init.normal_(table.weight, std=0.1)

    def type_vectors(
        self, types: WordTypes, type_ids: torch.Tensor, unknown: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(..., E) the input vectors of the word types `type_ids`; `unknown` marks readings as <unk>."""
        distinct, position = torch.unique(type_ids.reshape(-1), return_inverse=True)
        spelling = self.pieces(types.piece_matrix[distinct])[position]
        ids = types.ids[type_ids.reshape(-1)]
        if unknown is not None:
            ids = torch.where(unknown.reshape(-1), torch.zeros_like(ids), ids)
        vectors = self.embedding(ids) + spelling + self.shapes(types.shapes[type_ids.reshape(-1)])
        return vectors.reshape(*type_ids.shape, -1)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, tags) scores from input vectors (B, T, E); padding never reaches the backward direction."""
        packed = pack_padded_sequence(self.dropout(inputs), lengths, batch_first=True, enforce_sorted=False)
        output, _ = self.lstm(packed)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=inputs.shape[1])
        return self.decoder(self.dropout(output))


def _batches(sentences: TaggedSentences, types: WordTypes, config: TaggerConfig, rng: np.random.Generator):
    """Endless batches of (type ids (B, T), tags (B, T) with -100 for padding, lengths (B,))."""
    type_ids = [np.array([types.index[word] for word in sentence[: config.max_length]], dtype=np.int64)
                for sentence in sentences.words]  # fmt: skip
    tags = [tag[: config.max_length] for tag in sentences.tags]
    while True:
        order = rng.permutation(len(type_ids))
        for start in range(0, len(order) - config.batch_size + 1, config.batch_size):
            chosen = order[start : start + config.batch_size]
            lengths = np.array([len(type_ids[i]) for i in chosen])
            width = int(lengths.max())
            ids = np.zeros((len(chosen), width), dtype=np.int64)
            targets = np.full((len(chosen), width), -100, dtype=np.int64)
            for row, i in enumerate(chosen):
                ids[row, : lengths[row]] = type_ids[i]
                targets[row, : lengths[row]] = tags[i]
            yield torch.from_numpy(ids), torch.from_numpy(targets), torch.from_numpy(lengths)


def train(
    config: TaggerConfig, train_data: TaggedSentences, log: Callable[[str], None] = _log, threads: int = 2
) -> tuple[TorchTagger, list[str], WordPieces, list[float]]:
    """Train a torch tagger from scratch; returns it, its vocabulary, its n-gram hashing and the losses."""
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(config.seed)
    vocab = build_vocabulary(train_data.words, config.min_count)
    pieces = WordPieces(config.piece_buckets, config.piece_min_n, config.piece_max_n)
    types = WordTypes.of([word for sentence in train_data.words for word in sentence], vocab, pieces)
    log(f"[tagger] {len(train_data)} sentences ({train_data.token_count} tokens), vocabulary {len(vocab)}, "
        f"{len(types.index)} written forms")  # fmt: skip
    model = TorchTagger(len(vocab), config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - 0.9 * step / max(config.steps, 1))
    batches = _batches(train_data, types, config, rng)
    losses: list[float] = []
    started = time.perf_counter()
    show_bar = sys.stderr.isatty()
    model.train()
    for step in range(1, config.steps + 1):
        ids, targets, lengths = next(batches)
        unknown = torch.from_numpy(rng.random(ids.shape) < config.word_dropout)
        logits = model(model.type_vectors(types, ids, unknown), lengths)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        losses.append(optimise(model, optimizer, schedule, loss, clip=1.0))
        if report_step(step, config.steps, losses, time.perf_counter() - started, "tagger", config.log_every,
                       config.max_minutes, log, show_bar):  # fmt: skip
            break
    if show_bar:
        print(file=sys.stderr)
    model.eval()
    return model, vocab, pieces, losses


def to_numpy_tagger(model: TorchTagger, name: str, vocab: Sequence[str], pieces: WordPieces) -> Tagger:
    """The trained weights as a NumPy `Tagger` (float32)."""
    state = {key: value.detach().cpu().numpy() for key, value in model.state_dict().items()}
    return Tagger(
        name=name, vocab=vocab, embedding=state["embedding.weight"], pieces=pieces,
        piece_embedding=state["pieces.weight"][: pieces.bucket_count], shape_embedding=state["shapes.weight"],
        lstm=LSTM.from_state_dict(state, prefix="lstm."), decoder_weight=state["decoder.weight"],
        decoder_bias=state["decoder.bias"],
    )  # fmt: skip


# ------------------------------------------------------------------------------------- evaluation
def evaluate(tagger: Tagger, data: TaggedSentences, known_words: set[str] | None = None) -> dict:
    """Token accuracy overall, per tag (recall), on words outside `known_words`, and the confusions."""
    tag_count = len(tagger.tags)
    confusion = np.zeros((tag_count, tag_count), dtype=np.int64)  # [true, predicted]
    unseen_right = unseen_total = 0
    for words, tags in zip(data.words, data.tags, strict=True):
        predicted = tagger.tag_probs(tagger.trace_words(words)).argmax(axis=1)
        np.add.at(confusion, (tags, predicted), 1)
        if known_words is not None:
            unseen = np.array([normalise_word(word) not in known_words for word in words])
            unseen_total += int(unseen.sum())
            unseen_right += int((predicted[unseen] == tags[unseen]).sum())
    total = int(confusion.sum())
    per_tag = {
        tag: float(confusion[i, i] / confusion[i].sum()) for i, tag in enumerate(tagger.tags) if confusion[i].sum()
    }
    off_diagonal = [(int(confusion[i, j]), tagger.tags[i], tagger.tags[j])
                    for i in range(tag_count) for j in range(tag_count) if i != j and confusion[i, j]]  # fmt: skip
    metrics = {
        "accuracy": float(np.trace(confusion) / total),
        "tokens": total,
        "per_tag_accuracy": per_tag,
        "tag_counts": {tag: int(confusion[i].sum()) for i, tag in enumerate(tagger.tags)},
        "top_confusions": [
            {"true": true, "predicted": predicted, "count": count}
            for count, true, predicted in sorted(off_diagonal, reverse=True)[:8]
        ],  # fmt: skip
    }
    if known_words is not None:
        metrics["unseen_word_tokens"] = unseen_total
        metrics["unseen_word_accuracy"] = float(unseen_right / unseen_total) if unseen_total else None
    return metrics


PROBE_SENTENCES = 1500  # per split: tens of thousands of tokens, enough for probes of a few hundred weights


def probes(tagger: Tagger, log: Callable[[str], None] = _log) -> list[dict]:
    """Linear probes of every layer and direction (`analysis.probes`): fitted on validation
    sentences, scored on test sentences; neither was trained on."""
    from lstm_core.analysis.probes import tagger_probe_table

    def sample(split: str) -> tuple[list[list[str]], list[np.ndarray]]:
        data = tagged_sentences(split)
        chosen = np.random.default_rng(0).permutation(len(data))[:PROBE_SENTENCES]
        return [data.words[i] for i in chosen], [data.tags[i] for i in chosen]

    return tagger_probe_table(tagger, sample("valid"), sample("test"), log=log)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted(CONFIGS))
    parser.add_argument("--quick", action="store_true", help="a short run to check the pipeline")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default assets/<name>)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (1 when another job holds a core)")
    parser.add_argument("--probes-only", action="store_true", help="only (re)compute the probes of a trained tagger")
    args = parser.parse_args(argv)
    config = CONFIGS[args.name]
    if args.probes_only:
        out = args.out or ASSETS_DIR / args.name
        tagger = Tagger.load(out)
        tagger.metrics["probes"] = probes(tagger)
        extra = {"train_config": dataclasses.asdict(config)}
        tagger.save(out, extra_config=extra, storage_dtype=np.float16)
        from lstm_core.training.model_card import write_tagger_card

        write_tagger_card(out, tagger, config)
        return
    if args.quick:
        config = dataclasses.replace(config, steps=40, log_every=10)
    out = args.out or (ASSETS_DIR / args.name if not args.quick else Path("/tmp") / f"lstm_quick_{args.name}")
    train_data = tagged_sentences("train")
    started = time.perf_counter()
    torch_model, vocab, pieces, losses = train(config, train_data, threads=args.threads)
    train_seconds = time.perf_counter() - started
    tagger = to_numpy_tagger(torch_model, args.name, vocab, pieces)
    extra = {"train_config": dataclasses.asdict(config)}
    tagger.save(out, extra_config=extra, storage_dtype=np.float16)
    tagger = Tagger.load(out)  # evaluate what ships: the weights as stored
    known = set(vocab)
    test, valid = tagged_sentences("test"), tagged_sentences("valid")
    if args.quick:
        test, valid = (
            TaggedSentences(test.words[:200], test.tags[:200]),
            TaggedSentences(valid.words[:200], valid.tags[:200]),
        )
    metrics = {"test": evaluate(tagger, test, known), "valid": evaluate(tagger, valid, known)}
    metrics |= {"train_seconds": round(train_seconds, 1), "train_steps": len(losses), "train_threads": args.threads,
                "final_train_loss": float(np.mean(losses[-100:])), "train_sentences": len(train_data),
                "train_tokens": train_data.token_count}  # fmt: skip
    tagger.metrics = metrics
    if not args.quick:
        tagger.metrics["probes"] = probes(tagger)
    _log(f"[{args.name}] test accuracy {metrics['test']['accuracy']:.4f}, valid {metrics['valid']['accuracy']:.4f}, "
         f"unseen words {metrics['test']['unseen_word_accuracy']:.4f}")  # fmt: skip
    tagger.save(out, extra_config=extra, storage_dtype=np.float16)
    from lstm_core.training.model_card import write_tagger_card

    write_tagger_card(out, tagger, config)
    print(f"[{args.name}] wrote {out} in {(time.perf_counter() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
