"""Words and equations for one step of the cell: what each gate of one unit did, with its numbers.

Pure functions of a `StepDetail`, the selected unit and the tokens, so they are tested without a
server. The sentences are plain text (tokens appear in curly quotes, exactly as the model read them);
pages pass them through `as_markdown`, which escapes whatever a user typed. The LaTeX never contains a
token, only numbers and fixed symbols, so nothing typed can reach the LaTeX renderer.

>>> import numpy as np
>>> from lstm_core import LSTM
>>> trace = LSTM.random(input_size=3, hidden_size=4, seed=0).run(np.ones((2, 3)))
>>> sentences = explain_step(trace.step(1), unit=2, tokens=["bob", "is"])
>>> sentences[0].startswith("Unit 2 reads “is”")
True
>>> numeric_equations(trace.step(1), unit=2)[0].startswith("i_{t}")
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_core import GATE_NAMES, StepDetail
from lstm_core.data.corpus import NAMES
from lstm_core.models.language_model import UnitInfo
from lstm_core.models.subwords import NAMES_NOTE
from lstm_core.models.tokenize import UNKNOWN_TOKEN
from ui.figures import threshold_text

__all__ = [
    "GATE_SYMBOLS",
    "TORCH_NAMES_NOTE",
    "explain_step",
    "score_sentence",
    "unit_summary",
    "subject_before",
    "word_at",
    "symbolic_equations",
    "numeric_equations",
    "as_markdown",
    "highlighted_text",
    "top_predictions",
    "token_name",
]

GATE_SYMBOLS = {"input": "i", "forget": "f", "candidate": "g", "output": "o"}

# Shown once, under the equations: the STYLE asks the UI to say how its gate names map to PyTorch's.
TORCH_NAMES_NOTE = (
    "Gate names here and in PyTorch's `nn.LSTM`: input = $i$, forget = $f$, candidate = $g$, output = $o$ "
    "(PyTorch stacks their rows in that order in `weight_ih_l{k}` and `weight_hh_l{k}`). "
    "Our $W_f$ is PyTorch's $W_{if}$, our $U_f$ is its $W_{hf}$, and our $b_f$ is the sum of its two biases "
    "$b_{if} + b_{hf}$; likewise for $i$, $g$ and $o$."
)

# Where the wording changes. A gate near 0 or 1 is "saturated": it acts like a closed or open switch.
_SHUT, _OPEN = 0.2, 0.8
_STRONG_CANDIDATE = 0.5  # |g| (or |i·g|) above this is a clear value written into the cell
_FAINT_CANDIDATE = 0.2  # |g| below this is next to nothing
_EMPTY_CELL = 0.05  # |c_{t-1}| below this: there was next to nothing to keep or erase

_WORD = re.compile(r"[^\W_]+(?:['\-’][^\W_]+)*")


# --------------------------------------------------------------------------------- tokens
def word_at(tokens: Sequence[str], t: int, kind: str = "words") -> str:
    """The word the model is reading at token `t`: the token itself for the word model, the whole
    word around character `t` for the character model ("" on a space or punctuation)."""
    if kind != "chars":
        return tokens[t]
    text = "".join("\x00" if token == UNKNOWN_TOKEN else token for token in tokens)
    for match in _WORD.finditer(text):
        if match.start() <= t < match.end():
            return match.group()
    return ""


def subject_before(tokens: Sequence[str], t: int, kind: str = "words") -> str | None:
    """The last person's name strictly before the word at token `t`, capitalised, or None.

    A name is one of the story world's names (`lstm_core.data.corpus.NAMES`), which are the names the
    shipped models learned as subjects. For the character model the characters are joined into words
    first, and the word that token `t` belongs to does not count as "before".

    >>> subject_before(["bob", "is", "nice", ".", "dan", ","], 4)
    'Bob'
    """
    if kind == "chars":
        text = "".join("\x00" if token == UNKNOWN_TOKEN else token for token in tokens)
        words = [match for match in _WORD.finditer(text) if match.end() <= t]
        earlier = [match.group().lower() for match in words]
    else:
        earlier = [token.lower() for token in tokens[:t]]
    for word in reversed(earlier):
        if word in NAMES:
            return word.capitalize()
    return None


def _display(word: str) -> str:
    """How a token appears in a sentence: quoted, names capitalised, <unk> said in words."""
    if word == UNKNOWN_TOKEN or word == "\x00":
        return "an unknown token"
    if word.lower() in NAMES:
        return word.capitalize()
    if word == " ":
        return "a space"
    return f"“{word}”"


def _number(value: float) -> str:
    return f"{value:.2f}".replace("-0.00", "0.00")


# ------------------------------------------------------------------------------ sentences
@dataclass(frozen=True)
class _UnitNumbers:
    """One unit's numbers at one step, as the sentences quote them."""

    input_gate: float
    forget_gate: float
    candidate: float
    output_gate: float
    cell_before: float
    cell: float
    hidden: float

    @property
    def kept(self) -> float:
        return self.forget_gate * self.cell_before

    @property
    def written(self) -> float:
        return self.input_gate * self.candidate


