"""The notice under a text about the words a model has no vocabulary row for, saying what it did with
them: read as <unk>, or read from their spelling (and, for a first name, its birth record).

Pure functions (no Streamlit), tested without a server. The words are the user's own: the returned
text is plain, to be shown through `explain.as_markdown`.
"""

from __future__ import annotations

from collections.abc import Sequence

from lstm_core.models.language_model import LanguageModel
from lstm_core.models.subwords import NAMES_NOTE
from lstm_core.models.tokenize import UNKNOWN_TOKEN

__all__ = ["vocabulary_notice", "word_description", "NAMES_NOTE", "MAX_WORDS_SHOWN", "MAX_WORDS_DESCRIBED"]

MAX_WORDS_SHOWN = 12
MAX_WORDS_DESCRIBED = 4  # each described word costs a pass over the vocabulary's vectors


def word_description(model: LanguageModel, word: str) -> str:
    """“priya” (a first name in the birth records, 100% girls; reads most like “anna”, “maria”)."""
    reading = model.read_word(word)
    parts = []
    if reading.girls_share is not None:
        parts.append(f"a first name in the birth records, {100 * reading.girls_share:.0f}% girls")
    nearest = [token for token, _ in reading.nearest[:2]]
    if nearest:
        parts.append("reads most like " + ", ".join(f"“{token}”" for token in nearest))
    return f"“{word}”" + (f" ({'; '.join(parts)})" if parts else "")


def vocabulary_notice(
    model: LanguageModel, unknown: Sequence[str], model_label: str, prefix: str = "", tokens: Sequence[str] = ()
) -> str | None:
    """One sentence on the words of a text outside the model's vocabulary, or None when there are none.

    For a model that reads spelling, the first few words say what the model made of them. `tokens`
    (the trace's) lets the sentence say when the model knows none of the text.
    """
    if not unknown:
        return None
    lead = f"{prefix}: " if prefix else ""
    more = " …" if len(unknown) > MAX_WORDS_SHOWN else ""
    if not model.reads_spelling:
        shown = ", ".join(f"“{word}”" for word in unknown[:MAX_WORDS_SHOWN])
        if tokens and all(token == UNKNOWN_TOKEN for token in tokens):
            return f"{lead}The {model_label} model knows none of this text (read as <unk>): {shown}{more}"
        return f"{lead}Not in the {model_label} model's vocabulary (read as <unk>): {shown}{more}"
    described = [word_description(model, word) for word in unknown[:MAX_WORDS_DESCRIBED]]
    rest = [f"“{word}”" for word in unknown[MAX_WORDS_DESCRIBED:MAX_WORDS_SHOWN]]
    shown = ", ".join(described + rest)
    note = f" {NAMES_NOTE}" if any("birth records" in text for text in described) else ""
    return (
        f"{lead}New to the {model_label} model, which reads them from their spelling (it can read them but never "
        f"guess them as a next word): {shown}{more}.{note}"
    )
