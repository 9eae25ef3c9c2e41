"""Models run over whole corpora, for /corpus (every state of every text) and /saturation (how often
each gate is shut or open). Each result is computed once and kept: the shipped models' in one cache
shared by every session, a session model's in that session only (another session may have a model of
the same name with other weights). A large corpus shows a progress bar while it is read.

A session model may be an upload as wide as the upload limits allow, so on /saturation it reads only
as many stories as fit the work any page may ask of it (`SESSION_SATURATION_WORK`), in batches no larger
than that either; `stories_read` says how many, and the page says so.
"""

from __future__ import annotations

import functools
import hashlib

import streamlit as st

from lstm_core import LanguageModel
from lstm_core.analysis import explore  # called through the module, so a test can count the calls
from lstm_core.analysis.units import GateSaturation
from lstm_core.config import MAX_UPLOAD_WORK
from ui import corpus_figures, model_store
from ui.cache import BoundedCache

__all__ = ["SATURATION_SEED", "SESSION_SATURATION_WORK", "corpus_states", "saturation_of", "stories_read"]

PROGRESS_TOKENS = 3_000  # a corpus this large takes more than a moment: show a progress bar
SHARED_CORPORA = 3  # traced corpora of the shipped models kept for all sessions
SESSION_CORPORA = 2  # ... and per session for its own models
PROGRESS_BATCH = 32  # texts per batched forward when the bar is shown
SATURATION_SEED = 2_000_001  # the held-out story seed of the model cards: text no shipped model trained on
SATURATION_CHUNK = 32  # stories per batched forward while the bar is shown
SHARED_SATURATIONS = 16
# Layers × directions × units × tokens read that /saturation may ask of a session model, in all and in one
# batch: the bound an uploaded model was checked against for the longest text (`check_language_model_size`),
# so the widest model it admits reads at least that many tokens. The shipped models are not bounded here:
# their cost is known and paid once for every session (the character model over 400 stories, 27 million).
SESSION_SATURATION_WORK = MAX_UPLOAD_WORK
_CORPORA_SESSION_KEY = "_corpus_traced"
_SATURATIONS_SESSION_KEY = "_saturation_results"


@st.cache_resource
def _shared_corpora() -> BoundedCache[explore.CorpusStates]:
    """Traced corpora of the shipped models, shared read-only by every session."""
    return BoundedCache(SHARED_CORPORA)


def corpus_states(model_name: str, model: LanguageModel, texts: tuple[str, ...]) -> explore.CorpusStates:
    """The corpus traced by the model, cached by model name and texts."""
    key = (model_name, hashlib.sha256("\x00".join(texts).encode()).hexdigest())
    if model_name in model_store.MODEL_NAMES:
        cache = _shared_corpora()
    else:
        cache = st.session_state.setdefault(_CORPORA_SESSION_KEY, BoundedCache(SESSION_CORPORA))

    def trace() -> explore.CorpusStates:
        tokens = sum(len(text) for text in texts) // (5 if model.kind == "words" else 1)  # a rough count is enough
        bar = st.progress(0.0, text="Reading the corpus…") if tokens > PROGRESS_TOKENS else None

        def report(done: int, total: int) -> None:
            if bar is not None:
                bar.progress(done / total, text=f"Reading the corpus: {done} of {total} texts")

        traced = explore.trace_corpus(model, texts, batch_size=PROGRESS_BATCH if bar else 128, on_progress=report)
        if bar is not None:
            bar.empty()
        return traced

    return cache.get_or_compute(key, trace)


@st.cache_resource
def _shared_saturations() -> BoundedCache[GateSaturation]:
    """Saturation of the shipped models, shared by every session: (model, stories) -> result."""
    return BoundedCache(SHARED_SATURATIONS)


@functools.lru_cache(maxsize=4)
def _saturation_stories(count: int) -> tuple[str, ...]:
    """The first `count` held-out stories (the first k of any count are the same k)."""
    return corpus_figures.story_texts(count, SATURATION_SEED)


def _units(model: LanguageModel) -> int:
    """Units in all layers and directions: the cost of each token read."""
    return model.lstm.num_layers * model.lstm.num_directions * model.lstm.hidden_size


def stories_read(model_name: str, stories: int) -> tuple[int, str | None]:
    """How many of the first `stories` held-out stories /saturation reads with the model, and a notice
    when that is fewer: a session model reads whole stories while units × tokens stays within
    `SESSION_SATURATION_WORK` (at least one story); a shipped model reads them all."""
    if model_name in model_store.MODEL_NAMES:
        return stories, None
    model = model_store.language_model(model_name)
    budget = max(1, SESSION_SATURATION_WORK // _units(model))
    kept, tokens = 0, 0
    for text in _saturation_stories(stories):
        tokens += len(model.tokens(text))
        if tokens > budget:
            break
        kept += 1
    if kept == stories:
        return stories, None
    kept = max(kept, 1)
    return kept, (
        f"The {model_name} model has {_units(model):,} units in its layers and directions, so this page reads "
        f"{kept} of the {stories} stories with it (at most {budget:,} tokens: the work a page may ask of a model "
        "of this session)."
    )


def saturation_of(model_name: str, stories: int) -> GateSaturation:
    """The model's gate saturation over the first `stories` held-out stories, of which a session model
    reads only the first `stories_read(model_name, stories)`; cached."""
    model = model_store.language_model(model_name)
    stories = stories_read(model_name, stories)[0]
    key = (model_name, stories)
    if model_name in model_store.MODEL_NAMES:
        cache = _shared_saturations()
    else:
        cache = st.session_state.setdefault(_SATURATIONS_SESSION_KEY, BoundedCache(2 * model_store.SESSION_MODEL_LIMIT))

    def measure() -> GateSaturation:
        sequences = [model.input_vectors(text) for text in _saturation_stories(stories)]
        tokens = sum(len(sequence) for sequence in sequences)
        chunk = SATURATION_CHUNK if tokens > PROGRESS_TOKENS else 128
        if model_name not in model_store.MODEL_NAMES:  # a batch is as long as its longest story times its size
            longest = max(len(sequence) for sequence in sequences)
            chunk = max(1, min(chunk, SESSION_SATURATION_WORK // (_units(model) * longest)))
        bar = (
            st.progress(0.0, text=f"Reading {stories} stories with the {model_name} model…")
            if tokens > PROGRESS_TOKENS
            else None
        )

        def report(done: int, total: int) -> None:
            if bar is not None:
                bar.progress(done / total, text=f"The {model_name} model: {done} of {total} stories")

        result = explore.gate_saturation_chunks(model.lstm, sequences, chunk_size=chunk, on_progress=report)
        if bar is not None:
            bar.empty()
        return result

    return cache.get_or_compute(key, measure)
