"""The NumPy LSTM against torch.nn.LSTM: outputs, every gate, cell and hidden value, gradients."""

import dataclasses

import numpy as np
import pytest
import torch

from lstm_core import GATE_NAMES, LSTM, Trace
from tests.lstm_configs import LSTM_CONFIGS
from tests.torch_reference import lstm_reference

ATOL = 2e-5

torch.set_num_threads(1)


def make_torch_lstm(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True, scale=None, seed=0,
                    batch_first=False, dtype=torch.float32):  # fmt: skip
    torch.manual_seed(seed)
    module = torch.nn.LSTM(input_size, hidden_size, num_layers, bias=bias, bidirectional=bidirectional,
                           batch_first=batch_first).to(dtype)  # fmt: skip
    if scale is not None:  # large weights drive the gates into saturation
        with torch.no_grad():
            for p in module.parameters():
                p.uniform_(-scale, scale)
    return module


CONFIGS = LSTM_CONFIGS[:-1]


def random_configs(count, seed):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield (int(rng.integers(1, 12)), int(rng.integers(1, 20)), int(rng.integers(1, 4)), bool(rng.integers(2)),
               bool(rng.integers(2)), [None, 2.0][int(rng.integers(2))], int(rng.integers(1, 25)))  # fmt: skip


ALL_CONFIGS = CONFIGS + list(random_configs(12, seed=2026))


def check_against_torch(config, seed, with_states, batch_first=False):
    E, H, L, bi, bias, scale, T = config
    module = make_torch_lstm(E, H, L, bi, bias, scale, seed=seed, batch_first=batch_first)
    D = 2 if bi else 1
    generator = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(T, E, generator=generator) * 2
    h0 = torch.randn(L * D, H, generator=generator) if with_states else None
    c0 = torch.randn(L * D, H, generator=generator) if with_states else None
    with torch.no_grad():
        torch_x = x.unsqueeze(0 if batch_first else 1)
        states = (h0.unsqueeze(1), c0.unsqueeze(1)) if with_states else None
        out, (h_n, c_n) = module(torch_x, states)
        out = out[0] if batch_first else out[:, 0]
        ref_out, _, _, gates, cells, hiddens = lstm_reference(module, x, h0, c0)
    np.testing.assert_allclose(ref_out.numpy(), out.numpy(), atol=ATOL)  # the reference is nn.LSTM

    lstm = LSTM.from_torch(module)
    trace = lstm.run(x.numpy(), None if h0 is None else h0.numpy(), None if c0 is None else c0.numpy())
    np.testing.assert_allclose(trace.output, out.numpy(), atol=ATOL)
    np.testing.assert_allclose(trace.h_n, h_n[:, 0].numpy(), atol=ATOL)
    np.testing.assert_allclose(trace.c_n, c_n[:, 0].numpy(), atol=ATOL)
    for layer in range(L):
        for d in range(D):
            for name in GATE_NAMES:
                expected = torch.stack([g[name] for g in gates[layer, d]]).detach().numpy()
                np.testing.assert_allclose(trace.gates[name][layer, d], expected, atol=ATOL, err_msg=name)
            np.testing.assert_allclose(trace.cell[layer, d], torch.stack(cells[layer, d]).detach().numpy(), atol=ATOL)
            np.testing.assert_allclose(
                trace.hidden[layer, d], torch.stack(hiddens[layer, d]).detach().numpy(), atol=ATOL
            )
    return lstm, trace


@pytest.mark.parametrize("seed, config", list(enumerate(ALL_CONFIGS)), ids=str)
def test_forward_matches_torch_everywhere(seed, config):
    check_against_torch(config, seed=seed, with_states=False)


@pytest.mark.parametrize("config", CONFIGS[1:6], ids=str)
def test_forward_with_initial_states(config):
    check_against_torch(config, seed=7, with_states=True)


def test_batch_first_module_imports_the_same():
    check_against_torch((4, 5, 2, True, True, None, 7), seed=3, with_states=False, batch_first=True)


def test_saturated_gates_really_saturate():
    _, trace = check_against_torch((6, 10, 1, False, True, 6.0, 25), seed=11, with_states=False)
    forget = trace.gates["forget"]
    assert (forget < 0.01).mean() > 0.2 and (forget > 0.99).mean() > 0.2


