"""The cells the /gradients page compares on one sequence, with the gradient of one late loss, and
how often each gets its task right.

`compare_on_text`: the shipped story-world word model's trained LSTM beside the story-world RNN trained with the
same budget (`lstm_core.models.text_rnn`), and an untrained LSTM and tanh RNN of the LSTM's sizes
reading its embeddings. `compare_on_task`: the shipped long-lag RNN and LSTM beside untrained ones on
one long-lag sequence. All in float64: a plain RNN's gradient falls below float32's smallest number
within a hundred steps back and would read as exactly zero.

`task_accuracy` and `gap_accuracy` give the other half of the lesson: whether the cell gets the answer
right, on many held-out sequences. `memory_units` names the long-lag LSTM's units that hold the symbol.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from lstm_core.analysis.gradients import CELL_ORDER, GradientProfile, _cross_entropy, as_float64, untrained_like
from lstm_core.config import LONGLAG_HIDDEN_SIZE
from lstm_core.data import corpus
from lstm_core.data.tasks import GAP_CLAUSES, make_batch, pronoun_after_gap
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.task_model import CELL_KINDS, TaskModel
from lstm_core.models.text_rnn import TextRNN
from lstm_core.numerics import softmax

__all__ = [
    "GradientComparison", "compare_on_text", "compare_on_task", "task_accuracy", "memory_units",
    "GAP_SEED", "gap_accuracy", "pronoun_agreement_of", "pronoun_cue_distances",
]  # fmt: skip


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

    def with_cells(self, keys: Iterable[tuple[str, bool]]) -> GradientComparison:
        """The same comparison with only the cells `keys` (in `CELL_ORDER`), e.g. the trained ones."""
        keep = set(keys)
        return dataclasses.replace(
            self,
            profiles={key: value for key, value in self.profiles.items() if key in keep},
            target_probabilities={key: value for key, value in self.target_probabilities.items() if key in keep},
        )

    def trained_cells(self) -> list[tuple[str, bool]]:
        return [key for key in self.profiles if key[1]]


def compare_on_text(
    model: LanguageModel, text: str, seed: int = 0, max_tokens: int | None = None, rnn: TextRNN | None = None
) -> GradientComparison:
    """The shipped language model's trained LSTM beside an untrained LSTM and an untrained tanh RNN of
    the same sizes, all reading the model's (trained) embeddings of `text`'s tokens but the last, and,
    when given, the trained story-world `rnn` reading its own embeddings of the same tokens.

    The loss is each model's training loss at the last step: -log p(last token | the tokens before),
    through the language model's decoder (the untrained cells too) or the RNN's own.
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
    if rnn is not None:
        rnn_ids = np.asarray(rnn.tokenizer.encode(text), dtype=np.int64)
        if len(rnn_ids) != total:
            raise ValueError(f"the RNN reads {len(rnn_ids)} tokens of this text, the language model {total}")
        rnn_ids = rnn_ids[: len(ids)]
        rnn_inputs = np.asarray(rnn.embedding[rnn_ids[:-1]], dtype=np.float64)
        results[("rnn", True)] = _cross_entropy(as_float64(rnn.cell), rnn_inputs, rnn.decoder_weight,
                                                rnn.decoder_bias, int(rnn_ids[-1]))  # fmt: skip
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


# ------------------------------------------------------------------ how often each cell is right
def task_accuracy(model: TaskModel, count: int, seed: int, noise: float | None = None) -> float:
    """The share of `count` fresh `remember_first` sequences of the model's lag (drawn with `seed`, with
    the noise it was trained with unless `noise` is given) whose first symbol the model names."""
    if model.task != "remember_first":
        raise ValueError(f"accuracy is for the remember_first task; this model does {model.task!r}")
    if noise is None:
        noise = float(model.metrics.get("config", {}).get("noise") or 0.0)
    batch = make_batch(model.task, count, model.lag, np.random.default_rng(seed), noise=noise)
    answers = np.array([int(np.argmax(model.predict(inputs))) for inputs in batch.inputs])
    return float((answers == batch.targets).mean())


