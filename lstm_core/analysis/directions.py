"""What reading backwards buys a tagger: the two taggers side by side, and the backward unit that
carries a later word back to an ambiguous one.

"can" is a verb in "I can fish" and a noun in "a can of fish"; only the words after it tell. A
forward-only tagger tags "can" having read "I" or "a"; a bidirectional one has also read the sentence
from its end back to "can". `tag_rows` sets both taggers' tags side by side. `carrier_unit` finds the
backward unit of the first layer whose cell state at the ambiguous word differs most between two
sentences, and `carried_path` reads that unit's gates from the end of the sentence back to the word:
where its input gate opens (the later word it writes) and how much its forget gate keeps on the way.

    >>> from lstm_core.models.tagger import load_tagger
    >>> both, forward = load_tagger("tagger"), load_tagger("tagger-forward")
    >>> [row.tag_both for row in tag_rows(both, forward, ["a", "can", "of", "fish"])][1]
    'NOUN'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lstm_core.lstm import Trace

__all__ = [
    "AMBIGUOUS_PAIRS",
    "TagRow",
    "tag_rows",
    "carrier_unit",
    "CarriedPath",
    "carried_path",
]

# Sentences whose tags need the words after them: (sentence, index of the ambiguous word, its tag in
# that sentence). Each pair is the same word read two ways; the words before it do not tell which.
AMBIGUOUS_PAIRS: tuple[tuple[tuple[str, int, str], tuple[str, int, str]], ...] = (
    (("I can fish .", 1, "VERB"), ("a can of fish .", 1, "NOUN")),
    (("They refuse to permit us .", 3, "VERB"), ("They obtain the refuse permit .", 4, "NOUN")),
    (("Time flies like an arrow .", 1, "VERB"), ("Fruit flies like a banana .", 1, "NOUN")),
)


@dataclass(frozen=True)
class TagRow:
    """One word with the forward-only tagger's and the bidirectional tagger's tag and its probability."""

    word: str
    tag_forward: str
    p_forward: float
    tag_both: str
    p_both: float

    @property
    def disagree(self) -> bool:
        return self.tag_forward != self.tag_both


def tag_rows(both, forward, words: Sequence[str]) -> list[TagRow]:
    """`TagRow` for every word: `both` reads both ways, `forward` forwards only (two `Tagger`s)."""
    rows = []
    p_both = both.tag_probs(both.trace_words(words))
    p_forward = forward.tag_probs(forward.trace_words(words))
    for index, word in enumerate(words):
        best_both, best_forward = int(p_both[index].argmax()), int(p_forward[index].argmax())
        rows.append(TagRow(word, forward.tags[best_forward], float(p_forward[index, best_forward]),
                           both.tags[best_both], float(p_both[index, best_both])))  # fmt: skip
    return rows


def carrier_unit(
    tagger, first: tuple[Sequence[str], int], second: tuple[Sequence[str], int], layer: int = 0
) -> tuple[int, float]:
    """The backward unit of `layer` whose cell state at the ambiguous word differs most between two
    sentences (`first` and `second`: (words, index of the word)), and that difference: the second
    sentence's cell minus the first's, as "from the first sentence to the second" reads."""
    if tagger.lstm.num_directions != 2:
        raise ValueError("carrier_unit needs a bidirectional tagger")
    cells = []
    for words, index in (first, second):
        if not 0 <= index < len(words):
            raise ValueError(f"index {index} is not a word of {list(words)!r}")
        cells.append(tagger.trace_words(words).cell[layer, 1, index])
    difference = np.abs(cells[0] - cells[1])
    unit = int(difference.argmax())
    return unit, float(cells[1][unit] - cells[0][unit])


@dataclass(frozen=True)
class CarriedPath:
    """One backward unit from the last word back to word `t`: positions in reading order (last word
    first), its gates and cell there, and the word where its input gate wrote the most."""

    positions: tuple[int, ...]
    forget: np.ndarray
    input: np.ndarray
    candidate: np.ndarray
    cell: np.ndarray
    written_at: int  # the later position whose input gate * candidate is largest in size (t itself if last)
    kept: float  # the product of the forget gates after that write, down to t


def carried_path(trace: Trace, unit: int, t: int, layer: int = 0) -> CarriedPath:
    """The backward direction's `unit` of `layer`, read from the sentence's end back to token `t`."""
    if trace.model.num_directions != 2:
        raise ValueError("carried_path needs a trace of a bidirectional LSTM")
    positions = tuple(range(trace.length - 1, t - 1, -1))
    gates = {name: trace.gates[name][layer, 1, list(positions), unit] for name in ("forget", "input", "candidate")}
    cell = trace.cell[layer, 1, list(positions), unit]
    # What the words after t wrote: t's own write is what the word itself says, not what is carried.
    written = np.abs(gates["input"] * gates["candidate"])[:-1] if len(positions) > 1 else np.zeros(1)
    write_index = int(written.argmax())
    kept = float(np.prod(gates["forget"][write_index + 1 :])) if write_index + 1 < len(positions) else 1.0
    return CarriedPath(positions, gates["forget"], gates["input"], gates["candidate"], cell,
                       positions[write_index], kept)  # fmt: skip
