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

The /gradients page compares four cells on one sequence with `lstm_core.analysis.gradient_comparison`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lstm_core.lstm import LSTM
from lstm_core.numerics import softmax
from lstm_core.rnn import RNN

__all__ = [
    "MEASURES", "CELL_ORDER", "GradientProfile", "gradient_profile", "as_float64", "untrained_like",
    "cross_entropy_gradient", "CLOSED_BELOW", "ForgetMarks", "forget_marks",
]  # fmt: skip

# What a profile measures the gradient with respect to. "cell" is the state that carries the memory:
# c_t in an LSTM, and h_t in a plain RNN, whose only state it is.
MEASURES: tuple[str, ...] = ("input", "hidden", "cell")
# (cell kind, trained): the order in which comparisons list their cells.
CELL_ORDER: tuple[tuple[str, bool], ...] = (("rnn", False), ("rnn", True), ("lstm", False), ("lstm", True))


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


# A forget gate below one half keeps less than half of the cell state it is handed: the gate "closes".
CLOSED_BELOW = 0.5


@dataclass(frozen=True)
class ForgetMarks:
    """Where an LSTM's forget gate closes along a sequence: one unit's gate, or the mean of several.

    units: the units averaged (all of them when empty); values: (T,) their mean forget gate f_t at
    each step; threshold: a step is marked when f_t < threshold.

    Going back from step t to step t - 1, the gradient along these units' cell state is multiplied by
    f_t (dc_t / dc_t-1 = f_t), so at a marked step that path keeps less than `threshold` of it.
    """

    units: tuple[int, ...]
    values: np.ndarray
    threshold: float = CLOSED_BELOW

    @property
    def steps(self) -> np.ndarray:
        """The marked steps t, in reading order."""
        return np.flatnonzero(self.values < self.threshold)

    def kept_along_cell(self, start: int) -> float:
        """The product f_start+1 ... f_T-1: how much of the gradient at the last step the cell-state
        path of these units (of their mean gate) carries back to step `start`."""
        return float(np.prod(np.asarray(self.values[start + 1 :], dtype=np.float64)))


def forget_marks(profile: GradientProfile, units=(), threshold: float = CLOSED_BELOW) -> ForgetMarks:
    """The marks of `profile`'s forget gates (an LSTM's): of `units`' mean gate, or all units' mean.

    >>> profile = GradientProfile(np.ones(3), np.ones(3), np.ones(3), forget_gates=np.array([[0.9, 0.2], [0.1, 0.8], [0.95, 0.99]]))
    >>> forget_marks(profile, units=[0]).steps
    array([1])
    """
    if profile.forget_gates is None:
        raise ValueError("a plain RNN has no forget gate to mark")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
    forget = np.asarray(profile.forget_gates, dtype=np.float64)  # (T, H)
    units = tuple(int(unit) for unit in units)
    if any(not 0 <= unit < forget.shape[1] for unit in units):
        raise ValueError(f"units must be in 0..{forget.shape[1] - 1}, got {list(units)}")
    values = forget[:, list(units)].mean(axis=1) if units else forget.mean(axis=1)
    return ForgetMarks(units, values, float(threshold))


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
    probabilities = softmax(scores)
    target_probability = float(probabilities[int(target)])
    probabilities[int(target)] -= 1.0  # dL/dscores = softmax - one-hot
    grad_output = np.zeros((trace.length, len(trace.output[-1])), dtype=cell.dtype)
    grad_output[-1] = probabilities @ readout_weight
    return _profile(cell, trace, grad_output), target_probability
