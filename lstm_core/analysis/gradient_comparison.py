"""The four cells the /gradients page compares on one sequence, with the gradient of one late loss.

`compare_on_text`: the shipped word model's trained LSTM beside an untrained LSTM and an untrained tanh
RNN of its sizes, reading its embeddings. `compare_on_task`: the shipped long-lag RNN and LSTM beside
untrained ones on one long-lag sequence. All in float64: a plain RNN's gradient falls below float32's
smallest number within a hundred steps back and would read as exactly zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from lstm_core.analysis.gradients import CELL_ORDER, GradientProfile, _cross_entropy, as_float64, untrained_like
from lstm_core.config import LONGLAG_HIDDEN_SIZE
from lstm_core.data.tasks import make_batch
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.task_model import CELL_KINDS, TaskModel
from lstm_core.numerics import softmax

__all__ = ["GradientComparison", "compare_on_text", "compare_on_task"]


# ------------------------------------------------------------------ side-by-side comparisons
@dataclass(frozen=True)
class GradientComparison:
    """One sequence through several cells, each with the gradient of the same loss at its last step.

    step_labels: (T,) what the cells read at each step, in reading order (a word, a symbol);
    target: what the loss at the last step asks for (the word to predict, the symbol to recall);
    profiles: (cell kind, trained) -> its GradientProfile, in `CELL_ORDER`;
    total_steps: the input's length before `max_tokens` cut it (T when nothing was cut);
    target_probabilities: (cell kind, trained) -> the probability the cell gives the right answer
    (empty for a regression task).
    """

    source: str  # "text" or "longlag"
    step_labels: tuple[str, ...]
    target: str
    profiles: Mapping[tuple[str, bool], GradientProfile]
    total_steps: int
    target_probabilities: Mapping[tuple[str, bool], float] = field(default_factory=dict)
    noise: float = 0.0  # standard deviation of the Gaussian noise on a long-lag sequence's distractors

    @property
    def length(self) -> int:
        return len(self.step_labels)


def compare_on_text(
    model: LanguageModel, text: str, seed: int = 0, max_tokens: int | None = None
) -> GradientComparison:
    """The shipped language model's trained LSTM beside an untrained LSTM and an untrained tanh RNN of
    the same sizes, all reading the model's (trained) embeddings of `text`'s tokens but the last.

    The loss is the model's training loss at the last step: -log p(last token | the tokens before),
    through the model's decoder, for every cell (no RNN has been trained on the story corpus).
    Raises ValueError when `text` has fewer than two tokens.
    """
    ids = model.encode(text)
    tokens = model.tokens(text)
    if len(ids) < 2:
        raise ValueError("text must have at least two tokens: the loss is the model's surprise at the last one")
    total = len(ids)
    if max_tokens is not None:
        if max_tokens < 2:
            raise ValueError(f"max_tokens must be at least 2, got {max_tokens!r}")
        ids, tokens = ids[:max_tokens], tokens[:max_tokens]
    inputs = np.asarray(model.input_vectors(text)[: len(ids) - 1], dtype=np.float64)
    cells = {
        ("rnn", False): untrained_like(model.lstm, seed, kind="rnn"),
        ("lstm", False): untrained_like(model.lstm, seed),
        ("lstm", True): as_float64(model.lstm),
    }
    results = {
        key: _cross_entropy(cell, inputs, model.decoder_weight, model.decoder_bias, int(ids[-1]))
        for key, cell in cells.items()
    }
    profiles = {key: profile for key, (profile, _) in results.items()}
    probabilities = {key: probability for key, (_, probability) in results.items()}
    return GradientComparison("text", tuple(tokens[:-1]), tokens[-1], _in_order(profiles), total - 1,
                              _in_order(probabilities))  # fmt: skip


def compare_on_task(trained: Mapping[str, TaskModel], lag: int, seed: int = 0, task: str = "remember_first",
                    hidden_size: int = LONGLAG_HIDDEN_SIZE, noise: float | None = None) -> GradientComparison:  # fmt: skip
    """One long-lag sequence (`lag` steps after the first, drawn with `seed`) through the `trained`
    task models (kind -> TaskModel; any of "rnn", "lstm", possibly none) and through untrained ones of
    the same sizes (`hidden_size` when no trained model gives it), with the task's own loss at the last
    step (`TaskModel.loss_gradient`).

    The trained models' task, when there are any, overrides `task`; `noise` (Gaussian noise on the
    distractors of `remember_first`) is by default the noise they were trained with, else 0.
    """
    unknown = set(trained) - set(CELL_KINDS)
    if unknown:
        raise ValueError(f"trained models must be keyed 'lstm' or 'rnn', got {sorted(unknown)}")
    tasks = {model.task for model in trained.values()}
    if len(tasks) > 1:
        raise ValueError(f"the trained models were trained on different tasks: {sorted(tasks)}")
    task = tasks.pop() if tasks else task
    if noise is None:
        noises = [float(model.metrics.get("config", {}).get("noise") or 0.0) for model in trained.values()]
        noise = max(noises, default=0.0)
    batch = make_batch(task, 1, lag, np.random.default_rng(seed), noise=noise)
    # The noise is drawn after the symbols, so the same seed without it names the same symbols.
    clean = make_batch(task, 1, lag, np.random.default_rng(seed)) if noise else batch
    inputs, target = batch.inputs[0].astype(np.float64), batch.targets[0]
    features, outputs = inputs.shape[1], batch.num_classes or 1
    if trained:
        any_model = next(iter(trained.values()))
        hidden_size = any_model.cell.hidden_size
        if any_model.cell.input_size != features:
            raise ValueError(f"the trained models read {any_model.cell.input_size} features; {task} has {features}")
    models = {}
    for index, (kind, cell_type) in enumerate(sorted(CELL_KINDS.items())):
        rng = np.random.default_rng([seed, index])
        cell = cell_type.random(features, hidden_size, seed=int(rng.integers(2**31)), dtype=np.float64)
        bound = 1.0 / np.sqrt(hidden_size)  # torch's nn.Linear default initialisation
        models[(kind, False)] = TaskModel(cell, rng.uniform(-bound, bound, (outputs, hidden_size)),
                                          rng.uniform(-bound, bound, outputs), task, lag)  # fmt: skip
        if kind in trained:
            model = trained[kind]
            models[(kind, True)] = TaskModel(as_float64(model.cell), model.readout_weight.astype(np.float64),
                                             model.readout_bias.astype(np.float64), model.task, model.lag)  # fmt: skip
    profiles = {key: model.loss_gradient(inputs, target) for key, model in models.items()}
    probabilities = {}
    if batch.kind == "classification":
        probabilities = {key: float(softmax(model.predict(inputs))[int(target)]) for key, model in models.items()}
    labels, target_label = _task_labels(clean)
    return GradientComparison("longlag", labels, target_label, _in_order(profiles), len(labels),
                              _in_order(probabilities), noise=float(noise))  # fmt: skip


SYMBOL_NAMES = "ABCDEFGHIJ"  # remember_first's symbols to recall
DISTRACTOR_NAMES = "wxyzuvst"  # ... and its distractors, in their own alphabet as in the task


def _task_labels(batch) -> tuple[tuple[str, ...], str]:
    inputs = batch.inputs[0]
    if batch.kind == "classification":
        symbols = batch.num_classes
        index = inputs.argmax(axis=1)
        names = [
            SYMBOL_NAMES[i] if i < symbols else DISTRACTOR_NAMES[(i - symbols) % len(DISTRACTOR_NAMES)] for i in index
        ]
        return tuple(names), SYMBOL_NAMES[int(batch.targets[0])]
    values, markers = inputs[:, 0], inputs[:, 1]
    labels = tuple(
        f"{value:.2f}" + (" (marked)" if marked else "") for value, marked in zip(values, markers, strict=True)
    )
    return labels, f"{float(batch.targets[0]):.2f}"


def _in_order(by_cell: dict) -> dict:
    return {key: by_cell[key] for key in CELL_ORDER if key in by_cell}