def explain_step(
    step: StepDetail,
    unit: int,
    tokens: Sequence[str],
    kind: str = "words",
    named_units: Mapping[str, UnitInfo] | None = None,
) -> list[str]:
    """Plain-language sentences about what unit `unit` did at this step, one per idea, numbers included.

    Args:
        step: one timestep, from `Trace.step(t, layer, direction)`.
        unit: index into the hidden units, 0..hidden_size-1.
        tokens: the trace's tokens (all of them: the sentence about forgetting looks back).
        kind: ``"words"`` or ``"chars"``, what one token is.
        named_units: the model's interpretable units (`LanguageModel.units`); a sentence says so when
            the selected unit is one of them, and what its value reads as.
    """
    hidden_size = len(step.cell)
    if not 0 <= unit < hidden_size:
        raise ValueError(f"unit must be in 0..{hidden_size - 1}, got {unit!r}")
    if len(tokens) <= step.t:
        raise ValueError(f"tokens has {len(tokens)} entries but the step is at t={step.t}")
    numbers = _UnitNumbers(
        input_gate=float(step.gates["input"][unit]),
        forget_gate=float(step.gates["forget"][unit]),
        candidate=float(step.gates["candidate"][unit]),
        output_gate=float(step.gates["output"][unit]),
        cell_before=float(step.c_prev[unit]),
        cell=float(step.cell[unit]),
        hidden=float(step.hidden[unit]),
    )
    token = tokens[step.t]
    word = word_at(tokens, step.t, kind)
    reading = _reading(token, word, kind)
    backward = step.direction == 1
    first_step = step.t == (len(tokens) - 1 if backward else 0)
    named_unit_infos = [
        info
        for info in (named_units or {}).values()
        if (info.layer, info.direction, info.unit) == (step.layer, step.direction, unit)
    ]
    # "about Bob" is only claimed where it is plausible: a new name arrives, or the unit is known to
    # track the subject. Otherwise a unit may hold anything, and the sentence says no more than it knows.
    subject = None if backward else subject_before(tokens, step.t, kind)
    about_subject = subject is not None and (word.lower() in NAMES or bool(named_unit_infos))
    held = f"the value the cell kept while {subject} was the subject" if about_subject else "the cell's value"
    new = _display(word) if word else reading

    return [
        f"Unit {unit} reads {reading}" + (" (reading backward, from the end of the text)." if backward else "."),
        _forget_sentence(unit, numbers, held, first_step),
        _write_sentence(numbers, new),
        _cell_update_sentence(numbers),
        _output_sentence(numbers),
        *(_named_unit_sentence(info, unit, numbers, float(step.h_prev[unit]), first_step) for info in named_unit_infos),
        *([NAMES_NOTE] if any(info.name == "subject gender" for info in named_unit_infos) else []),
    ]


def _reading(token: str, word: str, kind: str) -> str:
    """What the unit reads, for the first sentence: the token, and for characters the word around it."""
    if kind == "chars" and token != UNKNOWN_TOKEN:
        return f"the character {_display(token)}" + (f" of {_display(word)}" if word and word != token else "")
    return _display(token)


def _forget_sentence(unit: int, numbers: _UnitNumbers, held: str, first_step: bool) -> str:
    """Forget gate: what happens to c_{t-1}."""
    forget_gate, cell_before, kept = numbers.forget_gate, numbers.cell_before, numbers.kept
    forget = f"The forget gate of unit {unit} is {_number(forget_gate)}: "
    if first_step:
        forget += "this is the first token, so the cell starts empty and there is nothing to forget."
    elif abs(cell_before) < _EMPTY_CELL:
        forget += f"the cell held almost nothing ({_number(cell_before)}), so there was little to keep or erase."
    elif forget_gate < _SHUT:
        forget += f"it erases {held} ({_number(cell_before)} becomes {_number(kept)})."
    elif forget_gate < 0.5:
        forget += f"it erases most of {held} ({_number(cell_before)} becomes {_number(kept)})."
    elif forget_gate <= _OPEN:
        forget += f"it keeps part of {held} ({_number(cell_before)} becomes {_number(kept)})."
    else:
        forget += f"it keeps {held} ({_number(cell_before)} becomes {_number(kept)})."
    return forget


