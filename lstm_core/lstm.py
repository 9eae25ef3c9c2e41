"""A NumPy LSTM that records every gate, exact against `torch.nn.LSTM`.

For each layer and direction, at each timestep t (PyTorch's `nn.LSTM` docs; d2l, "Long Short-Term
Memory"), with σ the logistic sigmoid and ⊙ the elementwise product:

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)        input gate
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)        forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     candidate (PyTorch's g)
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)        output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                       cell state
    h_t = o_t ⊙ tanh(c_t)                                 hidden state

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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np

from lstm_core._weights import (
    Shape,
    as_float_dtype,
    check_sequence,
    check_state,
    param_name,
    read_state_dict,
    to_numpy,
)

__all__ = ["GATE_NAMES", "LSTM", "Trace", "BatchTrace", "StepDetail", "Gradients"]

GATE_NAMES = ("input", "forget", "candidate", "output")  # PyTorch's block order i, f, g, o

# The forward records every step of a layer and direction in one row of five blocks of H values,
#
#     [c_read | g | f | i | o]      c_read: the cell state this step reads (c_{t-1}, or c_{t+1} backward)
#
# so that f ⊙ c_read and i ⊙ g are one multiply of [f, i] by [c_read, g]. A step writes its new cell
# state into the c_read slot of the row read next: row t+1 going forward, row t-1 going backward. The
# record therefore has one row more at each end (row index = t + 1); the first row read holds c0. In a
# batch each block is (B, H), so that every block of a step stays one contiguous array.
# The three sigmoid gates are contiguous and their weight rows halved: σ(a) = (1 + tanh(a / 2)) / 2, so
# one tanh over the 4H pre-activations and one multiply-add give every gate (halving is exact in
# floating point). The recorded gate values are the real gates; only the weights are rearranged.
_CELL_BLOCK = 0
_GATE_BLOCK = {"candidate": 1, "forget": 2, "input": 3, "output": 4}  # blocks of a record row
# the torch block (of i, f, g, o) behind each gate block of a row, in row order g, f, i, o
_TORCH_BLOCK_OF_INTERNAL = tuple(GATE_NAMES.index(name) for name in sorted(_GATE_BLOCK, key=_GATE_BLOCK.get))


@dataclass(frozen=True)
class _FastWeights:
    """One layer and direction's weights, rearranged for the forward loop (see the note above)."""

    w_ih_t: np.ndarray  # (layer_input [+ 1], 4H), internal block order g, f, i, o, sigmoid rows halved;
    #                     with biases its last row is b_ih + b_hh
    w_hh_t: np.ndarray  # (H, 4H), the same blocks
    bias: bool
    # σ(z) = (1 + tanh(z / 2)) / 2 as one multiply-add over all four blocks: scale 1 and shift 0 leave
    # the candidate's tanh as it is, so the step needs no separate view of the sigmoid blocks.
    sigmoid_scale: np.ndarray  # (4, H)
    sigmoid_shift: np.ndarray  # (4, H)

    def project(self, layer_input: np.ndarray, out: np.ndarray) -> None:
        """Write x_t W_ih^T + b into the gate blocks `out` (T, 4, [B,] H) for `layer_input` (T, [B,] n).

        One matrix product of [x_t, 1] with [W_ih^T; b], which costs less than a product followed by
        a broadcast add of the bias."""
        if self.bias:
            augmented = np.empty(layer_input.shape[:-1] + (layer_input.shape[-1] + 1,), dtype=self.w_ih_t.dtype)
            augmented[..., :-1] = layer_input
            augmented[..., -1] = 1
            layer_input = augmented
        if layer_input.ndim == 2:  # one sequence: straight into the record rows, seen as (T, 4H)
            rows = np.reshape(out, (len(out), -1), copy=False)  # raises rather than copies
            np.matmul(layer_input, self.w_ih_t, out=rows)
            return
        T, B, n = layer_input.shape
        projected = (layer_input.reshape(T * B, n) @ self.w_ih_t).reshape(T, B, 4, -1)  # one product, not T
        out[...] = projected.transpose(0, 2, 1, 3)


