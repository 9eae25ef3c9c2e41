"""The models every page reads, and their cached traces.

Streamlit-aware, but no layout: pages call these and arrange the widgets themselves. `session_model_label`
is a plain function so it can be tested without a server.

Models come from two places. The shipped ones (`MODEL_NAMES`) are loaded once per server process and
shared read-only by every session. A session model (one the user trained on /train, or later uploaded)
lives in that browser session's `st.session_state` only: other sessions never list it, never trace it,
and a link naming it elsewhere gets the "no model called ..." notice.

>>> name = add_session_model(model, "my text")        # inside a page run   # doctest: +SKIP
>>> model_names()                                                          # doctest: +SKIP
('words', 'chars', 'my text')
>>> text_trace(name, "Bob is nice.").trace.hidden.shape  # (L, D, T, H)      # doctest: +SKIP
"""

from __future__ import annotations

import unicodedata
from collections.abc import MutableMapping
from dataclasses import dataclass, field

import streamlit as st

import lstm_core
from lstm_core import LanguageModel, Trace
from lstm_core.analysis import ablation
from lstm_core.models.tagger import TAGGERS
from ui import word_notices
from ui.cache import BoundedCache
from ui.next_tokens import NextTokens

__all__ = [
    "MODEL_LABELS",
    "MODEL_NAMES",
    "SESSION_MODEL_LIMIT",
    "TextTrace",
    "ablated_text_trace",
    "add_session_model",
    "default_unit",
    "is_session_model",
    "language_model",
    "model_caption",
    "model_names",
    "next_word_model_names",
    "remove_session_model",
    "session_model_label",
    "session_model_names",
    "text_trace",
]

MODEL_NAMES: tuple[str, ...] = tuple(lstm_core.PRETRAINED)
MODEL_LABELS = {"words": "Word model", "chars": "Character model", "story": "Story-world word model",
                "tagger": "Tagger (both ways)",
                "tagger-forward": "Tagger (forwards only)"}


SHIPPED_TRACE_LIMIT = 256  # traced texts of the shipped models, shared by every session ...
SHIPPED_TRACE_BYTES = 256 * 2**20  # ... in at most this many bytes: a long text's trace is large
SESSION_MODEL_LIMIT = 3  # models one session keeps; adding one more drops the oldest, so memory stays bounded
SESSION_TRACE_LIMIT = 8  # traced texts kept per session model (the shipped models share a larger cache)
SESSION_TRACE_BYTES = 64 * 2**20  # ... and at most this many bytes of them per model: a session model may be large
SESSION_LABEL_CHARS = 40  # a name longer than this is cut: it has to fit beside a radio button
# A session model's name is shown as a radio option (inline Markdown) and travels in links. Letters,
# digits and these few marks make readable names ("my text (chars)") and cannot form Markdown, LaTeX
# ($), emoji shortcodes (:x:), links ([]) or HTML (<>).
_LABEL_MARKS = " ()-.,'+"
_SESSION_MODELS_KEY = "_lstm_session_models"  # name -> _SessionModel, oldest first
_SESSION_NAMES_KEY = "_lstm_session_model_names"  # every name given out in this session, never reused


@st.cache_resource(show_spinner="Loading the model…")
def _shipped_model(name: str) -> LanguageModel:
    return lstm_core.load_pretrained(name)


def language_model(name: str, *, session: MutableMapping | None = None) -> LanguageModel:
    """This session's model `name` when it has one, else the shipped model `name`, loaded once per
    server process and shared read-only. Raises ValueError for a name that is neither."""
    if name in MODEL_NAMES:
        return _shipped_model(name)
    return _session_entry(name, session).model


# `language_model.clear()` empties the shipped-model cache: tests do, and so may a developer after retraining.
language_model.clear = _shipped_model.clear  # type: ignore[attr-defined]


def default_unit(model: LanguageModel) -> int:
    """The unit a page selects when the link names none: the subject-gender unit when the model has
    one (it tells the Bob/Mary story), else the first named unit, else unit 0."""
    named = model.units.get("subject gender") or next(iter(model.units.values()), None)
    return named.unit if named is not None and (named.layer, named.direction) == (0, 0) else 0


@dataclass(frozen=True)
class TextTrace:
    """A model's trace of one text, with what the pages show beside it."""

    trace: Trace
    next_tokens: NextTokens  # the distribution of the token after token t: top guesses, any row on demand
    unknown: tuple[str, ...]  # words (or characters) outside the model's vocabulary, as typed
    vocabulary_notice: str | None = None  # what the model did with them (`ui.word_notices`), plain text


