"""The LSTM cell in plain NumPy: one timestep, one equation a line. Start reading here.

This is the reference. `lstm_core.lstm.LSTM` runs the same equations over whole sequences, rearranged
for speed, and is tested against this cell at every gate of every step (tests/test_cell.py) as well
as against `torch.nn.LSTM`. `Trace.step(t)`, and through it /step and /playground, computes the
numbers it shows with `lstm_cell_step`.

One timestep of one layer and direction (PyTorch's `nn.LSTM` docs; d2l, "Long Short-Term Memory"),
with σ the logistic sigmoid and ⊙ the elementwise product:

    i = σ(W_i x + U_i h_prev + b_i)        input gate: how much of the candidate to write
    f = σ(W_f x + U_f h_prev + b_f)        forget gate: how much of the old cell state to keep
    g = tanh(W_g x + U_g h_prev + b_g)     candidate (PyTorch's g): what could be written
    o = σ(W_o x + U_o h_prev + b_o)        output gate: how much of the cell state to show
    c = f ⊙ c_prev + i ⊙ g                 cell state
    h = o ⊙ tanh(c)                        hidden state

Shapes, for hidden size H and n inputs per step: x (n,); h_prev, c_prev and every result (H,);
W_· (H, n) input weights, U_· (H, H) recurrent weights, b_· (H,) bias.

Where the weights live: PyTorch (and `LSTM`) stacks the four gates' rows in the order i, f, g, o, so
`weight_ih_l{k}` is [W_i; W_f; W_g; W_o] (4H, n) and `weight_hh_l{k}` is [U_i; U_f; U_g; U_o] (4H, H).
It keeps two biases, `bias_ih_l{k}` and `bias_hh_l{k}`, and b is their sum. `cell_weights` cuts one
layer and direction into these per-gate pieces as views, without copying. In the app the gates are
called input, forget, candidate and output: i, f, g and o.

    >>> from lstm_core import LSTM
    >>> lstm = LSTM.random(input_size=3, hidden_size=2, seed=0, dtype=np.float64)
    >>> weights = cell_weights(lstm, layer=0, direction=0)
    >>> weights.forget.W.shape, weights.forget.U.shape, weights.forget.b.shape
    ((2, 3), (2, 2), (2,))
    >>> step = lstm_cell_step(np.ones(3), np.zeros(2), np.zeros(2), weights)
    >>> step.c.shape, bool(np.allclose(step.h, step.o * np.tanh(step.c)))
    ((2,), True)
    >>> bool(np.allclose(step.h, lstm.run(np.ones((1, 3))).hidden[0, 0, 0]))   # the fast LSTM agrees
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from lstm_core.numerics import sigmoid

if TYPE_CHECKING:
    from lstm_core.lstm import LSTM

__all__ = ["GATE_NAMES", "GateWeights", "CellWeights", "CellStep", "cell_weights", "lstm_cell_step"]

GATE_NAMES = ("input", "forget", "candidate", "output")  # i, f, g, o: PyTorch's block order


@dataclass(frozen=True, eq=False)
class GateWeights:
    """One gate's weights, read-only views into an LSTM's parameters.

    W: (H, n), the gate's rows of `weight_ih`, applied to the input x. U: (H, H), its rows of
    `weight_hh`, applied to h_prev. b_ih, b_hh: (H,), its rows of `bias_ih` and `bias_hh` (zeros for
    an LSTM without bias). PyTorch keeps the two biases apart; the equations only need b = b_ih + b_hh.
    """

    W: np.ndarray
    U: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray

    @property
    def b(self) -> np.ndarray:
        """(H,): the gate's bias, b_ih + b_hh."""
        return self.b_ih + self.b_hh


@dataclass(frozen=True, eq=False)
class CellWeights:
    """The four gates' weights of one layer and direction; `weights["forget"]` is `weights.forget`."""

    input: GateWeights
    forget: GateWeights
    candidate: GateWeights
    output: GateWeights

    def __getitem__(self, name: str) -> GateWeights:
        if name not in GATE_NAMES:
            raise KeyError(f"no gate {name!r}; the gates are {GATE_NAMES}")
        return getattr(self, name)


@dataclass(frozen=True, eq=False)
class CellStep:
    """What one step computed, each (H,): the gates i, f, g, o, the cell state c and the hidden state h."""

    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """Gate name (`GATE_NAMES`) -> its value."""
        return {"input": self.i, "forget": self.f, "candidate": self.g, "output": self.o}


def cell_weights(lstm: LSTM, layer: int = 0, direction: int = 0) -> CellWeights:
    """One layer and direction of `lstm` as per-gate `GateWeights`: views of its parameters, no copies.

    Gate k of the order i, f, g, o owns rows k·H to (k+1)·H of `weight_ih`, `weight_hh`, `bias_ih`
    and `bias_hh`. direction 1 is the backward direction of a bidirectional LSTM (`..._reverse`).
    """
    if getattr(lstm, "gate_count", None) != len(GATE_NAMES):
        raise ValueError(f"cell_weights needs an LSTM (four gates per unit), got {lstm!r}")
    H = lstm.hidden_size
    weight_ih = lstm.weight("weight_ih", layer, direction)  # (4H, n); checks layer and direction
    weight_hh = lstm.weight("weight_hh", layer, direction)  # (4H, H)
    if lstm.bias:
        bias_ih, bias_hh = lstm.weight("bias_ih", layer, direction), lstm.weight("bias_hh", layer, direction)
    else:
        bias_ih = bias_hh = np.zeros(4 * H, dtype=lstm.dtype)
        bias_ih.flags.writeable = False
    gates = {}
    for k, name in enumerate(GATE_NAMES):
        rows = slice(k * H, (k + 1) * H)
        gates[name] = GateWeights(W=weight_ih[rows], U=weight_hh[rows], b_ih=bias_ih[rows], b_hh=bias_hh[rows])
    return CellWeights(**gates)


def lstm_cell_step(x: ArrayLike, h_prev: ArrayLike, c_prev: ArrayLike, weights: CellWeights) -> CellStep:
    """One LSTM step: the gates, the new cell state and the new hidden state (equations above).

    x: (n,) the input; h_prev, c_prev: (H,) the state the step starts from; weights: from
    `cell_weights`. Computes in the weights' dtype.
    """
    (H, n), dtype = weights.input.W.shape, weights.input.W.dtype
    x = _vector(x, "x", n, dtype)
    h_prev = _vector(h_prev, "h_prev", H, dtype)
    c_prev = _vector(c_prev, "c_prev", H, dtype)
    W_i, U_i, b_i = weights.input.W, weights.input.U, weights.input.b
    W_f, U_f, b_f = weights.forget.W, weights.forget.U, weights.forget.b
    W_g, U_g, b_g = weights.candidate.W, weights.candidate.U, weights.candidate.b
    W_o, U_o, b_o = weights.output.W, weights.output.U, weights.output.b

    i = sigmoid(W_i @ x + U_i @ h_prev + b_i)  # input gate
    f = sigmoid(W_f @ x + U_f @ h_prev + b_f)  # forget gate
    g = np.tanh(W_g @ x + U_g @ h_prev + b_g)  # candidate
    o = sigmoid(W_o @ x + U_o @ h_prev + b_o)  # output gate
    c = f * c_prev + i * g  # cell state
    h = o * np.tanh(c)  # hidden state
    return CellStep(i=i, f=f, g=g, o=o, c=c, h=h)


def _vector(value: ArrayLike, name: str, size: int, dtype: np.dtype) -> np.ndarray:
    array = np.asarray(value, dtype=dtype)
    if array.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {array.shape}")
    return array