def test_trace_shapes_and_read_only():
    lstm = LSTM.random(3, 4, num_layers=2, bidirectional=True, seed=0)
    trace = lstm.run(np.ones((6, 3)))
    for name in GATE_NAMES:
        assert trace.gates[name].shape == (2, 2, 6, 4)
        assert not trace.gates[name].flags.writeable
    assert trace.cell.shape == trace.hidden.shape == (2, 2, 6, 4)
    assert trace.output.shape == (6, 8)
    assert trace.h_n.shape == trace.c_n.shape == (4, 4)
    with pytest.raises(ValueError):
        trace.gates["forget"][0, 0, 0, 0] = 1.0
    # output is the last layer's hidden states, forward then backward
    np.testing.assert_array_equal(trace.output[:, :4], trace.hidden[1, 0])
    np.testing.assert_array_equal(trace.output[:, 4:], trace.hidden[1, 1])


def test_tokens_ride_along_and_must_match_length():
    lstm = LSTM.random(2, 3, seed=0)
    trace = lstm.run(np.ones((3, 2)))
    named = dataclasses.replace(trace, tokens=["a", "b", "c"])
    assert named.tokens == ("a", "b", "c")
    np.testing.assert_array_equal(named.gates["input"], trace.gates["input"])
    with pytest.raises(ValueError, match="3 timesteps"):
        dataclasses.replace(trace, tokens=["a"])


@pytest.mark.parametrize("config", [(3, 5, 1, False, True), (4, 6, 2, True, True), (2, 3, 3, True, False)], ids=str)
def test_step_detail_reproduces_the_equations(config):
    E, H, L, bi, bias = config
    lstm = LSTM.random(E, H, L, bi, bias, seed=1, dtype=np.float64)
    rng = np.random.default_rng(0)
    T, D = 7, 2 if bi else 1
    h0, c0 = rng.normal(size=(L * D, H)), rng.normal(size=(L * D, H))
    trace = lstm.run(rng.normal(size=(T, E)), h0, c0)
    sigmoid = lambda a: 1 / (1 + np.exp(-a))
    for layer in range(L):
        for d in range(D):
            for t in range(T):
                step = trace.step(t, layer, d)
                z = step.preactivation
                np.testing.assert_allclose(step.gates["input"], sigmoid(z["input"]), atol=1e-12)
                np.testing.assert_allclose(step.gates["forget"], sigmoid(z["forget"]), atol=1e-12)
                np.testing.assert_allclose(step.gates["candidate"], np.tanh(z["candidate"]), atol=1e-12)
                np.testing.assert_allclose(step.gates["output"], sigmoid(z["output"]), atol=1e-12)
                np.testing.assert_allclose(step.cell, step.forgotten + step.written, atol=1e-12)
                np.testing.assert_allclose(step.hidden, step.gates["output"] * step.cell_tanh, atol=1e-12)
                # the previous state is the one this direction came from
                first = (t == T - 1) if d == 1 else (t == 0)
                expected_prev = h0[layer * D + d] if first else trace.hidden[layer, d, t + 1 if d == 1 else t - 1]
                np.testing.assert_allclose(step.h_prev, expected_prev)
                expected_x = trace.inputs[t] if layer == 0 else trace.hidden[layer - 1, :, t].reshape(-1)
                np.testing.assert_allclose(step.x, expected_x)


def test_weight_names_pytorch_parameters_and_rejects_others():
    lstm = LSTM.random(2, 3, num_layers=2, bidirectional=True, seed=0)
    assert lstm.weight("weight_ih", 1, 1).shape == (12, 6)
    assert repr(lstm) == "LSTM(input_size=2, hidden_size=3, num_layers=2, bidirectional=True, bias=True, dtype=float32)"
    for bad in ({"layer": 2}, {"direction": 2}, {"layer": -1}):
        with pytest.raises(ValueError, match="must be an integer"):
            lstm.weight("weight_ih", **bad)
    with pytest.raises(ValueError, match="has no parameter 'weight_xx_l0'"):
        lstm.weight("weight_xx")