def _trace_text(model: LanguageModel, text: str, model_name: str) -> TextTrace:
    """`model_name`: the name the pages list the model under, which the notice uses."""
    trace = model.trace(text)
    next_tokens = NextTokens.from_trace(model, trace)
    unknown = tuple(model.unknown_words(text))
    notice = word_notices.vocabulary_notice(model, unknown, model_name, tokens=trace.tokens)
    return TextTrace(trace, next_tokens, unknown, notice)


@st.cache_resource(show_spinner=False)
def _shipped_traces() -> BoundedCache[TextTrace]:
    """(model name, text) -> trace, for every session. Traces are read-only, so sharing one object between
    sessions is safe and avoids pickling arrays on every rerun (which `st.cache_data` would do)."""
    return BoundedCache(SHIPPED_TRACE_LIMIT, SHIPPED_TRACE_BYTES)


def text_trace(model_name: str, text: str, *, session: MutableMapping | None = None) -> TextTrace:
    """The trace of `text` by the model `model_name`, cached.

    A shipped model's traces sit in one cache shared by all sessions, keyed by (name, text): a name
    means the same weights everywhere; at most `SHIPPED_TRACE_LIMIT` of them and `SHIPPED_TRACE_BYTES`
    in all. A session model's traces sit beside that model in its own
    session (two sessions may both have a "my text (chars)", with different weights), at most
    `SESSION_TRACE_LIMIT` of them and `SESSION_TRACE_BYTES` in all, least recently used dropped first.
    `session` is `st.session_state` unless given, as for `add_session_model`.
    """
    if model_name in MODEL_NAMES:
        return _shipped_traces().get_or_compute(
            (model_name, text), lambda: _trace_text(_shipped_model(model_name), text, model_name)
        )
    return _session_entry(model_name, session).trace(text)


text_trace.clear = _shipped_traces.clear  # type: ignore[attr-defined]


def ablated_text_trace(
    model_name: str,
    text: str,
    units: tuple[tuple[int, int, int], ...],
    mode: str = "zero",
    *,
    session: MutableMapping | None = None,
) -> TextTrace:
    """`text_trace` with `units` (layer, direction, unit) switched off (`lstm_core.analysis.ablation`).

    A shipped model's ablated traces share `text_trace`'s cache, keyed by the units and mode too. A
    session model's are computed on each call: its session keeps traces of plain texts only.
    """
    model = language_model(model_name, session=session)
    units = tuple((int(layer), int(direction), int(unit)) for layer, direction, unit in units)

    def compute() -> TextTrace:
        trace = ablation.ablated_trace(model, text, units, mode)
        return TextTrace(trace, NextTokens.from_trace(model, trace), tuple(model.unknown_words(text)))

    if model_name in MODEL_NAMES:
        return _shipped_traces().get_or_compute((model_name, text, "switched off", units, mode), compute)
    return compute()


# ------------------------------------------------------------------------ session models
def _session_traces() -> BoundedCache[TextTrace]:
    """A session model's traces: `SESSION_TRACE_LIMIT` texts and `SESSION_TRACE_BYTES` at most.

    A trace larger than the whole budget (a long text read by a wide uploaded model) is handed to the
    page and not kept: it is computed again on the next rerun, which costs time while the page runs,
    but a session that stays open keeps no more than its budget, whatever model it uploaded.
    """
    return BoundedCache(SESSION_TRACE_LIMIT, SESSION_TRACE_BYTES)


@dataclass(eq=False)
class _SessionModel:
    model: LanguageModel
    name: str  # as the pages list it
    traces: BoundedCache[TextTrace] = field(default_factory=_session_traces)  # text -> trace

    def trace(self, text: str) -> TextTrace:
        return self.traces.get_or_compute(text, lambda: _trace_text(self.model, text, self.name))


def _session_models(session: MutableMapping | None) -> dict[str, _SessionModel]:
    """This session's models, oldest first (an empty dict, not stored, when it has none)."""
    session = st.session_state if session is None else session
    models = session.get(_SESSION_MODELS_KEY)
    return models if isinstance(models, dict) else {}