class LSTM:
    """A stacked, optionally bidirectional LSTM with PyTorch's parameters, run in NumPy.

    Build one with `LSTM.from_state_dict(sd)`, `LSTM.from_torch(module)` or `LSTM.random(...)`.
    `run(x)` returns a `Trace` of every gate, cell and hidden value; `run_batch(xs)` runs many
    sequences of different lengths at once; `backward(trace, ...)` backpropagates through time.
    """

    gate_count = 4

    def __init__(self, params: Mapping[str, np.ndarray], dtype=np.float32, prefix: str = ""):
        dtype = as_float_dtype(dtype)
        shape, checked = read_state_dict(params, self.gate_count, dtype, prefix=prefix)
        self.input_size = shape.input_size
        self.hidden_size = shape.hidden_size
        self.num_layers = shape.num_layers
        self.num_directions = shape.num_directions
        self.bias = shape.bias
        self.dtype = dtype
        self._params = checked
        for array in checked.values():
            array.flags.writeable = False  # traces keep a reference to this model: keep it fixed
        self._fast = [[self._fast_weights(layer, d) for d in range(shape.num_directions)] for layer in range(shape.num_layers)]

    # ----------------------------------------------------------------- construction and export
    @classmethod
    def from_state_dict(cls, state_dict: Mapping, dtype=np.float32, prefix: str = "") -> LSTM:
        """From a `torch.nn.LSTM` state dict (arrays or tensors); layers, directions and sizes are
        inferred from the keys and every name and shape is checked. Keys outside `prefix` are ignored."""
        return cls(state_dict, dtype=dtype, prefix=prefix)

    @classmethod
    def from_torch(cls, module, dtype=np.float32) -> LSTM:
        """From a `torch.nn.LSTM` (either `batch_first`; dropout is a training-time setting only)."""
        mode = getattr(module, "mode", None)
        if mode != "LSTM":
            raise ValueError(f"expected a torch.nn.LSTM, got {type(module).__name__}")
        if getattr(module, "proj_size", 0):
            raise ValueError(f"LSTMs with a projection are not supported (proj_size={module.proj_size}); use proj_size=0")
        return cls.from_state_dict(module.state_dict(), dtype=dtype)

    @classmethod
    def random(
        cls,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        bias: bool = True,
        scale: float | None = None,
        seed: int | None = None,
        dtype=np.float32,
    ) -> LSTM:
        """Uniform(-scale, scale) weights; `scale` defaults to torch's 1 / sqrt(hidden_size)."""
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        rng = np.random.default_rng(seed)
        scale = 1.0 / np.sqrt(hidden_size) if scale is None else scale
        directions = 2 if bidirectional else 1
        params = {}
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else directions * hidden_size
            for d in range(directions):
                sizes = {"weight_ih": (4 * hidden_size, layer_input), "weight_hh": (4 * hidden_size, hidden_size)}
                if bias:
                    sizes |= {"bias_ih": (4 * hidden_size,), "bias_hh": (4 * hidden_size,)}
                for kind, size in sizes.items():
                    params[param_name(kind, layer, d)] = rng.uniform(-scale, scale, size)
        return cls(params, dtype=dtype)

    def state_dict(self) -> dict[str, np.ndarray]:
        """PyTorch's names and layout; `torch_lstm.load_state_dict({k: torch.from_numpy(v) ...})` takes it."""
        return {name: array.copy() for name, array in self._params.items()}

    def astype(self, dtype) -> LSTM:
        return type(self)(self._params, dtype=dtype)

    @property
    def shape(self) -> Shape:
        return Shape(self.input_size, self.hidden_size, self.num_layers, self.num_directions, self.bias)

    def __repr__(self) -> str:
        return (
            f"LSTM(input_size={self.input_size}, hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
            f"bidirectional={self.num_directions == 2}, bias={self.bias}, dtype={self.dtype.name})"
        )

    def weight(self, kind: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        """One parameter in PyTorch's layout, e.g. `weight("weight_hh", 0, 0)` is (4H, H), read-only."""
        name = param_name(kind, layer, direction)
        if name not in self._params:
            raise ValueError(f"this LSTM has no parameter {name!r}")
        return self._params[name]

    def _fast_weights(self, layer: int, direction: int) -> _FastWeights:
        H = self.hidden_size
        rows = np.concatenate([np.arange(b * H, (b + 1) * H) for b in _TORCH_BLOCK_OF_INTERNAL])
        halve = np.full(4 * H, 0.5, dtype=self.dtype)
        halve[:H] = 1.0  # the candidate's tanh takes the whole pre-activation
        w_ih = self.weight("weight_ih", layer, direction)[rows] * halve[:, None]
        w_hh = self.weight("weight_hh", layer, direction)[rows] * halve[:, None]
        w_ih_t = w_ih.T
        if self.bias:
            bias = (self.weight("bias_ih", layer, direction) + self.weight("bias_hh", layer, direction))[rows] * halve
            w_ih_t = np.vstack([w_ih_t, bias])
        return _FastWeights(np.ascontiguousarray(w_ih_t), np.ascontiguousarray(w_hh.T), self.bias,
                            halve.reshape(4, H), (1 - halve).reshape(4, H))  # fmt: skip

    # ----------------------------------------------------------------------------- forward
    def run(self, x, h0=None, c0=None) -> Trace:
        """Run one sequence and record everything.

        x: (T, input_size); h0, c0: (num_layers * num_directions, hidden_size), zeros by default.
        """
        x = check_sequence(x, self.input_size, self.dtype)
        states = (self.num_layers * self.num_directions, self.hidden_size)
        h0 = check_state(h0, states, self.dtype, "h0")
        c0 = check_state(c0, states, self.dtype, "c0")
        T, L, D, H = len(x), self.num_layers, self.num_directions, self.hidden_size
        record = np.empty((L, T + 2, D, 5, H), dtype=self.dtype)  # see the note on the record layout
        record[:, 0] = record[:, -1] = 0  # the end rows are only partly written
        hidden_buffer = np.empty((L, T, D, H), dtype=self.dtype)
        layer_input = x
        for layer in range(L):
            for d in range(D):
                fast, k = self._fast[layer][d], layer * D + d
                rows = record[layer, :, d]  # (T + 2, 5, H)
                fast.project(layer_input, out=rows[1 : T + 1, 1:])
                rows[T if d == 1 else 1, _CELL_BLOCK] = c0[k]
                _recurrence(rows, fast, h0[k], hidden_buffer[layer, :, d], reverse=d == 1)
            layer_input = hidden_buffer[layer].reshape(T, D * H)  # both directions side by side, a view
        return Trace(self, x, h0, c0, record, hidden_buffer)

    def run_batch(self, sequences: Sequence) -> BatchTrace:
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
    def backward(self, trace: Trace, grad_output=None, grad_h_n=None, grad_c_n=None) -> Gradients:
        """Gradients of a scalar loss, given its gradient with respect to the trace's outputs.

        grad_output: (T, num_directions * hidden_size), dL/d output; grad_h_n, grad_c_n:
        (num_layers * num_directions, hidden_size). Missing ones are zero. Returns dL/dx, the total
        dL/dh_t and dL/dc_t at every timestep of every layer and direction, dL/dh0, dL/dc0 and dL/dW
        for every parameter under PyTorch's names.
        """
        if not isinstance(trace, Trace) or trace.model is not self:
            raise ValueError("backward needs a Trace produced by this LSTM's run()")
        T, L, D, H = trace.length, self.num_layers, self.num_directions, self.hidden_size
        grad_output = _grad_or_zeros(grad_output, (T, D * H), self.dtype, "grad_output")
        grad_h_n = _grad_or_zeros(grad_h_n, (L * D, H), self.dtype, "grad_h_n")
        grad_c_n = _grad_or_zeros(grad_c_n, (L * D, H), self.dtype, "grad_c_n")
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
                c_prev = _previous(c, trace.c0[k], reverse=d == 1)
                h_prev = _previous(trace.hidden[layer, d], trace.h0[k], reverse=d == 1)
                tanh_c = np.tanh(c)
                # dL/dz_t = coefficient_t ⊙ (dc_t, dc_t, dc_t, dh_t) for the blocks i, f, g, o
                coefficient = np.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), tanh_c * o * (1 - o)], axis=1)
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


