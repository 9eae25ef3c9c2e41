"""The LSTM shapes every forward test runs: one to three layers, both directions, with and without
bias, and saturated gates (a large weight scale), each with a sequence length."""

LSTM_CONFIGS = [
    # the largest last: tests against torch leave it out to stay quick
    # input_size, hidden_size, num_layers, bidirectional, bias, scale, T
    (1, 1, 1, False, True, None, 1),
    (3, 5, 1, False, True, None, 9),
    (7, 4, 2, False, True, None, 13),
    (5, 6, 1, True, True, None, 8),
    (4, 3, 3, True, True, None, 6),
    (6, 8, 2, True, False, None, 11),
    (2, 16, 1, False, False, None, 30),
    (8, 8, 2, False, True, 3.0, 20),  # saturated gates
    (3, 4, 2, True, True, 4.0, 15),  # saturated, bidirectional
    (16, 32, 2, True, True, None, 25),
]
