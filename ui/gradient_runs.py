"""What /gradients computes, cached: the shipped long-lag models and the story-world RNN, loaded once
per checkpoint; each comparison of the RNN and the LSTM backpropagated once per input; how often each
cell is right on held-out prompts; which LSTM units hold the memory. The figures and sentences drawn
from them are in `ui.gradient_figures`.
"""

from __future__ import annotations

import os

import numpy as np
import streamlit as st

from lstm_core import config
from lstm_core.analysis import gradient_comparison
from lstm_core.analysis.gradient_comparison import GradientComparison
from lstm_core.data import corpus
from lstm_core.models.task_model import TaskModel
from lstm_core.models.text_rnn import TEXT_RNN_FILE, TextRNN
from ui import model_store

__all__ = [
    "MAX_TEXT_TOKENS", "NOT_INSTALLED", "TEXT_LSTM", "weights_stamp", "text_rnn_stamp", "shipped_task_models", "shipped_text_rnn",
    "text_comparison", "longlag_comparison", "gap_accuracies", "memory_units", "training_cue_distances",
]  # fmt: skip

MAX_TEXT_TOKENS = 200  # the gradient 200 words back is the point; more only costs time
NOT_INSTALLED = "is not installed"


def _stamp(path) -> tuple[str, int | None]:
    return str(path), os.stat(path).st_mtime_ns if path.exists() else None


def weights_stamp() -> tuple:
    """(kind, path, modification time or None) of each shipped long-lag checkpoint: the cache key that
    makes a freshly trained model appear without restarting the server."""
    # The folder is read here, not at import, so a test can point it elsewhere.
    return tuple((kind, *_stamp(config.LONGLAG_DIR / f"{kind}.safetensors")) for kind in ("rnn", "lstm"))


def text_rnn_stamp() -> tuple[str, int | None]:
    """(path, modification time or None) of the shipped story-world RNN, as `weights_stamp`."""
    return _stamp(config.LONGLAG_DIR / TEXT_RNN_FILE)


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


@st.cache_resource(show_spinner="Loading the story-world RNN…", max_entries=4)
def shipped_text_rnn(stamp: tuple[str, int | None]) -> tuple[TextRNN | None, str | None]:
    """(the shipped story-world RNN or None, a sentence saying why there is none)."""
    path, modified = stamp
    if modified is None:
        return None, NOT_INSTALLED
    try:
        return TextRNN.load(path), None
    except (ValueError, KeyError, OSError) as error:  # a damaged file: say so, and carry on without it
        return None, f"could not be read ({error})"


# The LSTM the text comparison reads: the story-world word model, trained on the same stories with
# the same budget as the shipped RNN, so the two differ only in their cell.
TEXT_LSTM = "story"


# The comparisons are called through their module, so a test can count the calls.
@st.cache_data(max_entries=64, show_spinner="Backpropagating through time…")
def text_comparison(text: str, seed: int, rnn_stamp: tuple[str, int | None] | None = None) -> GradientComparison:
    """The story-world word model's text: its trained LSTM (`TEXT_LSTM`), the story-world RNN of
    `rnn_stamp` (when it is there and reads the text as the LSTM does) and an untrained LSTM and RNN of seed `seed`."""
    lstm = model_store.language_model(TEXT_LSTM)
    rnn = shipped_text_rnn(rnn_stamp)[0] if rnn_stamp is not None else None
    try:
        return gradient_comparison.compare_on_text(lstm, text, seed, max_tokens=MAX_TEXT_TOKENS, rnn=rnn)
    except ValueError:
        if rnn is None:
            raise
        return gradient_comparison.compare_on_text(lstm, text, seed, max_tokens=MAX_TEXT_TOKENS)


@st.cache_data(max_entries=64, show_spinner="Backpropagating through time…")
def longlag_comparison(lag: int, seed: int, stamp: tuple, with_trained: bool = True) -> GradientComparison:
    """The long-lag task: the shipped trained cells of `stamp` (unless `with_trained` is False) and
    untrained ones of seed `seed`."""
    trained = shipped_task_models(stamp)[0] if with_trained else {}
    return gradient_comparison.compare_on_task(trained, lag, seed)


@st.cache_data(max_entries=4, show_spinner="Asking each model for the pronoun after long quotations…")
def gap_accuracies(rnn_stamp: tuple[str, int | None]) -> dict[tuple[str, bool], list[dict]]:
    """Cell key -> `gap_accuracy` rows, for the story-world LSTM and RNN (when installed)."""
    rows = {}
    rnn = shipped_text_rnn(rnn_stamp)[0]
    if rnn is not None:
        rows[("rnn", True)] = gradient_comparison.gap_accuracy(rnn)
    rows[("lstm", True)] = gradient_comparison.gap_accuracy(model_store.language_model(TEXT_LSTM))
    return rows


@st.cache_data(max_entries=4)
def memory_units(stamp: tuple) -> tuple[int, ...]:
    """The shipped long-lag LSTM's units that hold the first symbol (empty when it is not installed)."""
    lstm = shipped_task_models(stamp)[0].get("lstm")
    if lstm is None or lstm.task != "remember_first":
        return ()
    try:
        units, _ = gradient_comparison.memory_units(lstm)
    except ValueError:  # a model that does not fit the task: the page says so elsewhere
        return ()
    return tuple(int(unit) for unit in units)


TRAINING_SAMPLE = 2_000  # stories: enough for the distances' median and maximum to settle


@st.cache_data(max_entries=4)
def training_cue_distances(rnn_stamp: tuple[str, int | None]) -> dict[str, int] | None:
    """How far back a "he" or "she" of the story-world RNN's training stories is from the last word that
    gave the gender: {"median", "longest", "pronouns"} over `TRAINING_SAMPLE` stories drawn with its
    training seed; None without the RNN."""
    rnn = shipped_text_rnn(rnn_stamp)[0]
    seed = (rnn.metrics.get("config") or {}).get("seed") if rnn is not None else None
    if not isinstance(seed, int):
        return None
    distances = gradient_comparison.pronoun_cue_distances(corpus.generate_stories(TRAINING_SAMPLE, seed=seed))
    return {"median": int(np.median(distances)), "longest": int(distances.max()), "pronouns": len(distances)}