def _session_entry(name: str, session: MutableMapping | None) -> _SessionModel:
    entry = _session_models(session).get(name)
    if entry is None:
        raise ValueError(f"there is no model called {name!r}: neither shipped {MODEL_NAMES} nor in this session")
    return entry


def session_model_label(raw: object, kind: str = "words") -> str:
    """A short, safe name from any label: letters, digits, spaces and ``( ) - . , ' +`` only, at most
    `SESSION_LABEL_CHARS` characters; "my model (words)" (or chars) when nothing usable is left.

    >>> session_model_label("<b>my text</b> [x](javascript:alert(1))", "chars")
    'b my text b x (javascript alert(1))'
    """
    text = unicodedata.normalize("NFC", "" if raw is None else str(raw)[: 20 * SESSION_LABEL_CHARS])
    kept = "".join(
        character if unicodedata.category(character)[0] in "LNM" or character in _LABEL_MARKS else " "
        for character in text
    )
    label = " ".join(kept.split()).strip(" -.,'+")
    if len(label) > SESSION_LABEL_CHARS:
        label = label[: SESSION_LABEL_CHARS - 1].rstrip(" -.,'+") + "…"
    return label or f"my model ({kind})"


def add_session_model(model: LanguageModel, label: str | None = None, *, session: MutableMapping | None = None) -> str:
    """Keep `model` in this browser session only and return the name the pages list it under.

    The name is `session_model_label(label)` made unique: never a shipped model's name and never one
    this session gave out before (a link to an older model must not open a newer one), with " (2)",
    " (3)", ... added when needed. Keeps the newest `SESSION_MODEL_LIMIT` models.

    Args:
        model: any `LanguageModel` (any vocabulary, sizes, layers; named units optional).
        label: what the user should see, e.g. "my text (chars)"; None gives "my model (<kind>)".
        session: the session state to store into; `st.session_state` unless given (tests pass
            `AppTest.session_state`).
    """
    if not isinstance(model, LanguageModel):
        raise TypeError(f"model must be a LanguageModel, got {type(model).__name__}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a str or None, got {type(label).__name__}")
    session = st.session_state if session is None else session
    models = dict(_session_models(session))
    given = session.get(_SESSION_NAMES_KEY)
    given = list(given) if isinstance(given, list | tuple) else []
    base = session_model_label(label, model.kind)
    taken = {name.casefold() for name in (*MODEL_NAMES, *given, *models)}
    name, number = base, 1
    while name.casefold() in taken:
        number += 1
        name = f"{base} ({number})"
    models[name] = _SessionModel(model, name)
    while len(models) > SESSION_MODEL_LIMIT:
        del models[next(iter(models))]
    # New objects, then one assignment each: a rerun reading the old dict meanwhile sees a whole state.
    session[_SESSION_MODELS_KEY] = models
    session[_SESSION_NAMES_KEY] = [*given, name]
    return name


def remove_session_model(name: str, *, session: MutableMapping | None = None) -> bool:
    """Forget this session's model `name` and its traces; False when the session has no such model."""
    session = st.session_state if session is None else session
    models = dict(_session_models(session))
    if models.pop(name, None) is None:
        return False
    session[_SESSION_MODELS_KEY] = models
    return True


def session_model_names(session: MutableMapping | None = None) -> tuple[str, ...]:
    """This session's models, oldest first."""
    return tuple(_session_models(session))


def model_names() -> tuple[str, ...]:
    """Every model this session can open: the shipped ones, then its own."""
    return (*MODEL_NAMES, *session_model_names())


def next_word_model_names() -> tuple[str, ...]:
    """The models that guess the next token: every model but the part-of-speech taggers."""
    return tuple(name for name in model_names() if name not in TAGGERS)


def is_session_model(name: str) -> bool:
    return name not in MODEL_NAMES and name in _session_models(None)


# The line under each shipped model's radio option (read without loading the model).
SHIPPED_CAPTIONS = {
    "words": "real English and any name, one token per word",
    "chars": "real English and any name, one token per character",
    "story": "the story world's 341 words only, one token per word",
    "tagger": "part of speech of every word, 2 layers reading both ways",
    "tagger-forward": "part of speech of every word, 2 layers reading forwards only",
}


def model_caption(name: str) -> str:
    """The line under a model's radio option."""
    if not is_session_model(name):
        return SHIPPED_CAPTIONS.get(name, "")
    per = "one token per word" if language_model(name).kind == "words" else "one token per character"
    return f"yours, this session only, {per}"  # trained or uploaded
