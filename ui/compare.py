"""What /compare shows: two texts read by the same model, aligned token by token, and where their traces part.

Pure functions: the alignment of two token sequences (`cached_alignment` keeps it in Streamlit's cache
across reruns), the difference B − A of one signal at aligned tokens, the sentences that say where the
traces start to differ, and the Plotly figure of that difference. The page draws the two texts' own
heatmaps with `ui.figures.gate_heatmap`.

An LSTM reads left to right, so two texts that start alike have identical states over the shared start;
what differs later is what the model carried over (Mary's gender) or read afterwards (Dan).

>>> alignment = align_tokens(["bob", "is", "nice"], ["bob", "is", "nice", ".", "dan"])
>>> alignment.kinds
('same', 'same', 'same', 'only_b', 'only_b')
>>> alignment.a_index.tolist(), alignment.b_index.tolist()
([0, 1, 2, -1, -1], [0, 1, 2, 3, 4])
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui import palette
from ui.explain import as_markdown, token_name
from ui.figures import (
    MAX_CELLS_PER_FIGURE,
    SIGNAL_TITLES,
    gate_heatmap,
    outline,
    plotly_figure,
    signed_limit,
    signed_scale,
    token_labels,
    unit_axis_marks,
    unit_order,
)

__all__ = [
    "COLUMN_KINDS", "DIFFERENCE_TOLERANCE", "MAX_MIDDLE_CELLS", "PRESETS", "SIGNAL_NOUNS", "UNIT_ORDERS", "UNIT_ORDER_TITLES",
    "Alignment", "DifferenceSummary", "align_tokens", "cached_alignment", "aligned_values", "aligned_difference", "side_index",
    "compare_unit_order", "difference_limit", "summarize_difference", "summary_sentences", "column_labels",
    "alignment_markdown", "difference_heatmap", "side_window", "side_heatmap", "shared_signed_limit",
]  # fmt: skip

# What a column of the alignment holds: the same token in both texts, different tokens at the same place
# (a word swapped for another), or a token only one text has.
COLUMN_KINDS = ("same", "changed", "only_a", "only_b")
# Differences below this are float rounding, not the model: the same prefix traced as part of a longer
# text gives states equal to about 1e-6 (the input projection is one matrix product over all tokens).
DIFFERENCE_TOLERANCE = 1e-3
# difflib compares the differing middle of two texts in about len(a) * len(b) steps; a 5,000-character
# text on the character model would take seconds. Beyond this many pairs the middle is one changed block.
MAX_MIDDLE_CELLS = 250_000
SIGNAL_NOUNS = {
    "forget": "forget gate", "input": "input gate", "output": "output gate", "candidate": "candidate",
    "cell": "cell state", "hidden": "hidden state",
}  # fmt: skip
UNIT_ORDERS = {
    "difference": "by the largest difference B − A",
    "variance": "by how much the signal varies in A and B",
    "index": "by unit number",
}
# What the unit axis of a heatmap says about the order of its rows, per key of `UNIT_ORDERS`.
UNIT_ORDER_TITLES = {
    "difference": "unit (largest |B − A| on top)",
    "variance": "unit (most varying in A and B on top)",
    "index": "unit (in number order)",
}
# name -> (text A, text B): each pair differs in one way a student can name.
PRESETS = {
    "A new subject": ("Bob is a nice person.", "Bob is a nice person. Dan, on the other hand, is evil."),
    "Same story, other gender": (
        "Bob is a nice person. Dan, on the other hand, is evil.",
        "Mary is a nice person. Dan, on the other hand, is evil.",
    ),
    "Inside a quotation": ("Bob said that he is happy.", 'Bob said: "I am happy."'),
}


# --------------------------------------------------------------------------------- alignment
@dataclass(frozen=True)
class Alignment:
    """Two token sequences laid side by side: column c holds A's token `a_index[c]` and B's token
    `b_index[c]`, -1 where that text has no token there. Both indices only grow along the columns.

    a_index, b_index: (C,) int64; kinds: C of `COLUMN_KINDS`; shared_prefix: how many tokens both texts
    start with.
    """

    a_index: np.ndarray
    b_index: np.ndarray
    kinds: tuple[str, ...]
    shared_prefix: int

    def __len__(self) -> int:
        return len(self.kinds)

    @property
    def aligned(self) -> np.ndarray:
        """(C,) bool: the columns where both texts have a token (kind "same" or "changed")."""
        return (self.a_index >= 0) & (self.b_index >= 0)

    @property
    def identical(self) -> bool:
        return all(kind == "same" for kind in self.kinds)

    @property
    def parted_at(self) -> int | None:
        """The first column whose tokens differ, None when the texts are the same."""
        return next((column for column, kind in enumerate(self.kinds) if kind != "same"), None)


def align_tokens(a: Sequence[str], b: Sequence[str], max_middle_cells: int = MAX_MIDDLE_CELLS) -> Alignment:
    """Align two token sequences on their shared tokens.

    The shared start and the shared end are matched first (the usual case: a sentence and the same
    sentence continued, or with one word swapped), then what is left in between either word for word or
    by `difflib.SequenceMatcher`, whichever matches more tokens (word for word alone when the middle is
    longer than `max_middle_cells` pairs). A replaced block of equal length is paired token by token ("changed": Mary for Bob); a block
    of unequal length is left unpaired ("only_a" then "only_b"), as are insertions and deletions.

    >>> align_tokens(["mary", "is", "kind"], ["bob", "is", "kind"]).kinds
    ('changed', 'same', 'same')
    >>> align_tokens(["a", "b"], ["x", "y", "z"]).kinds
    ('only_a', 'only_a', 'only_b', 'only_b', 'only_b')
    """
    a, b = list(a), list(b)
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(a), len(b)) - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    middle_a, middle_b = a[prefix : len(a) - suffix], b[prefix : len(b) - suffix]
    opcodes = _word_for_word(middle_a, middle_b)
    if middle_a and middle_b and len(middle_a) * len(middle_b) <= max_middle_cells:
        # autojunk off: with it, tokens frequent in a long text (".", "the", every letter) would never match
        matched = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False).get_opcodes()
        # difflib looks for the longest shared runs; in a repetitive text ("Mary went ... Mary went ...", with
        # some names swapped) that shifts one text by a sentence. Word for word wins when it matches more.
        if _matched_tokens(matched) >= _matched_tokens(opcodes):
            opcodes = matched

    a_index, b_index, kinds = list(range(prefix)), list(range(prefix)), ["same"] * prefix
    for operation, a_start, a_stop, b_start, b_stop in opcodes:
        a_start, a_stop, b_start, b_stop = a_start + prefix, a_stop + prefix, b_start + prefix, b_stop + prefix
        if operation in ("equal", "replace") and a_stop - a_start == b_stop - b_start:
            a_index += range(a_start, a_stop)
            b_index += range(b_start, b_stop)
            kinds += ["same" if operation == "equal" else "changed"] * (a_stop - a_start)
            continue
        a_index += [*range(a_start, a_stop), *[-1] * (b_stop - b_start)]
        b_index += [*[-1] * (a_stop - a_start), *range(b_start, b_stop)]
        kinds += ["only_a"] * (a_stop - a_start) + ["only_b"] * (b_stop - b_start)
    a_index += range(len(a) - suffix, len(a))
    b_index += range(len(b) - suffix, len(b))
    kinds += ["same"] * suffix
    return Alignment(np.array(a_index, dtype=np.int64), np.array(b_index, dtype=np.int64), tuple(kinds), prefix)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_alignment(tokens_a: tuple[str, ...], tokens_b: tuple[str, ...]) -> Alignment:
    """`align_tokens`, kept across reruns: a long pair of texts takes a moment to align."""
    return align_tokens(tokens_a, tokens_b)


def _word_for_word(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib-style opcodes pairing a[i] with b[i], and what the longer one has beyond the shorter."""
    shared = min(len(a), len(b))
    opcodes = []
    for index in range(shared):
        operation = "equal" if a[index] == b[index] else "replace"
        if opcodes and opcodes[-1][0] == operation:
            opcodes[-1] = (operation, opcodes[-1][1], index + 1, opcodes[-1][3], index + 1)
        else:
            opcodes.append((operation, index, index + 1, index, index + 1))
    if len(a) > shared:
        opcodes.append(("delete", shared, len(a), shared, shared))
    elif len(b) > shared:
        opcodes.append(("insert", shared, shared, shared, len(b)))
    return opcodes


