"""The tutorial's lessons: the three classic LSTM examples, each opened on the real trace at the token
where the behaviour happens.

A lesson names its token by word ("dan", the last "brave"), never by index, so it stays right if the
example text or the tokenizer changes; `lesson_view` finds the token in the model's own tokens and
chooses the unit to follow (the model's subject-gender unit when it has one). Pure functions of a
`LanguageModel` and its `Trace`, tested without a server.

>>> find_token(["bob", "is", "brave", ".", "brave", "bob"], "brave", last=True)
4
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lstm_core import Trace
from lstm_core.models.language_model import LanguageModel
from ui.typed_text import EXAMPLES

__all__ = [
    "Lesson",
    "LessonView",
    "LESSONS",
    "find_token",
    "lesson_view",
    "strongest_writer",
    "strongest_reader",
    "gender_reading",
]


@dataclass(frozen=True)
class Lesson:
    title: str
    text: str
    word: str  # the token the lesson opens on, lowercased as the word model reads it
    last: bool  # the last occurrence of `word` rather than the first
    story: str  # what to look at, in our own words (Markdown, no user text)
    follow: str  # "gender": the subject-gender unit; "writer": the unit that writes most at the token;
    # "reader": the unit whose hidden value raises the model's top guess for the next token the most


@dataclass(frozen=True)
class LessonView:
    t: int
    unit: int
    layer: int
    direction: int
    found: bool  # False when the model's tokens do not contain the lesson's word (then t is the last token)
    unit_reason: str  # why this unit, in a student's words


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        title="1 · Forget: a new subject arrives",
        # The classic "Bob ... Dan" switch keeps the gender, so the unit that tracks it has nothing to
        # change; a switch to a woman shows the forget gate at work in that unit.
        text="Bob is a nice person. Mary, on the other hand, is evil.",
        word="mary",
        last=False,
        follow="gender",
        story=(
            "The first sentence is about Bob, so the model keeps *he* ready for later. Then Mary arrives, and what "
            "the cell stored about Bob is now in the way. Watch the **forget gate** of the unit that tracks the "
            "subject's gender as the model reads “mary”: near 0, it wipes the old value, and the **input gate** "
            "writes the new subject in its place. (With “Dan” instead of “Mary” the subject changes but the gender "
            "does not, and this unit has nothing to forget: try it on the step page.)"
        ),
    ),
    Lesson(
        title="2 · Input: write the important fact",
        text=EXAMPLES["Input: keep the important fact"],
        word="swimming",
        last=False,
        follow="writer",
        story=(
            "Not every word deserves a place in memory. At “swimming” some units open their **input gate** wide "
            "and take a strong candidate value: they write the new word into the cell. Below is the unit that "
            "writes the most at this token. Whether it keeps what it wrote is up to its **forget gate** at the "
            "next tokens: step on through the sentence and watch. This model was trained to guess the next word, "
            "and the fact it needs most later is who the subject is (for “he” and “she”), which is what its "
            "subject-gender unit holds on to while the details pass."
        ),
    ),
    Lesson(
        title="3 · Output: read it out at “brave …”",
        text=EXAMPLES["Output: use what was kept"],
        word="brave",
        last=True,
        follow="reader",
        story=(
            "A whole sentence after Bob was last named, the text says “brave …”. To guess the name, the model "
            "needs what it stored long ago. The **output gate** decides how much of each cell reaches the hidden "
            "state, and only the hidden state reaches the prediction. Below is the unit that pushes the model's "
            "top guess up the most: its output gate is open, so what it holds is read out now."
        ),
    ),
)


def find_token(tokens: Sequence[str], word: str, last: bool = False) -> int | None:
    """Index of `word` among `tokens` (case-insensitive), the first or last occurrence, or None."""
    matches = [index for index, token in enumerate(tokens) if token.lower() == word]
    if not matches:
        return None
    return matches[-1] if last else matches[0]


def strongest_writer(trace: Trace, t: int, layer: int = 0, direction: int = 0) -> int:
    """The unit that writes the most into its cell at token `t`: the largest |i ⊙ g|."""
    written = trace.gates["input"][layer, direction, t] * trace.gates["candidate"][layer, direction, t]
    return int(np.argmax(np.abs(written)))


def strongest_reader(model: LanguageModel, trace: Trace, t: int) -> tuple[int, str]:
    """The unit whose hidden value adds the most to the score of the model's top guess after token `t`,
    and that guess: the largest decoder_weight[guess, j] * h_t[j] (last layer, one direction)."""
    output = trace.output[t]  # (D * H,)
    scores = model.logits(output)
    guess = int(np.argmax(scores))
    contribution = model.decoder_weight[guess] * output
    unit = int(np.argmax(contribution)) % model.lstm.hidden_size
    return unit, model.vocab[guess]


def gender_reading(model: LanguageModel, trace: Trace, t: int) -> str | None:
    """A sentence on what the subject-gender unit holds at token `t`, or None if the model has none."""
    gender = model.units.get("subject gender")
    if gender is None:
        return None
    value = float(gender.values(trace)[t])
    return (
        f"Meanwhile the subject-gender unit {gender.unit} holds {value:.2f} in its {gender.signal}, "
        f"which reads as {gender.read(value)}."
    )


def lesson_view(lesson: Lesson, model: LanguageModel, trace: Trace) -> LessonView:
    """Where the lesson opens in `trace` (the model's trace of `lesson.text`) and which unit it follows."""
    tokens = list(trace.tokens)
    index = find_token(tokens, lesson.word, lesson.last)
    found = index is not None
    t = index if found else len(tokens) - 1
    gender = model.units.get("subject gender")
    if lesson.follow == "gender" and gender is not None:
        reason = f"unit {gender.unit} is the model's subject-gender unit"
        return LessonView(t, gender.unit, gender.layer, gender.direction, found, reason)
    if lesson.follow == "reader":
        unit, guess = strongest_reader(model, trace, t)
        layer = model.lstm.num_layers - 1
        reason = f"unit {unit} raises the score of the model's top guess “{guess}” the most"
        return LessonView(t, unit, layer, 0, found, reason)
    unit = strongest_writer(trace, t)
    return LessonView(t, unit, 0, 0, found, f"unit {unit} writes the most into its cell at this token")
