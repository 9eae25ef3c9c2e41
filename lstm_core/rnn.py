"""A plain tanh RNN in NumPy, beside the LSTM, with the same trace style and backpropagation in time.

For each layer and direction (PyTorch's `nn.RNN` with nonlinearity="tanh"):

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

It is here to show why the LSTM exists: the gradient of a late loss with respect to early inputs
shrinks through every tanh and W_hh, while the LSTM's cell state carries it past them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from lstm_core._base import Gradients, RecurrentBase, final_states, grad_or_zeros, previous_states, read_only
from lstm_core._weights import check_sequence, check_state, param_name

__all__ = ["RNN", "RNNTrace"]


class RNN(RecurrentBase):
    """A stacked, optionally bidirectional tanh RNN with PyTorch's parameter names.

    Construction, export and checks are shared with `LSTM` (`lstm_core._base.RecurrentBase`).
    """

    gate_count = 1
    torch_mode = "RNN_TANH"
    torch_name = "torch.nn.RNN with nonlinearity='tanh'"

    def run(self, x: ArrayLike, h0: ArrayLike | None = None) -> RNNTrace:
        """x: (T, input_size); h0: (num_layers * num_directions, hidden_size), zeros by default."""
        x = check_sequence(x, self.input_size, self.dtype)
        T, L, D, H = len(x), self.num_layers, self.num_directions, self.hidden_size
        h0 = check_state(h0, (L * D, H), self.dtype, "h0")
        hidden_buffer = np.empty((L, T, D, H), dtype=self.dtype)
        layer_input = x
        for layer in range(L):
            for d in range(D):
                projected = layer_input @ self.weight("weight_ih", layer, d).T  # (T, H)
                if self.bias:
                    projected += self.weight("bias_ih", layer, d) + self.weight("bias_hh", layer, d)
                w_hh_t = self.weight("weight_hh", layer, d).T
                h = h0[layer * D + d]
                for t in range(T - 1, -1, -1) if d == 1 else range(T):
                    h_t = hidden_buffer[layer, t, d]
                    np.dot(h, w_hh_t, out=h_t)
                    h_t += projected[t]
                    np.tanh(h_t, out=h_t)
                    h = h_t
            layer_input = hidden_buffer[layer].reshape(T, D * H)
        return RNNTrace(self, x, h0, hidden_buffer)

    def backward(
        self, trace: RNNTrace, grad_output: ArrayLike | None = None, grad_h_n: ArrayLike | None = None
    ) -> Gradients:
        """As `LSTM.backward`: dL/dx, total dL/dh_t everywhere, dL/dh0 and dL/dW (cell and c0 are None)."""
        if not isinstance(trace, RNNTrace) or trace.model is not self:
            raise ValueError("backward needs an RNNTrace produced by this RNN's run()")
        T, L, D, H = trace.length, self.num_layers, self.num_directions, self.hidden_size
        grad_output = grad_or_zeros(grad_output, (T, D * H), self.dtype, "grad_output")
        grad_h_n = grad_or_zeros(grad_h_n, (L * D, H), self.dtype, "grad_h_n")
        grad_hidden = np.zeros((L, D, T, H), dtype=self.dtype)
        grad_h0 = np.zeros((L * D, H), dtype=self.dtype)
        grad_weights: dict[str, np.ndarray] = {}
        from_above = grad_output.reshape(T, D, H).transpose(1, 0, 2)
        for layer in reversed(range(L)):
            layer_input = trace.inputs if layer == 0 else trace.hidden[layer - 1].transpose(1, 0, 2).reshape(T, D * H)
            grad_input = np.zeros_like(layer_input)
            for d in range(D):
                k = layer * D + d
                h = trace.hidden[layer, d]
                h_prev = previous_states(h, trace.h0[k], reverse=d == 1)
                w_hh = self.weight("weight_hh", layer, d)
                grad_z = np.empty((T, H), dtype=self.dtype)
                dh_next = grad_h_n[k].copy()
                for t in range(T) if d == 1 else range(T - 1, -1, -1):
                    dh = from_above[d, t] + dh_next
                    grad_hidden[layer, d, t] = dh
                    grad_z[t] = dh * (1 - h[t] * h[t])  # tanh' = 1 - h²
                    dh_next = grad_z[t] @ w_hh
                grad_h0[k] = dh_next
                grad_weights[param_name("weight_ih", layer, d)] = grad_z.T @ layer_input
                grad_weights[param_name("weight_hh", layer, d)] = grad_z.T @ h_prev
                if self.bias:
                    grad_weights[param_name("bias_ih", layer, d)] = grad_z.sum(axis=0)
                    grad_weights[param_name("bias_hh", layer, d)] = grad_z.sum(axis=0)
                grad_input += grad_z @ self.weight("weight_ih", layer, d)
            from_above = grad_input.reshape(T, D, H).transpose(1, 0, 2) if layer > 0 else None
        return Gradients(grad_input, grad_hidden, None, grad_h0, None, grad_weights)


@dataclass(frozen=True, eq=False)
class RNNTrace:
    """hidden: (num_layers, num_directions, T, hidden_size); output: (T, D * H); h_n: (L * D, H)."""

    model: RNN = field(repr=False)
    inputs: np.ndarray = field(repr=False)
    h0: np.ndarray = field(repr=False)
    hidden_buffer: np.ndarray = field(repr=False)  # (L, T, D, H)
    tokens: tuple[str, ...] | None = None

    @property
    def length(self) -> int:
        return self.hidden_buffer.shape[1]

    @property
    def hidden(self) -> np.ndarray:
        return read_only(self.hidden_buffer.transpose(0, 2, 1, 3))

    @property
    def output(self) -> np.ndarray:
        return read_only(self.hidden_buffer[-1].reshape(self.length, -1))

    @property
    def h_n(self) -> np.ndarray:
        return final_states(self.hidden)
