"""LSTM Gate Explorer's core: a NumPy LSTM that records every gate, exact against `torch.nn.LSTM`.

Where things are:

- `cell`: the LSTM equations in plain NumPy, one line each (the reference; start reading here);
- `lstm`: the fast `LSTM` that records a whole sequence in a `Trace`, and backpropagation in time;
  `rnn`: a plain tanh `RNN` beside it; `numerics`: sigmoid and softmax;
- `config`: settings the pages and the training code share (no torch);
- `tags`: the 12 universal part-of-speech tags and `universal_tag`, Brown's tags mapped onto them;
- `io/`: checkpoints and uploaded model files; `models/`: language models, part-of-speech taggers, tokenizers, task models;
  `data/`: the story world and the long-lag tasks; `analysis/`: what units do, gradients over time;
- `training/`: torch training, the only place that imports torch (besides reading an uploaded `.pt`).

Pure NumPy at run time.

    >>> import numpy as np, lstm_core
    >>> lstm = lstm_core.LSTM.random(input_size=4, hidden_size=8, seed=0)
    >>> trace = lstm.run(np.zeros((5, 4)))
    >>> sorted(trace.gates), trace.cell.shape
    (['candidate', 'forget', 'input', 'output'], (1, 1, 5, 8))
"""

from lstm_core.cell import CellStep, CellWeights, cell_weights, lstm_cell_step
from lstm_core.io.checkpoint import load_checkpoint, save_checkpoint
from lstm_core.lstm import GATE_NAMES, LSTM, BatchTrace, Gradients, StepDetail, Trace
from lstm_core.rnn import RNN, RNNTrace
from lstm_core.tags import UNIVERSAL_TAGS, universal_tag

__all__ = [
    "GATE_NAMES", "lstm_cell_step", "cell_weights", "CellWeights", "CellStep",
    "LSTM", "Trace", "BatchTrace", "StepDetail", "Gradients", "RNN", "RNNTrace",
    "save_checkpoint", "load_checkpoint", "LanguageModel", "PRETRAINED", "load_pretrained",
    "Tagger", "UNIVERSAL_TAGS", "universal_tag",
]  # fmt: skip

_LANGUAGE_MODEL_NAMES = {"LanguageModel", "PRETRAINED", "load_pretrained", "Tagger"}


def __getattr__(name: str):
    # The pretrained language models import on first use, so `import lstm_core` stays light.
    if name in _LANGUAGE_MODEL_NAMES:
        from lstm_core.models import language_model

        return getattr(language_model, name)
    raise AttributeError(f"module 'lstm_core' has no attribute {name!r}")
