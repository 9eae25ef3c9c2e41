"""Train a small character-level LSTM on a text the user pasted or uploaded, with torch, bounded.

Used by the /train page: the result is a `LanguageModel` over the shipped character alphabet
(`CharTokenizer`), so /gates and /step open it like the shipped character model. The torch model is
`lstm_core.training.language.TorchLanguageModel` (embedding -> LSTM -> linear decoder), untied and small.

    >>> run = train_on_text("Bob is a nice person. Dan is evil. " * 20, TextTrainConfig(steps=30))
    >>> run.model.kind, run.history[-1].step
    ('chars', 30)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from lstm_core.config import TextProgress, TextTrainConfig, check_training_text
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.tokenize import CharTokenizer
from lstm_core.training.language import TorchLanguageModel, to_numpy_model

# The settings and the text check live in lstm_core.config, which the /train page reads without torch.
__all__ = ["TextRun", "train_on_text"]

EMBEDDING_SIZE = 32  # small: the alphabet has 96 characters
EVALUATION_WINDOWS = 64


@dataclass(frozen=True)
class TextRun:
    model: LanguageModel
    history: list[TextProgress]
    stopped: bool
    timed_out: bool
    seconds: float
    baseline_accuracy: float  # always guessing the text's most common character


def train_on_text(
    text: str,
    config: TextTrainConfig = TextTrainConfig(),  # noqa: B008 - frozen, so sharing the default is safe
    on_progress: Callable[[TextProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    evaluate_every: int = 20,
    max_seconds: float | None = 240.0,
    name: str = "my text",
) -> TextRun:
    """Train a character LSTM on random windows of `text`; returns the NumPy model and its history.

    `text` is checked by `check_training_text` (ValueError with a clear message when unusable).
    `should_stop()` is asked after every step; a run also ends after `max_seconds`.
    """
    text = check_training_text(text)
    if not isinstance(evaluate_every, int) or evaluate_every < 1:
        raise ValueError(f"evaluate_every must be a positive integer, got {evaluate_every!r}")
    tokenizer = CharTokenizer()
    ids = np.asarray(tokenizer.encode(text), dtype=np.int64)
    window = min(config.sequence_length, len(ids) - 1) + 1  # inputs and targets overlap by all but one
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    model = TorchLanguageModel(len(tokenizer.vocab), EMBEDDING_SIZE, config.hidden_size, 1, tie_weights=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    evaluation = _windows(ids, window, np.random.default_rng(config.seed + 10_000), EVALUATION_WINDOWS)
    counts = np.bincount(ids[1:], minlength=len(tokenizer.vocab))
    history: list[TextProgress] = []
    start = time.perf_counter()
    stopped = timed_out = False
    for step in range(1, config.steps + 1):
        batch = _windows(ids, window, rng, config.batch_size)
        loss, _ = _loss_and_accuracy(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        timed_out = max_seconds is not None and time.perf_counter() - start > max_seconds
        stopped = step < config.steps and (timed_out or (should_stop is not None and bool(should_stop())))
        if step % evaluate_every == 0 or step == config.steps or stopped:
            with torch.no_grad():
                valid_loss, accuracy = _loss_and_accuracy(model, evaluation)
            history.append(TextProgress("lstm", step, float(valid_loss), accuracy, time.perf_counter() - start))
            if on_progress is not None:
                on_progress(history[-1])
        if stopped:
            break
    numpy_model = to_numpy_model(model, name, tokenizer)
    numpy_model.metrics.update(
        {"trained_on_characters": len(text), "config": asdict(config), "steps": history[-1].step,
         "loss": history[-1].loss, "accuracy": history[-1].score}
    )  # fmt: skip
    return TextRun(numpy_model, history, stopped, timed_out, time.perf_counter() - start,
                   float(counts.max() / max(counts.sum(), 1)))  # fmt: skip


def _windows(ids: np.ndarray, window: int, rng: np.random.Generator, count: int) -> torch.Tensor:
    """(count, window) token ids: random stretches of the text."""
    starts = rng.integers(0, len(ids) - window + 1, size=count)
    return torch.from_numpy(ids[starts[:, None] + np.arange(window)])


def _loss_and_accuracy(model: TorchLanguageModel, windows: torch.Tensor) -> tuple[torch.Tensor, float]:
    logits = model(windows[:, :-1])
    targets = windows[:, 1:]
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return loss, float((logits.argmax(dim=-1) == targets).float().mean())