def _recurrence(rows, fast: _FastWeights, h, hiddens, reverse: bool) -> None:
    """The time loop of one layer and direction, writing into its record rows and hidden states.

    rows: (T + 2, 5, [B,] H) record rows [c_read | g f i o] (see the note on the record layout). On
    entry rows 1..T hold the input projection x_t W_ih^T + b in their gate blocks and the first row
    read holds c0; on exit they hold the gates, and every step's cell state is in the next row's
    c_read block. fast: the layer and direction's rearranged weights; h: ([B,] H) = h0; hiddens:
    (T, [B,] H), written.
    """
    H = hiddens.shape[-1]
    steps, next_cells = rows[1:-1], rows[2:, _CELL_BLOCK]
    if reverse:
        steps, next_cells, hiddens = steps[::-1], rows[:-2, _CELL_BLOCK][::-1], hiddens[::-1]
    views = (steps[:, 1:], steps[:, 2:4], steps[:, :2], steps[:, 4], next_cells, hiddens)
    batch = hiddens.shape[1:-1]  # () or (B,)
    recurrent = np.empty(batch + (4 * H,), dtype=hiddens.dtype)  # h_{t-1} W_hh^T, as h.dot gives it
    recurrent_blocks = recurrent.reshape(batch + (4, H))
    if batch:
        recurrent_blocks = recurrent_blocks.swapaxes(0, 1)  # (4, B, H), a view (np.moveaxis costs µs)
    products = np.empty((2,) + batch + (H,), dtype=hiddens.dtype)  # [f ⊙ c_{t-1}, i ⊙ g]
    kept, written = products
    tanh_c = np.empty_like(kept)
    blocks = (4,) + (1,) * len(batch) + (H,)
    w_hh_t, scale, shift = fast.w_hh_t, fast.sigmoid_scale.reshape(blocks), fast.sigmoid_shift.reshape(blocks)
    # Iterating rows with zip costs less per step than indexing: this loop is the forward's hot path.
    # Outputs are passed positionally: a keyword `out=` costs NumPy extra parsing on every call, which
    # at these sizes is as much as the arithmetic itself.
    add, multiply, tanh = np.add, np.multiply, np.tanh
    for z, forget_input, read_candidate, output_gate, c_t, h_t in zip(*views, strict=True):
        h.dot(w_hh_t, recurrent)  # the method call costs less than np.dot(h, w_hh_t, recurrent)
        add(z, recurrent_blocks, z)  # z = x_t W_ih^T + b + W_hh h_{t-1}
        tanh(z, z)  # candidate = tanh(z_g); the sigmoid blocks hold tanh(z / 2)
        multiply(z, scale, z)
        add(z, shift, z)  # σ(z) = (1 + tanh(z / 2)) / 2 for f, i, o
        multiply(forget_input, read_candidate, products)  # [f, i] ⊙ [c_{t-1}, g]
        add(kept, written, c_t)  # c_t = f ⊙ c_{t-1} + i ⊙ g, into the row read next
        tanh(c_t, tanh_c)
        multiply(output_gate, tanh_c, h_t)  # h_t = o ⊙ tanh(c_t)
        h = h_t


