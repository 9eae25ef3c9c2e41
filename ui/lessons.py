"""The tutorial's content: a warm-up on one hand-set unit, then three lessons on a trained model (forget,
input, output), each with a question to answer before the trace shows the answer.

Nothing here is written in advance about a model. Every unit, token and number comes from the model's
own trace through `lstm_core.analysis.lessons`, so the lessons stay true when a model is retrained or
another model is chosen: the forget lesson follows the subject-gender unit to the token where its
forget gate really drops and says whether that is the new name or the full stop before it; the input
lesson finds the value the model keeps the longest; the output lesson finds the unit that raises the
model's guess after "brave" and the token where its cell was set. "How each named unit was found"
says how the subject-gender and quotation units were chosen, with their numbers and a corpus-explorer
link that shows them over many texts.

The builders (`warm_up`, `forget_lesson`, `input_lesson`, `output_lesson`, `named_unit_story`) and the
figures are pure functions of a `LanguageModel`, tested without a server. `lessons_for(name)` and
`named_units_for(name)` compute them once per model: in one cache shared by every session for a
shipped model, in the session for the session's own.

Sentences are plain text with tokens in curly quotes; pages pass them through `explain.as_markdown`.

>>> word_spans(["bob", "is", "."], "words")
((0, 0, 'bob'), (1, 1, 'is'), (2, 2, '.'))
>>> word_spans(list("Hi, Bo."), "chars")
((0, 1, 'Hi'), (2, 2, ','), (4, 5, 'Bo'), (6, 6, '.'))
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lstm_core import LanguageModel, Trace
from lstm_core.analysis import explore
from lstm_core.analysis import lessons as analysis
from lstm_core.models.language_model import UnitInfo
from lstm_core.models.tokenize import UNKNOWN_TOKEN
from ui import ablation, corpus_figures, corpus_runs, explain, model_store, palette
from ui import playground as pg
from ui.cache import BoundedCache
from ui.figures import plotly_figure, threshold_text, token_labels
from ui.typed_text import EXAMPLES

__all__ = [
    "FORGET_TEXT", "INPUT_TEXT", "OUTPUT_TEXT", "NEW_SUBJECT", "READ_WORD", "CONTRAST_WORD", "SAMPLE_SEED",
    "Question", "Reveal", "WarmUp", "LessonView", "NamedUnitStory", "ModelLessons",
    "word_spans", "warm_up", "forget_lesson", "input_lesson", "output_lesson", "build_lessons", "named_unit_story",
    "explorer_query", "lessons_for", "named_units_for", "effect_lines", "carry_figure", "origin_figure",
    "unit_sample_figure", "LESSON_TERMS", "EXPLORER_STORIES",
]  # fmt: skip

# The subject changes from a woman to a man, so the subject-gender unit has a value to let go of (with
# "Bob ... Dan" the gender would stay and the unit would have nothing to forget).
FORGET_TEXT = "Mary is a nice person. Dan, on the other hand, is evil."
FIRST_SUBJECT, NEW_SUBJECT = "mary", "dan"
INPUT_TEXT = EXAMPLES["Input: keep the important fact"]
CONTRAST_WORD = "swimming"  # the input lesson's text seems to be about it; the lesson shows whether it is kept
OUTPUT_TEXT = EXAMPLES["Output: use what was kept"]
READ_WORD = "brave"  # the output lesson opens after its last occurrence, where the name is to be recalled
SAMPLE_STORIES = {"subject gender": 120, "inside quotation": 60}  # stories a named unit's chart reads
SAMPLE_SEED = corpus_runs.SATURATION_SEED  # held-out stories of the story world, as /saturation reads them
EXPLORER_SPAN = {"words": 30, "chars": 90}  # the longest range the corpus-explorer link selects
# Stories the link's corpus holds: the explorer's default for a word model; fewer for a character model,
# whose stories are five times as many tokens, so that the tutorial and the explorer read them quickly.
EXPLORER_STORIES = {"words": corpus_figures.STORY_LIMITS[2], "chars": 30}
LESSON_TERMS = {"forget": ("forget gate", "cell state"), "input": ("input gate", "candidate"),
                "output": ("output gate", "hidden state", "score")}  # fmt: skip
SHUT = 0.2  # a forget gate below this erases most of the cell: a nearly right answer in the forget question
_WORD = re.compile(r"[^\W_]+(?:['\-’][^\W_]+)*|[^\s\w]")  # a word, or one punctuation mark
SHARED_MODELS = 8  # shipped models whose lessons are kept for every session


# --------------------------------------------------------------------------------- numbers
def _two(value: float) -> str:
    return f"{value:.2f}".replace("-0.00", "0.00")


def _signed(value: float) -> str:
    text = f"{abs(value):.2f}"
    return ("−" if value < 0 and text != "0.00" else "+") + text


def _gate(value: float) -> str:
    """A gate value: three decimals when it is within 0.01 of 1, where two would all read 1.00."""
    return f"{value:.3f}" if 0.99 < value < 1 else f"{value:.2f}"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


# ------------------------------------------------------------------------------- questions
@dataclass(frozen=True)
class Reveal:
    right: bool | None  # None: the answer shown to a student who asked for it without picking
    text: str  # plain text


@dataclass(frozen=True)
class Question:
    """A question answered by clicking one of its options (words of the lesson's text), then revealed.

    Attributes:
        prompt: the question (plain text).
        labels: one per option, as the buttons show it.
        facts: per option, what the trace says there, as a clause ("at “dan” the forget gate is 0.04").
        answer: the right option; why: what makes it right ("its lowest in the text").
        near: options that are nearly right (e.g. a forget gate that drops almost as low).
    """

    prompt: str
    labels: tuple[str, ...]
    facts: tuple[str, ...]
    answer: int
    why: str
    near: tuple[int, ...] = ()

    def label(self, option: int) -> str:
        """An option's button label, escaped (labels are Markdown)."""
        return explain.as_markdown(self.labels[option])

    def shown(self) -> Reveal:
        """The answer alone, for a student who asks for it without picking an option."""
        return Reveal(None, f"The answer is “{self.labels[self.answer]}”: {self.facts[self.answer]}, {self.why}.")

    def reveal(self, picked: int | None) -> Reveal | None:
        """Whether `picked` is right, and the answer with its number; None before anything is picked."""
        if picked is None or not 0 <= picked < len(self.labels):
            return None
        answer = f"{self.facts[self.answer]}, {self.why}."
        if picked == self.answer:
            return Reveal(True, f"Right: {answer[0].lower()}{answer[1:]}")
        if picked in self.near:
            return Reveal(
                False,
                f"Close: {self.facts[picked]}, nearly as low. But the answer is “{self.labels[self.answer]}”: {answer}",
            )
        return Reveal(
            False, f"Not this one: {self.facts[picked]}. The answer is “{self.labels[self.answer]}”: {answer}"
        )


def word_spans(tokens: Sequence[str], kind: str = "words") -> tuple[tuple[int, int, str], ...]:
    """(first token, last token, text) of every word and punctuation mark: one per token for a word
    model, the characters of each word together for a character model (spaces left out)."""
    if kind != "chars":
        return tuple((index, index, token) for index, token in enumerate(tokens))
    text = "".join("\x00" if token == UNKNOWN_TOKEN else token for token in tokens)
    return tuple((match.start(), match.end() - 1, match.group()) for match in _WORD.finditer(text))


def _span_of(spans: Sequence[tuple[int, int, str]], t: int) -> int:
    """The option whose span holds token `t` (the nearest one before it when `t` is a space)."""
    for option, (first, last, _) in enumerate(spans):
        if first <= t <= last:
            return option
    return max((option for option, (first, _, _) in enumerate(spans) if first <= t), default=0)


def _option_ranges(spans: Sequence[tuple[int, int, str]], length: int) -> list[range]:
    """The tokens each option answers for: its word and the spaces after it (a character model reads
    them as part of the word before), so that every token belongs to exactly one option."""
    starts = [first for first, _, _ in spans]
    ends = [*(start - 1 for start in starts[1:]), length - 1]
    return [
        range(0 if option == 0 else first, end + 1)
        for option, (first, end) in enumerate(zip(starts, ends, strict=True))
    ]


def _at(tokens: Sequence[str], spans: Sequence[tuple[int, int, str]], t: int) -> str:
    """Token `t` as a sentence names it: “dan” for a word model; for a character model the character
    and its word (“i” in “is”), or the space after a word."""
    word = spans[_span_of(spans, t)][2] if spans else tokens[t]
    token = tokens[t]
    if token == word:
        return f"“{token}”"
    if token.isspace():
        return f"the space after “{word}”"
    return f"“{token}” in “{word}”"


def _find_word(spans: Sequence[tuple[int, int, str]], word: str, last: bool = False) -> tuple[int, int] | None:
    matches = [(first, end) for first, end, text in spans if text.lower() == word]
    if not matches:
        return None
    return matches[-1] if last else matches[0]


def _quote(spans: Sequence[tuple[int, int, str]], option: int) -> str:
    return f"“{spans[option][2]}”"


# --------------------------------------------------------------------------------- warm-up
@dataclass(frozen=True, eq=False)
class WarmUp:
    """One unit set by hand (the playground's "Reset on a marker"), run on its sequence."""

    preset: pg.Preset
    trace: Trace
    step: int  # 1-based: where the forget gate is lowest
    story: tuple[str, ...]
    question: Question
    table: tuple[dict[str, str], ...]


@functools.cache
def warm_up() -> WarmUp:
    """The playground's reset preset, its numbers read off its trace."""
    preset = pg.PRESETS["reset"]
    inputs = pg.parse_sequence(preset.sequence).values
    trace = pg.run_unit(preset.weights, inputs)
    values = pg.unit_values(trace)
    forget, written, cell = values["forget"], values["input"] * values["candidate"], values["cell"]
    cell_before = np.r_[0.0, cell[:-1]]
    x = np.asarray(inputs)
    drop = int(np.argmin(forget))
    first_write = int(np.argmax(np.abs(written) >= analysis.STRONG_WRITE))
    blank = [t for t in range(len(x)) if x[t] == 0 and t > first_write]
    kept_on_blank = min((forget[t] for t in blank), default=float("nan"))
    marker = pg.format_number(float(x[drop])).replace("-", "−")
    story = (
        f"At step {first_write + 1} the input x = {pg.format_number(float(x[first_write]))} opens the input gate "
        f"(i = {_two(values['input'][first_write])}) and adds i·g = {_two(written[first_write])} to the cell.",
        f"On a blank step (x = 0) the forget gate stays at f = {_gate(kept_on_blank)} or more, so the cell keeps "
        "its value from step to step.",
        f"At step {drop + 1} the marker x = {marker} pulls the forget gate down to f = {_two(forget[drop])}: the "
        f"cell falls from {_two(cell_before[drop])} to {_two(cell[drop])} at once.",
        "That is the whole idea of an LSTM: a memory that stays put until something tells it to let go. A trained "
        "model learns its own markers from text; the lessons below find them.",
    )
    shown = sorted({first_write, *(blank[:1]), drop})
    table = tuple(
        {"step": str(t + 1), "input x": pg.format_number(float(x[t])).replace("-", "−"), "input gate i": _two(values["input"][t]),
         "forget gate f": _gate(forget[t]), "cell before": _two(cell_before[t]), "added i·g": _two(written[t]),
         "cell after": _two(cell[t])}
        for t in shown
    )  # fmt: skip
    choices = list(dict.fromkeys(float(value) for value in x))
    lowest = [float(forget[x == value].min()) for value in choices]
    labels = tuple(f"x = {pg.format_number(value)}".replace("-", "−") for value in choices)
    facts = tuple(f"with {label} the forget gate falls to {_gate(low)}" if low < 0.5 else
                  f"with {label} the forget gate stays at {_gate(low)} or above"
                  for label, low in zip(labels, lowest, strict=True))  # fmt: skip
    question = Question(
        prompt="Which input will make the forget gate drop?",
        labels=labels,
        facts=facts,
        answer=choices.index(float(x[drop])),
        why="so the cell lets go of what it held",
    )
    return WarmUp(preset, trace, drop + 1, story, question, table)


# --------------------------------------------------------------------------------- lessons
@dataclass(frozen=True, eq=False)
class LessonView:
    """One lesson on one model: where it opens, which unit it follows, what it says and asks.

    Attributes:
        key: "forget", "input" or "output".
        t, layer, direction, unit: the token the lesson opens on and the unit it follows.
        found: False when the model's tokens lack the lesson's word (then it opens on the last token).
        story: plain sentences, every number in them also in `table` or a figure beside them.
        table: rows of the numbers the story quotes.
        effect: the forget lesson's unit switched off (`ui.ablation`).
        carried: the input lesson's per-token carries; origins: the output lesson's `cell_origins`.
    """

    key: str
    title: str
    text: str
    trace: Trace
    t: int
    layer: int
    direction: int
    unit: int
    found: bool
    unit_reason: str
    story: tuple[str, ...]
    question: Question
    table: tuple[dict[str, str], ...]
    effect: ablation.AblationEffect | None = None
    carried: tuple[analysis.Carry | None, ...] = ()
    origins: np.ndarray | None = field(default=None, repr=False)
    feed: analysis.OutputFeed | None = None
    effect_reading: str = ""  # what the switch-off charts say about the unit, from their numbers

    @property
    def tokens(self) -> tuple[str, ...]:
        return tuple(self.trace.tokens)


def _token_label(tokens: Sequence[str], t: int) -> str:
    return f"{t} {explain.token_name(tokens[t])}"


def _forget_parts(trace: Trace, t: int, layer: int, direction: int, unit: int) -> tuple[float, float]:
    """The forget gate's sum before the sigmoid at token `t`, in two parts: from the token itself
    (W·x + b) and from the hidden state carried from the tokens before it (U·h + b)."""
    step = trace.step(t, layer, direction)
    return float(step.input_part["forget"][unit]), float(step.recurrent_part["forget"][unit])


def _forget_cause_sentence(parts: tuple[float, float], token: str, previous: str | None, added: float) -> str:
    """Which part of the forget gate's sum shuts it at `token`: the token itself, or what the model
    carried from the tokens before it.

    >>> _forget_cause_sentence((-0.05, -5.03), "“dan”", "“.”", -0.95)[:86]
    'What shuts the gate at “dan”: f is σ of a sum, here −5.08, of −0.05 from the word itself'
    """
    word, before = parts
    total = word + before
    carried = f"the hidden state carried from the tokens before it (the last of them {previous})" if previous else (
        "the starting state")
    sentence = (f"What shuts the gate at {token}: f is σ of a sum, here {_signed(total)}, of {_signed(word)} from the "
                f"word itself and {_signed(before)} from {carried}.")  # fmt: skip
    if before < 0 and abs(before) > 2 * abs(word):
        return sentence + (f" So it is mostly what the model read before {token}, not {token} itself, that shuts the "
                           f"gate; {token} decides what is added next (i·g = {_two(added)}). A model can learn this "
                           "because in its stories a finished sentence is often followed by a new subject.")  # fmt: skip
    if word < 0 and abs(word) > 2 * abs(before):
        return sentence + f" So it is mostly {token} itself that shuts the gate."
    return sentence + f" Both parts push it down: the word and what came before {token}."


def forget_lesson(model: LanguageModel) -> LessonView:
    """Lesson 1: where the subject-gender unit's forget gate really drops in `FORGET_TEXT`."""
    trace = model.trace(FORGET_TEXT)
    tokens = list(trace.tokens)
    spans = word_spans(tokens, model.kind)
    name = _find_word(spans, NEW_SUBJECT)
    first_name = _find_word(spans, FIRST_SUBJECT)
    gender = model.units.get("subject gender")
    if gender is not None:
        layer, direction, unit = gender.layer, gender.direction, gender.unit
        reason = (f"Unit {unit} is this model's subject-gender unit: a cell value above {threshold_text(gender.threshold)} reads as "
                  f"{gender.above}, below it as {gender.below} (how it was found is further down).")  # fmt: skip
    else:
        layer, direction = 0, 0
        unit = analysis.erasing_unit(trace, range(name[0], name[1] + 1) if name else None)
        where = f"while it reads “{spans[_span_of(spans, name[0])][2]}”" if name else "in this text"
        reason = f"This model has no subject-gender unit, so the lesson follows unit {unit}, the unit that erases the most of its cell {where}."  # fmt: skip
    steps = analysis.unit_steps(trace, unit, layer, direction)

    def reading(value: float) -> str:
        return f" (reads as {gender.read(value)})" if gender is not None else ""

    drop = analysis.forget_drop(steps)
    found = drop is not None
    t = drop if found else (name[0] if name else len(tokens) - 1)
    option = _span_of(spans, t)
    story = []
    if first_name and name:
        story.append(f"The first sentence is about {spans[_span_of(spans, first_name[0])][2].capitalize()}, the second "
                     f"about {spans[_span_of(spans, name[0])][2].capitalize()}: the subject changes, and with it the "
                     "pronoun the model should use next.")  # fmt: skip
    f, before, kept, added, after = (float(array[t]) for array in (steps.forget_gate, steps.cell_before, steps.kept,
                                                                    steps.written, steps.cell))  # fmt: skip
    if found:
        story.append(f"Unit {unit}'s forget gate is lowest at {_at(tokens, spans, t)} (token {t}): f = {_two(f)}. The "
                     f"cell held {_two(before)}{reading(before)}; f·c keeps {_two(kept)} of it, and the input gate adds "
                     f"i·g = {_two(added)}, so the cell ends at {_two(after)}{reading(after)}.")  # fmt: skip
    else:
        story.append(f"Unit {unit}'s cell never holds anything in this text (never {analysis.EMPTY_CELL} or more), so "
                     "its forget gate has nothing to erase.")  # fmt: skip
    rows = {t, len(tokens) - 1}
    if found and name:
        place = analysis.drop_place(tokens, t, *name)
        stop = max((index for index in range(name[0]) if tokens[index] in analysis.FULL_STOPS), default=None)
        name_t = name[0] + int(np.argmin(steps.forget_gate[name[0] : name[1] + 1]))
        rows |= {name_t} | ({stop} if stop is not None else set())
        name_quote = _quote(spans, _span_of(spans, name[0]))
        why_stop = ("Why a model might do that: in the stories it learned from, a new sentence often brings a new "
                    "subject, and nothing needs what the cell kept about the old one between the full stop and the next "
                    "name. Clearing the "
                    "cell at the full stop costs little and makes room for whoever comes next; the input gate adds "
                    "the new value when the name is read.")  # fmt: skip
        if place == "name":
            story.append(f"So this unit forgets at the new name's token: at {name_quote} the old value is erased and "
                         "the new one added.")  # fmt: skip
            if stop is not None and steps.forget_gate[stop] < 0.5:
                story.append(f"At the full stop just before, its forget gate is already down to "
                             f"{_two(steps.forget_gate[stop])}, and the cell goes from {_two(steps.cell_before[stop])} to "
                             f"{_two(steps.cell[stop])}{reading(steps.cell[stop])}.")  # fmt: skip
        elif place == "stop before name":
            story.append(f"So this unit forgets at the full stop before the new name, not at the name: its forget gate "
                         f"is {_two(f)} there and {_two(steps.forget_gate[name_t])} at {name_quote}. {why_stop}")  # fmt: skip
        elif place == "stop":
            story.append(f"So this unit forgets at a full stop (token {t}), not at the new name: at {name_quote} its "
                         f"forget gate is {_two(steps.forget_gate[name_t])}. {why_stop}")  # fmt: skip
        else:
            story.append(f"So this unit forgets at {_at(tokens, spans, t)}, not at the new name: at {name_quote} its "
                         f"forget gate is {_two(steps.forget_gate[name_t])}.")  # fmt: skip
    parts = {index: _forget_parts(trace, index, layer, direction, unit) for index in rows}
    if found:
        story.append(_forget_cause_sentence(parts[t], _at(tokens, spans, t), _at(tokens, spans, t - 1) if t else None,
                                            added))  # fmt: skip
    effect = ablation.ablation_effect(model, FORGET_TEXT, (layer, direction, unit))
    if effect.words:
        last = len(tokens) - 1
        probabilities = " and ".join(f"“{word}” {ablation.probability_text(effect.before[last, index])}"
                                     for index, word in enumerate(effect.words))  # fmt: skip
        story.append(f"After the last token the model gives {probabilities}"
                     + (f"; the unit's cell value {_two(steps.cell[last])} reads as {gender.read(steps.cell[last])}."
                        if gender is not None else "."))  # fmt: skip
    effect_reading = _switch_off_reading(effect, unit)
    table = tuple(
        {"token": _token_label(tokens, index), "forget gate f": _two(steps.forget_gate[index]),
         "cell before": _two(steps.cell_before[index]), "kept f·c": _two(steps.kept[index]),
         "added i·g": _two(steps.written[index]), "cell after": _two(steps.cell[index]),
         **({"reads as": str(gender.read(steps.cell[index]))} if gender is not None else {}),
         "f's sum: from the word": _signed(parts[index][0]), "from before": _signed(parts[index][1])}
        for index in sorted(rows)
    )  # fmt: skip
    held = np.abs(steps.cell_before) >= analysis.EMPTY_CELL
    facts, lows = [], []
    for (_, _, text), span in zip(spans, _option_ranges(spans, len(tokens)), strict=True):
        eligible = [index for index in span if held[index]]
        if eligible:
            low = min(float(steps.forget_gate[index]) for index in eligible)
            facts.append(f"at “{text}” the forget gate is {_two(low)}")
        else:
            low = float("inf")
            facts.append(f"at “{text}” the cell holds almost nothing, so its forget gate "
                         f"({_two(min(steps.forget_gate[index] for index in span))}) has nothing to erase")  # fmt: skip
        lows.append(low)
    question = Question(
        prompt=f"Which word will make unit {unit}'s forget gate drop the lowest?",
        labels=tuple(text for _, _, text in spans),
        facts=tuple(facts),
        answer=option,
        why="its lowest in the text while the cell held something",
        near=tuple(index for index, low in enumerate(lows) if low < SHUT and index != option),
    )
    return LessonView("forget", "1 · Forget: a new subject arrives", FORGET_TEXT, trace, t, layer, direction, unit,
                      found and name is not None, reason, tuple(story), question, table, effect=effect,
                      effect_reading=effect_reading)  # fmt: skip


def _switch_off_reading(effect: ablation.AblationEffect, unit: int) -> str:
    """What the switch-off charts say about the unit, from their numbers at the last token: whether the
    model's choice between the followed words changes, or only how sure it is; then, for a named unit,
    what the held value reads as (`ablation.held_reading`: 0 is not neutral for every unit)."""
    held = ablation.held_reading(effect)
    choice = _choice_reading(effect, unit)
    return " ".join(part for part in (choice, held) if part)


def _choice_reading(effect: ablation.AblationEffect, unit: int) -> str:
    if len(effect.words) != 2:
        return ""
    (first, second), last = effect.words, effect.length - 1
    before, after = effect.before[last], effect.after[last]
    ahead_before, ahead_after = (first, second)[int(before[1] > before[0])], (first, second)[int(after[1] > after[0])]
    change = float(abs(after[0] - before[0]) + abs(after[1] - before[1]))
    if ahead_before != ahead_after:
        return (f"With unit {unit} off, the model prefers “{ahead_after}” to “{ahead_before}”: this unit decides the "
                "choice between them.")  # fmt: skip
    if change >= 0.05:
        kept, other = (after[0], after[1]) if ahead_after == first else (after[1], after[0])
        return (f"With unit {unit} off, “{ahead_before}” stays ahead ({ablation.probability_text(kept)} against "
                f"{ablation.probability_text(other)}): the unit pushes the prediction, but other units carry the same "
                "information too.")  # fmt: skip
    return f"With unit {unit} off, the probabilities barely move: the prediction does not rest on this unit."


def input_lesson(model: LanguageModel) -> LessonView:
    """Lesson 2: which value the model really keeps across several tokens of `INPUT_TEXT`."""
    trace = model.trace(INPUT_TEXT)
    tokens = list(trace.tokens)
    spans = word_spans(tokens, model.kind)
    carried = analysis.carries(trace)
    strong = analysis.longest_carry(carried) is not None
    if not strong:  # a model that never adds a strong value: follow the value kept longest, however small
        carried = analysis.carries(trace, min_write=0.0)
    best = analysis.longest_carry(carried)
    steps = analysis.unit_steps(trace, best.unit, best.layer, best.direction)
    t, unit = best.t, best.unit
    option = _span_of(spans, t)
    story = [
        "Not every word gets a lasting place in memory. For each word, the chart shows the unit that adds the "
        f"strongest value to its cell there (|i·g| at least {analysis.STRONG_WRITE}) and for how many of the "
        "following tokens at least half of that value stays in the cell."
    ]
    if not strong:
        story.append(
            "In this model no unit adds that much anywhere in the text, so the chart counts every value added."
        )
    kept_until = min(t + best.kept_for, len(tokens) - 1)
    after = range(t + 1, kept_until + 1)
    story.append(f"The value kept the longest is added at {_at(tokens, spans, t)} (token {t}): unit {unit}'s input "
                 f"gate is {_two(steps.input_gate[t])} and its candidate {_two(steps.candidate[t])}, so "
                 f"i·g = {_two(best.written)} goes into its cell.")  # fmt: skip
    lowest = min(after, key=lambda index: steps.forget_gate[index]) if len(after) else None
    if lowest is not None:
        stops = [index for index in after if tokens[index] in analysis.FULL_STOPS]
        sentence = (f"Its forget gates after that stay high (the lowest is {_gate(steps.forget_gate[lowest])} at "
                    f"token {lowest}), so at least half of the value is still there {best.kept_for} tokens later"
                    + (f", past the full stop at token {stops[0]}" if stops and stops[0] < kept_until else "")
                    + f"; at the end of the text {best.share_left:.0%} of it is left.")  # fmt: skip
        story.append(sentence)
    rows = [t]
    contrast = _find_word(spans, CONTRAST_WORD)
    if contrast is not None and not contrast[0] <= t <= contrast[1]:
        inside = [
            carried[index]
            for index in _option_ranges(spans, len(tokens))[_span_of(spans, contrast[0])]
            if carried[index] is not None
        ]
        quote = _quote(spans, _span_of(spans, contrast[0]))
        if not inside:
            story.append(f"Compare {quote}: no unit adds a strong value there.")
        else:
            other = max(inside, key=lambda carry: (carry.kept_for, carry.share_left))
            rows.append(other.t)
            gone = other.t + other.kept_for + 1  # the token after which less than half is left
            wiped = gone < len(tokens) and tokens[gone] in analysis.FULL_STOPS
            story.append(f"Compare {quote}: the value added there (unit {other.unit}, i·g = {_two(other.written)}) keeps "
                         f"half of itself for only {other.kept_for} token{'s' if other.kept_for != 1 else ''}"
                         + (f" and is wiped at the full stop (token {gone})." if wiped else "."))  # fmt: skip
    last = len(tokens) - 1
    output_gate, hidden = float(steps.output_gate[last]), float(steps.hidden[last])
    if output_gate < 0.5:
        story.append(f"At the last token its output gate is {_two(output_gate)}, so the value stays mostly hidden "
                     f"(h = {_two(hidden)} although c = {_two(steps.cell[last])}): kept for later, not used yet.")  # fmt: skip
    elif best.layer == model.lstm.num_layers - 1:
        column = best.direction * model.lstm.hidden_size + unit
        weights = model.decoder_weight[:, column]
        sentence = explain.score_sentence(
            unit, hidden, weights, model.vocab, noun="word" if model.kind == "words" else "character"
        )
        story.append(f"At the last token its output gate is {_two(output_gate)}: u{sentence[1:]}")
        raised = int(np.argmax(weights * hidden))
        if model.kind == "words" and abs(hidden) >= 0.005 and model.vocab[raised] == tokens[t]:
            story.append(f"So the value added at {_at(tokens, spans, t)} still raises the score of "
                         f"{_at(tokens, spans, t)} itself {last - t} tokens later: a way to recall a name read long ago.")  # fmt: skip
    table = tuple(
        {"token": _token_label(tokens, carry.t), "unit": str(carry.unit),
         "input gate i": _two(trace.gates["input"][carry.layer, carry.direction, carry.t, carry.unit]),
         "candidate g": _two(trace.gates["candidate"][carry.layer, carry.direction, carry.t, carry.unit]),
         "added i·g": _two(carry.written), "tokens kept (half or more)": str(carry.kept_for),
         "left at the end": f"{carry.share_left:.0%}",
         "cell at the end": _two(trace.cell[carry.layer, carry.direction, -1, carry.unit]),
         "o at the end": _two(trace.gates["output"][carry.layer, carry.direction, -1, carry.unit]),
         "h at the end": _two(trace.hidden[carry.layer, carry.direction, -1, carry.unit]),
         **({"lowest f while kept": f"{_gate(steps.forget_gate[lowest])} (token {lowest})" if carry is best and lowest is not None else ""} if lowest is not None else {})}
        for carry in (carried[index] for index in rows)
    )  # fmt: skip
    facts = []
    for (_, _, text), span in zip(spans, _option_ranges(spans, len(tokens)), strict=True):
        inside = [carried[index] for index in span if carried[index] is not None]
        if inside:
            longest = max(inside, key=lambda carry: carry.kept_for)
            facts.append(f"at “{text}” the longest-kept value (unit {longest.unit}) stays half or more for "
                         f"{longest.kept_for} token{'s' if longest.kept_for != 1 else ''}")  # fmt: skip
        else:
            facts.append(f"at “{text}” no unit adds a strong value")
    question = Question(
        prompt="Which word gives the model a value it keeps the longest?",
        labels=tuple(text for _, _, text in spans),
        facts=tuple(facts),
        answer=option,
        why="the longest of any word in this text",
    )
    return LessonView("input", "2 · Input: take a fact in and keep it", INPUT_TEXT, trace, t, best.layer,
                      best.direction, unit, True,
                      f"unit {unit} keeps the value it takes in here the longest of any unit and token of the text",
                      tuple(story), question, table, carried=carried)  # fmt: skip


def output_lesson(model: LanguageModel) -> LessonView:
    """Lesson 3: the unit that feeds the model's guess after the last "brave", and where its cell was set."""
    trace = model.trace(OUTPUT_TEXT)
    tokens = list(trace.tokens)
    spans = word_spans(tokens, model.kind)
    brave = _find_word(spans, READ_WORD, last=True)
    found = brave is not None
    if not found:
        t = len(tokens) - 1
    elif model.kind == "chars":
        t = min(brave[1] + 1, len(tokens) - 1)  # the space after the word, where the name's first letter is guessed
    else:
        t = brave[1]
    feed = analysis.output_feed(model, trace, t)
    noun = "word" if model.kind == "words" else "character"
    if not found:
        where = "the last token"
    elif model.kind == "chars":
        where = _at(tokens, spans, t)
    else:
        where = f"the last {_quote(spans, _span_of(spans, brave[0]))}"
    guess = explain.token_name(feed.guess)
    story = [f"After {where} (token {t}) the model's top guess for the next {noun} is “{guess}” ({feed.probability:.1%}).",
             "Only the hidden state h reaches the prediction, and the output gate decides how much of each cell gets "
             f"into h. Each unit's h, times its weight for a {noun}, adds to that {noun}'s score."]  # fmt: skip
    chosen = feed.chosen
    total = model.lstm.num_directions * model.lstm.hidden_size
    table: tuple[dict[str, str], ...] = ()
    origins = None
    if chosen is None:
        story.append(f"No unit raises the score of “{guess}” here: the guess comes from the word's own bias.")
        unit, layer, direction = 0, model.lstm.num_layers - 1, 0
        question = _origin_question(spans, np.zeros(len(tokens)), t, unit, guess, 0.0)
    else:
        unit, layer, direction = chosen.unit, chosen.layer, chosen.direction
        origins = analysis.cell_origins(trace, unit, t, layer, direction)
        most = "more than any other" if feed.rank == 1 else f"the {_ordinal(feed.rank)} most"
        story.append(f"Unit {unit} adds {_signed(chosen.adds)} to the score of “{guess}”, {most} of all {total} "
                     f"units: its output gate is {_two(chosen.output_gate)}, so its cell value "
                     f"{_two(chosen.cell)} passes on as h = {_two(chosen.hidden)}.")  # fmt: skip
        origin_quote = _at(tokens, spans, chosen.origin)
        if feed.from_source:
            story.append(f"Its cell value was set when the model read “{guess}” at token {feed.source}: "
                         f"{_two(chosen.origin_part)} of the {_two(chosen.cell)} comes from what was added there and "
                         f"kept through {t - feed.source} forget gates.")  # fmt: skip
            if chosen.origin != t and abs(origins[t]) >= 0.2:
                story.append(f"{_at(tokens, spans, t)[0].upper()}{_at(tokens, spans, t)[1:]} itself adds "
                             f"{_two(origins[t])} more (the last bar of the chart).")  # fmt: skip
        elif feed.source is not None:
            story.append(f"“{guess}” was read at token {feed.source}, but none of the {len(feed.feeders)} units that "
                         f"raise it most had its cell set there; unit {unit}'s cell value comes mostly from "
                         f"{origin_quote} (token {chosen.origin}): {_two(chosen.origin_part)} of the {_two(chosen.cell)}.")  # fmt: skip
        else:
            story.append(f"“{guess}” does not appear earlier in the text, so no unit can have kept it from there; unit "
                         f"{unit}'s cell value comes mostly from {origin_quote} (token {chosen.origin}): "
                         f"{_two(chosen.origin_part)} of the {_two(chosen.cell)}.")  # fmt: skip
        stronger = feed.feeders[: feed.rank - 1]
        if stronger:
            story.append(_stronger_sentence([feeder.unit for feeder in stronger],
                                            [f"{_at(tokens, spans, feeder.origin)} (token {feeder.origin})"
                                             for feeder in stronger]))  # fmt: skip
        shown = [*feed.feeders[:5], *([chosen] if feed.rank > 5 else [])]
        table = tuple(
            {"unit": str(feeder.unit) + (" (followed)" if feeder is chosen else ""),
             f"adds to “{guess}”": _signed(feeder.adds), "output gate o": _two(feeder.output_gate),
             "cell c": _two(feeder.cell), "h": _two(feeder.hidden),
             "cell set mostly at": _token_label(tokens, feeder.origin), "that part": _two(feeder.origin_part)}
            for feeder in shown
        )  # fmt: skip
        question = _origin_question(spans, origins, t, unit, guess, chosen.cell)
    reason = (f"unit {unit} raises the score of the guess “{guess}” the most among the units whose cell was set where "
              "it was read" if feed.from_source else f"unit {unit} raises the score of the guess “{guess}” the most")  # fmt: skip
    return LessonView("output", "3 · Output: read it out at “brave …”", OUTPUT_TEXT, trace, t, layer, direction, unit,
                      found, reason, tuple(story), question, table, origins=origins, feed=feed)  # fmt: skip


def _origin_question(spans, origins: np.ndarray, t: int, unit: int, guess: str, cell: float) -> Question:
    ranges = _option_ranges(spans, len(origins))
    offered = [option for option, (first, _, _) in enumerate(spans) if first <= t]
    parts = [float(origins[ranges[option]].sum()) for option in offered]
    answer = int(np.argmax(np.abs(parts)))
    return Question(
        prompt=f"Unit {unit} helps the guess “{guess}”. Which word of the text put most of the value it passes on "
        "into its cell?",
        labels=tuple(spans[option][2] for option in offered),
        facts=tuple(
            f"what was added at “{spans[option][2]}” makes up {_two(part)} of its cell value {_two(cell)}"
            for option, part in zip(offered, parts, strict=True)
        ),  # fmt: skip
        answer=answer,
        why="the largest part",
    )


@dataclass(frozen=True, eq=False)
class ModelLessons:
    model_name: str
    lessons: tuple[LessonView, ...]


def _stronger_sentence(units: Sequence[int], origins: Sequence[str]) -> str:
    """Where the cells of the units that raise the guess more than the followed one were set.

    >>> _stronger_sentence([151], ["“his” (token 12)"])
    'Unit 151, which adds more, had its cell set at “his” (token 12).'
    >>> _stronger_sentence([151, 8], ["“his” (token 12)", "“his” (token 12)"])
    'Units 151 and 8, which add more, both had their cells set at “his” (token 12).'
    >>> _stronger_sentence([151, 8, 3], ["“a” (token 1)", "“b” (token 2)", "“a” (token 1)"])
    'Units 151, 8 and 3, which add more, had their cells set at “a” (token 1), “b” (token 2) and “a” (token 1).'
    """
    def listed(items: Sequence[str]) -> str:
        return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"

    if len(units) == 1:
        return f"Unit {units[0]}, which adds more, had its cell set at {origins[0]}."
    names = listed([str(unit) for unit in units])
    if len(set(origins)) == 1:
        both = "both" if len(units) == 2 else "all"
        return f"Units {names}, which add more, {both} had their cells set at {origins[0]}."
    return f"Units {names}, which add more, had their cells set at {listed(list(origins))}."


def build_lessons(model: LanguageModel, model_name: str) -> ModelLessons:
    """The three lessons on `model`."""
    return ModelLessons(model_name, (forget_lesson(model), input_lesson(model), output_lesson(model)))


# ------------------------------------------------------------------------------ named units
@dataclass(frozen=True, eq=False)
class NamedUnitStory:
    """How one named unit was found, with the numbers and a corpus-explorer link that show it."""

    info: UnitInfo
    title: str
    sentences: tuple[str, ...]
    sample: analysis.UnitSample | None
    explorer: dict[str, str] | None  # the /corpus query parameters
    explorer_sentence: str


def explorer_query(
    info: UnitInfo, corpus: explore.CorpusStates, model_name: str, kind: str = "words"
) -> tuple[dict[str, str], tuple[int, int, int]] | None:
    """The /corpus query that selects a range of the default stories where the unit is on (past its
    threshold on its `below` side when the threshold is negative, else its `above` side) and off around
    it, and that range (story, start, end); None when the unit is never on there.

    The explorer's threshold is a distance from 0 and its "negative" polarity means below −t, so a
    threshold of −0.13 becomes polarity negative, t = 0.13.
    """
    sign = -1 if info.threshold < 0 else 1
    threshold = round(abs(info.threshold), 2)
    values = corpus.values(info.signal, info.layer, info.direction)[:, info.unit]
    span = analysis.explorer_span(values, corpus.offsets, sign, threshold, EXPLORER_SPAN.get(kind, 30))
    if span is None:
        return None
    text, start, end = span
    query = {"model": model_name, "corpus": "stories", "stories": str(len(corpus.texts)),
             "story_seed": str(corpus_figures.SEED_LIMITS[2]), "signal": info.signal,
             "polarity": "negative" if sign < 0 else "positive", "threshold": f"{threshold:.2f}", "margin": "1",
             "ref": str(text), "start": str(start), "end": str(end)}  # fmt: skip
    if info.layer:
        query["layer"] = str(info.layer)
    if info.direction:
        query["direction"] = str(info.direction)
    return query, span


def named_unit_story(
    model: LanguageModel, model_name: str, info: UnitInfo, corpus: explore.CorpusStates | None
) -> NamedUnitStory:
    """What a student needs to trust a named unit: the statistic, the data, the threshold and why, the
    held-out accuracy, a chart of its values by label, and a link that shows it over many texts."""
    lstm = model.lstm
    where = [f"layer {info.layer}"] if lstm.num_layers > 1 else []
    where += ["backward"] if info.direction else []
    place = f" ({', '.join(where)})" if where else ""
    units = lstm.num_layers * lstm.num_directions * lstm.hidden_size
    threshold, exact = threshold_text(info.threshold), threshold_text(info.threshold, precise=True)
    why = threshold if exact == threshold else f"{threshold} ({exact} before rounding)"
    sentences = [
        f"The statistic: one cut on one unit's {info.signal} value, “above {threshold} reads as {info.above}, below it "
        f"as {info.below}”. Every {info.signal} unit of the model ({units} in all) and every cut were tried, and unit "
        f"{info.unit}{place} with this cut read the most tokens right.",
        f"The data: {info.description[0].lower()}{info.description[1:]}"
        if info.description
        else "The data: stories of the story world.",
        f"Why {why}: the cut is not set by hand. The unit's values on the stories it was chosen on were sorted, "
        "and the cut that reads the most of them right lies between two neighbouring values; it is put midway "
        f"between them, so it is rarely a round number. Which side means {info.above} is whatever training "
        "happened to give: the sign has no meaning of its own.",
        f"Held out: on stories it was not chosen on, it reads {info.accuracy:.1%} of the tokens right "
        f"({info.chosen_accuracy:.1%} on the stories it was chosen on).",
    ]
    stories = SAMPLE_STORIES.get(info.name)
    sample = analysis.unit_sample(model, info, stories, SAMPLE_SEED) if stories else None
    if sample is not None and len(sample.values):
        medians = "; ".join(
            f"{label} tokens have a median of {_two(float(np.median(sample.values[sample.labels == label])))}"
            for label in (info.below, info.above)
            if np.any(sample.labels == label)
        )
        sentences.append(f"The chart reads the unit on {len(sample.values):,} tokens of {sample.stories} fresh stories "
                         f"(seed {SAMPLE_SEED}): {medians}. The cut falls between them and reads "
                         f"{sample.accuracy:.1%} of these tokens right.")  # fmt: skip
    explorer, explorer_sentence = None, ""
    found = explorer_query(info, corpus, model_name, model.kind) if corpus is not None else None
    if found is not None:
        explorer, (text, start, end) = found
        below = info.threshold < 0
        cut = _two(-float(explorer["threshold"]) if below else float(explorer["threshold"]))
        explorer_sentence = (f"Over many texts: the corpus explorer opens on story {text}, tokens {start} to {end}, where "
                             f"unit {info.unit}'s {info.signal} value stays {'below' if below else 'above'} {cut} "
                             f"({info.below if below else info.above}) and is back across it just before and after; "
                             f"below that it lists the other places in {len(corpus.texts)} stories where the units on "
                             "there switch on together.")  # fmt: skip
    title = {"subject gender": "The subject-gender unit", "inside quotation": "The quotation unit"}.get(
        info.name, f"The “{info.name}” unit"
    )
    return NamedUnitStory(info, f"{title}: unit {info.unit}", tuple(sentences), sample, explorer, explorer_sentence)


# ------------------------------------------------------------------------------- the caches
@st.cache_resource(show_spinner=False)
def _shared() -> BoundedCache:
    """(what, shipped model name) -> lessons or named-unit stories, for every session."""
    return BoundedCache(2 * SHARED_MODELS)


_SESSION_KEY = "_tutorial_lessons"


def _cache_for(model_name: str) -> BoundedCache:
    if model_name in model_store.MODEL_NAMES:
        return _shared()
    return st.session_state.setdefault(_SESSION_KEY, BoundedCache(2 * model_store.SESSION_MODEL_LIMIT))


def lessons_for(model_name: str) -> ModelLessons:
    """The three lessons on the model `model_name` (shipped or this session's), computed once."""
    model = model_store.language_model(model_name)
    return _cache_for(model_name).get_or_compute(("lessons", model_name), lambda: build_lessons(model, model_name))


def named_units_for(model_name: str) -> tuple[NamedUnitStory, ...]:
    """How each of the model's named units was found, computed once per model."""
    model = model_store.language_model(model_name)

    def build() -> tuple[NamedUnitStory, ...]:
        if not model.units:
            return ()
        count = EXPLORER_STORIES.get(model.kind, corpus_figures.STORY_LIMITS[2])
        texts = corpus_figures.story_texts(count, corpus_figures.SEED_LIMITS[2])
        corpus = corpus_runs.corpus_states(model_name, model, texts)
        return tuple(named_unit_story(model, model_name, info, corpus) for info in model.units.values())

    return _cache_for(model_name).get_or_compute(("named units", model_name), build)


lessons_for.clear = _shared.clear  # type: ignore[attr-defined]


def effect_lines(effect: ablation.AblationEffect) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """word -> (T,) P(word) as read and with the unit switched off, for `ablation.word_probability_figure`."""
    before = {word: effect.before[:, index] for index, word in enumerate(effect.words)}
    after = {word: effect.after[:, index] for index, word in enumerate(effect.words)}
    return before, after


# --------------------------------------------------------------------------------- figures
_NEUTRAL = "#a6a6a6"  # bars that compare tokens, not gates or signs: greys, as ui.ablation's before/after
_HIGHLIGHT = "#1a1a1a"


def carry_figure(tokens: Sequence[str], carried: Sequence[analysis.Carry | None], answer_t: int | None = None,
                 height: int = 300) -> go.Figure:  # fmt: skip
    """Bars, one per token: for how many of the following tokens the strongest value added there stays
    half or more (the unit written on the bar); the answer's bar darker."""
    positions = np.arange(len(tokens))
    kept = [carry.kept_for if carry is not None else 0 for carry in carried]
    text = [str(carry.kept_for) if carry is not None else "" for carry in carried]
    units = [carry.unit if carry is not None else -1 for carry in carried]
    colors = [_HIGHLIGHT if index == answer_t else _NEUTRAL for index in positions]
    data = [{"type": "bar", "x": positions, "y": kept, "marker": {"color": colors}, "text": text, "customdata": units,
             "textposition": "outside", "cliponaxis": False, "textangle": 0,
             "hovertemplate": "token %{x}: unit %{customdata} keeps it for %{y} tokens<extra></extra>",
             "showlegend": False}]  # fmt: skip
    layout = {
        "title": {"text": "How long the strongest value added at each token stays (half or more)", "font": {"size": 14},
                  "x": 0.0, "xanchor": "left"},
        "height": height, "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "plot_bgcolor": "#ffffff", "dragmode": False,
        "xaxis": {"tickvals": positions, "ticktext": token_labels(tokens), "fixedrange": True, "automargin": True,
                  "tickangle": 0 if len(tokens) <= 12 else -60},
        "yaxis": {"title": {"text": "tokens kept"}, "fixedrange": True, "rangemode": "tozero",
                  "range": [0, 1.25 * max(max(kept, default=1), 1)]},
    }  # fmt: skip
    return plotly_figure({"data": data, "layout": layout})


def origin_figure(tokens: Sequence[str], origins: np.ndarray, t: int, unit: int, height: int = 300) -> go.Figure:
    """Signed bars, one per token up to `t`: what was added at that token and is still in the unit's
    cell at `t` (`cell_origins`), orange above 0 and purple below, each value written on its bar."""
    values = np.asarray(origins[: t + 1], dtype=float)
    positions = np.arange(t + 1)
    colors = [palette.POSITIVE if value > 0 else palette.NEGATIVE for value in values]
    limit = max(float(np.abs(values).max(initial=0.0)), 0.1)
    data = [{"type": "bar", "x": positions, "y": values, "marker": {"color": colors},
             "text": [_two(value) if abs(value) >= 0.005 else "" for value in values], "textposition": "outside",
             "cliponaxis": False, "hovertemplate": "token %{x}: %{y:.2f}<extra></extra>", "showlegend": False}]  # fmt: skip
    layout = {
        "title": {"text": f"Where unit {unit}'s cell value at token {t} came from (it is the sum of these bars)",
                  "font": {"size": 14}, "x": 0.0, "xanchor": "left"},
        "height": height, "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "plot_bgcolor": "#ffffff", "dragmode": False,
        "xaxis": {"tickvals": positions, "ticktext": token_labels(tokens[: t + 1]), "fixedrange": True,
                  "automargin": True, "tickangle": 0 if t < 12 else -60},
        "yaxis": {"title": {"text": "part of the cell value"}, "fixedrange": True, "zeroline": True,
                  "zerolinecolor": "#555555", "range": [-1.3 * limit, 1.3 * limit]},
    }  # fmt: skip
    return plotly_figure({"data": data, "layout": layout})


def unit_sample_figure(sample: analysis.UnitSample, info: UnitInfo, height: int = 280) -> go.Figure:
    """The unit's values on the sample's tokens, one histogram per true label, and the threshold as a
    vertical line: where the cut falls between the two groups."""
    data = []
    for label, color in ((info.below, _NEUTRAL), (info.above, _HIGHLIGHT)):
        values = sample.values[sample.labels == label]
        data.append({"type": "histogram", "x": values, "name": f"{label} ({len(values):,} tokens)", "opacity": 0.65,
                     "marker": {"color": color}, "nbinsx": 60,
                     "hovertemplate": f"{label}: %{{y}} tokens at %{{x}}<extra></extra>"})  # fmt: skip
    layout = {
        "title": {"text": f"Unit {info.unit}'s {info.signal} value, by what the token really is", "font": {"size": 14},
                  "x": 0.0, "xanchor": "left"},
        "barmode": "overlay", "height": height, "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
        "plot_bgcolor": "#ffffff", "dragmode": False,
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        "xaxis": {"title": {"text": f"{info.signal} value"}, "fixedrange": True, "zeroline": True},
        "yaxis": {"title": {"text": "tokens"}, "fixedrange": True},
        "shapes": [{"type": "line", "x0": info.threshold, "x1": info.threshold, "y0": 0, "y1": 1, "yref": "paper",
                    "line": {"color": "#111111", "width": 2, "dash": "dash"}}],
        "annotations": [{"x": info.threshold, "y": 0.98, "yref": "paper", "yanchor": "top", "xanchor": "left",
                         "xshift": 4, "showarrow": False, "text": f"threshold {threshold_text(info.threshold)}",
                         "font": {"size": 12}, "bgcolor": "#ffffff"}],
    }  # fmt: skip
    return plotly_figure({"data": data, "layout": layout})
