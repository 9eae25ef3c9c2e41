"""The plain NumPy cell (lstm_core.cell) as the reference: against torch.nn.LSTMCell, and the fast LSTM
against it at every gate, cell and hidden value of every step."""

import numpy as np
import pytest
import torch

from lstm_core import GATE_NAMES, LSTM, RNN
from lstm_core.cell import CellStep, cell_weights, lstm_cell_step
from tests.lstm_configs import LSTM_CONFIGS

torch.set_num_threads(1)

# dtype -> (rtol, atol): the fast path folds the bias into a product and halves rows, so its sums
# round differently; the difference grows a little with every step the cell state carries.
TOLERANCE = {np.float32: (1e-5, 1e-5), np.float64: (1e-11, 1e-12)}

CONFIGS = LSTM_CONFIGS


def reference_run(lstm: LSTM, x: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> dict[str, np.ndarray]:
    """Every gate, "cell" and "hidden" as (L, D, T, H), by stepping `lstm_cell_step` one token at a time."""
    L, D, H, T = lstm.num_layers, lstm.num_directions, lstm.hidden_size, len(x)
    values = {name: np.zeros((L, D, T, H), dtype=lstm.dtype) for name in (*GATE_NAMES, "cell", "hidden")}
    layer_input = x
    for layer in range(L):
        for d in range(D):
            weights = cell_weights(lstm, layer, d)
            h, c = h0[layer * D + d], c0[layer * D + d]
            for t in reversed(range(T)) if d == 1 else range(T):
                step = lstm_cell_step(layer_input[t], h, c, weights)
                for name, gate in step.gates.items():
                    values[name][layer, d, t] = gate
                values["cell"][layer, d, t], values["hidden"][layer, d, t] = step.c, step.h
                h, c = step.h, step.c
        layer_input = np.concatenate([values["hidden"][layer, d] for d in range(D)], axis=1)  # (T, D * H)
    return values


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda dtype: dtype.__name__)
@pytest.mark.parametrize("seed, config", list(enumerate(CONFIGS)), ids=str)
def test_fast_forward_matches_the_reference_cell_at_every_step(seed, config, dtype):
    E, H, L, bidirectional, bias, scale, T = config
    D = 2 if bidirectional else 1
    lstm = LSTM.random(E, H, L, bidirectional, bias, scale=scale, seed=seed, dtype=dtype)
    rng = np.random.default_rng(100 + seed)
    x = (2 * rng.normal(size=(T, E))).astype(dtype)
    h0, c0 = rng.normal(size=(L * D, H)).astype(dtype), rng.normal(size=(L * D, H)).astype(dtype)
    trace = lstm.run(x, h0, c0)
    expected = reference_run(lstm, x, h0, c0)
    rtol, atol = TOLERANCE[dtype]
    for layer in range(L):
        for d in range(D):
            for t in range(T):
                where = f"layer {layer}, direction {d}, t={t}"
                for name in GATE_NAMES:
                    np.testing.assert_allclose(trace.gates[name][layer, d, t], expected[name][layer, d, t],
                                               rtol=rtol, atol=atol, err_msg=f"{name} gate, {where}")  # fmt: skip
                np.testing.assert_allclose(trace.cell[layer, d, t], expected["cell"][layer, d, t],
                                           rtol=rtol, atol=atol, err_msg=f"c, {where}")  # fmt: skip
                np.testing.assert_allclose(trace.hidden[layer, d, t], expected["hidden"][layer, d, t],
                                           rtol=rtol, atol=atol, err_msg=f"h, {where}")  # fmt: skip
    assert trace.gates["forget"].dtype == dtype


