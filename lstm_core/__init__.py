"""LSTM Gate Explorer's core: a NumPy LSTM that records every gate, exact against `torch.nn.LSTM`.

Pure NumPy at run time. torch appears only in the training modules (`lstm_core.train` for the shipped
language models, `train_tasks` for the long-lag RNN and LSTM, `train_text` for a model of a user's text)
and in the tests, which hold every result against PyTorch.

    >>> import numpy as np, lstm_core
    >>> lstm = lstm_core.LSTM.random(input_size=4, hidden_size=8, seed=0)
    >>> trace = lstm.run(np.zeros((5, 4)))
    >>> sorted(trace.gates), trace.cell.shape
    (['candidate', 'forget', 'input', 'output'], (1, 1, 5, 8))
"""

from .checkpoint import load_checkpoint, save_checkpoint
from .lstm import GATE_NAMES, LSTM, BatchTrace, Gradients, StepDetail, Trace
from .rnn import RNN, RNNTrace

__all__ = [
    "GATE_NAMES", "LSTM", "Trace", "BatchTrace", "StepDetail", "Gradients", "RNN", "RNNTrace",
    "save_checkpoint", "load_checkpoint", "LanguageModel", "PRETRAINED", "load_pretrained",
]  # fmt: skip

_LANGUAGE_MODEL_NAMES = {"LanguageModel", "PRETRAINED", "load_pretrained"}


def __getattr__(name: str):
    # The pretrained language models import on first use, so `import lstm_core` stays light.
    if name in _LANGUAGE_MODEL_NAMES:
        from . import language_model

        return getattr(language_model, name)
    raise AttributeError(f"module 'lstm_core' has no attribute {name!r}")