def _matched_tokens(opcodes: Sequence[tuple[str, int, int, int, int]]) -> int:
    return sum(a_stop - a_start for operation, a_start, a_stop, _, _ in opcodes if operation == "equal")


def aligned_values(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """(C, H) float32: row c is `values[index[c]]`, NaN where `index[c]` is -1.

    Args:
        values: (T, H) one signal of one text; index: (C,) `Alignment.a_index` or `b_index`.
    """
    values = np.asarray(values, dtype=np.float32)
    index = np.asarray(index, dtype=np.int64)
    rows = values[np.clip(index, 0, max(len(values) - 1, 0))] if len(values) else np.zeros((len(index), 0))
    return np.where((index >= 0)[:, None], rows, np.nan).astype(np.float32)


def aligned_difference(values_a: np.ndarray, values_b: np.ndarray, alignment: Alignment) -> np.ndarray:
    """(C, H) float32 B − A at every column where both texts have a token, NaN elsewhere.

    Args:
        values_a: (T_a, H) one signal of text A; values_b: (T_b, H) the same signal of text B.
    """
    return aligned_values(values_b, alignment.b_index) - aligned_values(values_a, alignment.a_index)


def side_index(alignment: Alignment, column: int, side: str) -> int:
    """The token of text `side` ("a" or "b") at `column`, or the nearest one before it (0 if none):
    what to select when that text opens in /gates."""
    index = alignment.a_index if side == "a" else alignment.b_index
    before = index[: column + 1]
    found = before[before >= 0]
    return int(found[-1]) if len(found) else 0


def compare_unit_order(order: str, values_a: np.ndarray, values_b: np.ndarray, difference: np.ndarray) -> np.ndarray:
    """(H,) unit indices in display order, for a key of `UNIT_ORDERS`.

    "difference": largest |B − A| over the aligned columns first, ties (a shared start and nothing else
    aligned) by |B − A| between the texts' last tokens; "variance": largest variance of the signal over both texts first; "index": 0, 1, 2, ...

    Args:
        values_a: (T_a, H); values_b: (T_b, H); difference: (C, H) from `aligned_difference`.
    """
    if order == "difference":
        magnitude = np.abs(np.asarray(difference, dtype=np.float64))
        score = np.max(np.where(np.isfinite(magnitude), magnitude, 0.0), axis=0, initial=0.0)
        score[score <= DIFFERENCE_TOLERANCE] = 0.0  # rounding noise must not decide the order
        at_the_end = np.abs(np.asarray(values_b, np.float64)[-1] - np.asarray(values_a, np.float64)[-1])
        return np.lexsort((-at_the_end, -score))  # ties (a shared prefix differs nowhere): by the end states
    if order == "variance":
        return unit_order(np.concatenate([values_a, values_b]), "variance")
    if order == "index":
        return np.arange(np.asarray(values_a).shape[1])
    raise ValueError(f"order must be one of {list(UNIT_ORDERS)}, got {order!r}")


def difference_limit(difference: np.ndarray, floor: float = 0.1) -> float:
    """Where the diverging colour scale of a difference ends: the 98th percentile of its finite |values|,
    at least `floor` (so rounding noise of 1e-6 stays white instead of filling the scale)."""
    magnitude = np.abs(np.asarray(difference, dtype=np.float32))
    magnitude = magnitude[np.isfinite(magnitude)]
    return max(float(np.percentile(magnitude, 98)) if magnitude.size else 0.0, floor)


def side_window(alignment: Alignment, side: str, start: int, stop: int) -> tuple[int, int]:
    """[first, last + 1) of the tokens of text `side` ("a" or "b") in columns [start, stop); (0, 0) when
    that text has none there (the window shows only what the other text goes on with)."""
    index = (alignment.a_index if side == "a" else alignment.b_index)[start:stop]
    present = index[index >= 0]
    return (int(present[0]), int(present[-1]) + 1) if len(present) else (0, 0)


def shared_signed_limit(values_a: np.ndarray, values_b: np.ndarray) -> float:
    """`figures.signed_limit` over both texts together, so A's and B's heatmaps share one colour scale."""
    return signed_limit(np.concatenate([np.asarray(values_a, np.float32), np.asarray(values_b, np.float32)]))


def side_heatmap(side: str, values: np.ndarray, tokens: Sequence[str], units: np.ndarray, signal: str,
                 **options) -> go.Figure:  # fmt: skip
    """`figures.gate_heatmap` of one text, titled with its side: "A · Cell state c: ...".

    Args:
        side: "A" or "B"; values: (T, H) the window of that text; `options` go to `gate_heatmap`.
    """
    figure = gate_heatmap(values, tokens, units, signal, **options)
    figure.layout.title.text = f"Text {side} · {SIGNAL_TITLES[signal]}"
    return figure


# --------------------------------------------------------------------------------- in words
@dataclass(frozen=True)
class DifferenceSummary:
    """The numbers the sentences under the heatmaps are made of, for one signal.

    first_difference: the first aligned column where some unit's |B − A| exceeds the tolerance.
    largest: (column, unit, B − A, A's value, B's value) of the largest |B − A| at an aligned column.
    faded_to: B − A of that same unit at the last aligned column, when that column comes later.
    final: (unit, A's value at A's last token, B's value at B's last token) of the unit that differs
        most once each text is read to its end.
    """

    signal: str
    first_difference: int | None
    largest: tuple[int, int, float, float, float] | None
    faded_to: tuple[int, float] | None
    final: tuple[int, float, float] | None
    tolerance: float = DIFFERENCE_TOLERANCE
    named: tuple[tuple[int, int, float, float], ...] = ()  # per named unit that differs: (unit, column of its
    # largest |B − A|, that B − A, B − A at the last aligned column)


def summarize_difference(
    alignment: Alignment, values_a: np.ndarray, values_b: np.ndarray, signal: str,
    tolerance: float = DIFFERENCE_TOLERANCE, named_units: Sequence[int] = (),
) -> DifferenceSummary:  # fmt: skip
    """Where and by how much one signal differs between two aligned traces.

    Args:
        values_a: (T_a, H) the signal over text A; values_b: (T_b, H) over text B (same H, T ≥ 1 each).
        named_units: units worth a sentence of their own (the subject-gender unit), when they differ.
    """
    values_a = np.asarray(values_a, dtype=np.float32)
    values_b = np.asarray(values_b, dtype=np.float32)
    difference = aligned_difference(values_a, values_b, alignment)
    magnitude = np.where(np.isfinite(difference), np.abs(difference), 0.0)  # (C, H)
    per_column = magnitude.max(axis=1, initial=0.0)
    above = np.flatnonzero(per_column > tolerance)
    first_difference = int(above[0]) if len(above) else None
    largest = faded_to = None
    if first_difference is not None:
        column, unit = np.unravel_index(int(np.argmax(magnitude)), magnitude.shape)
        column, unit = int(column), int(unit)
        a_value = float(values_a[alignment.a_index[column], unit])
        b_value = float(values_b[alignment.b_index[column], unit])
        largest = (column, unit, float(difference[column, unit]), a_value, b_value)
        last_aligned = int(np.flatnonzero(alignment.aligned)[-1])
        if last_aligned > column:
            faded_to = (last_aligned, float(difference[last_aligned, unit]))
    named = []
    for unit in named_units if first_difference is not None else ():
        column = int(np.argmax(magnitude[:, unit]))
        if magnitude[column, unit] > tolerance:
            last_aligned = int(np.flatnonzero(alignment.aligned)[-1])
            named.append((int(unit), column, float(difference[column, unit]), float(difference[last_aligned, unit])))
    final = None
    if len(values_a) and len(values_b) and values_a.shape[1]:
        end_difference = values_b[-1].astype(np.float64) - values_a[-1]
        unit = int(np.argmax(np.abs(end_difference)))
        final = (unit, float(values_a[-1, unit]), float(values_b[-1, unit]))
    return DifferenceSummary(signal, first_difference, largest, faded_to, final, tolerance, tuple(named))


def _unit_name(unit: int, unit_names: Mapping[int, str]) -> str:
    return f"unit {unit}" + (f" ({unit_names[unit]})" if unit in unit_names else "")


def _signed(value: float) -> str:
    """+1.30, -0.62, and 0.00 rather than -0.00."""
    text = f"{value:+.2f}"
    return "0.00" if text in ("+0.00", "-0.00") else text


def _quote(token: str) -> str:
    return f"“{token_name(token)}”"


def _column_words(alignment: Alignment, column: int, tokens_a: Sequence[str], tokens_b: Sequence[str]) -> str:
    """A column in words: “dan” (token 6 of both), or “mary” in A, “bob” in B (token 0)."""
    a, b = int(alignment.a_index[column]), int(alignment.b_index[column])
    if alignment.kinds[column] == "same":
        where = f"token {a}" if a == b else f"token {a} of A, {b} of B"
        return f"{_quote(tokens_a[a])} ({where})"
    where = f"token {a}" if a == b else f"tokens {a} and {b}"
    return f"{_quote(tokens_a[a])} in A and {_quote(tokens_b[b])} in B ({where})"


def summary_sentences(
    summary: DifferenceSummary, alignment: Alignment, tokens_a: Sequence[str], tokens_b: Sequence[str],
    unit_names: Mapping[int, str] | None = None,
) -> list[str]:  # fmt: skip
    """Plain sentences (tokens in curly quotes, as read; escape with `as_markdown` before drawing) saying
    where the texts part, where the traces start to differ, and which unit differs most.

    >>> alignment = align_tokens(["bob", "is", "kind"], ["bob", "is", "kind", "dan"])
    >>> summary = DifferenceSummary("cell", None, None, None, (41, -0.6, 0.7))
    >>> summary_sentences(summary, alignment, ["bob", "is", "kind"], ["bob", "is", "kind", "dan"])[0]
    'The two texts agree up to token 2 (“bob” … “kind”): the model reads from left to right, so its states there are the same in A and B.'
    """
    unit_names = dict(unit_names or {})
    noun = SIGNAL_NOUNS[summary.signal]
    tolerance = f"{summary.tolerance:g}"
    if alignment.identical:
        return ["The two texts are the same, so the model's traces of them are the same too."]
    sentences = []
    prefix = alignment.shared_prefix
    if prefix:
        shared = f"{_quote(tokens_a[0])} … {_quote(tokens_a[prefix - 1])}" if prefix > 1 else _quote(tokens_a[0])
        if summary.first_difference is None or summary.first_difference >= prefix:
            sentences.append(f"The two texts agree up to token {prefix - 1} ({shared}): the model reads from left to "
                             "right, so its states there are the same in A and B.")  # fmt: skip
        else:
            sentences.append(f"The two texts agree up to token {prefix - 1} ({shared}), yet the {noun} differs from "
                             f"token {summary.first_difference} on: this layer also sees what comes later "
                             "(it reads the text backwards, or reads a layer that does).")  # fmt: skip
    else:
        sentences.append("The two texts differ from the first token on.")
    parted = alignment.parted_at
    kind = alignment.kinds[parted]
    if kind == "changed":
        sentences.append(f"At token {alignment.a_index[parted]} A reads {_quote(tokens_a[alignment.a_index[parted]])} "
                         f"where B reads {_quote(tokens_b[alignment.b_index[parted]])}.")  # fmt: skip
    else:
        side, other, tokens = ("B", "A", tokens_b) if kind == "only_b" else ("A", "B", tokens_a)
        run = next((index for index in range(parted, len(alignment)) if alignment.kinds[index] != kind), len(alignment))
        first = (alignment.b_index if kind == "only_b" else alignment.a_index)[parted]
        count = run - parted
        lead = f"{other} ends there; {side} goes on with" if run == len(alignment) else f"Then {side} has"
        what = "token" if count == 1 else "tokens"
        sentences.append(f"{lead} {count} {what} {other} does not have, from {_quote(tokens[first])}.")
    if summary.largest is not None:
        column, unit, difference, a_value, b_value = summary.largest
        direction = "higher" if difference > 0 else "lower"
        at = _column_words(alignment, column, tokens_a, tokens_b)
        if summary.first_difference not in (column, parted):
            first = _column_words(alignment, summary.first_difference, tokens_a, tokens_b)
            sentences.append(f"Where the texts line up, the {noun} first differs at {first}.")
        sentences.append(f"The largest difference where the texts line up is at {at}: {_unit_name(unit, unit_names)}'s "
                         f"{noun} is {abs(difference):.2f} {direction} in B than in A ({a_value:.2f} in A, "
                         f"{b_value:.2f} in B).")  # fmt: skip
        if summary.faded_to is not None and abs(summary.faded_to[1]) < abs(difference) / 2:
            last, faded = summary.faded_to
            sentences.append(f"By the last token the texts share, {_column_words(alignment, last, tokens_a, tokens_b)}, "
                             f"that difference is down to {_signed(faded)}.")  # fmt: skip
    elif alignment.aligned.any():
        sentences.append(f"Where the texts line up, the {noun} is the same in A and B (within {tolerance}).")
    last_aligned = int(np.flatnonzero(alignment.aligned)[-1]) if alignment.aligned.any() else None
    for unit, column, difference, at_last in summary.named:
        if summary.largest is not None and unit == summary.largest[1]:
            continue  # already said
        sentence = (f"{_unit_name(unit, unit_names)[0].upper()}{_unit_name(unit, unit_names)[1:]}: B − A is "
                    f"largest at {_column_words(alignment, column, tokens_a, tokens_b)}, {_signed(difference)}")  # fmt: skip
        if last_aligned is not None and last_aligned != column:
            sentence += f"; at the last token the texts share it is {_signed(at_last)}"
        sentences.append(sentence + ".")
    if summary.final is not None:
        unit, a_value, b_value = summary.final
        if abs(b_value - a_value) <= summary.tolerance:
            sentences.append(f"After their last tokens, A and B end with the same {noun} (within {tolerance}).")
        else:
            sentences.append(f"After their last tokens, {_unit_name(unit, unit_names)}'s {noun} differs most: A ends "
                             f"at {a_value:.2f}, B at {b_value:.2f} (B − A = {_signed(b_value - a_value)}).")  # fmt: skip
    return sentences


def _shown(token: str, kind: str) -> str:
    if kind == "chars":
        return {" ": "·", "\n": "⏎"}.get(token, token)
    return token


def alignment_markdown(
    alignment: Alignment, tokens_a: Sequence[str], tokens_b: Sequence[str], *, kind: str = "words",
    start: int = 0, stop: int | None = None,
) -> tuple[str, str]:  # fmt: skip
    """Texts A and B as escaped Markdown over columns [start, stop): tokens only one text has on a grey
    background (as their columns in the difference map), tokens swapped for another on blue, shared ones
    plain; "…" where the window cuts. Neither is a sign or gate colour: these mark places, not values."""
    stop = len(alignment) if stop is None else stop
    lines = []
    for index, tokens in ((alignment.a_index, tokens_a), (alignment.b_index, tokens_b)):
        pieces = []
        for column in range(start, stop):
            if index[column] < 0:
                continue
            shown = as_markdown(_shown(tokens[index[column]], kind))
            column_kind = alignment.kinds[column]
            if column_kind == "changed":
                shown = f":blue-background[**{shown}**]"
            elif column_kind != "same":
                shown = f":gray-background[**{shown}**]"
            pieces.append(shown)
        text = ("" if kind == "chars" else " ").join(pieces)
        lines.append(("… " if start > 0 else "") + text + (" …" if stop < len(alignment) else ""))
    return lines[0], lines[1]


# ----------------------------------------------------------------------------------- figure
def column_labels(alignment: Alignment, tokens_a: Sequence[str], tokens_b: Sequence[str]) -> list[str]:
    """A label per column, as plain text: the shared token, "a→b" for a swapped one, "+b" for a token
    only B has and "−a" for one only A has."""
    labels = []
    for a, b, kind in zip(alignment.a_index, alignment.b_index, alignment.kinds, strict=True):
        if kind == "same":
            labels.append(tokens_a[a])
        elif kind == "changed":
            labels.append(f"{tokens_a[a]}→{tokens_b[b]}")
        elif kind == "only_b":
            labels.append(f"+{tokens_b[b]}")
        else:
            labels.append(f"−{tokens_a[a]}")
    return labels


_UNALIGNED_FILL = palette.NO_VALUE  # grey: no value, on neither colour scale
_ONLY_LABEL = {"only_a": "only in A", "only_b": "only in B"}
_PLOT_PIXELS = 800  # about how wide the plot area of the full-width difference chart is drawn


def difference_heatmap(
    a_values: np.ndarray,
    b_values: np.ndarray,
    labels: Sequence[str],
    kinds: Sequence[str],
    units: np.ndarray,
    signal: str,
    *,
    start: int = 0,
    selected: tuple[int, int] | None = None,
    unit_names: Mapping[int, str] | None = None,
    limit: float | None = None,
    units_title: str | None = None,
) -> go.Figure:
    """B − A of one signal over a window of aligned columns: units along y, columns along x, on
    `figures.signed_scale` (orange where B is higher, purple where it is lower, white where they agree);
    columns only one text has are grey and labelled "only in A" / "only in B".

    Args:
        a_values, b_values: (C, H) the signal of each text at each column (`aligned_values`), NaN where
            that text has no token.
        labels: (C,) plain column labels (`column_labels`), escaped here; kinds: (C,) `Alignment.kinds`.
        units: (K,) units to draw, top row first; signal: a key of `SIGNAL_NOUNS`.
        start: the column index of the first column; selected: (column, unit) to outline, its A, B and
            B − A written under the title.
        limit: the colour scale spans ±limit (default `difference_limit` of the drawn values).
        units_title: the unit axis's title, saying how the rows are ordered (`UNIT_ORDER_TITLES`).
    """
    a_values = np.asarray(a_values, dtype=np.float32)
    b_values = np.asarray(b_values, dtype=np.float32)
    units = np.asarray(units, dtype=np.int64)
    length, rows = a_values.shape[0], len(units)
    if b_values.shape != a_values.shape or len(labels) != length or len(kinds) != length:
        raise ValueError(f"{a_values.shape} and {b_values.shape} values for {len(labels)} labels, {len(kinds)} kinds")
    if signal not in SIGNAL_NOUNS:
        raise ValueError(f"signal must be one of {tuple(SIGNAL_NOUNS)}, got {signal!r}")
    if rows * length > MAX_CELLS_PER_FIGURE:
        raise ValueError(f"{rows} units x {length} columns is more than {MAX_CELLS_PER_FIGURE} cells; draw a window")
    unit_names = dict(unit_names or {})
    a_rows = np.ascontiguousarray(a_values[:, units].T)  # (K, C)
    b_rows = np.ascontiguousarray(b_values[:, units].T)
    z = b_rows - a_rows  # NaN where either text has no token: a hole, filled by the grey layer below
    limit = difference_limit(z) if limit is None else max(float(limit), 1e-6)
    positions = np.arange(start, start + length, dtype=np.int32)
    escaped = token_labels(labels)
    tick_text = [
        f"<i>{label}</i>" if kind in _ONLY_LABEL else f"<b>{label}</b>" if kind == "changed" else label
        for label, kind in zip(escaped, kinds, strict=True)
    ]
    customdata = np.stack([a_rows, b_rows, np.repeat(units[:, None], length, axis=1).astype(np.float32)], axis=-1)
    heatmap = {
        "type": "heatmap", "z": z, "x": positions, "y": np.arange(rows, dtype=np.int32), **signed_scale(limit),
        "customdata": customdata,  # %{x} prints the column's tick text, %{x:d} its number
        "hovertemplate": (f"%{{x}} (column %{{x:d}})<br>unit %{{customdata[2]}}<br>{SIGNAL_NOUNS[signal]}: "
                          "A %{customdata[0]:.3f}, B %{customdata[1]:.3f}<br>B − A = %{z:.3f}<extra></extra>"),
        "hoverongaps": False,
    }  # fmt: skip
    heatmap["colorbar"] |= {"len": 0.9, "title": {"text": "B − A"}}
    # Columns only one text has get a flat grey layer of their own (Plotly draws NaN cells as holes)
    unaligned = np.array([kind in _ONLY_LABEL for kind in kinds])
    grey_layer = {
        "type": "heatmap", "z": np.where(unaligned[None, :], 0.0, np.nan).astype(np.float32).repeat(rows, axis=0),
        "x": positions, "y": np.arange(rows, dtype=np.int32), "colorscale": [[0, _UNALIGNED_FILL], [1, _UNALIGNED_FILL]],
        "showscale": False, "hoverinfo": "skip", "hoverongaps": False,
    }  # fmt: skip
    shapes, annotations = [], []
    column_pixels = _PLOT_PIXELS / max(length, 1)
    for first, last, kind in _runs(kinds):
        if kind not in _ONLY_LABEL:
            continue
        shapes.append(outline(start + first - 0.5, start + last + 0.5, -0.5, rows - 0.5, "#7f7f7f", 1, "dot"))
        # "only in B" over a block wide enough for it, "B" over a narrower one: neighbouring labels must not overlap
        block_pixels = (last - first + 1) * column_pixels
        text = _ONLY_LABEL[kind] if block_pixels >= 70 else kind[-1].upper() if block_pixels >= 12 else ""
        if text:
            annotations.append({
                "x": start + (first + last) / 2, "y": -0.5, "xref": "x", "yref": "y", "yanchor": "bottom",
                "text": text, "showarrow": False, "font": {"size": 11, "color": "#555555"},
            })  # fmt: skip
    tick_rows, y_text, unit_shapes = unit_axis_marks(units, unit_names, start, length, selected)
    shapes += unit_shapes
    subtitle = ""
    if selected is not None and start <= selected[0] < start + length and selected[1] in set(units.tolist()):
        column, unit = selected
        row = int(np.flatnonzero(units == unit)[0])
        a, b = a_rows[row, column - start], b_rows[row, column - start]
        subtitle = (f"column {column} “{escaped[column - start]}”, unit {unit}: A {a:.3f}, B {b:.3f}, B − A {b - a:.3f}"
                    if np.isfinite(a) and np.isfinite(b) else f"column {column}, unit {unit}: only one text has a token here")  # fmt: skip
    layout = {
        "title": {"text": f"Difference B − A of the {SIGNAL_NOUNS[signal]}, where the texts line up",
                  "font": {"size": 15}, "x": 0.0, "xanchor": "left", "subtitle": {"text": subtitle, "font": {"size": 12}}},
        "height": min(max((16 if rows <= 40 else 11) * rows, 110), 640) + 190,
        "margin": {"l": 10, "r": 10, "t": 80, "b": 10}, "shapes": shapes, "annotations": annotations,
        "dragmode": False, "hoverlabel": {"bgcolor": "white"}, "plot_bgcolor": "white",
        "xaxis": {"tickvals": positions, "ticktext": tick_text, "tickangle": 0 if length <= 12 else -60,
                  "showgrid": False, "zeroline": False, "range": [start - 0.5, start + length - 0.5],
                  "fixedrange": True, "tickfont": {"size": 11 if length <= 60 else 9}},
        "yaxis": {"tickvals": tick_rows, "ticktext": y_text, "autorange": "reversed", "showgrid": False,
                  "zeroline": False, "fixedrange": True, "title": {"text": units_title or "unit", "standoff": 4},
                  "tickfont": {"size": 12 if rows <= 40 else 10}},
    }  # fmt: skip
    return plotly_figure({"data": [grey_layer, heatmap], "layout": layout})


def _runs(kinds: Sequence[str]) -> list[tuple[int, int, str]]:
    """(first, last, kind) of each run of equal kinds, last inclusive."""
    runs = []
    for index, kind in enumerate(kinds):
        if runs and runs[-1][2] == kind and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index, kind)
        else:
            runs.append((index, index, kind))
    return runs
