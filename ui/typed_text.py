"""What a student types or a link carries, made safe to trace, and the texts the pages open with.

Pure functions, no Streamlit: tested without a server.

>>> clean_text("Bob\\x00 is\\n nice.").text
'Bob is nice.'
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = ["DEFAULT_TEXT", "EXAMPLES", "MAX_TEXT_CHARS", "CleanText", "clean_text"]

MAX_TEXT_CHARS = 5_000  # what a text box holds; a longer text is cut here, with a notice, before it is cleaned
# The forget example changes the subject's gender too (Mary, then Dan): with two men ("Bob ... Dan") the
# subject-gender unit would keep its value across the change, and the default view would show nothing
# being forgotten.
EXAMPLES = {
    "Forget: a new subject": "Mary is a nice person. Dan, on the other hand, is evil.",
    "Input: keep the important fact": (
        "Bob knows swimming. He told me over the phone that he had served the navy for four long years."
    ),
    "Output: use what was kept": (
        "Bob single-handedly fought the enemy and died for his country. For his contributions, brave Bob."
    ),
}
DEFAULT_TEXT = EXAMPLES["Forget: a new subject"]


@dataclass(frozen=True)
class CleanText:
    text: str  # what the model reads; "" when nothing usable was typed
    notices: tuple[str, ...]  # what was changed, in words a student understands


def clean_text(raw: object, max_chars: int = MAX_TEXT_CHARS) -> CleanText:
    """Make any typed or linked text safe to trace: cut overlong text, drop control and invisible
    format characters, fold whitespace runs. Never raises.

    The cut comes first: cleaning looks at every character in Python, and a pasted book must cost no
    more than `max_chars` characters do (the text boxes hold as many). Cleaning only ever shortens a
    text, so what is left fits too.
    """
    text = "" if raw is None else str(raw)
    notices = []
    if len(text) > max_chars:
        notices.append(f"The text has {len(text):,} characters; only the first {max_chars:,} are used.")
        text = text[:max_chars]
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
    return CleanText(" ".join("".join(kept).split()), tuple(notices))
