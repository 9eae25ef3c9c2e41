"""A plain tanh RNN language model of the story world: embedding -> RNN -> decoder tied to the
embedding, in NumPy. The /gradients page sets it beside the word model's LSTM, which has the same
sizes and was trained on the same stories with the same budget.

    x_t = E[token_t]                  # (E,)  embedding row
    h_t = tanh(W_ih x_t + W_hh h_t-1 + b)
    p_t = softmax(E h_t + b_dec)      # (V,)  next-word distribution (the decoder is the embedding)

Trained with torch by `lstm_core.training.text_rnn`; the weights live in `assets/longlag/text_rnn.safetensors`
with their vocabulary and metrics in the checkpoint's config.

    >>> model = TextRNN(WordTokenizer(["<unk>", "bob", "is", "."]), np.eye(4, 3), RNN.random(3, 3, seed=0), np.zeros(4))
    >>> model.next_token_probs("Bob is .").shape     # (T, V)
    (3, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstm_core.config import LONGLAG_DIR
from lstm_core.io.checkpoint import load_checkpoint, save_checkpoint
from lstm_core.models.tokenize import WordTokenizer
from lstm_core.numerics import softmax
from lstm_core.rnn import RNN

__all__ = ["TextRNN", "TEXT_RNN_FILE", "load_text_rnn"]

TEXT_RNN_FILE = "text_rnn.safetensors"


@dataclass(frozen=True, eq=False)
class TextRNN:
    """tokenizer: its vocabulary (V words); embedding: (V, E), also the decoder's weight;
    cell: a one-layer forward `RNN` reading E and holding E units; decoder_bias: (V,)."""

    tokenizer: WordTokenizer
    embedding: np.ndarray
    cell: RNN
    decoder_bias: np.ndarray
    metrics: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.cell, RNN) or self.cell.num_layers != 1 or self.cell.num_directions != 1:
            raise ValueError(f"cell must be a one-layer forward RNN, got {self.cell!r}")
        vocab_size = len(self.tokenizer.vocab)
        expected = {"embedding": (vocab_size, self.cell.input_size), "decoder_bias": (vocab_size,)}
        for name, shape in expected.items():
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(f"{name} must have shape {shape}, got {np.shape(getattr(self, name))}")
        if self.cell.hidden_size != self.cell.input_size:
            raise ValueError("the decoder is the embedding, so the RNN must hold as many units as it reads")

    @property
    def vocab(self) -> list[str]:
        return self.tokenizer.vocab

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.tokens(text)

    def input_vectors(self, text: str) -> np.ndarray:
        """(T, E) what the RNN reads: the embedding row of each token."""
        return self.embedding[np.asarray(self.tokenizer.encode(text), dtype=np.int64)]

    @property
    def decoder_weight(self) -> np.ndarray:
        return self.embedding

    def next_token_probs(self, text: str) -> np.ndarray:
        """(T, V): row t is the distribution of the word after token t."""
        output = self.cell.run(self.input_vectors(text)).output
        return softmax(output @ self.embedding.T + self.decoder_bias)

    def last_token_probs(self, texts: Sequence[str]) -> np.ndarray:
        """(N, V): the distribution of the word after the whole of each text, all texts run at once
        (each timestep one matrix product over the batch; a text's state stops at its last token)."""
        ids = [np.asarray(self.tokenizer.encode(text), dtype=np.int64) for text in texts]
        if not ids or min(len(row) for row in ids) < 1:
            raise ValueError("texts must be one or more texts of at least one token")
        lengths = np.array([len(row) for row in ids])
        padded = np.zeros((len(ids), lengths.max()), dtype=np.int64)
        for index, row in enumerate(ids):
            padded[index, : len(row)] = row
        weight_ih, weight_hh = self.cell.weight("weight_ih").T, self.cell.weight("weight_hh").T
        bias = self.cell.weight("bias_ih") + self.cell.weight("bias_hh") if self.cell.bias else 0.0
        hidden = np.zeros((len(ids), self.cell.hidden_size), dtype=self.cell.dtype)
        for t in range(lengths.max()):
            step = np.tanh(self.embedding[padded[:, t]] @ weight_ih + hidden @ weight_hh + bias)  # (N, H)
            hidden = np.where((t < lengths)[:, None], step, hidden)
        return softmax(hidden @ self.embedding.T + self.decoder_bias)

    def save(self, path: str | Path, storage_dtype=np.float16) -> None:
        """Write the weights (at `storage_dtype`: half precision keeps the file small) and, in the
        config, the vocabulary and metrics."""
        tensors = {f"cell.{name}": value for name, value in self.cell.state_dict().items()}
        tensors |= {"embedding.weight": self.embedding, "decoder.bias": self.decoder_bias}
        tensors = {name: np.asarray(value).astype(storage_dtype) for name, value in tensors.items()}
        save_checkpoint(path, tensors, {"kind": "text_rnn", "vocab": list(self.vocab), "metrics": self.metrics})

    @classmethod
    def load(cls, source: str | Path) -> TextRNN:
        """Rebuild a model written by `save` (float32, whatever the storage precision)."""
        tensors, config = load_checkpoint(source)
        if config.get("kind") != "text_rnn":
            raise ValueError(f"the checkpoint's config names kind {config.get('kind')!r}; expected 'text_rnn'")
        vocab = config.get("vocab")
        if not isinstance(vocab, list) or not all(isinstance(word, str) for word in vocab):
            raise ValueError("the checkpoint's config has no vocabulary (a list of words)")
        for key in ("embedding.weight", "decoder.bias"):
            if key not in tensors:
                raise ValueError(f"the checkpoint has no {key!r}")
        cell = RNN.from_state_dict(tensors, prefix="cell.")
        return cls(WordTokenizer(vocab), tensors["embedding.weight"].astype(np.float32), cell,
                   tensors["decoder.bias"].astype(np.float32), dict(config.get("metrics") or {}))  # fmt: skip


def load_text_rnn(directory: Path = LONGLAG_DIR) -> TextRNN:
    """The shipped story-world RNN."""
    return TextRNN.load(Path(directory) / TEXT_RNN_FILE)
