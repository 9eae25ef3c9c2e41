"""The fast LSTM: whole sequences at once, every gate recorded, exact against `torch.nn.LSTM`.

The equations, one line each, are in `lstm_core/cell.py` (`lstm_cell_step`): read them there first.
This module runs the same equations for every layer, direction and timestep of a sequence, rearranged
for speed (see "The fast path" below), and keeps every gate, cell and hidden value in a `Trace`.
`Trace.step(t)` recomputes one step with the plain cell, for the pages that show a step's numbers.

Weights keep PyTorch's names and layout (`weight_ih_l{k}`, rows in blocks i, f, g, o, `_reverse` for
the backward direction), so import and export are plain copies. The backward direction of a
bidirectional layer runs from the last token to the first; its trace is still indexed by token
position, as torch's `output` is. Layer k > 0 reads the hidden states of layer k - 1, both directions
concatenated.

    >>> lstm = LSTM.random(input_size=3, hidden_size=5, seed=0)
    >>> trace = lstm.run(np.ones((7, 3)))
    >>> trace.gates["forget"].shape          # (num_layers, num_directions, T, hidden_size)
    (1, 1, 7, 5)
    >>> trace.output.shape                   # (T, num_directions * hidden_size)
    (7, 5)
    >>> trace.step(3).gates["forget"].shape  # one step, from lstm_core.cell.lstm_cell_step
    (5,)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from lstm_core._base import Gradients, RecurrentBase, final_states, grad_or_zeros, previous_states, read_only
from lstm_core._weights import check_sequence, check_state, param_name
from lstm_core.cell import GATE_NAMES, cell_weights, lstm_cell_step

__all__ = ["GATE_NAMES", "LSTM", "Trace", "BatchTrace", "StepDetail", "Gradients"]


class LSTM(RecurrentBase):
    """A stacked, optionally bidirectional LSTM with PyTorch's parameters, run in NumPy.

    Build one with `LSTM.from_state_dict(sd)`, `LSTM.from_torch(module)` or `LSTM.random(...)`.
    `run(x)` returns a `Trace` of every gate, cell and hidden value; `run_batch(xs)` runs many
    sequences of different lengths at once; `backward(trace, ...)` backpropagates through time.
    Construction, export and checks are shared with `RNN` (`lstm_core._base.RecurrentBase`).
    """

    gate_count = 4  # i, f, g, o
    torch_mode = "LSTM"
    torch_name = "torch.nn.LSTM"

    def __init__(self, params: Mapping[str, ArrayLike], dtype: DTypeLike = np.float32, prefix: str = "") -> None:
        super().__init__(params, dtype=dtype, prefix=prefix)
        self._fast = [[_FastWeights.of(self, layer, d) for d in range(self.num_directions)]
                      for layer in range(self.num_layers)]  # fmt: skip

    # ----------------------------------------------------------------------------- forward
    def run(
        self,
        x: ArrayLike,
        h0: ArrayLike | None = None,
        c0: ArrayLike | None = None,
        held_cells: ArrayLike | None = None,
    ) -> Trace:
        """Run one sequence and record everything.

        x: (T, input_size); h0, c0: (num_layers * num_directions, hidden_size), zeros by default.
        held_cells: (num_layers, num_directions, hidden_size), NaN for a unit that runs freely and a
            number for a unit whose cell state is held at that number after every step, whatever its
            gates say (switching the unit off, `lstm_core.analysis.ablation`); its hidden state is then
            o_t ⊙ tanh(held value), and the next step and the layers above read the held state.
        """
        x = check_sequence(x, self.input_size, self.dtype)
        states = (self.num_layers * self.num_directions, self.hidden_size)
        h0 = check_state(h0, states, self.dtype, "h0")
        c0 = check_state(c0, states, self.dtype, "c0")
        T, L, D, H = len(x), self.num_layers, self.num_directions, self.hidden_size
        held_cells = _checked_held_cells(held_cells, (L, D, H), self.dtype)
        record = np.empty((L, T + 2, D, 5, H), dtype=self.dtype)  # rows [c_read | g f i o], see "The fast path"
        record[:, 0] = record[:, -1] = 0  # the end rows are only partly written
        hidden_buffer = np.empty((L, T, D, H), dtype=self.dtype)
        layer_input = x
        for layer in range(L):
            for d in range(D):
                fast, k = self._fast[layer][d], layer * D + d
                rows = record[layer, :, d]  # (T + 2, 5, H)
                fast.project(layer_input, out=rows[1 : T + 1, 1:])
                rows[T if d == 1 else 1, _CELL_BLOCK] = c0[k]
                held = None if held_cells is None else _held_units(held_cells[layer, d])
                _recurrence(rows, fast, h0[k], hidden_buffer[layer, :, d], reverse=d == 1, held=held)
            layer_input = hidden_buffer[layer].reshape(T, D * H)  # both directions side by side, a view
        return Trace(self, x, h0, c0, record, hidden_buffer, held_cells=held_cells)

    def run_batch(self, sequences: Sequence[ArrayLike] | np.ndarray) -> BatchTrace:
        """Run many sequences of different lengths at once (zero initial states).

        Equal to `[self.run(x) for x in sequences]`, but each timestep is one matrix product over the
        whole batch. Returns a `BatchTrace` whose arrays are zero-padded to the longest sequence.
        """
        if isinstance(sequences, np.ndarray) and sequences.ndim == 3:
            sequences = list(sequences)
        if not isinstance(sequences, Sequence) or len(sequences) == 0:
            raise ValueError("run_batch needs a non-empty list of (T_i, input_size) sequences")
        xs = [check_sequence(x, self.input_size, self.dtype, name=f"sequences[{i}]") for i, x in enumerate(sequences)]
        lengths = np.array([len(x) for x in xs])
        B, T, L, D, H = len(xs), int(lengths.max()), self.num_layers, self.num_directions, self.hidden_size
        padded = np.zeros((T, B, self.input_size), dtype=self.dtype)
        for b, x in enumerate(xs):
            padded[: len(x), b] = x
        # time_reversed[s, b] is the token position the backward direction reads at its step s: each
        # sequence starts from its own last token. Padding positions map onto themselves.
        steps = np.arange(T)[:, None]
        time_reversed = np.where(steps < lengths, lengths - 1 - steps, steps)
        batch_index = np.arange(B)
        record = np.empty((L, T + 2, D, 5, B, H), dtype=self.dtype)
        record[:, 0] = record[:, -1] = 0
        hidden_buffer = np.empty((L, T, D, B, H), dtype=self.dtype)
        zeros = np.zeros((B, H), dtype=self.dtype)
        layer_input = padded
        for layer in range(L):
            for d in range(D):
                fast = self._fast[layer][d]
                rows = record[layer, :, d]  # (T + 2, 5, B, H)
                if d == 0:
                    fast.project(layer_input, out=rows[1 : T + 1, 1:])
                    rows[1, _CELL_BLOCK] = 0
                    _recurrence(rows, fast, zeros, hidden_buffer[layer, :, d], reverse=False)
                    continue
                # Backward: run every sequence from its own last token in reading order, then put each
                # step back at its token position.
                reading = np.empty((T + 2, 5, B, H), dtype=self.dtype)
                fast.project(layer_input[time_reversed, batch_index], out=reading[1 : T + 1, 1:])
                reading[1, _CELL_BLOCK] = 0
                hiddens = np.empty((T, B, H), dtype=self.dtype)
                _recurrence(reading, fast, zeros, hiddens, reverse=False)
                rows[1 + time_reversed, 1:, batch_index] = reading[1 : T + 1, 1:].transpose(0, 2, 1, 3)
                rows[time_reversed, _CELL_BLOCK, batch_index] = reading[2:, _CELL_BLOCK]  # c_t: row t backward
                rows[T, _CELL_BLOCK] = 0  # c0 of the sequences as long as the batch; shorter ones are padding there
                hidden_buffer[layer, time_reversed, d, batch_index] = hiddens
            layer_input = hidden_buffer[layer].transpose(0, 2, 1, 3).reshape(T, B, D * H)
        padding = steps >= lengths  # (T, B)
        for view in (*_gate_views(record, time_axis=3, writeable=True).values(),
                     _cell_view(record, time_axis=3, writeable=True),
                     hidden_buffer.transpose(0, 2, 3, 1, 4)):  # fmt: skip
            view[:, :, padding.T] = 0
        return BatchTrace(self, xs, lengths, record, hidden_buffer)

    # ---------------------------------------------------------------- backpropagation in time
    def backward(
        self,
        trace: Trace,
        grad_output: ArrayLike | None = None,
        grad_h_n: ArrayLike | None = None,
        grad_c_n: ArrayLike | None = None,
    ) -> Gradients:
        """Gradients of a scalar loss, given its gradient with respect to the trace's outputs.

        grad_output: (T, num_directions * hidden_size), dL/d output; grad_h_n, grad_c_n:
        (num_layers * num_directions, hidden_size). Missing ones are zero. Returns dL/dx, the total
        dL/dh_t and dL/dc_t at every timestep of every layer and direction, dL/dh0, dL/dc0 and dL/dW
        for every parameter under PyTorch's names.
        """
        if not isinstance(trace, Trace) or trace.model is not self:
            raise ValueError("backward needs a Trace produced by this LSTM's run()")
        if trace.held_cells is not None:
            raise ValueError(
                "backward needs a trace whose cells ran freely: held cells (run(held_cells=...)) pass no gradient"
            )
        T, L, D, H = trace.length, self.num_layers, self.num_directions, self.hidden_size
        grad_output = grad_or_zeros(grad_output, (T, D * H), self.dtype, "grad_output")
        grad_h_n = grad_or_zeros(grad_h_n, (L * D, H), self.dtype, "grad_h_n")
        grad_c_n = grad_or_zeros(grad_c_n, (L * D, H), self.dtype, "grad_c_n")
        gates = {name: trace.gates[name] for name in GATE_NAMES}
        grad_hidden = np.zeros((L, D, T, H), dtype=self.dtype)
        grad_cell = np.zeros((L, D, T, H), dtype=self.dtype)
        grad_h0 = np.zeros((L * D, H), dtype=self.dtype)
        grad_c0 = np.zeros((L * D, H), dtype=self.dtype)
        grad_weights: dict[str, np.ndarray] = {}
        from_above = grad_output.reshape(T, D, H).transpose(1, 0, 2)  # (D, T, H)
        for layer in reversed(range(L)):
            layer_input = trace.inputs if layer == 0 else trace.hidden[layer - 1].transpose(1, 0, 2).reshape(T, D * H)
            grad_input = np.zeros_like(layer_input)
            for d in range(D):
                k = layer * D + d
                order = range(T - 1, -1, -1) if d == 1 else range(T)
                i, f, g, o = (gates[name][layer, d] for name in GATE_NAMES)
                c = trace.cell[layer, d]
                c_prev = previous_states(c, trace.c0[k], reverse=d == 1)
                h_prev = previous_states(trace.hidden[layer, d], trace.h0[k], reverse=d == 1)
                tanh_c = np.tanh(c)
                # dL/dz_t = coefficient_t ⊙ (dc_t, dc_t, dc_t, dh_t) for the blocks i, f, g, o
                coefficient = np.stack(
                    [g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), tanh_c * o * (1 - o)], axis=1
                )
                through_tanh = o * (1 - tanh_c * tanh_c)  # dh_t -> dc_t
                w_hh = self.weight("weight_hh", layer, d)
                grad_z = np.empty((T, 4, H), dtype=self.dtype)
                dh_next, dc_next = grad_h_n[k].copy(), grad_c_n[k].copy()
                for t in reversed(order):
                    dh = from_above[d, t] + dh_next
                    dc = dc_next + dh * through_tanh[t]
                    grad_hidden[layer, d, t], grad_cell[layer, d, t] = dh, dc
                    np.multiply(coefficient[t, :3], dc, out=grad_z[t, :3])
                    np.multiply(coefficient[t, 3], dh, out=grad_z[t, 3])
                    dc_next = dc * f[t]
                    dh_next = grad_z[t].reshape(4 * H) @ w_hh
                grad_h0[k], grad_c0[k] = dh_next, dc_next
                grad_z = grad_z.reshape(T, 4 * H)
                grad_weights[param_name("weight_ih", layer, d)] = grad_z.T @ layer_input
                grad_weights[param_name("weight_hh", layer, d)] = grad_z.T @ h_prev
                if self.bias:
                    grad_weights[param_name("bias_ih", layer, d)] = grad_z.sum(axis=0)
                    grad_weights[param_name("bias_hh", layer, d)] = grad_z.sum(axis=0)
                grad_input += grad_z @ self.weight("weight_ih", layer, d)
            from_above = grad_input.reshape(T, D, H).transpose(1, 0, 2) if layer > 0 else None
        return Gradients(grad_input, grad_hidden, grad_cell, grad_h0, grad_c0, grad_weights)


# ------------------------------------------------------------------------------------ the fast path
# `LSTM.run` computes the equations of `lstm_core.cell.lstm_cell_step`, a whole layer and direction at a
# time. At this app's sizes most of a NumPy step is the fixed cost of each call, not arithmetic, so the
# loop is arranged to make few calls per step and to copy nothing:
#
# 1. The inputs first. x_t does not depend on h, so x_t W_ih^T + b for every t is one matrix product
#    before the loop (`_FastWeights.project`). The bias b = b_ih + b_hh is folded into that product as
#    one more row of W_ih^T, met by a column of ones beside x: cheaper than a product and then an add.
# 2. One record row per step, five blocks of H values:
#
#        [c_read | g | f | i | o]     c_read: the cell state this step reads (c_{t-1}, or c_{t+1} backward)
#
#    The gate blocks are reordered from PyTorch's i, f, g, o to g, f, i, o so that [f, i] and
#    [c_read, g] are each one contiguous pair: f ⊙ c_{t-1} and i ⊙ g are one multiply.
# 3. The sigmoid through tanh. σ(a) = (1 + tanh(a / 2)) / 2, so with the rows of f, i and o in W_ih,
#    W_hh and b halved (exact in floating point), one tanh over all 4H pre-activations and one
#    multiply-add (scale 1/2 and shift 1/2 on f, i, o; scale 1 and shift 0 on g) give all four gates,
#    with no separate view of the sigmoid blocks.
# 4. Results are written where they are read. A step turns its row's pre-activations into its gates in
#    place, writes c_t into the c_read block of the row read next (row t + 1 going forward, row t - 1
#    going backward) and h_t into the hidden buffer the next step reads from. The record therefore has
#    one row more at each end (row index = t + 1); the first row read holds c0. `Trace.gates` and
#    `Trace.cell` are views into it. In a batch each block is (B, H), so every block stays contiguous.
# 5. In the loop, iterating over row views with zip costs less than indexing, outputs are passed
#    positionally (a keyword `out=` costs NumPy extra parsing on every call, as much as the arithmetic
#    at these sizes), and `h.dot(W, out)` costs less than `np.dot(h, W, out)`.
#
# Only the weights are rearranged: the recorded values are the real gates, cell and hidden states.
# tests/test_cell.py holds every one of them against `lstm_cell_step`, tests/test_lstm.py against torch.
_CELL_BLOCK = 0  # c_read
_GATE_BLOCK = {"candidate": 1, "forget": 2, "input": 3, "output": 4}  # blocks of a record row
# the torch block (index into i, f, g, o) behind each gate block of a record row, in row order g, f, i, o
_TORCH_BLOCKS_IN_ROW_ORDER = tuple(GATE_NAMES.index(name) for name in sorted(_GATE_BLOCK, key=_GATE_BLOCK.get))


@dataclass(frozen=True)
class _FastWeights:
    """One layer and direction's weights, rearranged for the time loop (see "The fast path" above)."""

    w_ih_t: np.ndarray  # (layer_input [+ 1], 4H): W_ih^T in row block order g, f, i, o, sigmoid columns
    #                     halved; with biases its last row is b_ih + b_hh, likewise reordered and halved
    w_hh_t: np.ndarray  # (H, 4H): W_hh^T, the same blocks
    bias: bool
    sigmoid_scale: np.ndarray  # (4, H): 1 for g, 1/2 for f, i, o
    sigmoid_shift: np.ndarray  # (4, H): 0 for g, 1/2 for f, i, o

    @classmethod
    def of(cls, lstm: LSTM, layer: int, direction: int) -> _FastWeights:
        H = lstm.hidden_size
        rows = np.concatenate([np.arange(b * H, (b + 1) * H) for b in _TORCH_BLOCKS_IN_ROW_ORDER])
        halve = np.full(4 * H, 0.5, dtype=lstm.dtype)
        halve[:H] = 1.0  # the candidate's tanh takes the whole pre-activation
        w_ih = lstm.weight("weight_ih", layer, direction)[rows] * halve[:, None]
        w_hh = lstm.weight("weight_hh", layer, direction)[rows] * halve[:, None]
        w_ih_t = w_ih.T
        if lstm.bias:
            bias = (lstm.weight("bias_ih", layer, direction) + lstm.weight("bias_hh", layer, direction))[rows] * halve
            w_ih_t = np.vstack([w_ih_t, bias])
        return cls(_aligned(w_ih_t), _aligned(w_hh.T), lstm.bias, halve.reshape(4, H), (1 - halve).reshape(4, H))

    def project(self, layer_input: np.ndarray, out: np.ndarray) -> None:
        """Write x_t W_ih^T + b into the gate blocks `out` (T, 4, [B,] H) for `layer_input` (T, [B,] n):
        one matrix product of [x_t, 1] with [W_ih^T; b]."""
        if self.bias:
            with_ones = np.empty(layer_input.shape[:-1] + (layer_input.shape[-1] + 1,), dtype=self.w_ih_t.dtype)
            with_ones[..., :-1] = layer_input
            with_ones[..., -1] = 1
            layer_input = with_ones
        if layer_input.ndim == 2:  # one sequence: straight into the record rows, seen as (T, 4H)
            rows = np.reshape(out, (len(out), -1), copy=False)  # raises rather than copies
            np.matmul(layer_input, self.w_ih_t, out=rows)
            return
        T, B, n = layer_input.shape
        projected = (layer_input.reshape(T * B, n) @ self.w_ih_t).reshape(T, B, 4, -1)  # one product, not T
        out[...] = projected.transpose(0, 2, 1, 3)


