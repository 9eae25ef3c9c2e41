"""What /gradients computes, cached: the shipped long-lag models, loaded once per checkpoint, and each
comparison of the RNN and the LSTM backpropagated once per input. The figures and sentences drawn from
a comparison are in `ui.gradient_figures`.
"""

from __future__ import annotations

import os

import streamlit as st

from lstm_core import config
from lstm_core.analysis import gradient_comparison
from lstm_core.analysis.gradient_comparison import GradientComparison
from lstm_core.models.task_model import TaskModel
from ui import model_store

__all__ = ["MAX_TEXT_TOKENS", "weights_stamp", "shipped_task_models", "text_comparison", "longlag_comparison"]

MAX_TEXT_TOKENS = 200  # the gradient 200 words back is the point; more only costs time


def weights_stamp() -> tuple:
    """(kind, path, modification time or None) of each shipped long-lag checkpoint: the cache key that
    makes a freshly trained model appear without restarting the server."""
    stamps = []
    for kind in ("rnn", "lstm"):
        path = config.LONGLAG_DIR / f"{kind}.safetensors"  # read here, so a test can point it elsewhere
        stamps.append((kind, str(path), os.stat(path).st_mtime_ns if path.exists() else None))
    return tuple(stamps)


@st.cache_resource(show_spinner="Loading the long-lag models…", max_entries=4)
def shipped_task_models(stamp: tuple) -> tuple[dict[str, TaskModel], tuple[str, ...], tuple[str, ...]]:
    """(kind -> the shipped long-lag model, the kinds not installed, a sentence per unreadable file)."""
    loaded, missing, unreadable = {}, [], []
    for kind, path, modified in stamp:
        if modified is None:
            missing.append(kind)
            continue
        try:
            loaded[kind] = TaskModel.load(path)
        except (ValueError, KeyError, OSError) as error:  # a damaged file: say so, and carry on without it
            unreadable.append(f"The trained {kind.upper()} could not be read ({error}).")
    return loaded, tuple(missing), tuple(unreadable)


# The comparisons are called through their module, so a test can count the calls.
@st.cache_data(max_entries=64, show_spinner="Backpropagating through time…")
def text_comparison(text: str, seed: int) -> GradientComparison:
    """The word model's text: its trained LSTM against an untrained LSTM and RNN of seed `seed`."""
    words = model_store.language_model("words")
    return gradient_comparison.compare_on_text(words, text, seed, max_tokens=MAX_TEXT_TOKENS)


@st.cache_data(max_entries=64, show_spinner="Backpropagating through time…")
def longlag_comparison(lag: int, seed: int, stamp: tuple, with_trained: bool = True) -> GradientComparison:
    """The long-lag task: the shipped trained cells of `stamp` (unless `with_trained` is False) and
    untrained ones of seed `seed`."""
    trained = shipped_task_models(stamp)[0] if with_trained else {}
    return gradient_comparison.compare_on_task(trained, lag, seed)