def memory_units(model: TaskModel, count: int = 4, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The LSTM units whose last cell state best tells the first symbol apart (largest spread of the
    per-symbol means over 64 clean sequences), and their mean forget gate over the distractors."""
    if model.kind != "lstm" or model.task != "remember_first":
        raise ValueError("memory units are those of an LSTM trained on remember_first")
    batch = make_batch("remember_first", 64, model.lag, np.random.default_rng(seed))
    traces = [model.cell.run(inputs) for inputs in batch.inputs]
    last_cells = np.stack([trace.cell[0, 0, -1] for trace in traces])  # (B, H)
    symbols = np.unique(batch.targets)
    spread = np.stack([last_cells[batch.targets == symbol].mean(axis=0) for symbol in symbols]).std(axis=0)
    units = np.argsort(-spread)[:count]
    forget = np.stack([trace.gates["forget"][0, 0, 1:] for trace in traces]).mean(axis=(0, 1))  # (H,)
    return units, forget[units]


GAP_SEED = 2_000_006  # the pronoun prompts the card and the page score; training never draws them
GENDERED_WORDS = frozenset({"he", "she", "his", "her", "him"})


def pronoun_cue_distances(stories: Sequence[corpus.Story]) -> np.ndarray:
    """For every "he" or "she" of `stories`, the words back to the last word that gave the subject's
    gender before it (a story-world name, or he, she, his, her, him): how far a memory of the gender
    must reach in text like the training stories.

    >>> story = corpus.generate_stories(1, seed=0)[0]
    >>> bool((pronoun_cue_distances([story]) >= 1).all())
    True
    """
    cues = GENDERED_WORDS | set(corpus.NAMES)
    distances = []
    for story in stories:
        last_cue = None
        for position, token in enumerate(story.tokens):
            if token in ("he", "she") and last_cue is not None:
                distances.append(position - last_cue)
            if token in cues:
                last_cue = position
    return np.asarray(distances, dtype=np.int64)


def _last_probabilities(model: LanguageModel | TextRNN, texts: Sequence[str]) -> np.ndarray:
    """(N, V): each model's next-word distribution after the whole of each text."""
    if isinstance(model, TextRNN):
        return model.last_token_probs(texts)
    batch = model.trace_texts(texts)
    top = batch.hidden[-1]  # (D, B, T, H)
    last = top[:, np.arange(len(texts)), batch.lengths - 1]  # (D, B, H)
    return softmax(model.logits(last.transpose(1, 0, 2).reshape(len(texts), -1)))


def pronoun_agreement_of(model: LanguageModel | TextRNN, prompts: Sequence[tuple[str, str]]) -> float:
    """The share of `(text, pronoun)` prompts after which the model gives the right pronoun ("he" or
    "she") a higher probability than the other one."""
    probabilities = _last_probabilities(model, [text for text, _ in prompts])
    ids = {word: model.tokenizer.token_to_id[word] for word in ("he", "she")}
    right = np.array([ids[pronoun] for _, pronoun in prompts])
    wrong = np.array([ids["she" if pronoun == "he" else "he"] for _, pronoun in prompts])
    rows = np.arange(len(prompts))
    return float((probabilities[rows, right] > probabilities[rows, wrong]).mean())


def gap_accuracy(model: LanguageModel | TextRNN, clauses: Sequence[int] = GAP_CLAUSES, count: int = 200,
                 seed: int = GAP_SEED) -> list[dict]:  # fmt: skip
    """For each quotation length in `clauses`: `count` `pronoun_after_gap` prompts (seed `seed` + the
    length) and the share the model gets right. Rows: {"clauses", "gap" (mean words from the name to
    the pronoun), "accuracy", "count"}; JSON-ready, as the model card and the checkpoint store them."""
    rows = []
    for length in clauses:
        prompts = pronoun_after_gap(count, length, seed + length)
        accuracy = pronoun_agreement_of(model, [(prompt.text, prompt.pronoun) for prompt in prompts])
        rows.append({"clauses": int(length), "gap": float(np.mean([prompt.gap for prompt in prompts])),
                     "accuracy": accuracy, "count": count})  # fmt: skip
    return rows


# ------------------------------------------------------------------ step labels
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
