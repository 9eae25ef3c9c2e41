"""The tutorial's three lessons, read off a model's own trace instead of written in advance.

Each function answers one question about a trace with numbers a page can show beside the answer:

- forget: `forget_drop(trace, unit)` finds the token where a unit's forget gate is lowest while its
  cell held something to lose, and `drop_place` says whether that is the new subject's name, the
  full stop before it, or elsewhere; `erasing_unit` picks a unit to follow when a model has no
  subject-gender unit.
- input: `carries(trace)` gives, for every token, the unit that takes a strong value into its cell
  there and keeps it the longest (the product of its later forget gates is the share of that value
  still in the cell); `longest_carry` the best of them.
- output: `cell_origins(trace, unit, t)` splits a cell value exactly into what each earlier token
  added, and `output_feed(model, trace, t)` finds the units that raise the model's top guess the most
  at token t, and among them the one whose cell was set where the guessed word was read before.
- named units: `unit_sample` reads a named unit over fresh stories of the story world, labelled, to
  show where its threshold falls; `explorer_span` finds a range of a corpus where the unit is clearly
  on, for a link to the corpus explorer.

Pure NumPy; every function takes a `Trace` (and the model where the decoder is needed).

>>> from lstm_core import LSTM
>>> trace = LSTM.random(input_size=2, hidden_size=3, seed=0).run(np.ones((6, 2)))
>>> terms = cell_origins(trace, unit=1, t=4)
>>> bool(np.isclose(terms.sum(), trace.cell[0, 0, 4, 1]))   # a zero start: the writes add up to c_t
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lstm_core._base import previous_states
from lstm_core.analysis.units import token_table
from lstm_core.data import corpus
from lstm_core.lstm import Trace
from lstm_core.models.language_model import LanguageModel, UnitInfo
from lstm_core.numerics import softmax

__all__ = [
    "EMPTY_CELL",
    "STRONG_WRITE",
    "KEPT_SHARE",
    "FULL_STOPS",
    "UnitSteps",
    "unit_steps",
    "forget_drop",
    "drop_place",
    "erasing_unit",
    "Carry",
    "carries",
    "longest_carry",
    "cell_origins",
    "Feeder",
    "OutputFeed",
    "output_feed",
    "UnitSample",
    "unit_sample",
    "explorer_span",
]

EMPTY_CELL = 0.05  # |c_{t-1}| below this: the cell held next to nothing, so a low forget gate loses nothing
STRONG_WRITE = 0.5  # |i·g| at least this: a clear value added to the cell
KEPT_SHARE = 0.5  # a value counts as carried while at least half of it is still in the cell
FULL_STOPS = frozenset(".!?")
FEEDERS_CONSIDERED = 10  # the output lesson looks for a unit set at the name among this many top feeders
# The label each named unit is chosen on (lstm_core.analysis.units), as `corpus.Story.labels` names it.
_UNIT_LABELS = {"subject gender": "subject_gender", "inside quotation": "in_quotation"}


# ---------------------------------------------------------------------------- one unit
@dataclass(frozen=True)
class UnitSteps:
    """One unit's numbers at every token of a trace, in token order; each array is (T,).

    `cell_before` is the cell each step started from (in the direction's reading order), so
    `cell == forget_gate * cell_before + written` at every token.
    """

    layer: int
    direction: int
    unit: int
    forget_gate: np.ndarray
    input_gate: np.ndarray
    candidate: np.ndarray
    output_gate: np.ndarray
    cell_before: np.ndarray
    cell: np.ndarray
    hidden: np.ndarray

    @property
    def written(self) -> np.ndarray:
        """i·g: what each token adds to the cell."""
        return self.input_gate * self.candidate

    @property
    def kept(self) -> np.ndarray:
        """f·c_{t-1}: what each token keeps of the cell before it."""
        return self.forget_gate * self.cell_before


def unit_steps(trace: Trace, unit: int, layer: int = 0, direction: int = 0) -> UnitSteps:
    """Unit `unit`'s gates, cell and hidden value along `trace` (float64)."""
    hidden_size = trace.model.hidden_size
    if not 0 <= unit < hidden_size:
        raise ValueError(f"unit must be in 0..{hidden_size - 1}, got {unit!r}")
    index = layer * trace.model.num_directions + direction  # the row of c0 for this layer and direction
    cells = np.asarray(trace.cell[layer, direction], dtype=np.float64)  # (T, H)
    before = previous_states(cells, np.asarray(trace.c0[index], dtype=np.float64), reverse=direction == 1)
    gates = {name: np.asarray(trace.gates[name][layer, direction, :, unit], dtype=np.float64) for name in trace.gates}
    return UnitSteps(
        layer=layer,
        direction=direction,
        unit=unit,
        forget_gate=gates["forget"],
        input_gate=gates["input"],
        candidate=gates["candidate"],
        output_gate=gates["output"],
        cell_before=before[:, unit],
        cell=cells[:, unit],
        hidden=np.asarray(trace.hidden[layer, direction, :, unit], dtype=np.float64),
    )


# -------------------------------------------------------------------------------- forget
def forget_drop(steps: UnitSteps) -> int | None:
    """The token where the unit's forget gate is lowest among the tokens whose cell before held at
    least `EMPTY_CELL` (a gate that closes on an empty cell loses nothing); None if there is none.

    >>> steps = UnitSteps(0, 0, 0, forget_gate=np.array([0.1, 0.9, 0.3, 0.2]), input_gate=np.ones(4),
    ...                   candidate=np.zeros(4), output_gate=np.ones(4), cell_before=np.array([0, 1, 1, 0.01]),
    ...                   cell=np.zeros(4), hidden=np.zeros(4))
    >>> forget_drop(steps)   # token 0 and token 3 had nothing to lose
    2
    """
    held = np.abs(steps.cell_before) >= EMPTY_CELL
    if not held.any():
        return None
    return int(np.argmin(np.where(held, steps.forget_gate, np.inf)))


def drop_place(tokens: Sequence[str], t: int, name_start: int | None, name_end: int | None = None) -> str:
    """Where token `t` sits relative to the new subject's name (tokens name_start..name_end):

    ``"name"`` inside the name, ``"stop before name"`` on the full stop that ends the sentence
    before it (only spaces between), ``"stop"`` on another full stop, ``"other"`` anywhere else.

    >>> tokens = ["mary", "is", "nice", ".", "dan", "is", "evil", "."]
    >>> [drop_place(tokens, t, 4) for t in (4, 3, 7, 1)]
    ['name', 'stop before name', 'stop', 'other']
    """
    if name_start is not None:
        name_end = name_start if name_end is None else name_end
        if name_start <= t <= name_end:
            return "name"
        if t < name_start and tokens[t] in FULL_STOPS and all(token.isspace() for token in tokens[t + 1 : name_start]):
            return "stop before name"
    return "stop" if tokens[t] in FULL_STOPS else "other"


def erasing_unit(trace: Trace, tokens: Sequence[int] | None = None, layer: int = 0, direction: int = 0) -> int:
    """The unit that erases the most, (1 − f)·|c_{t-1}|, at any of `tokens` (all tokens when None):
    the one to follow in the forget lesson when a model has no subject-gender unit."""
    forget = np.asarray(trace.gates["forget"][layer, direction], dtype=np.float64)  # (T, H)
    index = layer * trace.model.num_directions + direction
    before = previous_states(np.asarray(trace.cell[layer, direction], dtype=np.float64), trace.c0[index],
                             reverse=direction == 1)  # fmt: skip
    erased = (1.0 - forget) * np.abs(before)  # (T, H)
    rows = list(range(trace.length)) if tokens is None else list(tokens)
    if not rows:
        raise ValueError("tokens must not be empty")
    return int(np.argmax(erased[rows].max(axis=0)))


# --------------------------------------------------------------------------------- input
@dataclass(frozen=True)
class Carry:
    """A value one unit takes into its cell at token `t` and how long the cell keeps it.

    Attributes:
        written: i·g at token t.
        kept_for: how many of the following tokens (in reading order) keep at least `KEPT_SHARE` of it;
            the share left after k tokens is the product of the unit's next k forget gates.
        share_left: the share of it still in the cell at the end of the text (1.0 at the last token).
    """

    t: int
    layer: int
    direction: int
    unit: int
    written: float
    kept_for: int
    share_left: float


def carries(
    trace: Trace, layer: int = 0, direction: int = 0, min_write: float = STRONG_WRITE
) -> tuple[Carry | None, ...]:
    """For every token, the unit that takes at least `min_write` (|i·g|) into its cell there and
    keeps it the longest (ties: the larger share left at the end, then the larger value); None for a
    token where no unit takes in that much."""
    forget = np.asarray(trace.gates["forget"][layer, direction], dtype=np.float64)  # (T, H)
    written = np.asarray(trace.gates["input"][layer, direction] * trace.gates["candidate"][layer, direction],
                         dtype=np.float64)  # fmt: skip
    backward = direction == 1
    if backward:  # reading order: the backward direction reads the last token first
        forget, written = forget[::-1], written[::-1]
    length = len(forget)
    # log_kept[s] - log_kept[t] = log of the product of the forget gates t+1..s: the share of a value
    # taken in at t still in the cell at s. It only falls, so the kept tokens come first.
    log_kept = np.cumsum(np.log(np.maximum(forget, 1e-30)), axis=0)  # (T, H)
    found: list[Carry | None] = []
    for t in range(length):
        later = log_kept[t + 1 :] - log_kept[t]  # (T - t - 1, H)
        kept_for = (later >= np.log(KEPT_SHARE)).sum(axis=0)
        share_left = np.exp(later[-1]) if len(later) else np.ones(forget.shape[1])
        strong = np.abs(written[t]) >= min_write
        if not strong.any():
            found.append(None)
            continue
        units = np.flatnonzero(strong)
        order = np.lexsort((-np.abs(written[t, units]), -share_left[units], -kept_for[units]))
        unit = int(units[order[0]])
        position = length - 1 - t if backward else t
        found.append(Carry(position, layer, direction, unit, float(written[t, unit]), int(kept_for[unit]),
                           float(share_left[unit])))  # fmt: skip
    return tuple(found[::-1] if backward else found)


def longest_carry(found: Sequence[Carry | None]) -> Carry | None:
    """The carry kept the longest (ties: the larger share left, then the earlier token); None if none."""
    kept = [carry for carry in found if carry is not None]
    if not kept:
        return None
    return min(kept, key=lambda carry: (-carry.kept_for, -carry.share_left, carry.t))


# -------------------------------------------------------------------------------- output
def cell_origins(trace: Trace, unit: int, t: int, layer: int = 0, direction: int = 0) -> np.ndarray:
    """(T,) what each token's i·g still contributes to the unit's cell at token `t`.

    Unrolling c_t = f_t c_{t-1} + i_t g_t gives c_t = Σ_s (i_s g_s · f_{s+1} ⋯ f_t) plus c_0 times all
    the forget gates; the terms for tokens the direction has not read yet are 0. From a zero starting
    state (every language-model trace) the terms add up to c_t exactly.
    """
    steps = unit_steps(trace, unit, layer, direction)
    if not 0 <= t < trace.length:
        raise ValueError(f"t must be in 0..{trace.length - 1}, got {t!r}")
    terms = np.zeros(trace.length)
    order = range(trace.length - 1, t - 1, -1) if direction == 1 else range(t + 1)
    survive = 1.0  # the product of the forget gates after token s up to t
    for s in reversed(list(order)):
        terms[s] = steps.written[s] * survive
        survive *= steps.forget_gate[s]
    return terms


@dataclass(frozen=True)
class Feeder:
    """A unit of the last layer and what it does to the score of the model's top guess at one token.

    Attributes:
        adds: decoder_weight[guess, column] × h: what this unit's hidden value adds to the guess's score.
        origin: the token whose i·g contributes the most (in size) to the unit's cell at this token.
        origin_part: that contribution (`cell_origins`); compare it with `cell`.
    """

    column: int  # its index in the output vector (direction × H + unit)
    layer: int
    direction: int
    unit: int
    adds: float
    hidden: float
    output_gate: float
    cell: float
    origin: int
    origin_part: float


@dataclass(frozen=True)
class OutputFeed:
    """Who feeds the model's top guess after token `t`.

    Attributes:
        feeders: the units that raise the guess's score the most, largest first (at most
            `FEEDERS_CONSIDERED`, only those that raise it).
        chosen: the first of `feeders` whose cell was set at `source`, else the first of them.
        source: the earlier token where the guessed word was read (None if it was not read before).
    """

    t: int
    guess: str
    probability: float
    feeders: tuple[Feeder, ...]
    chosen: Feeder | None
    source: int | None

    @property
    def rank(self) -> int | None:
        """1 for the unit that raises the guess the most, 2 for the next, ... (of the chosen unit)."""
        return None if self.chosen is None else self.feeders.index(self.chosen) + 1

    @property
    def from_source(self) -> bool:
        return self.chosen is not None and self.source is not None and self.chosen.origin == self.source


def output_feed(model: LanguageModel, trace: Trace, t: int) -> OutputFeed:
    """The units whose hidden values raise the score of the model's top guess after token `t`, and
    among them the one whose cell was set when the guessed word was read earlier in the text."""
    if not 0 <= t < trace.length:
        raise ValueError(f"t must be in 0..{trace.length - 1}, got {t!r}")
    output = np.asarray(trace.output[t], dtype=np.float64)  # (D * H,)
    scores = model.logits(output)
    guess = int(np.argmax(scores))
    probability = float(softmax(np.asarray(scores, dtype=np.float64))[guess])
    adds = np.asarray(model.decoder_weight[guess], dtype=np.float64) * output
    order = [int(column) for column in np.argsort(-adds, kind="stable")[:FEEDERS_CONSIDERED] if adds[column] > 0]
    hidden_size, layer = model.lstm.hidden_size, model.lstm.num_layers - 1
    word = model.vocab[guess]
    tokens = list(trace.tokens or ())
    earlier = [s for s in range(t) if tokens[s] == word] if model.kind == "words" else []
    source = earlier[-1] if earlier else None
    feeders = []
    for column in order:
        direction, unit = divmod(column, hidden_size)
        terms = cell_origins(trace, unit, t, layer, direction)
        origin = int(np.argmax(np.abs(terms)))
        feeders.append(
            Feeder(column, layer, direction, unit, float(adds[column]), float(output[column]),
                   float(trace.gates["output"][layer, direction, t, unit]), float(trace.cell[layer, direction, t, unit]),
                   origin, float(terms[origin]))
        )  # fmt: skip
    chosen = next((feeder for feeder in feeders if source is not None and feeder.origin == source), None)
    chosen = chosen or (feeders[0] if feeders else None)
    return OutputFeed(t, word, probability, tuple(feeders), chosen, source)


# --------------------------------------------------------------------------- named units
@dataclass(frozen=True)
class UnitSample:
    """A named unit's value on every labelled token of some stories.

    Attributes:
        values: (N,) the unit's `signal` value at each token.
        labels: (N,) the true label of each token (e.g. "female"/"male", "inside"/"outside").
        stories: how many stories the tokens come from.
        accuracy: the share of tokens the unit's threshold reads right.
    """

    values: np.ndarray
    labels: np.ndarray
    stories: int
    accuracy: float


def unit_sample(
    model: LanguageModel, info: UnitInfo, story_count: int = 120, seed: int = 2_000_001
) -> UnitSample | None:
    """Read the named unit `info` over `story_count` stories of the story world drawn with `seed`,
    labelled as the unit was chosen (`lstm_core.analysis.units`); None for a unit of another name.

    Subject gender: a quarter long stories, the rest short stories with a change of subject, every
    token that has a subject. Inside a quotation: stories with a quotation, as many outside tokens as
    inside ones (a seeded sample), so that always answering "outside" reads half of them right.
    """
    label = _UNIT_LABELS.get(info.name)
    if label is None:
        return None
    if label == "subject_gender":
        long_count = story_count // 4
        stories = corpus.generate_stories(long_count, seed, heldout=True)
        stories += corpus.switch_stories(story_count - long_count, seed + 1)
    else:
        stories = [
            story for story in corpus.generate_stories(4 * story_count, seed, heldout=True) if '"' in story.tokens
        ]
        stories = stories[:story_count]
    table = token_table(model, stories)
    labels = np.asarray(table.labels[label], dtype=object)
    if label == "in_quotation":
        labels = np.where(labels.astype(bool), "inside", "outside").astype(object)
    keep = np.flatnonzero(labels != None)  # noqa: E711 - elementwise comparison on an object array
    if label == "in_quotation":
        rng = np.random.default_rng(0)
        classes, counts = np.unique(labels[keep].astype(str), return_counts=True)
        keep = np.sort(np.concatenate([rng.choice(keep[labels[keep] == name], size=counts.min(), replace=False)
                                       for name in classes]))  # fmt: skip
    signal = table.states["cell" if info.signal == "cell" else "hidden"]
    values = np.asarray(signal[info.layer, info.direction, keep, info.unit], dtype=np.float64)
    labels = labels[keep].astype(str)
    accuracy = float(np.mean(info.read(values) == labels)) if len(values) else 0.0
    return UnitSample(values, labels, len(stories), accuracy)


def explorer_span(
    values: np.ndarray, offsets: np.ndarray, sign: int, threshold: float, max_length: int
) -> tuple[int, int, int] | None:
    """(text, start, end) of the longest run of tokens, at most `max_length` long, where
    sign × value > `threshold` at every token and not at the tokens just before and after it (or a
    text's edge): a selection the corpus explorer's `select_units` keeps this unit for. None if the
    unit is never on.

    Args:
        values: (N,) one unit's values over a corpus, texts laid end to end.
        offsets: (S + 1,) text s covers values[offsets[s]:offsets[s + 1]].
    """
    on = sign * np.asarray(values, dtype=np.float64) > threshold
    best: tuple[int, int, int] | None = None
    best_length = 0
    for text in range(len(offsets) - 1):
        row = on[offsets[text] : offsets[text + 1]].astype(np.int8)
        edges = np.diff(np.r_[0, row, 0])
        for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            length = int(stop - start)
            if best_length < length <= max_length:
                best, best_length = (text, int(start), int(stop - 1)), length
    return best
