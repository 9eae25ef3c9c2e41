"""Models run over whole corpora, for /corpus (every state of every text) and /saturation (how often
each gate is shut or open). Each result is computed once and kept: the shipped models' in one cache
shared by every session, a session model's in that session only (another session may have a model of
the same name with other weights). A large corpus shows a progress bar while it is read.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from lstm_core import LanguageModel
from lstm_core.analysis import explore  # called through the module, so a test can count the calls
from lstm_core.analysis.units import GateSaturation
from ui import corpus_figures, model_store
from ui.cache import BoundedCache

__all__ = ["SATURATION_SEED", "corpus_states", "saturation_of"]

PROGRESS_TOKENS = 3_000  # a corpus this large takes more than a moment: show a progress bar
SHARED_CORPORA = 3  # traced corpora of the shipped models kept for all sessions
SESSION_CORPORA = 2  # ... and per session for its own models
PROGRESS_BATCH = 32  # texts per batched forward when the bar is shown
SATURATION_SEED = 2_000_001  # the held-out story seed of the model cards: text no shipped model trained on
SATURATION_CHUNK = 32  # stories per batched forward while the bar is shown
SHARED_SATURATIONS = 16
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


def saturation_of(model_name: str, stories: int) -> GateSaturation:
    """The model's gate saturation over `stories` held-out stories, cached."""
    model = model_store.language_model(model_name)
    key = (model_name, stories)
    if model_name in model_store.MODEL_NAMES:
        cache = _shared_saturations()
    else:
        cache = st.session_state.setdefault(_SATURATIONS_SESSION_KEY, BoundedCache(2 * model_store.SESSION_MODEL_LIMIT))

    def measure() -> GateSaturation:
        texts = corpus_figures.story_texts(stories, SATURATION_SEED)
        sequences = [model.input_vectors(text) for text in texts]
        tokens = sum(len(sequence) for sequence in sequences)
        bar = (
            st.progress(0.0, text=f"Reading {stories} stories with the {model_name} model…")
            if tokens > PROGRESS_TOKENS
            else None
        )

        def report(done: int, total: int) -> None:
            if bar is not None:
                bar.progress(done / total, text=f"The {model_name} model: {done} of {total} stories")

        result = explore.gate_saturation_chunks(
            model.lstm, sequences, chunk_size=SATURATION_CHUNK if bar else 128, on_progress=report
        )
        if bar is not None:
            bar.empty()
        return result

    return cache.get_or_compute(key, measure)