def test_step_rejects_out_of_range_indices():
    trace = LSTM.random(2, 3, seed=0).run(np.ones((4, 2)))
    for bad in ({"t": 4}, {"t": -1}, {"t": 0, "layer": 1}, {"t": 0, "direction": 1}, {"t": 1.5}):
        with pytest.raises(ValueError, match="must be an integer"):
            trace.step(**bad)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_batched_forward_equals_one_by_one(bidirectional, num_layers):
    lstm = LSTM.random(5, 7, num_layers, bidirectional, seed=4)
    rng = np.random.default_rng(1)
    sequences = [rng.normal(size=(length, 5)) for length in (9, 1, 4, 9, 6)]
    batch = lstm.run_batch(sequences)
    assert batch.gates["forget"].shape == (num_layers, 2 if bidirectional else 1, 5, 9, 7)
    np.testing.assert_array_equal(batch.mask.sum(axis=1), [9, 1, 4, 9, 6])
    for i, x in enumerate(sequences):
        single = lstm.run(x)
        for name in GATE_NAMES:
            np.testing.assert_allclose(batch[i].gates[name], single.gates[name], atol=1e-6)
            np.testing.assert_allclose(batch.gates[name][:, :, i, : len(x)], single.gates[name], atol=1e-6)
            assert not batch.gates[name][:, :, i, len(x) :].any()  # zero padding
        for states in ("cell", "hidden"):
            np.testing.assert_allclose(getattr(batch[i], states), getattr(single, states), atol=1e-6)
            assert not getattr(batch, states)[:, :, i, len(x) :].any()
        np.testing.assert_allclose(batch[i].output, single.output, atol=1e-6)
        np.testing.assert_allclose(batch[i].h_n, single.h_n, atol=1e-6)
        np.testing.assert_allclose(batch[i].c_n, single.c_n, atol=1e-6)
        np.testing.assert_allclose(batch.output[i, : len(x)], single.output, atol=1e-6)
    np.testing.assert_allclose(batch.h_n[:, 2], lstm.run(sequences[2]).h_n, atol=1e-6)


def test_batched_forward_matches_torch_packed_sequences():
    module = make_torch_lstm(4, 6, 2, True, seed=5)
    lengths = [7, 3, 5]
    rng = np.random.default_rng(2)
    sequences = [rng.normal(size=(n, 4)).astype(np.float32) for n in lengths]
    padded = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(s) for s in sequences])
    packed = torch.nn.utils.rnn.pack_padded_sequence(padded, lengths, enforce_sorted=False)
    with torch.no_grad():
        out, (h_n, _) = module(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out)
    batch = LSTM.from_torch(module).run_batch(sequences)
    for i, n in enumerate(lengths):
        np.testing.assert_allclose(batch.output[i, :n], out[:n, i].numpy(), atol=ATOL)
    np.testing.assert_allclose(batch.h_n, h_n.numpy(), atol=ATOL)


def test_float64_on_request_is_more_exact():
    module = make_torch_lstm(3, 5, 2, True, seed=2, dtype=torch.float64)
    x = torch.randn(12, 3, dtype=torch.float64)
    with torch.no_grad():
        out, _ = module(x)
    trace = LSTM.from_torch(module, dtype=np.float64).run(x.numpy())
    assert trace.output.dtype == np.float64 and trace.gates["forget"].dtype == np.float64
    np.testing.assert_allclose(trace.output, out.numpy(), atol=1e-12)
    assert LSTM.from_torch(module).run(x.numpy()).output.dtype == np.float32
    assert LSTM.from_torch(module).astype(np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="float32 or float64"):
        LSTM.from_torch(module, dtype=np.int32)


def test_state_dict_round_trips_through_torch():
    lstm = LSTM.random(4, 5, 2, True, seed=9)
    module = torch.nn.LSTM(4, 5, 2, bidirectional=True)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in lstm.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    with torch.no_grad():
        out, _ = module(torch.from_numpy(x))
    np.testing.assert_allclose(lstm.run(x).output, out.numpy(), atol=ATOL)
    again = LSTM.from_state_dict(lstm.state_dict())
    np.testing.assert_array_equal(again.run(x).output, lstm.run(x).output)


