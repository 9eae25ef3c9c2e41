"""The plain tanh RNN against torch.nn.RNN, forward and backpropagation through time."""

import numpy as np
import pytest
import torch

from lstm_core import RNN
from tests.torch_reference import rnn_reference

ATOL = 2e-5


@pytest.mark.parametrize(
    "config", [(3, 4, 1, False, True, 9), (2, 6, 2, True, True, 7), (5, 3, 3, True, False, 5)], ids=str
)
def test_rnn_forward_and_gradients_match_torch(config):
    E, H, L, bi, bias, T = config
    D = 2 if bi else 1
    torch.manual_seed(0)
    module = torch.nn.RNN(E, H, L, bias=bias, bidirectional=bi)
    x = torch.randn(T, E, requires_grad=True)
    h0 = torch.randn(L * D, H, requires_grad=True)
    with torch.no_grad():
        out, h_n = module(x, h0)
    ref_out, hiddens = rnn_reference(module, x, h0)
    np.testing.assert_allclose(ref_out.detach().numpy(), out.numpy(), atol=ATOL)

    rnn = RNN.from_torch(module)
    trace = rnn.run(x.detach().numpy(), h0.detach().numpy())
    np.testing.assert_allclose(trace.output, out.numpy(), atol=ATOL)
    np.testing.assert_allclose(trace.h_n, h_n.numpy(), atol=ATOL)

    weight = torch.randn(T, D * H)
    (ref_out * weight).sum().backward()
    grads = rnn.backward(trace, grad_output=weight.numpy())
    np.testing.assert_allclose(grads.inputs, x.grad.numpy(), atol=ATOL)
    np.testing.assert_allclose(grads.h0, h0.grad.numpy(), atol=ATOL)
    for name, parameter in module.named_parameters():
        np.testing.assert_allclose(grads.weights[name], parameter.grad.numpy(), atol=ATOL, err_msg=name)
    for layer in range(L):
        for d in range(D):
            expected = torch.stack([h.grad for h in hiddens[layer, d]]).numpy()
            np.testing.assert_allclose(grads.hidden[layer, d], expected, atol=ATOL)
    assert grads.cell is None and grads.c0 is None


def test_rnn_refuses_lstm_weights_and_bad_input():
    with pytest.raises(ValueError, match=r"1 \* hidden_size"):
        RNN.from_state_dict({k: v for k, v in torch.nn.LSTM(2, 3).state_dict().items()})
    with pytest.raises(ValueError, match="expected a torch.nn.RNN"):
        RNN.from_torch(torch.nn.LSTM(2, 3))
    with pytest.raises(ValueError, match="empty sequence"):
        RNN.random(2, 3, seed=0).run(np.zeros((0, 2)))


def test_rnn_shares_the_lstm_construction_and_checks():
    rnn = RNN.random(3, 4, num_layers=2, bidirectional=True, seed=0)
    assert repr(rnn) == "RNN(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, bias=True, dtype=float32)"
    assert rnn.weight("weight_hh", 1, 1).shape == (4, 4) and not rnn.weight("weight_hh", 1, 1).flags.writeable
    again = RNN.from_state_dict(rnn.state_dict()).astype(np.float64)
    assert again.dtype == np.float64 and again.shape == rnn.shape
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(again.run(x).output, rnn.run(x).output, atol=1e-6)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        RNN.random(3, 0)
    with pytest.raises(ValueError, match="direction must be an integer in 0..1"):
        rnn.weight("weight_ih", 0, 2)
    with pytest.raises(ValueError, match="this RNN has no parameter 'bias_ih_l0'"):
        RNN.random(3, 4, bias=False).weight("bias_ih")
