"""Step-by-step reference recurrences written with torch ops, for the checks nn.LSTM cannot give:
every gate at every timestep, and the gradient with respect to every intermediate state. The tests
first hold these references against nn.LSTM / nn.RNN themselves, so they are anchored to PyTorch."""

import torch


def lstm_reference(module: torch.nn.LSTM, x: torch.Tensor, h0=None, c0=None):
    """x: (T, E). Returns output, h_n, c_n and per (layer, direction) lists of gates, cells, hiddens
    indexed by token position, each hidden and cell tensor with retain_grad()."""
    L, D, H = module.num_layers, 2 if module.bidirectional else 1, module.hidden_size
    T = x.shape[0]
    h0 = torch.zeros(L * D, H, dtype=x.dtype) if h0 is None else h0
    c0 = torch.zeros(L * D, H, dtype=x.dtype) if c0 is None else c0
    gates, cells, hiddens = {}, {}, {}
    layer_input = x
    for layer in range(L):
        outputs = []
        for d in range(D):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh = getattr(module, "weight_ih" + suffix), getattr(module, "weight_hh" + suffix)
            b = (getattr(module, "bias_ih" + suffix) + getattr(module, "bias_hh" + suffix)) if module.bias else 0
            h, c = h0[layer * D + d], c0[layer * D + d]
            g_list, c_list, h_list = [None] * T, [None] * T, [None] * T
            for t in (range(T - 1, -1, -1) if d else range(T)):
                z = w_ih @ layer_input[t] + w_hh @ h + b
                i, f, g, o = z.chunk(4)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                c = f * c + i * g
                h = o * torch.tanh(c)
                if c.requires_grad:
                    c.retain_grad()
                    h.retain_grad()
                g_list[t], c_list[t], h_list[t] = {"input": i, "forget": f, "candidate": g, "output": o}, c, h
            gates[layer, d], cells[layer, d], hiddens[layer, d] = g_list, c_list, h_list
            outputs.append(torch.stack(h_list))
        layer_input = torch.cat(outputs, dim=1)
    last = [hiddens[layer, d][0 if d else T - 1] for layer in range(L) for d in range(D)]
    last_c = [cells[layer, d][0 if d else T - 1] for layer in range(L) for d in range(D)]
    return layer_input, torch.stack(last), torch.stack(last_c), gates, cells, hiddens


def rnn_reference(module: torch.nn.RNN, x: torch.Tensor, h0=None):
    L, D, H = module.num_layers, 2 if module.bidirectional else 1, module.hidden_size
    T = x.shape[0]
    h0 = torch.zeros(L * D, H, dtype=x.dtype) if h0 is None else h0
    hiddens = {}
    layer_input = x
    for layer in range(L):
        outputs = []
        for d in range(D):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh = getattr(module, "weight_ih" + suffix), getattr(module, "weight_hh" + suffix)
            b = (getattr(module, "bias_ih" + suffix) + getattr(module, "bias_hh" + suffix)) if module.bias else 0
            h = h0[layer * D + d]
            h_list = [None] * T
            for t in (range(T - 1, -1, -1) if d else range(T)):
                h = torch.tanh(w_ih @ layer_input[t] + w_hh @ h + b)
                if h.requires_grad:
                    h.retain_grad()
                h_list[t] = h
            hiddens[layer, d] = h_list
            outputs.append(torch.stack(h_list))
        layer_input = torch.cat(outputs, dim=1)
    return layer_input, hiddens