def _write_sentence(numbers: _UnitNumbers, new: str) -> str:
    """Input gate and candidate: what reading the token adds to the cell, and which way it moves it."""
    input_gate, candidate, written = numbers.input_gate, numbers.candidate, numbers.written
    way = "up" if written > 0 else "down"
    write = f"The input gate is {_number(input_gate)} and the candidate g is {_number(candidate)}: "
    if abs(written) >= _STRONG_CANDIDATE:
        write += f"reading {new} pushes the cell strongly {way} (i·g = {_number(written)} is added to it)."
    elif input_gate > _OPEN and abs(candidate) >= _FAINT_CANDIDATE:
        write += f"reading {new} pushes the cell a little {way} (i·g = {_number(written)} is added)."
    elif input_gate > _OPEN:
        write += f"the gate is open but the candidate is faint, so reading {new} barely moves the cell (i·g = {_number(written)})."
    elif input_gate < _SHUT:
        write += f"the gate is nearly shut, so reading {new} barely moves the cell (i·g = {_number(written)})."
    else:
        write += f"part of the candidate is added to the cell (i·g = {_number(written)})."
    return write


def _cell_update_sentence(numbers: _UnitNumbers) -> str:
    """c_t = f·c_{t-1} + i·g with the numbers."""
    written = numbers.written
    return (
        f"So the cell goes from {_number(numbers.cell_before)} to {_number(numbers.kept)} "
        f"{'−' if written < 0 else '+'} {_number(abs(written))} = {_number(numbers.cell)}."
    )


def _output_sentence(numbers: _UnitNumbers) -> str:
    """Output gate: how much of the cell the next step and the prediction see."""
    output_gate, cell, hidden = numbers.output_gate, numbers.cell, numbers.hidden
    read = f"The output gate is {_number(output_gate)}: "
    if output_gate > _OPEN:
        read += (
            f"it passes the cell on, so h = o·tanh(c) = {_number(hidden)} is what the prediction and the next step "
            "read from this unit."
        )
    elif output_gate < _SHUT:
        read += (
            f"it hides the cell for now (h = {_number(hidden)} although c = {_number(cell)}), so the prediction "
            "hardly sees it; the value stays in the cell for later."
        )
    else:
        read += f"it passes part of the cell on to the prediction (h = o·tanh(c) = {_number(hidden)})."
    return read


def _named_unit_sentence(
    info: UnitInfo, unit: int, numbers: _UnitNumbers, hidden_before: float, first_step: bool
) -> str:
    """What a named unit's value reads as, and whether this token changed the reading."""
    value = numbers.cell if info.signal == "cell" else numbers.hidden
    label = str(info.read(value))
    sentence = (
        f"Unit {unit} is the “{info.name}” unit: its {info.signal} value {_number(value)} is "
        f"{'above' if value > info.threshold else 'below'} {threshold_text(info.threshold).replace('−', '-')}, "
        f"which reads as {label}"
    )
    before = numbers.cell_before if info.signal == "cell" else hidden_before
    label_before = str(info.read(before))
    if not first_step and label_before != label:
        sentence += f" (it read {label_before} before this token)"
    return sentence + "."