def test_from_state_dict_infers_sizes_and_accepts_a_prefix():
    module = torch.nn.LSTM(6, 3, 3, bidirectional=True, bias=False)
    full = {f"encoder.{k}": v for k, v in module.state_dict().items()} | {"decoder.weight": torch.zeros(2, 6)}
    lstm = LSTM.from_state_dict(full, prefix="encoder.")
    assert (lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.num_directions, lstm.bias) == (6, 3, 3, 2, False)


def state_dict_of(*args, **kwargs):
    return {k: v.numpy().copy() for k, v in torch.nn.LSTM(*args, **kwargs).state_dict().items()}


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda sd: sd.pop("bias_hh_l1"), "missing key 'bias_hh_l1'"),
        (
            lambda sd: sd.update(weight_hh_l1=np.zeros((12, 4))),
            r"'weight_hh_l1' has shape \(12, 4\), expected \(12, 3\)",
        ),
        (
            lambda sd: sd.update(weight_ih_l1=np.zeros((12, 5))),
            r"'weight_ih_l1' has shape \(12, 5\), expected \(12, 3\)",
        ),
        (lambda sd: sd.update(gamma=np.zeros(3)), "unexpected key 'gamma'"),
        (lambda sd: sd.update(weight_ih_l0_reverse=np.zeros((12, 2))), "missing key 'weight_hh_l0_reverse'"),
        (lambda sd: sd.update(weight_ih_l3=np.zeros((12, 3))), "layers must be numbered"),
        (lambda sd: sd.update(weight_hh_l0=np.zeros((10, 3))), "4 \\* hidden_size"),
        (lambda sd: sd.update(bias_ih_l0=np.full(12, np.nan)), "NaN or infinite"),
        (lambda sd: sd.update(weight_ih_l0=np.full((12, 2), "a")), "real numeric array"),
        (lambda sd: sd.update(weight_hr_l0=np.zeros((2, 3))), "proj_size"),
        (lambda sd: sd.clear(), "no weight_ih_l0"),
    ],
)
def test_bad_state_dicts_are_refused_with_the_key_and_shape(mutate, message):
    sd = state_dict_of(2, 3, 2)
    mutate(sd)
    with pytest.raises(ValueError, match=message):
        LSTM.from_state_dict(sd)


def test_projection_and_non_lstm_modules_are_refused():
    with pytest.raises(ValueError, match="proj_size"):
        LSTM.from_torch(torch.nn.LSTM(3, 4, proj_size=2))
    with pytest.raises(ValueError, match="expected a torch.nn.LSTM"):
        LSTM.from_torch(torch.nn.GRU(3, 4))
    with pytest.raises(ValueError, match="mapping"):
        LSTM.from_state_dict([1, 2])


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros((0, 3)), "empty sequence"),
        (np.zeros((4, 2)), "expected input_size=3"),
        (np.zeros(3), r"must have shape \(T, input_size=3\)"),
        (np.zeros((2, 4, 3)), "must have shape"),
        (np.array([[1.0, np.nan, 0.0]]), "NaN or infinite"),
        (np.array([[1.0, np.inf, 0.0]]), "NaN or infinite"),
        (np.array([["a", "b", "c"]]), "real numeric"),
        (np.zeros((2, 3), dtype=complex), "real numeric"),
        ([[1, 2], [3]], "cannot be read as an array|real numeric"),
    ],
)
def test_bad_inputs_raise_clear_value_errors(x, message):
    lstm = LSTM.random(3, 4, seed=0)
    with pytest.raises(ValueError, match=message):
        lstm.run(x)


def test_bad_initial_states_and_batches():
    lstm = LSTM.random(3, 4, num_layers=2, seed=0)
    with pytest.raises(ValueError, match=r"h0 has shape \(4,\), expected .* \(2, 4\)"):
        lstm.run(np.zeros((2, 3)), h0=np.zeros(4))
    with pytest.raises(ValueError, match="c0.*NaN"):
        lstm.run(np.zeros((2, 3)), c0=np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="non-empty list"):
        lstm.run_batch([])
    with pytest.raises(ValueError, match=r"sequences\[1\] is an empty sequence"):
        lstm.run_batch([np.zeros((2, 3)), np.zeros((0, 3))])


