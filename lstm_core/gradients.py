"""How far back a late loss reaches: per-timestep gradient norms for a plain RNN and an LSTM.

For a loss L computed from the last hidden state h_T, backpropagation through time gives dL/dx_t and
dL/dh_t for every earlier t. In a tanh RNN each step back multiplies by diag(1 - h²) W_hh, so the
norms shrink (or blow up) geometrically with the distance T - t; in an LSTM the path along the cell
state is multiplied only by the forget gate, so with f near 1 it stays open (Hochreiter, 1991;
Bengio, Simard and Frasconi, 1994; Hochreiter and Schmidhuber, 1997).

    >>> from lstm_core import LSTM, RNN
    >>> x = np.random.default_rng(0).normal(size=(30, 3))
    >>> rnn = gradient_profile(RNN.random(3, 8, seed=0), x)
    >>> rnn.input_norms.shape, rnn.by_distance()[0].shape
    ((30,), (30,))

The /gradients page compares four cells on one sequence with `compare_on_text` (the shipped word
model's LSTM against untrained cells of its sizes) and `compare_on_task` (the shipped long-lag RNN and
LSTM against untrained ones), in float64: a plain RNN's gradient falls below float32's smallest
number within a hundred steps back and would read as exactly zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .lstm import LSTM
from .rnn import RNN

if TYPE_CHECKING:
    from .language_model import LanguageModel
    from .task_model import TaskModel

__all__ = [
    "MEASURES", "CELL_ORDER", "LONGLAG_HIDDEN_SIZE", "GradientProfile", "GradientComparison", "gradient_profile",
    "as_float64", "untrained_like", "cross_entropy_gradient", "compare_on_text", "compare_on_task",
]  # fmt: skip

# What a profile measures the gradient with respect to. "cell" is the state that carries the memory:
# c_t in an LSTM, and h_t in a plain RNN, whose only state it is.
MEASURES: tuple[str, ...] = ("input", "hidden", "cell")
# (cell kind, trained): the order in which comparisons list their cells.
CELL_ORDER: tuple[tuple[str, bool], ...] = (("rnn", False), ("rnn", True), ("lstm", False), ("lstm", True))
LONGLAG_HIDDEN_SIZE = 32  # train_tasks.SHIPPED.hidden_size, repeated here: importing train_tasks imports torch


@dataclass(frozen=True)
class GradientProfile:
    """Norms of the gradient of one late loss, indexed by timestep t (0 = first input).

    input_norms: (T,) ||dL/dx_t||; hidden_norms: (T,) ||dL/dh_t|| of the top layer's forward
    direction; cell_norms: (T,) ||dL/dc_t|| likewise, None for a plain RNN.
    """

    input_norms: np.ndarray
    hidden_norms: np.ndarray
    cell_norms: np.ndarray | None
    # (T, hidden_size): the top layer's forward forget gate at every step, for an LSTM; None for an RNN.
    forget_gates: np.ndarray | None = field(default=None, repr=False)

    def norms(self, measure: str = "input") -> np.ndarray:
        """(T,) ||dL/dx_t|| ("input"), ||dL/dh_t|| ("hidden") or, for "cell", ||dL/dc_t|| of an LSTM
        and ||dL/dh_t|| of a plain RNN (its hidden state is its only state)."""
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
        if measure == "input":
            return self.input_norms
        if measure == "cell" and self.cell_norms is not None:
            return self.cell_norms
        return self.hidden_norms

    def by_distance(self, measure: str = "input") -> tuple[np.ndarray, np.ndarray]:
        """(distance back from the last step, norms): index 0 is the last step itself."""
        norms = self.norms(measure)
        return np.arange(len(norms)), norms[::-1].copy()

    def relative_by_distance(self, measure: str = "input") -> np.ndarray:
        """(T,) the norms by distance back, divided by the norm at the last step (so index 0 is 1).

        All NaN when the last step's gradient is zero: there is then nothing to compare with.
        """
        _, norms = self.by_distance(measure)
        reference = float(norms[0])
        if not reference > 0 or not np.isfinite(reference):
            return np.full(len(norms), np.nan)
        return np.asarray(norms, dtype=np.float64) / reference

    def decay_per_step(self, measure: str = "input") -> float:
        """Geometric mean factor by which the norm changes per step back in time (< 1: vanishing)."""
        norms = np.maximum(np.asarray(self.norms(measure), dtype=np.float64), np.finfo(np.float64).tiny)
        if len(norms) < 2:
            return 1.0
        return float(np.exp((np.log(norms[0]) - np.log(norms[-1])) / (len(norms) - 1)))


def gradient_profile(model: LSTM | RNN, x, last_hidden_gradient=None) -> GradientProfile:
    """Backpropagate dL/dh_T (the gradient of a loss with respect to the top layer's last forward
    hidden state, (hidden_size,)) to every timestep of x (T, input_size).

    Without `last_hidden_gradient`, L = mean of h_T's units: a loss that looks at the last step only.
    """
    if not isinstance(model, LSTM | RNN):
        raise ValueError(f"gradient_profile needs an LSTM or RNN, got {type(model).__name__}")
    trace = model.run(x)
    H, D = model.hidden_size, model.num_directions
    if last_hidden_gradient is None:
        last_hidden_gradient = np.full(H, 1.0 / H)
    last_hidden_gradient = np.asarray(last_hidden_gradient, dtype=np.float64)
    if last_hidden_gradient.shape != (H,) or not np.isfinite(last_hidden_gradient).all():
        raise ValueError(f"last_hidden_gradient must be {H} finite numbers, got shape {last_hidden_gradient.shape}")
    grad_output = np.zeros((trace.length, D * H))
    grad_output[-1, :H] = last_hidden_gradient
    return _profile(model, trace, grad_output)


def _profile(model: LSTM | RNN, trace, grad_output: np.ndarray) -> GradientProfile:
    gradients = model.backward(trace, grad_output=grad_output)
    top = model.num_layers - 1
    norms = lambda array: np.linalg.norm(np.asarray(array, dtype=np.float64), axis=-1)  # noqa: E731
    return GradientProfile(
        input_norms=norms(gradients.inputs),
        hidden_norms=norms(gradients.hidden[top, 0]),
        cell_norms=None if gradients.cell is None else norms(gradients.cell[top, 0]),
        forget_gates=np.array(trace.gates["forget"][top, 0]) if isinstance(model, LSTM) else None,
    )


# ------------------------------------------------------------------ cells to compare
def as_float64(cell: LSTM | RNN) -> LSTM | RNN:
    """The same weights in float64 (returned as is when already float64).

    A plain RNN's gradient shrinks by about half at every step; 150 steps back it is below float32's smallest
    number (1e-45) and would be computed as exactly zero, which a log scale cannot draw.
    """
    if not isinstance(cell, LSTM | RNN):
        raise ValueError(f"as_float64 needs an LSTM or RNN, got {type(cell).__name__}")
    if cell.dtype == np.float64:
        return cell
    return type(cell).from_state_dict(cell.state_dict(), dtype=np.float64)


def untrained_like(cell: LSTM | RNN, seed: int = 0, kind: str | None = None) -> LSTM | RNN:
    """A freshly initialised float64 cell with `cell`'s sizes (layers, directions, bias): PyTorch's
    default initialisation U(-1/sqrt(H), 1/sqrt(H)), seeded. `kind` ("lstm" or "rnn") picks the
    other cell type; by default it is `cell`'s own.

    >>> untrained_like(LSTM.random(3, 8, seed=0), seed=1, kind="rnn")
    RNN(input_size=3, hidden_size=8, num_layers=1, bidirectional=False, bias=True, dtype=float64)
    """
    cell_types = {"lstm": LSTM, "rnn": RNN}
    if kind is not None and kind not in cell_types:
        raise ValueError(f"kind must be 'lstm', 'rnn' or None, got {kind!r}")
    cell_type = type(cell) if kind is None else cell_types[kind]
    return cell_type.random(cell.input_size, cell.hidden_size, num_layers=cell.num_layers,
                            bidirectional=cell.num_directions == 2, bias=cell.bias, seed=seed, dtype=np.float64)  # fmt: skip


def cross_entropy_gradient(cell: LSTM | RNN, inputs, readout_weight, readout_bias, target: int) -> GradientProfile:
    """Gradient norms of L = -log softmax(readout_weight @ y_T + readout_bias)[target], the
    cross-entropy of a linear readout of the last output y_T ((num_directions * H,), as torch's
    `output[-1]`), at every step of `inputs` (T, input_size). Computed in `cell`'s dtype.
    """
    return _cross_entropy(cell, inputs, readout_weight, readout_bias, target)[0]


def _cross_entropy(cell, inputs, readout_weight, readout_bias, target) -> tuple[GradientProfile, float]:
    """(the profile of `cross_entropy_gradient`, the probability the readout gives `target`)."""
    trace = cell.run(inputs)
    readout_weight = np.asarray(readout_weight, dtype=cell.dtype)
    scores = readout_weight @ trace.output[-1] + np.asarray(readout_bias, dtype=cell.dtype)
    if not 0 <= int(target) < len(scores):
        raise ValueError(f"target must be a class index in 0..{len(scores) - 1}, got {target!r}")
    probabilities = _softmax(scores)
    target_probability = float(probabilities[int(target)])
    probabilities[int(target)] -= 1.0  # dL/dscores = softmax - one-hot
    grad_output = np.zeros((trace.length, len(trace.output[-1])), dtype=cell.dtype)
    grad_output[-1] = probabilities @ readout_weight
    return _profile(cell, trace, grad_output), target_probability


def _softmax(scores: np.ndarray) -> np.ndarray:
    exponentials = np.exp(scores - scores.max())
    return exponentials / exponentials.sum()


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
    inputs = np.asarray(model.embedding[ids[:-1]], dtype=np.float64)
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
    from .task_model import CELL_KINDS, TaskModel  # here: task_model imports this module
    from .tasks import make_batch

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
        probabilities = {key: float(_softmax(model.predict(inputs))[int(target)]) for key, model in models.items()}
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
