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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lstm import LSTM
from .rnn import RNN

__all__ = ["GradientProfile", "gradient_profile"]


@dataclass(frozen=True)
class GradientProfile:
    """Norms of the gradient of one late loss, indexed by timestep t (0 = first input).

    input_norms: (T,) ||dL/dx_t||; hidden_norms: (T,) ||dL/dh_t|| of the top layer's forward
    direction; cell_norms: (T,) ||dL/dc_t|| likewise, None for a plain RNN.
    """

    input_norms: np.ndarray
    hidden_norms: np.ndarray
    cell_norms: np.ndarray | None

    def by_distance(self) -> tuple[np.ndarray, np.ndarray]:
        """(distance back from the last step, ||dL/dx||): index 0 is the last input itself."""
        distance = np.arange(len(self.input_norms))
        return distance, self.input_norms[::-1].copy()

    def decay_per_step(self) -> float:
        """Geometric mean factor by which ||dL/dx_t|| changes per step back in time (< 1: vanishing)."""
        norms = np.maximum(self.input_norms, np.finfo(np.float64).tiny)
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
    gradients = model.backward(trace, grad_output=grad_output)
    top = model.num_layers - 1
    norms = lambda array: np.linalg.norm(np.asarray(array, dtype=np.float64), axis=-1)  # noqa: E731
    return GradientProfile(
        input_norms=norms(gradients.inputs),
        hidden_norms=norms(gradients.hidden[top, 0]),
        cell_norms=None if gradients.cell is None else norms(gradients.cell[top, 0]),
    )