def _previous(states: np.ndarray, initial: np.ndarray, reverse: bool) -> np.ndarray:
    """(T, H) states -> the state each timestep started from, in that direction's reading order."""
    if reverse:
        return np.concatenate([states[1:], initial[None]])
    return np.concatenate([initial[None], states[:-1]])


def _grad_or_zeros(grad, shape, dtype, name):
    if grad is None:
        return np.zeros(shape, dtype=dtype)
    array = to_numpy(grad, name)
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
    return array.astype(dtype, copy=False)


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


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class Trace:
    """Everything one sequence did inside the LSTM, indexed by token position.

    gates[name], cell, hidden: (num_layers, num_directions, T, hidden_size), read-only views of one
    buffer each. output: (T, num_directions * hidden_size); h_n, c_n: (num_layers * num_directions,
    hidden_size), as torch returns them. `step(t, layer, direction)` gives every quantity of one step.
    """

    model: LSTM = field(repr=False)
    inputs: np.ndarray = field(repr=False)  # (T, input_size), x
    h0: np.ndarray = field(repr=False)
    c0: np.ndarray = field(repr=False)
    record: np.ndarray = field(repr=False)  # (L, T + 2, D, 5, H) rows [c_read | g f i o], see the layout note
    hidden_buffer: np.ndarray = field(repr=False)  # (L, T, D, H)
    tokens: tuple[str, ...] | None = None

    def __post_init__(self):
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
        return _read_only(self.hidden_buffer.transpose(0, 2, 1, 3))

    @property
    def output(self) -> np.ndarray:
        """(T, num_directions * hidden_size): the last layer's hidden states, both directions side by side."""
        return _read_only(self.hidden_buffer[-1].reshape(self.length, -1))

    @cached_property
    def h_n(self) -> np.ndarray:
        return _final_states(self.hidden)

    @cached_property
    def c_n(self) -> np.ndarray:
        return _final_states(self.cell)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays this trace holds (the model's weights are shared, not counted)."""
        return sum(a.nbytes for a in (self.inputs, self.h0, self.c0, self.record, self.hidden_buffer))

    def step(self, t: int, layer: int = 0, direction: int = 0) -> StepDetail:
        """Every intermediate quantity of timestep `t` for one layer and direction.

        For the backward direction the previous state is the one at t + 1, the step it came from.
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
        x_t = self.inputs[t] if layer == 0 else self.hidden_buffer[layer - 1, t].reshape(-1)
        from_input = model.weight("weight_ih", layer, direction) @ x_t
        from_hidden = model.weight("weight_hh", layer, direction) @ h_prev
        if model.bias:
            from_input = from_input + model.weight("bias_ih", layer, direction)
            from_hidden = from_hidden + model.weight("bias_hh", layer, direction)
        H = model.hidden_size
        block = {name: slice(b * H, (b + 1) * H) for b, name in enumerate(GATE_NAMES)}
        return StepDetail(
            t=int(t), layer=int(layer), direction=int(direction), token=None if self.tokens is None else self.tokens[t],
            x=x_t.copy(), h_prev=h_prev.copy(), c_prev=c_prev.copy(),
            input_part={name: from_input[s] for name, s in block.items()},
            recurrent_part={name: from_hidden[s] for name, s in block.items()},
            gates={name: self.gates[name][layer, direction, t].copy() for name in GATE_NAMES},
            cell=self.cell[layer, direction, t].copy(),
            hidden=self.hidden[layer, direction, t].copy(),
        )  # fmt: skip


def _final_states(states: np.ndarray) -> np.ndarray:
    """(L, D, T, H) -> (L * D, H): the state each direction ended on (t = T-1 forward, t = 0 backward)."""
    L, D, T, H = states.shape
    last = [states[layer, d, 0 if d == 1 else T - 1] for layer in range(L) for d in range(D)]
    return np.stack(last)


@dataclass(frozen=True, eq=False)
class StepDetail:
    """One timestep of one layer and direction, every quantity as a (size,) array.

    input_part[name] = W_i· x_t + b_i·, recurrent_part[name] = W_h· h_{t-1} + b_h·; their sum is the
    pre-activation, σ (tanh for the candidate) of which is gates[name]. cell = f c_prev + i g,
    hidden = o tanh(cell).
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
        return _read_only(self.hidden_buffer.transpose(0, 2, 3, 1, 4))

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

    def __iter__(self):
        return (self[i] for i in range(len(self)))


@dataclass(frozen=True, eq=False)
class Gradients:
    """dL/d(everything) for one sequence, from `LSTM.backward` or `RNN.backward`.

    inputs: (T, input_size); hidden: (L, D, T, H), the total derivative with respect to h_t (through
    the outputs, the layer above and later timesteps); cell: the same for c_t (None for a plain RNN);
    h0, c0: (L * D, H); weights: PyTorch's names.
    """

    inputs: np.ndarray
    hidden: np.ndarray
    cell: np.ndarray | None
    h0: np.ndarray
    c0: np.ndarray | None
    weights: dict[str, np.ndarray]