def test_integer_inputs_are_accepted_as_numbers():
    lstm = LSTM.random(2, 3, seed=0)
    np.testing.assert_allclose(lstm.run([[1, 0], [0, 1]]).output, lstm.run(np.eye(2)).output)


def test_trace_holds_no_redundant_copies():
    lstm = LSTM.random(8, 16, num_layers=2, seed=0)
    trace = lstm.run(np.zeros((50, 8)))
    values = 2 * 50 * 16 * (4 + 1 + 1)  # gates, cell, hidden per layer and timestep
    end_rows = 2 * 2 * 16 * 5  # the record's row before and after the sequence, per layer (c0 and c_n live there)
    assert trace.nbytes <= 4 * (values + end_rows) + 4 * (50 * 8 + 4 * 2 * 16)
    for name in GATE_NAMES:
        assert np.shares_memory(trace.gates[name], trace.record)
    assert np.shares_memory(trace.cell, trace.record)
    assert np.shares_memory(trace.output, trace.hidden_buffer)


# --------------------------------------------------------------------------- backpropagation in time
@pytest.mark.parametrize(
    "config",
    [
        (3, 4, 1, False, True, None, 8),
        (3, 4, 2, True, True, None, 6),
        (2, 5, 2, False, False, 2.0, 10),
        (4, 3, 3, True, True, None, 5),
    ],
    ids=str,
)
def test_gradients_match_torch_autograd(config):
    E, H, L, bi, bias, scale, T = config
    D = 2 if bi else 1
    module = make_torch_lstm(E, H, L, bi, bias, scale, seed=1)
    generator = torch.Generator().manual_seed(4)
    x = torch.randn(T, E, generator=generator, requires_grad=True)
    h0 = torch.randn(L * D, H, generator=generator, requires_grad=True)
    c0 = torch.randn(L * D, H, generator=generator, requires_grad=True)
    weight_out = torch.randn(T, D * H, generator=generator)
    weight_h, weight_c = torch.randn(L * D, H, generator=generator), torch.randn(L * D, H, generator=generator)
    out, h_n, c_n, _, cells, hiddens = lstm_reference(module, x, h0, c0)
    loss = (out * weight_out).sum() + (h_n * weight_h).sum() + (c_n * weight_c).sum()
    loss.backward()

    lstm = LSTM.from_torch(module)
    trace = lstm.run(x.detach().numpy(), h0.detach().numpy(), c0.detach().numpy())
    grads = lstm.backward(trace, grad_output=weight_out.numpy(), grad_h_n=weight_h.numpy(), grad_c_n=weight_c.numpy())
    np.testing.assert_allclose(grads.inputs, x.grad.numpy(), atol=ATOL)
    np.testing.assert_allclose(grads.h0, h0.grad.numpy(), atol=ATOL)
    np.testing.assert_allclose(grads.c0, c0.grad.numpy(), atol=ATOL)
    for name, parameter in module.named_parameters():
        np.testing.assert_allclose(grads.weights[name], parameter.grad.numpy(), atol=ATOL, err_msg=name)
    assert set(grads.weights) == dict(module.named_parameters()).keys()
    for layer in range(L):
        for d in range(D):
            np.testing.assert_allclose(
                grads.hidden[layer, d], torch.stack([h.grad for h in hiddens[layer, d]]).numpy(), atol=ATOL
            )
            np.testing.assert_allclose(
                grads.cell[layer, d], torch.stack([c.grad for c in cells[layer, d]]).numpy(), atol=ATOL
            )


def test_backward_refuses_foreign_traces_and_bad_grads():
    a, b = LSTM.random(2, 3, seed=0), LSTM.random(2, 3, seed=1)
    trace = a.run(np.ones((4, 2)))
    with pytest.raises(ValueError, match="this LSTM"):
        b.backward(trace)
    with pytest.raises(ValueError, match=r"grad_output has shape \(4, 2\), expected \(4, 3\)"):
        a.backward(trace, grad_output=np.ones((4, 2)))
    assert isinstance(trace, Trace)