@pytest.mark.parametrize("bidirectional", [False, True])
def test_batched_forward_matches_the_reference_cell(bidirectional):
    lstm = LSTM.random(4, 6, num_layers=2, bidirectional=bidirectional, seed=3, dtype=np.float64)
    rng = np.random.default_rng(5)
    sequences = [rng.normal(size=(length, 4)) for length in (7, 2, 5)]
    batch = lstm.run_batch(sequences)
    zeros = np.zeros((lstm.num_layers * lstm.num_directions, lstm.hidden_size))
    for i, x in enumerate(sequences):
        expected = reference_run(lstm, x, zeros, zeros)
        for name in GATE_NAMES:
            np.testing.assert_allclose(batch[i].gates[name], expected[name], rtol=1e-11, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(batch[i].cell, expected["cell"], rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(batch[i].hidden, expected["hidden"], rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_reference_cell_matches_torch_lstm_cell(bias):
    torch.manual_seed(0)
    module = torch.nn.LSTMCell(5, 7, bias=bias, dtype=torch.float64)
    lstm = LSTM.from_state_dict({f"{name}_l0": value for name, value in module.state_dict().items()}, dtype=np.float64)
    weights = cell_weights(lstm)
    generator = torch.Generator().manual_seed(1)
    x, h, c = (torch.randn(size, generator=generator, dtype=torch.float64) for size in (5, 7, 7))
    for _ in range(4):  # a few steps, each from the state the last one left
        with torch.no_grad():
            expected_h, expected_c = module(x, (h, c))
        step = lstm_cell_step(x.numpy(), h.numpy(), c.numpy(), weights)
        np.testing.assert_allclose(step.h, expected_h.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(step.c, expected_c.numpy(), rtol=1e-12, atol=1e-14)
        h, c = expected_h, expected_c


def test_cell_weights_are_views_in_pytorch_block_order():
    lstm = LSTM.random(3, 4, num_layers=2, bidirectional=True, seed=0)
    H = lstm.hidden_size
    weights = cell_weights(lstm, layer=1, direction=1)
    weight_ih, weight_hh = lstm.weight("weight_ih", 1, 1), lstm.weight("weight_hh", 1, 1)
    bias_ih, bias_hh = lstm.weight("bias_ih", 1, 1), lstm.weight("bias_hh", 1, 1)
    for k, name in enumerate(GATE_NAMES):
        gate = weights[name]
        assert gate is getattr(weights, name)
        rows = slice(k * H, (k + 1) * H)
        np.testing.assert_array_equal(gate.W, weight_ih[rows])
        np.testing.assert_array_equal(gate.U, weight_hh[rows])
        np.testing.assert_array_equal(gate.b, bias_ih[rows] + bias_hh[rows])
        assert gate.W.shape == (H, 2 * H) and gate.U.shape == (H, H) and gate.b.shape == (H,)
        for view, parameter in ((gate.W, weight_ih), (gate.U, weight_hh), (gate.b_ih, bias_ih), (gate.b_hh, bias_hh)):
            assert np.shares_memory(view, parameter)
            assert not view.flags.writeable
    without_bias = cell_weights(LSTM.random(3, 4, bias=False, seed=0))
    for name in GATE_NAMES:
        assert not without_bias[name].b.any() and without_bias[name].b.shape == (4,)


def test_trace_step_computes_with_the_reference_cell():
    lstm = LSTM.random(3, 5, num_layers=2, bidirectional=True, seed=2)
    rng = np.random.default_rng(0)
    trace = lstm.run(rng.normal(size=(6, 3)), rng.normal(size=(4, 5)), rng.normal(size=(4, 5)))
    for layer in range(2):
        for d in range(2):
            weights = cell_weights(lstm, layer, d)
            for t in range(6):
                detail = trace.step(t, layer, d)
                step = lstm_cell_step(detail.x, detail.h_prev, detail.c_prev, weights)
                for name in GATE_NAMES:
                    np.testing.assert_array_equal(detail.gates[name], step.gates[name])
                    np.testing.assert_allclose(detail.gates[name], trace.gates[name][layer, d, t], atol=2e-6)
                    np.testing.assert_array_equal(
                        detail.input_part[name], weights[name].W @ detail.x + weights[name].b_ih
                    )
                    np.testing.assert_array_equal(
                        detail.recurrent_part[name], weights[name].U @ detail.h_prev + weights[name].b_hh
                    )
                np.testing.assert_array_equal(detail.cell, step.c)
                np.testing.assert_array_equal(detail.hidden, step.h)
                np.testing.assert_allclose(detail.cell, trace.cell[layer, d, t], atol=2e-6)
                np.testing.assert_allclose(detail.hidden, trace.hidden[layer, d, t], atol=2e-6)


def test_cell_step_returns_the_equations_in_the_weights_dtype():
    weights = cell_weights(LSTM.random(2, 3, seed=0))  # float32
    step = lstm_cell_step([1.0, -1.0], np.zeros(3), np.ones(3), weights)
    assert isinstance(step, CellStep) and step.h.dtype == np.float32
    np.testing.assert_allclose(step.c, step.f * 1.0 + step.i * step.g, rtol=1e-6)
    np.testing.assert_allclose(step.h, step.o * np.tanh(step.c), rtol=1e-6)
    assert list(step.gates) == list(GATE_NAMES)


def test_cell_refuses_bad_arguments():
    lstm = LSTM.random(2, 3, seed=0)
    weights = cell_weights(lstm)
    with pytest.raises(ValueError, match=r"x must have shape \(2,\), got \(3,\)"):
        lstm_cell_step(np.zeros(3), np.zeros(3), np.zeros(3), weights)
    with pytest.raises(ValueError, match=r"c_prev must have shape \(3,\), got \(1, 3\)"):
        lstm_cell_step(np.zeros(2), np.zeros(3), np.zeros((1, 3)), weights)
    with pytest.raises(KeyError, match="no gate 'forgetting'"):
        weights["forgetting"]
    with pytest.raises(ValueError, match="layer must be an integer in 0..0"):
        cell_weights(lstm, layer=1)
    with pytest.raises(ValueError, match="direction must be an integer in 0..0"):
        cell_weights(lstm, direction=1)
    with pytest.raises(ValueError, match="needs an LSTM"):
        cell_weights(RNN.random(2, 3, seed=0))
