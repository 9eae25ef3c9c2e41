"""What every page shares: the loaded models, cached traces, and the checks on what a user typed.

Streamlit-aware, but no layout: pages call these and arrange the widgets themselves. Pure helpers
(`clean_text`, `clamp_index`) are plain functions so they can be tested without a server.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import streamlit as st

import lstm_core
from lstm_core import LanguageModel, Trace

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


@st.cache_resource(show_spinner="Loading the model…")
def language_model(name: str) -> LanguageModel:
    """The shipped model `name`, loaded once per server process and shared read-only."""
    return lstm_core.load_pretrained(name)


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


@st.cache_resource(max_entries=256, show_spinner=False)
def text_trace(model_name: str, text: str) -> TextTrace:
    """Cached by model and text. Traces are read-only, so sharing one object between sessions is safe
    and avoids pickling arrays on every rerun (which `st.cache_data` would do)."""
    model = language_model(model_name)
    trace = model.trace(text)
    probs = model.next_token_probs(trace).astype(np.float32)
    return TextTrace(trace, probs, tuple(model.unknown_words(text)))


@dataclass(frozen=True)
class CleanText:
    text: str  # what the model reads; "" when nothing usable was typed
    notices: tuple[str, ...]  # what was changed, in words a student understands


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
