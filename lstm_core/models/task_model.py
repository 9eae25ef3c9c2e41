"""A recurrent cell with a linear readout of its last hidden state, for the long-lag tasks. NumPy only.

Trained by `lstm_core.training.tasks` (torch); shipped weights live in `assets/longlag/`.

    >>> from lstm_core import LSTM
    >>> model = TaskModel(LSTM.random(8, 16, seed=0), np.zeros((4, 16)), np.zeros(4), "remember_first", lag=10)
    >>> model.predict(np.zeros((11, 8))).shape    # class scores
    (4,)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstm_core.analysis.gradients import GradientProfile, gradient_profile
from lstm_core.config import LONGLAG_DIR
from lstm_core.data.tasks import TASKS
from lstm_core.io.checkpoint import load_checkpoint, save_checkpoint
from lstm_core.lstm import LSTM
from lstm_core.numerics import softmax
from lstm_core.rnn import RNN

__all__ = [
    "TaskModel", "CELL_KINDS", "load_task_model", "SYMBOL_TOKENS", "DISTRACTOR_TOKENS",
    "task_language_model", "task_text",
]  # fmt: skip

CELL_KINDS = {"lstm": LSTM, "rnn": RNN}
# How a remember-first sequence reads as text: symbols a-d, distractors w-z (lower case, as the word
# tokenizer lowercases what it reads), one token per step: "c w z x w ..." means "remember c".
SYMBOL_TOKENS = ("a", "b", "c", "d")
DISTRACTOR_TOKENS = ("w", "x", "y", "z")
UNLIKELY_LOGIT = -30.0  # a distractor or <unk> as the "next token": e^-30 ≈ 1e-13 of the probability


@dataclass(frozen=True, eq=False)
class TaskModel:
    """cell: an LSTM or RNN; readout: (outputs, hidden_size) and (outputs,) applied to h_T."""

    cell: LSTM | RNN
    readout_weight: np.ndarray
    readout_bias: np.ndarray
    task: str
    lag: int
    metrics: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; expected one of {sorted(TASKS)}")
        expected = (len(self.readout_bias), self.cell.num_directions * self.cell.hidden_size)
        if np.shape(self.readout_weight) != expected:
            raise ValueError(f"readout_weight has shape {np.shape(self.readout_weight)}, expected {expected}")

    @property
    def kind(self) -> str:
        return "lstm" if isinstance(self.cell, LSTM) else "rnn"

    def predict(self, inputs) -> np.ndarray:
        """(T, features) -> (outputs,): class scores, or the predicted value for regression."""
        return self.readout_weight @ self.cell.run(inputs).output[-1] + self.readout_bias

    def loss_gradient(self, inputs, target) -> GradientProfile:
        """Gradient norms at every step of the task's own loss at the last step (cross-entropy for
        classification, squared error for regression)."""
        scores = self.predict(inputs)
        if len(self.readout_bias) > 1:
            probabilities = softmax(scores)
            probabilities[int(target)] -= 1.0  # d cross-entropy / d scores
            score_gradient = probabilities
        else:
            score_gradient = 2.0 * (scores - float(target))
        hidden_gradient = score_gradient @ self.readout_weight
        return gradient_profile(self.cell, inputs, hidden_gradient[: self.cell.hidden_size])

    def save(self, path: str | Path) -> None:
        tensors = {f"cell.{name}": value for name, value in self.cell.state_dict().items()}
        tensors |= {"readout.weight": self.readout_weight, "readout.bias": self.readout_bias}
        config = {"cell": self.kind, "task": self.task, "lag": int(self.lag), "metrics": self.metrics}
        save_checkpoint(path, tensors, config)

    @classmethod
    def load(cls, source) -> TaskModel:
        tensors, config = load_checkpoint(source)
        kind = config.get("cell")
        if kind not in CELL_KINDS:
            raise ValueError(f"the checkpoint's config names cell {kind!r}; expected 'lstm' or 'rnn'")
        for key in ("readout.weight", "readout.bias"):
            if key not in tensors:
                raise ValueError(f"the checkpoint has no {key!r}")
        cell = CELL_KINDS[kind].from_state_dict(tensors, prefix="cell.")
        return cls(cell, tensors["readout.weight"].astype(cell.dtype), tensors["readout.bias"].astype(cell.dtype),
                   str(config.get("task")), int(config.get("lag", 0)), dict(config.get("metrics", {})))  # fmt: skip


def load_task_model(kind: str, directory: Path = LONGLAG_DIR) -> TaskModel:
    """The shipped long-lag model of one cell kind ("lstm" or "rnn")."""
    if kind not in CELL_KINDS:
        raise ValueError(f"unknown cell kind {kind!r}; expected 'lstm' or 'rnn'")
    return TaskModel.load(Path(directory) / f"{kind}.safetensors")


def task_text(inputs, symbols: int = len(SYMBOL_TOKENS)) -> str:
    """A remember-first sequence, (T, features) one-hot (noise allowed), as the text
    `task_language_model` reads: the token of each step's largest feature, e.g. "c w z x".

    >>> task_text(np.eye(8)[[2, 4, 7, 5]])
    'c w z x'
    """
    inputs = np.asarray(inputs)
    names = SYMBOL_TOKENS[:symbols] + DISTRACTOR_TOKENS
    if inputs.ndim != 2 or inputs.shape[1] != len(names):
        raise ValueError(f"inputs must have shape (T, {len(names)}), got {inputs.shape}")
    return " ".join(names[index] for index in inputs.argmax(axis=1))


def task_language_model(model: TaskModel, name: str = "remember-first LSTM"):
    """A trained remember-first LSTM as a `LanguageModel`, so /gates and /step can show its gates.

    Tokens are the task's inputs: symbols a, b, c, d and distractors w, x, y, z (a `WordTokenizer`;
    `<unk>` reads as an all-zero input). The embedding is the one-hot input rows, so the trace equals
    the task model's own run on the same inputs. The decoder is the readout, padded: the "next-token"
    distribution after token t is the task's answer had the sequence ended there ("which first symbol
    would the model say now"); distractors and `<unk>` get a very unlikely score.

    Returns a `lstm_core.models.language_model.LanguageModel`.
    """
    from lstm_core.models.language_model import LanguageModel  # the language models load on first use (see lstm_core)
    from lstm_core.models.tokenize import UNKNOWN_TOKEN, WordTokenizer

    if not isinstance(model, TaskModel):
        raise TypeError(f"model must be a TaskModel, got {type(model).__name__}")
    if model.kind != "lstm":
        raise ValueError("only an LSTM opens as a language model: a plain RNN has no gates to show")
    if model.task != "remember_first":
        raise ValueError(
            f"only the remember_first task reads as tokens; {model.task!r} feeds the cell numbers, not symbols"
        )
    symbols = len(model.readout_bias)
    features = model.cell.input_size
    if symbols > len(SYMBOL_TOKENS) or features != symbols + len(DISTRACTOR_TOKENS):
        raise ValueError(
            f"expected at most {len(SYMBOL_TOKENS)} symbols and {len(DISTRACTOR_TOKENS)} distractors, "
            f"got {symbols} outputs and {features} input features"
        )
    vocab = [UNKNOWN_TOKEN, *SYMBOL_TOKENS[:symbols], *DISTRACTOR_TOKENS]
    dtype = model.cell.dtype
    embedding = np.zeros((len(vocab), features), dtype=dtype)
    embedding[1:] = np.eye(features, dtype=dtype)  # token id k + 1 is input feature k
    decoder_weight = np.zeros((len(vocab), model.readout_weight.shape[1]), dtype=dtype)
    decoder_weight[1 : 1 + symbols] = model.readout_weight
    decoder_bias = np.full(len(vocab), UNLIKELY_LOGIT, dtype=dtype)
    decoder_bias[1 : 1 + symbols] = model.readout_bias
    metrics = dict(model.metrics) | {"task": model.task, "lag": int(model.lag)}
    return LanguageModel(name, WordTokenizer(vocab), embedding, model.cell, decoder_weight, decoder_bias,
                         metrics=metrics)  # fmt: skip