def unit_summary(
    values: np.ndarray, tokens: Sequence[str], t: int, unit: int, info: UnitInfo | None = None, backward: bool = False
) -> list[str]:
    """What one unit's cell state does along a text, in plain sentences with its numbers: for a named
    unit what it tracks, how its threshold reads and what it reads as at token `t`; for every unit its
    range along the text and the token where it moves the most.

    Args:
        values: (T,) the unit's cell state at every token; tokens: the T tokens.
        backward: the unit belongs to a backward direction, which reads from the last token to the first:
            the cell it moves from at a token is the one of the token after it.

    >>> unit_summary(np.array([0.0, 0.5, 0.25]), ["bob", "is", "."], 1, 3)
    ['Along this text the cell state of unit 3 runs from 0.00 (token 0 “bob”) to 0.50 (token 1 “is”); it moves the most at token 1 “is”, from 0.00 to 0.50.']
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(tokens),) or not len(tokens):
        raise ValueError(f"values must hold one number per token ({len(tokens)}), got shape {values.shape}")
    if not 0 <= t < len(tokens):
        raise ValueError(f"t must be in 0..{len(tokens) - 1}, got {t!r}")

    def at(index: int) -> str:
        return f"token {index} “{token_name(tokens[index])}”"

    def number(value: float) -> str:
        return _number(value).replace("-", "−")

    sentences = []
    if info is not None and info.signal == "cell":
        reading = str(info.read(values[t]))
        sentences.append(
            f"Unit {unit} is this model's “{info.name}” unit: its cell state reads as {info.above} above "
            f"{threshold_text(info.threshold)} and as {info.below} below it (right on {info.accuracy:.1%} of held-out tokens). "
            f"At {at(t)} it is {number(values[t])}, so it reads as {reading}."
        )  # fmt: skip
    if len(values) == 1:
        sentences.append(f"At its only token, {at(0)}, the cell state of unit {unit} is {number(values[0])}.")
        return sentences
    low, high = int(np.argmin(values)), int(np.argmax(values))
    # in reading order, the first token read moves the cell from its start at 0
    previous = np.append(values[1:], 0.0) if backward else np.insert(values[:-1], 0, 0.0)
    moved = int(np.argmax(np.abs(values - previous)))
    before = previous[moved]
    sentences.append(f"Along this text the cell state of unit {unit} runs from {number(values[low])} ({at(low)}) to "
                     f"{number(values[high])} ({at(high)}); it moves the most at {at(moved)}, from {number(before)} "
                     f"to {number(values[moved])}.")  # fmt: skip
    return sentences


def score_sentence(unit: int, hidden: float, word_weights: np.ndarray, vocab: Sequence[str], noun: str = "word") -> str:
    """What one unit's hidden value does to the prediction after this token.

    The model's score for a word is the sum over units of h times that unit's weight for the word
    (`LanguageModel.decoder_weight[word, unit]`), plus the word's bias; this names the word whose score
    the unit raises the most and the one it lowers the most, with how much.

    Args:
        word_weights: (V,) the unit's column of the decoder, one weight per vocabulary word.
        noun: what one token is, "word" or "character".

    >>> print(score_sentence(3, 0.5, np.array([2.0, -1.0, 0.4]), ["he", "she", "it"]))
    Unit 3's hidden value h = 0.50, times its weight for each word, raises the score of “he” the most (+1.00) and lowers “she” the most (−0.50).
    """
    adds = np.asarray(word_weights, dtype=np.float64) * float(hidden)
    if len(adds) != len(vocab):
        raise ValueError(f"word_weights has {len(adds)} entries for a vocabulary of {len(vocab)}")
    if not np.any(np.abs(adds) >= 0.005):
        return f"Unit {unit}'s hidden value h = {_number(hidden)} adds next to nothing to any {noun}'s score."
    up, down = int(np.argmax(adds)), int(np.argmin(adds))
    opening = f"Unit {unit}'s hidden value h = {_number(hidden)}, times its weight for each {noun}, "
    raises = f"raises the score of {_display(vocab[up])} the most ({_signed(adds[up])})"
    lowers = f"lowers {_display(vocab[down])} the most ({_signed(adds[down])})"
    if adds[down] >= 0:
        return opening + raises + "."
    if adds[up] <= 0:
        return opening + lowers + "."
    return opening + raises + " and " + lowers + "."


def _signed(value: float) -> str:
    """+1.20 or −0.50: a change, with its sign always written."""
    text = _number(abs(value))
    return ("+" if value >= 0 or text == "0.00" else "−") + text


# ------------------------------------------------------------------------------ equations
def symbolic_equations(direction: int = 0) -> list[str]:
    """The six LSTM equations in LaTeX, in PyTorch's gate order i, f, g, o, then c and h. A backward
    direction (`direction` 1) reads the text from its end, so its state comes from token t+1."""
    came = _came_from(direction)
    return [
        rf"i_t = \sigma\left(W_i\,x_t + U_i\,h_{{{came}}} + b_i\right)",
        rf"f_t = \sigma\left(W_f\,x_t + U_f\,h_{{{came}}} + b_f\right)",
        rf"g_t = \tanh\left(W_g\,x_t + U_g\,h_{{{came}}} + b_g\right)",
        rf"o_t = \sigma\left(W_o\,x_t + U_o\,h_{{{came}}} + b_o\right)",
        rf"c_t = f_t \odot c_{{{came}}} + i_t \odot g_t",
        r"h_t = o_t \odot \tanh(c_t)",
    ]


def _came_from(direction: int) -> str:
    """The index of the state a step reads: t-1 forwards, t+1 backwards."""
    return "t+1" if direction == 1 else "t-1"


def _term(value: float) -> str:
    """A number as a LaTeX factor or summand: negative ones in parentheses so signs never collide."""
    text = _number(value)
    return f"({text})" if text.startswith("-") else text


def numeric_equations(step: StepDetail, unit: int) -> list[str]:
    """The same six equations for one unit with its numbers substituted, in LaTeX (2 decimals).

    Each gate shows its two parts, from the token (W x_t + b) and from the previous hidden state
    (U h_{t-1} + b), their sum (the pre-activation) and the gate value.
    """
    hidden_size = len(step.cell)
    if not 0 <= unit < hidden_size:
        raise ValueError(f"unit must be in 0..{hidden_size - 1}, got {unit!r}")
    j = unit
    lines = []
    for name in GATE_NAMES:
        symbol = GATE_SYMBOLS[name]
        squash = r"\tanh" if name == "candidate" else r"\sigma"
        from_token = float(step.input_part[name][j])
        from_memory = float(step.recurrent_part[name][j])
        total = float(step.preactivation[name][j])
        gate = float(step.gates[name][j])
        lines.append(
            rf"{symbol}_{{t}} = {squash}\big(\underbrace{{{_number(from_token)}}}_{{\text{{from }} x_t}}"
            rf" + \underbrace{{{_term(from_memory)}}}_{{\text{{from }} h_{{{_came_from(step.direction)}}}}}\big)"
            rf" = {squash}({_number(total)}) = {_number(gate)}"
        )
    input_gate, forget_gate, candidate, output_gate = (float(step.gates[name][j]) for name in GATE_NAMES)
    cell_before, cell = float(step.c_prev[j]), float(step.cell[j])
    # Two lines each for c and h: on one line they overflow a half-width column.
    lines.append(
        rf"\begin{{aligned}} c_t &= {_term(forget_gate)} \times {_term(cell_before)} + {_term(input_gate)} \times "
        rf"{_term(candidate)} \\ &= {_number(forget_gate * cell_before)} + {_term(input_gate * candidate)} = {_number(cell)}"
        r" \end{aligned}"
    )
    lines.append(
        rf"\begin{{aligned}} h_t &= {_term(output_gate)} \times \tanh({_number(cell)}) \\ &= {_term(output_gate)} \times "
        rf"{_term(math.tanh(cell))} = {_number(float(step.hidden[j]))} \end{{aligned}}"
    )
    return lines


# ------------------------------------------------------------------------------- markdown
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$])")


def as_markdown(text: str) -> str:
    """`text` with every Markdown (and HTML-looking) character escaped, for `st.markdown`.

    User tokens travel inside the sentences; escaping makes "<b>", "**" or "[x](javascript:)" show as
    typed. Streamlit never renders raw HTML without `unsafe_allow_html`, which we never pass.

    >>> print(as_markdown("<b>Bob</b> *is* $5"))
    \\<b\\>Bob\\</b\\> \\*is\\* \\$5
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