def _aligned(array: np.ndarray, alignment: int = 64) -> np.ndarray:
    """A C-contiguous copy of `array` that starts on an `alignment`-byte boundary.

    NumPy only promises 16-byte alignment, and BLAS's matrix-vector kernels read W_hh^T fastest from
    32-byte boundaries: left to the allocator, the loop's speed would change from one model to the next.
    """
    buffer = np.empty(array.nbytes + alignment, dtype=np.uint8)
    start = -buffer.ctypes.data % alignment
    aligned = buffer[start : start + array.nbytes].view(array.dtype).reshape(array.shape)
    aligned[...] = array
    return aligned


def _recurrence(
    rows: np.ndarray,
    fast: _FastWeights,
    h0: np.ndarray,
    hidden_states: np.ndarray,
    reverse: bool,
    held: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """The time loop of one layer and direction, writing into its record rows and hidden states.

    rows: (T + 2, 5, [B,] H) record rows [c_read | g f i o]. On entry rows 1..T hold the input
    projection x_t W_ih^T + b in their gate blocks and the first row read holds c0; on exit they hold
    the gates, and every step's cell state is in the c_read block of the row read next. fast: the
    layer and direction's rearranged weights; h0: ([B,] H); hidden_states: (T, [B,] H), written.
    held: (units, values) whose cell states are set to those values after every step (`_held_units`).
    """
    H = hidden_states.shape[-1]
    step_rows, cells_written = rows[1:-1], rows[2:, _CELL_BLOCK]
    if reverse:
        step_rows, cells_written, hidden_states = step_rows[::-1], rows[:-2, _CELL_BLOCK][::-1], hidden_states[::-1]
    # per step: the four gate blocks (g f i o), the pairs [f, i] and [c_read, g], o, and where c_t and h_t go
    per_step = (step_rows[:, 1:], step_rows[:, 2:4], step_rows[:, :2], step_rows[:, 4], cells_written, hidden_states)
    batch = hidden_states.shape[1:-1]  # () or (B,)
    recurrent_product = np.empty(batch + (4 * H,), dtype=hidden_states.dtype)  # h_{t-1} W_hh^T, as h.dot gives it
    recurrent_blocks = recurrent_product.reshape(batch + (4, H))
    if batch:
        recurrent_blocks = recurrent_blocks.swapaxes(0, 1)  # (4, B, H), a view (np.moveaxis costs µs)
    gated_terms = np.empty((2,) + batch + (H,), dtype=hidden_states.dtype)  # [f ⊙ c_{t-1}, i ⊙ g]
    forget_times_cell, input_times_candidate = gated_terms
    tanh_cell = np.empty_like(forget_times_cell)
    blocks = (4,) + (1,) * len(batch) + (H,)
    w_hh_t = fast.w_hh_t
    sigmoid_scale, sigmoid_shift = fast.sigmoid_scale.reshape(blocks), fast.sigmoid_shift.reshape(blocks)
    add, multiply, tanh = np.add, np.multiply, np.tanh
    held_units, held_values = (None, None) if held is None else held
    h_prev = h0
    for gates, forget_and_input_gates, previous_cell_and_candidate, output_gate, cell_state, hidden_state in zip(
        *per_step, strict=True
    ):
        # `gates` holds the pre-activations (g f i o, sigmoid rows halved) until the tanh squashes them
        h_prev.dot(w_hh_t, recurrent_product)
        add(gates, recurrent_blocks, gates)  # x_t W_ih^T + b + h_{t-1} W_hh^T
        tanh(gates, gates)  # g = tanh(a_g); the sigmoid blocks hold tanh(a / 2)
        multiply(gates, sigmoid_scale, gates)
        add(gates, sigmoid_shift, gates)  # σ(a) = (1 + tanh(a / 2)) / 2 for f, i, o
        multiply(forget_and_input_gates, previous_cell_and_candidate, gated_terms)  # [f, i] ⊙ [c_{t-1}, g]
        add(forget_times_cell, input_times_candidate, cell_state)  # c_t = f ⊙ c_{t-1} + i ⊙ g, in the row read next
        if held_units is not None:  # units switched off: their cell state stays where it is held
            cell_state[..., held_units] = held_values
        tanh(cell_state, tanh_cell)
        multiply(output_gate, tanh_cell, hidden_state)  # h_t = o ⊙ tanh(c_t)
        h_prev = hidden_state


def _checked_held_cells(
    held_cells: ArrayLike | None, shape: tuple[int, int, int], dtype: DTypeLike
) -> np.ndarray | None:
    """`held_cells` as a read-only (L, D, H) array in the LSTM's dtype, or None when no unit is held."""
    if held_cells is None:
        return None
    held = np.array(held_cells, dtype=dtype)
    if held.shape != shape:
        raise ValueError(
            f"held_cells must have shape {shape} (num_layers, num_directions, hidden_size), got {held.shape}"
        )
    if np.isinf(held).any():
        raise ValueError("held_cells must be NaN (the unit runs freely) or a finite cell value")
    if np.isnan(held).all():
        return None
    held.flags.writeable = False
    return held


def _held_units(held_cells: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(H,) held cells of one layer and direction -> (the held units, their values), or None."""
    units = np.flatnonzero(~np.isnan(held_cells))
    return (units, held_cells[units]) if units.size else None


def _gate_views(record: np.ndarray, time_axis: int, writeable: bool = False) -> Mapping[str, np.ndarray]:
    """Name -> (L, D, [B,] T, H) views into a (L, T + 2, D, 5, [B,] H) record."""
    views = {}
    for name in GATE_NAMES:
        view = _time_axis_to(record[:, 1:-1, :, _GATE_BLOCK[name]], time_axis)
        view.flags.writeable = writeable
        views[name] = view
    return MappingProxyType(views)


def _cell_view(record: np.ndarray, time_axis: int, writeable: bool = False) -> np.ndarray:
    """(L, D, [B,] T, H) view of the cell states in a (L, T + 2, D, 5, [B,] H) record.

    c_t is in the c_read block of row t + 2 going forward and of row t going backward (record rows are
    t + 1), so the direction axis steps back two rows as it steps to the next direction.
    """
    forward = record[:, 2:, :, _CELL_BLOCK]  # (L, T, D, [B,] H), right for direction 0
    strides = list(forward.strides)
    strides[2] -= 2 * forward.strides[1]
    view = np.lib.stride_tricks.as_strided(forward, forward.shape, strides, writeable=writeable)
    return _time_axis_to(view, time_axis)


def _time_axis_to(array: np.ndarray, time_axis: int) -> np.ndarray:
    """(L, T, D, ...) -> T moved to `time_axis` (after D, and after B when batched)."""
    axes = list(range(array.ndim))
    axes.insert(time_axis, axes.pop(1))
    return array.transpose(axes)


@dataclass(frozen=True, eq=False)
class Trace:
    """Everything one sequence did inside the LSTM, indexed by token position.

    gates[name], cell, hidden: (num_layers, num_directions, T, hidden_size), read-only views of one
    buffer each. output: (T, num_directions * hidden_size); h_n, c_n: (num_layers * num_directions,
    hidden_size), as torch returns them. `step(t, layer, direction)` gives every quantity of one step.
    held_cells: the cell values some units were held at (`LSTM.run`), or None for a free run.
    """

    model: LSTM = field(repr=False)
    inputs: np.ndarray = field(repr=False)  # (T, input_size), x
    h0: np.ndarray = field(repr=False)
    c0: np.ndarray = field(repr=False)
    record: np.ndarray = field(repr=False)  # (L, T + 2, D, 5, H) rows [c_read | g f i o], see "The fast path"
    hidden_buffer: np.ndarray = field(repr=False)  # (L, T, D, H)
    tokens: tuple[str, ...] | None = None
    held_cells: np.ndarray | None = field(default=None, repr=False)  # (L, D, H), see `LSTM.run`; None: none held

    def __post_init__(self) -> None:
        if self.tokens is not None:
            tokens = tuple(str(token) for token in self.tokens)
            if len(tokens) != self.length:
                raise ValueError(f"tokens has {len(tokens)} entries but the trace has {self.length} timesteps")
            object.__setattr__(self, "tokens", tokens)

    @property
    def length(self) -> int:
        return self.hidden_buffer.shape[1]

    @cached_property
    def gates(self) -> Mapping[str, np.ndarray]:
        return _gate_views(self.record, time_axis=2)

    @cached_property
    def cell(self) -> np.ndarray:
        return _cell_view(self.record, time_axis=2)

    @cached_property
    def hidden(self) -> np.ndarray:
        return read_only(self.hidden_buffer.transpose(0, 2, 1, 3))

    @property
    def output(self) -> np.ndarray:
        """(T, num_directions * hidden_size): the last layer's hidden states, both directions side by side."""
        return read_only(self.hidden_buffer[-1].reshape(self.length, -1))

    @cached_property
    def h_n(self) -> np.ndarray:
        return final_states(self.hidden)

    @cached_property
    def c_n(self) -> np.ndarray:
        return final_states(self.cell)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays this trace holds (the model's weights are shared, not counted)."""
        return sum(a.nbytes for a in (self.inputs, self.h0, self.c0, self.record, self.hidden_buffer))

    def step(self, t: int, layer: int = 0, direction: int = 0) -> StepDetail:
        """Every quantity of timestep `t` for one layer and direction, computed by the plain cell
        (`lstm_core.cell.lstm_cell_step`) from the input and the previous state this trace recorded.

        For the backward direction the previous state is the one at t + 1, the step it came from. A
        unit whose cell was held (`held_cells`) shows the held cell state and o ⊙ tanh(held value).
        """
        model = self.model
        for name, value, count in (("t", t, self.length), ("layer", layer, model.num_layers),
                                   ("direction", direction, model.num_directions)):  # fmt: skip
            if not isinstance(value, int | np.integer) or not 0 <= value < count:
                raise ValueError(f"{name} must be an integer in 0..{count - 1}, got {value!r}")
        k = layer * model.num_directions + direction
        before = t + 1 if direction == 1 else t - 1
        first = before < 0 or before >= self.length
        h_prev = self.h0[k] if first else self.hidden[layer, direction, before]
        c_prev = self.c0[k] if first else self.cell[layer, direction, before]
        x = self.inputs[t] if layer == 0 else self.hidden_buffer[layer - 1, t].reshape(-1)
        weights = cell_weights(model, layer, direction)
        computed = lstm_cell_step(x, h_prev, c_prev, weights)
        cell, hidden = computed.c, computed.h
        held = None if self.held_cells is None else _held_units(self.held_cells[layer, direction])
        if held is not None:
            units, values = held
            cell, hidden = cell.copy(), hidden.copy()
            cell[units] = values
            hidden[units] = computed.o[units] * np.tanh(values)
        return StepDetail(
            t=int(t), layer=int(layer), direction=int(direction), token=None if self.tokens is None else self.tokens[t],
            x=x.copy(), h_prev=h_prev.copy(), c_prev=c_prev.copy(),
            input_part={name: weights[name].W @ x + weights[name].b_ih for name in GATE_NAMES},
            recurrent_part={name: weights[name].U @ h_prev + weights[name].b_hh for name in GATE_NAMES},
            gates=computed.gates, cell=cell, hidden=hidden,
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class StepDetail:
    """One timestep of one layer and direction, every quantity as a (size,) array, from `Trace.step`.

    With the gate's weights W, U, b_ih, b_hh (`lstm_core.cell.GateWeights`): input_part[name] =
    W x + b_ih and recurrent_part[name] = U h_prev + b_hh; their sum is the pre-activation, σ (tanh for
    the candidate) of which is gates[name]. cell = f ⊙ c_prev + i ⊙ g, hidden = o ⊙ tanh(cell).
    """

    t: int
    layer: int
    direction: int
    token: str | None
    x: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    input_part: dict[str, np.ndarray]
    recurrent_part: dict[str, np.ndarray]
    gates: dict[str, np.ndarray]
    cell: np.ndarray
    hidden: np.ndarray

    @property
    def preactivation(self) -> dict[str, np.ndarray]:
        return {name: self.input_part[name] + self.recurrent_part[name] for name in GATE_NAMES}

    @property
    def cell_tanh(self) -> np.ndarray:
        return np.tanh(self.cell)

    @property
    def forgotten(self) -> np.ndarray:
        """f ⊙ c_{t-1}: what is kept of the old cell state."""
        return self.gates["forget"] * self.c_prev

    @property
    def written(self) -> np.ndarray:
        """i ⊙ g: what is written into the cell state."""
        return self.gates["input"] * self.gates["candidate"]


@dataclass(frozen=True, eq=False)
class BatchTrace:
    """Traces of several sequences run together, zero-padded to the longest.

    gates[name], cell, hidden: (num_layers, num_directions, B, T_max, hidden_size); mask: (B, T_max),
    True on real timesteps; lengths: (B,). `batch[i]` is the `Trace` of sequence i (views, no copy).
    """

    model: LSTM = field(repr=False)
    inputs: list[np.ndarray] = field(repr=False)
    lengths: np.ndarray
    record: np.ndarray = field(repr=False)  # (L, T + 2, D, 5, B, H)
    hidden_buffer: np.ndarray = field(repr=False)  # (L, T, D, B, H)

    def __len__(self) -> int:
        return len(self.lengths)

    @cached_property
    def gates(self) -> Mapping[str, np.ndarray]:
        return _gate_views(self.record, time_axis=3)

    @cached_property
    def cell(self) -> np.ndarray:
        return _cell_view(self.record, time_axis=3)

    @cached_property
    def hidden(self) -> np.ndarray:
        return read_only(self.hidden_buffer.transpose(0, 2, 3, 1, 4))

    @property
    def mask(self) -> np.ndarray:
        return np.arange(self.hidden_buffer.shape[1])[None, :] < self.lengths[:, None]

    @property
    def output(self) -> np.ndarray:
        """(B, T_max, num_directions * hidden_size)."""
        L, T, D, B, H = self.hidden_buffer.shape
        return self.hidden_buffer[-1].transpose(2, 0, 1, 3).reshape(B, T, D * H)

    @property
    def h_n(self) -> np.ndarray:
        """(num_layers * num_directions, B, hidden_size), as torch returns for packed sequences."""
        return np.stack([trace.h_n for trace in self], axis=1)

    @property
    def c_n(self) -> np.ndarray:
        return np.stack([trace.c_n for trace in self], axis=1)

    def __getitem__(self, index: int) -> Trace:
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} sequences")
        index = index % len(self)
        T = int(self.lengths[index])
        states = np.zeros((self.model.num_layers * self.model.num_directions, self.model.hidden_size), self.model.dtype)
        return Trace(self.model, self.inputs[index], states, states,
                     self.record[:, : T + 2, :, :, index], self.hidden_buffer[:, :T, :, index])  # fmt: skip

    def __iter__(self) -> Iterator[Trace]:
        return (self[i] for i in range(len(self)))
