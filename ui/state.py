"""What every page shares: the loaded models, cached traces, and the checks on what a user typed.

Streamlit-aware, but no layout: pages call these and arrange the widgets themselves. Pure helpers
(`clean_text`, `clamp_index`, `session_model_label`) are plain functions so they can be tested without
a server.

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
from collections import OrderedDict
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

import lstm_core
from lstm_core import LanguageModel, Trace

__all__ = [
    "DEFAULT_TEXT",
    "EXAMPLES",
    "MAX_TEXT_CHARS",
    "MODEL_LABELS",
    "MODEL_NAMES",
    "SESSION_MODEL_LIMIT",
    "CleanText",
    "TextTrace",
    "add_session_model",
    "clamp_index",
    "clean_text",
    "default_unit",
    "is_session_model",
    "language_model",
    "model_caption",
    "model_names",
    "remove_session_model",
    "session_model_label",
    "session_model_names",
    "text_trace",
]

MODEL_NAMES: tuple[str, ...] = tuple(lstm_core.PRETRAINED)
MODEL_LABELS = {"words": "Word model", "chars": "Character model"}
MAX_TEXT_CHARS = 5_000  # longer texts are cut here, with a notice; the pages window what they draw
EXAMPLES = {
    "Forget: a new subject": "Bob is a nice person. Dan, on the other hand, is evil.",
    "Input: keep the important fact": (
        "Bob knows swimming. He told me over the phone that he had served the navy for four long years."
    ),
    "Output: use what was kept": (
        "Bob single-handedly fought the enemy and died for his country. For his contributions, brave Bob."
    ),
}
DEFAULT_TEXT = EXAMPLES["Forget: a new subject"]


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


# Tests (and a developer after retraining) empty the shipped-model cache as before the session models.
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
    next_token_probs: np.ndarray  # (T, V) float32: distribution of the token after token t
    unknown: tuple[str, ...]  # words (or characters) the model does not know, as typed


def _trace_text(model: LanguageModel, text: str) -> TextTrace:
    trace = model.trace(text)
    probs = model.next_token_probs(trace).astype(np.float32)
    return TextTrace(trace, probs, tuple(model.unknown_words(text)))


@st.cache_resource(max_entries=256, show_spinner=False)
def _shipped_text_trace(model_name: str, text: str) -> TextTrace:
    """Cached by model and text. Traces are read-only, so sharing one object between sessions is safe
    and avoids pickling arrays on every rerun (which `st.cache_data` would do)."""
    return _trace_text(_shipped_model(model_name), text)


def text_trace(model_name: str, text: str, *, session: MutableMapping | None = None) -> TextTrace:
    """The trace of `text` by the model `model_name`, cached.

    A shipped model's traces sit in one cache shared by all sessions, keyed by (name, text): a name
    means the same weights everywhere. A session model's traces sit beside that model in its own
    session (two sessions may both have a "my text (chars)", with different weights), at most
    `SESSION_TRACE_LIMIT` of them and `SESSION_TRACE_BYTES` in all, least recently used dropped first.
    `session` is `st.session_state` unless given, as for `add_session_model`.
    """
    if model_name in MODEL_NAMES:
        return _shipped_text_trace(model_name, text)
    return _session_entry(model_name, session).trace(text)


text_trace.clear = _shipped_text_trace.clear  # type: ignore[attr-defined]


# ------------------------------------------------------------------------ session models
@dataclass(eq=False)
class _SessionModel:
    model: LanguageModel
    traces: OrderedDict[str, TextTrace] = field(default_factory=OrderedDict)  # text -> trace, oldest first

    def trace(self, text: str) -> TextTrace:
        if text in self.traces:
            self.traces.move_to_end(text)
            return self.traces[text]
        traced = _trace_text(self.model, text)
        self.traces[text] = traced
        while len(self.traces) > 1 and (
            len(self.traces) > SESSION_TRACE_LIMIT
            or sum(_trace_bytes(kept) for kept in self.traces.values()) > SESSION_TRACE_BYTES
        ):
            self.traces.popitem(last=False)
        return traced


def _trace_bytes(traced: TextTrace) -> int:
    trace = traced.trace
    arrays = (trace.inputs, trace.record, trace.hidden_buffer, traced.next_token_probs)
    return sum(array.nbytes for array in arrays)


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
    models[name] = _SessionModel(model)
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


def is_session_model(name: str) -> bool:
    return name not in MODEL_NAMES and name in _session_models(None)


def model_caption(name: str) -> str:
    """The line under a model's radio option."""
    kind = language_model(name).kind if is_session_model(name) else name
    per = "one token per word" if kind == "words" else "one token per character"
    return f"yours, this session only, {per}" if is_session_model(name) else per  # trained or uploaded


@dataclass(frozen=True)
class CleanText:
    text: str  # what the model reads; "" when nothing usable was typed
    notices: tuple[str, ...]  # what was changed, in words a student understands


# The widget keys /gates and /step share: what a student selected on one page is what the other opens.
SELECTION_KEYS = ("text", "model", "layer", "direction", "t", "unit")
_LAST_PAGE_KEY = "_lstm_last_selection_page"  # the page that last ran carry_selection in this session


def carry_selection(raw_params: Mapping[str, object], page: str, session: MutableMapping | None = None) -> bool:
    """Keep this session's selection on a page opened from another one; True when something was kept.

    Call before the page's widgets. When a student moves between /gates and /step (the step link, the
    sidebar), Streamlit drops query parameters that the previous page's widgets were bound to, and a
    bound widget whose parameter is missing starts from its default even with `persist_state`. Setting
    the kept values again before the widgets are drawn makes them count; a value the URL does give
    wins, so a shared link still opens exactly what it says. Only on arrival from another page: on a
    rerun of the same page the widgets hold their values themselves.
    """
    session = st.session_state if session is None else session
    arrived = session.get(_LAST_PAGE_KEY) != page
    session[_LAST_PAGE_KEY] = page
    carried = False
    for key in SELECTION_KEYS if arrived else ():
        if key not in raw_params and key in session:
            session[key] = session[key]
            carried = True
    return carried


def clean_text(raw: object, max_chars: int = MAX_TEXT_CHARS) -> CleanText:
    """Make any typed or linked text safe to trace: drop control and invisible format characters,
    fold whitespace runs, cut overlong text. Never raises."""
    text = "" if raw is None else str(raw)
    notices = []
    kept = []
    dropped = 0
    for character in text:
        category = unicodedata.category(character)
        if character in "\n\t\r":
            kept.append(" ")
        elif category in ("Cc", "Cs", "Co", "Cn") or (category == "Cf" and character != "\u200d"):
            dropped += 1
        else:
            kept.append(character)
    if dropped:
        notices.append(f"{dropped} invisible control character(s) were removed.")
    text = " ".join("".join(kept).split())
    if len(text) > max_chars:
        notices.append(f"The text has {len(text):,} characters; only the first {max_chars:,} are used.")
        text = text[:max_chars].rstrip()
    return CleanText(text, tuple(notices))


def clamp_index(value: object, size: int, default: int = 0) -> tuple[int, str | None]:
    """An index from a URL or widget, forced into 0..size-1; with a notice when it had to change."""
    try:
        index = int(str(value).strip())
    except (TypeError, ValueError):
        return default, f"{value!r} is not a whole number; showing {default} instead."
    if size <= 0:
        return 0, None
    if not 0 <= index < size:
        fixed = min(max(index, 0), size - 1)
        return fixed, f"{index} is out of range (0 to {size - 1}); showing {fixed} instead."
    return index, None