# ------------------------------------------------------------------------------- the text
def highlighted_text(tokens: Sequence[str], t: int | None, kind: str = "words", radius: int = 40) -> str:
    """The text around token `t` as escaped Markdown, token `t` highlighted; at most `radius` tokens
    on each side (long texts get "…"), so a 5,000-token text does not flood the page. With `t` None,
    the first 2·`radius` + 1 tokens and nothing highlighted (a question must not show its answer).

    >>> highlighted_text(["bob", "is", "<unk>"], 1)
    'bob :blue-background[**is**] \\\\<unk\\\\>'
    >>> highlighted_text(["bob", "is"], None)
    'bob is'
    """
    if t is None:
        start, stop = 0, min(len(tokens), 2 * radius + 1)
    else:
        start, stop = max(0, t - radius), min(len(tokens), t + radius + 1)
    pieces = []
    for index in range(start, stop):
        token = tokens[index]
        if kind == "chars":
            shown = "·" if token == " " else "⏎" if token == "\n" else token
        else:
            shown = token
        shown = as_markdown(shown)
        if index == t:
            shown = f":blue-background[**{shown}**]"
        pieces.append(shown)
    joined = ("" if kind == "chars" else " ").join(pieces)
    return ("… " if start > 0 else "") + joined + (" …" if stop < len(tokens) else "")


def token_name(token: str) -> str:
    """A token as a student can see it in running text: spaces and line breaks named, not invisible."""
    return {" ": "space", "\n": "line break", "\t": "tab"}.get(token, token)


def top_predictions(probabilities: np.ndarray, vocab: Sequence[str], k: int = 5) -> list[tuple[str, float]]:
    """The `k` most probable next tokens and their probabilities, most probable first."""
    order = np.argsort(-np.asarray(probabilities), kind="stable")[:k]
    return [(vocab[index], float(probabilities[index])) for index in order]
