"""Switching a unit off, for the pages: before/after probabilities, their figures and one plain sentence.

Pure functions, no Streamlit. `lstm_core.analysis.ablation` reruns a text with a unit's cell state held
at 0 (or at its mean); here the next-token probabilities of that rerun are set beside the normal ones:

- `ablation_effect` / `compare_next_tokens`: an `AblationEffect`, P(word) after every token, before and
  after, for a few chosen words ("he", "she" for a word model);
- `ablation_figure`: bars, P(word) before and after at one token (for a model without chosen words,
  the model's own five likeliest next tokens before and after);
- `word_probability_figure`: P(word) at every token of the text, tokens on the x axis;
- `ablation_sentence`: the change at one token, in one sentence with the numbers of the figure;
  `held_reading`: for a named unit, what the held value reads as (0 is not neutral for every unit);
- `mode_help`: the "hold its cell state at" choice explained, for the selected unit;
- `chosen_words`: what a student typed into the word picker, checked against the vocabulary;
- `most_changed_tokens`: for a model with no words to follow by default (the character model), the
  tokens whose probability switching the unit off changes the most, and `followed_note` saying so.

>>> from lstm_core import load_pretrained
>>> model = load_pretrained("words")
>>> gender = model.units["subject gender"]
>>> effect = ablation_effect(model, "Mary is nice. Dan is evil.", (gender.layer, gender.direction, gender.unit))
>>> effect.words, effect.before.shape, effect.after.shape      # (T, n) probabilities of "he", "she"
(('he', 'she'), (8, 2), (8, 2))
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from lstm_core import LanguageModel
from lstm_core.analysis.ablation import MODES, ablated_trace, held_cells
from lstm_core.models.language_model import UnitInfo
from lstm_core.models.tokenize import UNKNOWN_TOKEN
from ui import palette
from ui.explain import token_name
from ui.figures import SELECTED_NAME, plotly_figure, selected_band, selected_legend_entry, threshold_text, token_labels
from ui.next_tokens import NextTokens

__all__ = [
    "DEFAULT_WORDS", "MAX_WORDS", "MODES", "MODE_CAPTIONS", "MODE_HELP", "OFF_HELP", "TOP_CHOICES", "WORDS_HELP",
    "AblationEffect", "WordChoice", "ablation_effect", "ablation_figure", "ablation_sentence", "chosen_words",
    "compare_next_tokens", "context_text", "default_words", "followed_note", "held_reading", "held_text",
    "mode_help", "most_changed_tokens", "named_unit", "probability_text", "unit_label", "word_probabilities",
    "word_probability_figure",
]  # fmt: skip

DEFAULT_WORDS = ("he", "she")  # the pronouns whose choice the subject-gender story is about
DEFAULT_TAGS = ("NOUN", "VERB")  # a tagger's: the two tags an ambiguous word ("can", "refuse") swings between


def effect_kind(model: LanguageModel) -> str:
    """What a probability is of: "words" or "chars" (the next token), or "tags" (the word's own tag)."""
    return "tags" if getattr(model, "task", "next") == "tags" else model.kind


def _predictable(model: LanguageModel) -> dict[str, int]:
    """Every label the model's decoder scores, with its index: the vocabulary but <unk>, or a tagger's tags."""
    return {label: index for index, label in enumerate(model.labels) if label != UNKNOWN_TOKEN}
MAX_WORDS = 5  # lines one chart keeps readable
TOP_CHOICES = 5  # a model without chosen words: its five likeliest next tokens, before and after

OFF_HELP = (
    "Read the text again with this unit's cell state held still at every token, whatever its gates say, "
    "and compare the model's next-word probabilities. If they change, the unit helps make the prediction."
)
MODE_HELP = (
    "zero: the cell state stays at 0, so the unit passes nothing on, as if it were taken out. "
    "mean: the cell state stays at its average over many stories, so the rest of the network still sees "
    "a usual value, but one that no longer follows the text. "
    "Zero is not always neutral: a named unit reads a cell of 0 as one of its two sides unless its "
    "threshold is 0; its mean is the level the rest of the network usually sees."
)
MODE_CAPTIONS = ("as if the unit were taken out", "its average over many stories")
WORDS_HELP = (
    "Words (or, for the character model, single characters) separated by commas. The chart shows how "
    "likely the model finds each of them as the next token, after every token of the text."
)

# Lines and bars here compare words and before/after, not gate values or signs, so they use none of the
# palette's gate greens or sign purple and orange, and no black: a dark line is no word's. Nor the gate
# lines' blue, red, magenta or sky blue (`palette.LINE_COLORS`): a probability chart often sits beside a
# chart of gates, and a colour must not mean "forget gate" in one and "P(he)" in the other.
WORD_COLORS = ("#8C6D31", "#44AA99", "#999933", "#CC6677", "#777777")
BEFORE_COLOR = "#a6a6a6"  # grey: how the model reads the text normally
AFTER_COLOR = "#595959"  # darker grey, striped: with the unit switched off
# white stripes over AFTER_COLOR ("overlay" keeps the bar's colour under them): the stripes say "switched off"
AFTER_PATTERN = {"shape": "/", "fillmode": "overlay", "fgcolor": "#ffffff", "size": 7, "solidity": 0.3}
MAX_CANDIDATES = 256  # tokens `most_changed_tokens` scores at once: a large vocabulary is never scored whole
_CONTEXT_WORDS = 3  # tokens of context a sentence quotes ("is evil .")
_CONTEXT_CHARS = 14


@dataclass(frozen=True, eq=False)
class AblationEffect:
    """What switching one unit off did to the next-token probabilities of one text.

    Attributes:
        tokens: the T tokens read.
        words: the n tokens followed (for a model without chosen words, none).
        before, after: (T, n) float32, P(word) after each token, normally and with the unit off.
        unit: (layer, direction, unit) switched off; unit_name: its name when the model names it.
        mode: ``"zero"`` or ``"mean"``; held_value: the cell value it was held at.
        kind: ``"words"`` or ``"chars"``, what one token is.
        before_next, after_next: the full next-token distributions, normally and with the unit off.
        info: the unit's `UnitInfo` when the model names it (its threshold says what the held value reads as).
    """

    tokens: tuple[str, ...]
    words: tuple[str, ...]
    before: np.ndarray
    after: np.ndarray
    unit: tuple[int, int, int]
    mode: str
    held_value: float
    kind: str
    unit_name: str | None = None
    before_next: NextTokens | None = field(default=None, repr=False)
    after_next: NextTokens | None = field(default=None, repr=False)
    info: UnitInfo | None = None

    @property
    def length(self) -> int:
        return len(self.tokens)

    def token_index(self, t: int | None) -> int:
        """`t` checked (None: the last token; negative counts from the end)."""
        if t is None:
            return self.length - 1
        if not isinstance(t, int | np.integer) or isinstance(t, bool) or not -self.length <= t < self.length:
            raise ValueError(f"t must be a token index in [-{self.length}, {self.length}), got {t!r}")
        return int(t) % self.length

    def top_choices(self, t: int | None = None, k: int = TOP_CHOICES) -> list[tuple[str, float, float]]:
        """(token, P before, P after) for the `k` likeliest next tokens after token `t` before and the `k`
        likeliest after, most probable before first."""
        if self.before_next is None or self.after_next is None:
            raise ValueError("this effect keeps no full distributions: build it with compare_next_tokens")
        t = self.token_index(t)
        before_ids, _ = self.before_next.top(t, t + 1, k)
        after_ids, _ = self.after_next.top(t, t + 1, k)
        ids = list(dict.fromkeys([*before_ids[0].tolist(), *after_ids[0].tolist()]))
        before_row, after_row = self.before_next.row(t), self.after_next.row(t)
        ids.sort(key=lambda index: (-before_row[index], -after_row[index], index))
        vocab = self.before_next.model.labels
        return [(vocab[index], float(before_row[index]), float(after_row[index])) for index in ids]


def default_words(model: LanguageModel) -> tuple[str, ...]:
    """("he", "she") for a model that can predict both, ("NOUN", "VERB") for a tagger, else none (the
    character model reads letters)."""
    if effect_kind(model) == "tags":
        return tuple(tag for tag in DEFAULT_TAGS if tag in model.labels)
    vocabulary = _predictable(model)
    return DEFAULT_WORDS if model.kind == "words" and all(word in vocabulary for word in DEFAULT_WORDS) else ()


def ablation_effect(
    model: LanguageModel,
    text: str,
    unit: tuple[int, int, int],
    words: Sequence[str] | None = None,
    mode: str = "zero",
) -> AblationEffect:
    """Read `text` normally and with `unit` (layer, direction, unit) switched off (`mode` "zero" or
    "mean"), and compare P(word) for each of `words` (None: `default_words(model)`) after every token.

    Raises ValueError for a word the model cannot predict, a unit it does not have or an unknown mode.
    """
    before = NextTokens.from_trace(model, model.trace(text))
    after = NextTokens.from_trace(model, ablated_trace(model, text, [unit], mode))
    return compare_next_tokens(model, model.tokens(text), before, after, unit, words, mode)


def compare_next_tokens(
    model: LanguageModel,
    tokens: Sequence[str],
    before: NextTokens,
    after: NextTokens,
    unit: tuple[int, int, int],
    words: Sequence[str] | None = None,
    mode: str = "zero",
) -> AblationEffect:
    """`ablation_effect` from next tokens a page has already (cached): `before` from the normal trace of
    `tokens`, `after` from `ablated_trace(model, text, [unit], mode)`."""
    if before.length != len(tokens) or after.length != len(tokens):
        raise ValueError(f"{len(tokens)} tokens, but {before.length} and {after.length} rows of next tokens")
    words = default_words(model) if words is None else tuple(words)
    ids = _token_ids(model, words)
    held = held_cells(model, [unit], mode)
    layer, direction, index = (int(part) for part in unit)
    info = named_unit(model, (layer, direction, index))
    return AblationEffect(
        tokens=tuple(tokens), words=words, before=before.columns(ids), after=after.columns(ids),
        unit=(layer, direction, index), mode=mode, held_value=float(held[layer, direction, index]), kind=effect_kind(model),
        unit_name=info.name if info is not None else None, before_next=before, after_next=after, info=info,
    )  # fmt: skip


def named_unit(model: LanguageModel, unit: tuple[int, int, int]) -> UnitInfo | None:
    """The model's `UnitInfo` for (layer, direction, unit), or None when the unit is not a named one."""
    return next((info for info in model.units.values() if (info.layer, info.direction, info.unit) == tuple(unit)), None)


def word_probabilities(next_tokens: NextTokens, words: Sequence[str]) -> dict[str, np.ndarray]:
    """word -> (T,) P(word) after every token, from a trace's next tokens."""
    columns = next_tokens.columns(_token_ids(next_tokens.model, words))
    return {word: columns[:, index] for index, word in enumerate(words)}


def _token_ids(model: LanguageModel, words: Sequence[str]) -> list[int]:
    vocabulary = _predictable(model)
    missing = [word for word in words if word not in vocabulary]
    if missing:
        raise ValueError(
            f"the {model.name} model cannot predict {', '.join(map(repr, missing))}: not in its vocabulary"
        )
    return [vocabulary[word] for word in words]


# ----------------------------------------------------------------------------- the word picker
@dataclass(frozen=True)
class WordChoice:
    words: tuple[str, ...]  # the tokens to follow, each one the model can predict
    notices: tuple[str, ...]  # one plain sentence per entry left out


def chosen_words(model: LanguageModel, typed: str | None) -> WordChoice:
    """The words a student typed (comma-separated; a word model also splits on spaces), checked.

    Nothing typed gives `default_words(model)`. A word model lowercases as it reads; a character model
    predicts one character at a time, so each entry must be one character. Entries the model cannot
    predict are left out, each with a notice; at most `MAX_WORDS` are kept.

    >>> from lstm_core import load_pretrained
    >>> choice = chosen_words(load_pretrained("words"), "He, she, zorglub")
    >>> choice.words, choice.notices
    (('he', 'she'), ('“zorglub” is not a word the words model can predict (it knows 340 words), so it is left out.',))
    """
    text = "" if typed is None else str(typed)
    kind = effect_kind(model)
    if kind == "tags":
        entries = [entry.upper() for entry in re.split(r"[,\s]+", text) if entry]
    elif model.kind == "words":
        entries = [entry.lower() for entry in re.split(r"[,\s]+", text) if entry]
    else:
        entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if not entries:
        return WordChoice(default_words(model), ())
    vocabulary = _predictable(model)
    words: list[str] = []
    notices: list[str] = []
    for entry in entries:
        shown = entry if len(entry) <= 20 else entry[:20] + "…"
        if model.kind == "chars" and len(entry) != 1:
            notices.append(f"“{shown}” is more than one character; the {model.name} model predicts one character "
                           "at a time, so type single characters such as e, a, H.")  # fmt: skip
        elif entry not in vocabulary and kind == "tags":
            notices.append(f"“{shown}” is not one of the {model.name} model's tags ({', '.join(model.labels)}), "
                           "so it is left out.")  # fmt: skip
        elif entry not in vocabulary:
            known = f"it knows {len(model.vocab) - 1:,} {'words' if model.kind == 'words' else 'characters'}"
            notices.append(f"“{shown}” is not a {'word' if model.kind == 'words' else 'character'} the {model.name} "
                           f"model can predict ({known}), so it is left out.")  # fmt: skip
        elif entry not in words:
            words.append(entry)
    if len(words) > MAX_WORDS:
        notices.append(f"The chart follows at most {MAX_WORDS} words: {', '.join(words[MAX_WORDS:])} left out.")
        words = words[:MAX_WORDS]
    if not words and default_words(model):
        words = list(default_words(model))
        notices.append(f"None of them can be followed; showing {', '.join(words)} instead.")
    return WordChoice(tuple(words), tuple(notices))


def most_changed_tokens(
    before: NextTokens, after: NextTokens, count: int = 2, start: int = 0, stop: int | None = None
) -> tuple[tuple[str, float], ...]:
    """The `count` tokens whose probability as the next token switching a unit off changes the most after
    some token of ``start:stop``: (token, that largest change), largest first.

    For a model with no words to follow by default (the character model), these are the tokens worth
    following along the text. Only tokens among the likeliest guesses before or after somewhere are
    scored (at most `MAX_CANDIDATES`, the most often guessed): a token that is never a likely guess
    cannot change much. The unknown token and tokens of spaces only are left out; the rest can be typed
    into the word picker.
    """
    if before.length != after.length:
        raise ValueError(f"before has {before.length} tokens and after {after.length}")
    window = slice(start, before.length if stop is None else stop)
    guessed = np.concatenate(
        [before.top_ids[window, :TOP_CHOICES].ravel(), after.top_ids[window, :TOP_CHOICES].ravel()]
    )
    ids, counts = np.unique(guessed, return_counts=True)
    vocab = before.model.labels
    keep = np.array([vocab[index] != UNKNOWN_TOKEN and bool(vocab[index].strip()) for index in ids], dtype=bool)
    ids, counts = ids[keep], counts[keep]
    ids = ids[np.argsort(-counts, kind="stable")[:MAX_CANDIDATES]]
    if not len(ids):
        return ()
    change = np.abs(after.columns(ids)[window] - before.columns(ids)[window]).max(axis=0)  # (n,)
    order = np.lexsort((ids, -change))[:count]
    return tuple((vocab[ids[index]], float(change[index])) for index in order)


def followed_note(found: Sequence[tuple[str, float]], unit: int, mode: str, kind: str = "chars") -> str:
    """Why the chart follows the tokens `most_changed_tokens` found, with their numbers."""
    noun = "character" if kind == "chars" else "word"
    held = "held at 0" if mode == "zero" else "held at its mean"
    if not found:
        return f"Switching unit {unit} off ({held}) changes no likely next {noun} in this text."
    names = " and ".join(f"“{token_name(token)}” (by up to {probability_text(change)})" for token, change in found)
    plural = "s" if len(found) > 1 else ""
    return (f"Nothing typed, so the chart follows the {noun}{plural} whose probability switching unit {unit} off "
            f"({held}) changes the most in this text: {names}. Type others above to follow them instead.")  # fmt: skip


# -------------------------------------------------------------------------------- the sentence
def probability_text(p: float) -> str:
    """A probability as the figures and sentences write it: two decimals, more for small ones.

    >>> probability_text(0.8212), probability_text(0.00143), probability_text(0.0000249)
    ('0.82', '0.0014', 'under 0.0001')
    """
    p = float(p)
    if p >= 0.01 or p == 0:
        return f"{p:.2f}"
    if p >= 0.0001:
        return f"{p:.4f}"
    return "under 0.0001"


def unit_label(effect: AblationEffect) -> str:
    """The unit as a sentence names it, "unit 41 (subject gender)": its layer and direction too when
    they are not the first."""
    layer, direction, unit = effect.unit
    where = [f"layer {layer}"] if layer else []
    where += ["backward"] if direction else []
    if effect.unit_name:
        where.append(effect.unit_name)
    return f"unit {unit}" + (f" ({', '.join(where)})" if where else "")


def held_text(effect: AblationEffect) -> str:
    """What the unit's cell state was held at, in words."""
    if effect.mode == "zero":
        return "its cell state held at 0"
    return f"its cell state held at its mean, {effect.held_value:.2f}"


def held_reading(effect: AblationEffect) -> str:
    """For a named unit, what the value its cell was held at reads as by its threshold; "" otherwise (and
    for a cell held at 0 when 0 is the threshold).

    A cell held at 0 is not "no information" for a named unit: 0 lies on one side of its threshold (the
    word model's gender unit reads 0 as male, its threshold being below 0), so holding it there pushes
    toward that side. The mean is the level the rest of the network usually sees.

    "Held at 0, unit 41 reads as male: 0 is above its threshold −0.13, so this pushes toward male rather
    than taking no side; holding it at its mean is the fairer test."
    """
    info = effect.info
    if info is None or info.signal != "cell":
        return ""
    unit, threshold = effect.unit[2], float(info.threshold)
    reading, side = str(info.read(effect.held_value)), "above" if effect.held_value > threshold else "below"
    if effect.mode == "zero":
        if round(threshold, 2) == 0:
            return ""  # 0 is the cut itself: holding the cell there takes neither side
        return (f"Held at 0, unit {unit} reads as {reading}: 0 is {side} its threshold {threshold_text(threshold)}, so this "
                f"pushes toward {reading} rather than taking no side; holding it at its mean is the fairer test.")  # fmt: skip
    return (f"Held at its mean, {threshold_text(effect.held_value)}, unit {unit} reads as {reading} ({side} its threshold "
            f"{threshold_text(threshold)}, {abs(effect.held_value - threshold):.2f} away): the level the rest of the network "
            "usually sees, so the change shows what following this text adds.")  # fmt: skip


def mode_help(info: UnitInfo | None = None) -> str:
    """`MODE_HELP`, and for a named unit whose threshold is not 0 what a cell held at 0 reads as."""
    if info is None or info.signal != "cell":
        return MODE_HELP
    threshold = float(info.threshold)
    if round(threshold, 2) == 0:
        return MODE_HELP  # 0 is the cut itself: zero takes neither side
    side = "above" if 0 > threshold else "below"
    return (f"{MODE_HELP}\n\nFor unit {info.unit} ({info.name}), zero is not neutral: 0 is {side} its threshold "
            f"{threshold_text(threshold)}, so a cell held at 0 reads as {info.read(0.0)}. Hold it at its mean for the fairer "
            "test.")  # fmt: skip


def context_text(effect: AblationEffect, t: int | None = None) -> str:
    """The last few tokens up to token `t`, as the sentence quotes them ("is evil .")."""
    t = effect.token_index(t)
    if effect.kind == "chars":
        start = max(0, t + 1 - _CONTEXT_CHARS)
        shown = "".join(effect.tokens[start : t + 1]).replace("\n", " ")
    else:
        start = max(0, t + 1 - _CONTEXT_WORDS)
        shown = " ".join(effect.tokens[start : t + 1])
    return ("…" if start > 0 else "") + shown


def ablation_sentence(effect: AblationEffect, t: int | None = None) -> str:
    """One plain sentence with the numbers of `ablation_figure(effect, t)`:

    "With unit 41 (subject gender) switched off (its cell state held at 0), P(he) after “is evil .” goes
    from 0.82 to 0.67 and P(she) from under 0.0001 to 0.0001."
    For a model without chosen words, the likeliest next token before and after.
    """
    t = effect.token_index(t)
    opening = f"With {unit_label(effect)} switched off ({held_text(effect)})"
    after = f"after “{context_text(effect, t)}”"
    if effect.words:
        changes = [
            f"from {probability_text(effect.before[t, index])} to {probability_text(effect.after[t, index])}"
            for index in range(len(effect.words))
        ]
        if effect.kind == "tags":
            after = f"for “{effect.tokens[t]}” (token {t})"
        parts = [f"P({effect.words[0]}) {after} goes {changes[0]}"]
        parts += [f"P({word}) {change}" for word, change in zip(effect.words[1:], changes[1:], strict=True)]
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"{opening}, {joined}."
    choices = effect.top_choices(t)
    token_before, p_before, _ = max(choices, key=lambda choice: choice[1])
    token_after, _, p_after = max(choices, key=lambda choice: choice[2])
    noun = "next word" if effect.kind == "words" else "next character"
    if effect.kind == "tags":
        after, noun = f"for “{effect.tokens[t]}”", "tag"
    if token_before == token_after:
        return (f"{opening}, the likeliest {noun} {after} stays “{token_name(token_before)}”, its "
                f"probability going from {probability_text(p_before)} to {probability_text(p_after)}.")  # fmt: skip
    return (f"{opening}, the likeliest {noun} {after} changes from “{token_name(token_before)}” "
            f"({probability_text(p_before)}) to “{token_name(token_after)}” ({probability_text(p_after)}).")  # fmt: skip


# --------------------------------------------------------------------------------- the figures
def ablation_figure(effect: AblationEffect, t: int | None = None, *, height: int = 300) -> go.Figure:
    """Bars: P(word) at token `t` (default the last) before and with the unit switched off, each value
    written on its bar. For a model without chosen words, the likeliest next tokens before and after."""
    t = effect.token_index(t)
    if effect.words:
        labels = [f"P({word})" for word in effect.words]
        before, after = effect.before[t].tolist(), effect.after[t].tolist()
        noun = "word"
    else:
        choices = effect.top_choices(t)
        labels = [f"“{token_name(token)}”" for token, _, _ in choices]
        before, after = [choice[1] for choice in choices], [choice[2] for choice in choices]
        noun = "word" if effect.kind == "words" else "character"
    labels = token_labels(labels)
    bars = [
        {"type": "bar", "x": labels, "y": values, "name": name, "marker": marker,
         "text": [probability_text(value) for value in values], "textposition": "outside", "cliponaxis": False,
         "hovertemplate": "%{fullData.name}: %{x} = %{y:.4f}<extra></extra>"}
        for name, values, marker in (("as read", before, {"color": BEFORE_COLOR}),
                                     (token_labels([f"{unit_label(effect)} off"])[0], after,
                                      {"color": AFTER_COLOR, "pattern": AFTER_PATTERN}))
    ]  # fmt: skip
    # two short lines, escaped one by one (Plotly reads tags in titles): it fits a narrow column too
    title = "<br>".join(token_labels([
        f"The tag of “{effect.tokens[t]}” (token {t})" if effect.kind == "tags" else
        f"Next {noun} after “{context_text(effect, t)}” (token {t})",
        f"plain grey: as read; striped: unit {effect.unit[2]} switched off",
    ]))  # fmt: skip
    layout = {
        "title": {"text": title, "font": {"size": 14}, "x": 0.0, "xanchor": "left"},
        "barmode": "group", "height": height, "margin": {"l": 10, "r": 10, "t": 64, "b": 10}, "showlegend": False,
        "yaxis": {"title": {"text": "probability"}, "range": [0, 1.1], "tickvals": [0, 0.25, 0.5, 0.75, 1],
                  "fixedrange": True, "zeroline": True, "automargin": True},
        "xaxis": {"fixedrange": True, "type": "category", "automargin": True},
        "plot_bgcolor": "#ffffff", "dragmode": False,
    }  # fmt: skip
    return plotly_figure({"data": bars, "layout": layout})


def word_probability_figure(
    tokens: Sequence[str],
    probabilities: Mapping[str, np.ndarray],
    selected_t: int | None = None,
    *,
    after: Mapping[str, np.ndarray] | None = None,
    after_label: str = "unit off",
    start: int = 0,
    stop: int | None = None,
    height: int = 280,
    noun: str = "word",
) -> go.Figure:
    """P(word) after every token, one line per word, tokens on the x axis and 0..1 on the y axis.

    Args:
        tokens: the T tokens read; probabilities: word -> (T,) P(word) after each token.
        selected_t: the token to mark with a vertical line.
        after: word -> (T,) the same with a unit switched off, drawn in the word's colour with the dash
            `palette.SWITCHED_OFF_DASH` (no other line uses it) and named "P(word), `after_label`".
        start, stop: the tokens drawn (a window of a long text); the indices stay those of the text.
        noun: what one followed token is, "word" or "character", or "tag" for a tagger, for the title.

    The selected token is a light-blue band, named in the legend: no dark line that could be a word's.
    """
    length = len(tokens)
    stop = length if stop is None else stop
    if not 0 <= start < stop <= length:
        raise ValueError(f"start and stop must be a window of the {length} tokens, got {start} and {stop}")
    for name, series in (("probabilities", probabilities), ("after", after or {})):
        for word, values in series.items():
            if np.shape(values) != (length,):
                raise ValueError(f"{name}[{word!r}] must have one value per token ({length}), got {np.shape(values)}")
    positions = np.arange(start, stop, dtype=np.int32)
    labels = token_labels(tokens[start:stop])
    data = []
    for index, (word, values) in enumerate(probabilities.items()):
        color = WORD_COLORS[index % len(WORD_COLORS)]
        shown = token_labels([word])[0]
        data.append({"type": "scatter", "x": positions, "y": np.asarray(values[start:stop], dtype=float),
                     "name": f"P({shown})", "mode": "lines+markers", "line": {"color": color, "width": 2},
                     "marker": {"size": 5}, "hovertemplate": "%{fullData.name} %{y:.3f}<extra></extra>"})  # fmt: skip
        if after is not None and word in after:
            data.append({"type": "scatter", "x": positions, "y": np.asarray(after[word][start:stop], dtype=float),
                         "name": f"P({shown}), {after_label}", "mode": "lines",
                         "line": {"color": color, "width": 2, "dash": palette.SWITCHED_OFF_DASH},
                         "hovertemplate": "%{fullData.name} %{y:.3f}<extra></extra>"})  # fmt: skip
    shapes = []
    if selected_t is not None and start <= selected_t < stop:
        shapes.append(selected_band(selected_t))
        data.append(selected_legend_entry(SELECTED_NAME))
    # The title sits at the top of the figure and the legend under it, in rows of about three entries: the
    # top margin grows with the rows, so a legend of several words never runs over the title.
    legend_rows = -(-len(data) // 3)
    layout = {
        "title": {"text": "How likely each tag is for each word" if noun == "tag" else
                  f"How likely each {noun} is as the next token, after every token", "font": {"size": 14},
                  "x": 0.0, "xanchor": "left", "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 8}},
        "height": height, "margin": {"l": 10, "r": 10, "t": 36 + 22 * legend_rows, "b": 10}, "shapes": shapes,
        "xaxis": {"tickvals": positions, "ticktext": labels, "tickangle": 0 if len(labels) <= 12 else -60,
                  "fixedrange": True, "automargin": True, "zeroline": False},
        # a little room beyond 0 and 1, so a line lying on either is not cut in half
        "yaxis": {"title": {"text": "probability"}, "range": [-0.02, 1.02], "tickvals": [0, 0.25, 0.5, 0.75, 1],
                  "fixedrange": True, "zeroline": True, "zerolinecolor": "#888888", "automargin": True},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        "plot_bgcolor": "#ffffff", "hovermode": "x unified", "dragmode": False,
    }  # fmt: skip
    return plotly_figure({"data": data, "layout": layout})
