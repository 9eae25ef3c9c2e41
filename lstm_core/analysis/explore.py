"""Explore a corpus in the spirit of LSTMVis (Strobelt, Gehrmann, Pfister and Rush, 2018).

A student selects a range of tokens in one text and a threshold. `select_units` finds the units that
are *on* (value above the threshold) on every token of the range and *off* just before and after it:
the units that seem to track whatever the range has in common. `find_matches` then looks through the
whole corpus for other spans where those units are on together. Both work on plain arrays; the
corpus itself is traced with the core's batched forward by `trace_corpus`.

A unit can also be on "the negative way" (value below -threshold): the word model's quotation unit,
for one, goes negative inside quotations. Each selected unit therefore carries a sign, and all the
tests below read the *signed* value, sign * value > threshold.

>>> values = np.array([[0.0, 0.9], [0.8, 0.9], [0.9, 0.9], [0.1, 0.9]])    # (T=4, H=2)
>>> [(chosen.unit, chosen.sign) for chosen in select_units(values, start=1, end=2, threshold=0.5)]
[(0, 1)]
>>> find_matches(values, [0, 4], [(0, 1)], threshold=0.5)[0].span
(1, 2)

`gate_saturation_chunks` runs `analysis.gate_saturation` over a corpus in chunks, so a page can show
progress, and merges the parts into one `GateSaturation`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_core.analysis.units import GateSaturation, gate_saturation
from lstm_core.lstm import LSTM
from lstm_core.models.language_model import LanguageModel

__all__ = [
    "SIGNALS",
    "CorpusStates",
    "SelectedUnit",
    "Match",
    "trace_corpus",
    "select_units",
    "find_matches",
    "gate_saturation_chunks",
]

SIGNALS: tuple[str, ...] = ("cell", "hidden")  # what LSTMVis looks at: the cell state or the hidden state


# ------------------------------------------------------------------------------ the corpus
@dataclass(frozen=True, eq=False)
class CorpusStates:
    """A model's cell and hidden states over many texts, laid end to end.

    Attributes:
        texts: the S texts read (each from a zero state).
        tokens: the tokens of each text, as the model read them.
        offsets: (S + 1,) text s covers rows offsets[s]:offsets[s + 1] of the state arrays.
        cell, hidden: (num_layers, num_directions, N, H) float32, N = offsets[-1] tokens in all.
    """

    texts: tuple[str, ...]
    tokens: tuple[tuple[str, ...], ...]
    offsets: np.ndarray
    cell: np.ndarray
    hidden: np.ndarray

    @property
    def token_count(self) -> int:
        return int(self.offsets[-1])

    @property
    def nbytes(self) -> int:
        return self.cell.nbytes + self.hidden.nbytes + self.offsets.nbytes

    def values(self, signal: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        """(N, H) the `signal` ("cell" or "hidden") of every token of the corpus."""
        if signal not in SIGNALS:
            raise ValueError(f"signal must be one of {SIGNALS}, got {signal!r}")
        return (self.cell if signal == "cell" else self.hidden)[layer, direction]

    def text_values(self, text_index: int, signal: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        """(T_s, H) the `signal` along text `text_index`."""
        return self.values(signal, layer, direction)[self.offsets[text_index] : self.offsets[text_index + 1]]


def trace_corpus(
    model: LanguageModel,
    texts: Sequence[str],
    batch_size: int = 64,
    on_progress: Callable[[int, int], None] | None = None,
) -> CorpusStates:
    """Run `model` over every text (batched, `batch_size` texts at a time) and keep its states.

    Args:
        texts: non-empty texts; each is read from a zero state.
        on_progress: called as on_progress(texts done, texts in all) after each batch.
    """
    if len(texts) == 0:
        raise ValueError("texts must not be empty")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    cells, hiddens = [], []
    for start in range(0, len(texts), batch_size):
        batch = model.trace_texts(texts[start : start + batch_size])
        mask = batch.mask  # (B, T_max): padding is dropped, texts follow one another
        cells.append(np.asarray(batch.cell[:, :, mask], dtype=np.float32))
        hiddens.append(np.asarray(batch.hidden[:, :, mask], dtype=np.float32))
        if on_progress is not None:
            on_progress(min(start + batch_size, len(texts)), len(texts))
    tokens = tuple(tuple(model.tokens(text)) for text in texts)
    return CorpusStates(
        texts=tuple(texts),
        tokens=tokens,
        offsets=np.concatenate([[0], np.cumsum([len(text_tokens) for text_tokens in tokens])]).astype(np.int64),
        cell=np.concatenate(cells, axis=2),
        hidden=np.concatenate(hiddens, axis=2),
    )


# --------------------------------------------------------------------------- the selection
@dataclass(frozen=True)
class SelectedUnit:
    """A unit that is on over the selected range and off around it.

    Attributes:
        unit: the unit's index.
        sign: +1 when "on" means value > threshold, -1 when it means value < -threshold.
        inside_min: the smallest signed value (sign * value) inside the range.
        outside_max: the largest signed value on the margin tokens; None when the range touches both
            ends of the text, so that there is no margin token.
        score: by how much the unit clears the threshold on both sides, the smaller of
            inside_min - threshold and threshold - outside_max; the ranking key.
    """

    unit: int
    sign: int
    inside_min: float
    outside_max: float | None
    score: float


def select_units(
    values: np.ndarray,
    start: int,
    end: int,
    threshold: float,
    margin: int = 1,
    signs: Sequence[int] = (1,),
) -> list[SelectedUnit]:
    """The units on (signed value > `threshold`) on every token start..end and off (<= `threshold`)
    on the `margin` tokens before and after the range, best separated first.

    This is LSTMVis's selection; `margin` = 1 is its "just before and after", 0 drops the off
    condition. Margin tokens past either end of the text are simply absent.

    Args:
        values: (T, H) one text's cell or hidden states.
        start, end: the range, inclusive, 0 <= start <= end < T.
        signs: (1,) for units that go up, (-1,) for units that go down, (1, -1) for both.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be (T, H), got shape {values.shape}")
    length = values.shape[0]
    if not 0 <= start <= end < length:
        raise ValueError(f"the range must satisfy 0 <= start <= end < {length}, got start={start}, end={end}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if not signs or set(signs) - {1, -1}:
        raise ValueError(f"signs must be a non-empty selection of 1 and -1, got {signs!r}")
    around = np.r_[max(start - margin, 0) : start, end + 1 : min(end + 1 + margin, length)]
    chosen = []
    for sign in dict.fromkeys(signs):
        signed = sign * values
        inside_min = signed[start : end + 1].min(axis=0)  # (H,)
        outside_max = signed[around].max(axis=0) if len(around) else np.full(values.shape[1], -np.inf)
        keep = (inside_min > threshold) & (outside_max <= threshold)
        for unit in np.flatnonzero(keep):
            lowest, highest = float(inside_min[unit]), float(outside_max[unit])
            clears = lowest - threshold if not len(around) else min(lowest - threshold, threshold - highest)
            chosen.append(SelectedUnit(int(unit), int(sign), lowest, highest if len(around) else None, float(clears)))
    return sorted(chosen, key=lambda selected: (-selected.score, selected.unit, -selected.sign))


# ------------------------------------------------------------------------------- matching
@dataclass(frozen=True)
class Match:
    """A span of one text where at least `min_units` of the selected units are on at every token.

    Attributes:
        text_index: which text of the corpus.
        start, end: the span, inclusive, as token indices of that text.
        units_on: how many selected units are on at every token of the span.
        mean_on: the fraction of selected units on, averaged over the span's tokens.
    """

    text_index: int
    start: int
    end: int
    units_on: int
    mean_on: float

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


def find_matches(
    values: np.ndarray,
    offsets: Sequence[int],
    units: Sequence[tuple[int, int]],
    threshold: float,
    min_units: int | None = None,
    target_length: int | None = None,
    exclude: tuple[int, int, int] | None = None,
    limit: int | None = None,
) -> list[Match]:
    """Every maximal span of the corpus where at least `min_units` of `units` are on together, ranked.

    A span never crosses from one text into the next. Ranking, best first: more units on over the
    whole span, then a length closer to `target_length` (the selection's, so that a selected word is
    matched by words and a quotation by quotations; longer first when it is None), then a higher
    mean fraction on, then position in the corpus.

    Args:
        values: (N, H) the corpus's states, texts end to end (`CorpusStates.values`).
        offsets: (S + 1,) where each text starts, and N at the end.
        units: (unit, sign) pairs, as `SelectedUnit` gives them.
        min_units: how many of `units` must be on at once; all of them when None.
        exclude: (text_index, start, end): spans overlapping it are left out (the selection itself).
        limit: keep the best `limit` matches.
    """
    values = np.asarray(values)
    offsets = np.asarray(offsets, dtype=np.int64)
    if values.ndim != 2:
        raise ValueError(f"values must be (N, H), got shape {values.shape}")
    if (
        offsets.ndim != 1
        or len(offsets) < 2
        or offsets[0] != 0
        or offsets[-1] != len(values)
        or np.any(np.diff(offsets) < 0)
    ):
        raise ValueError(f"offsets must rise from 0 to {len(values)}, got {offsets.tolist()[:8]}…")
    if len(units) == 0:
        return []
    unit_index = np.array([unit for unit, _ in units], dtype=np.int64)
    signs = np.array([sign for _, sign in units], dtype=np.float64)
    min_units = len(units) if min_units is None else int(min_units)
    if not 1 <= min_units <= len(units):
        raise ValueError(f"min_units must be from 1 to {len(units)}, got {min_units}")
    on = signs * values[:, unit_index] > threshold  # (N, K)
    active = on.sum(axis=1) >= min_units  # (N,)
    text_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))  # (N,) which text each row is
    is_first = np.zeros(len(values), dtype=bool)
    is_first[offsets[:-1][np.diff(offsets) > 0]] = True
    previous_active = np.r_[False, active[:-1]] & ~is_first
    next_active = np.r_[active[1:], False] & np.r_[~is_first[1:], True]
    run_starts = np.flatnonzero(active & ~previous_active)
    run_ends = np.flatnonzero(active & ~next_active)  # inclusive; the i-th end closes the i-th start
    # Cumulative sums answer "on at every token of the run" and "mean on" for all runs at once.
    on_before = np.vstack([np.zeros((1, on.shape[1]), dtype=np.int64), np.cumsum(on, axis=0)])  # (N + 1, K)
    lengths = run_ends - run_starts + 1
    on_all = (on_before[run_ends + 1] - on_before[run_starts]) == lengths[:, None]
    units_on = on_all.sum(axis=1)
    mean_on = (on_before[run_ends + 1] - on_before[run_starts]).sum(axis=1) / (lengths * len(units))
    matches = []
    for first, last, count, mean in zip(run_starts, run_ends, units_on, mean_on, strict=True):
        text = int(text_of[first])
        start, end = int(first - offsets[text]), int(last - offsets[text])
        if exclude is not None and text == exclude[0] and start <= exclude[2] and end >= exclude[1]:
            continue
        matches.append(Match(text, start, end, int(count), float(mean)))

    def rank(match: Match) -> tuple:
        closeness = -match.length if target_length is None else abs(match.length - target_length)
        return (-match.units_on, closeness, -match.mean_on, match.text_index, match.start)

    matches.sort(key=rank)
    return matches if limit is None else matches[:limit]


# ----------------------------------------------------------------------------- saturation
def gate_saturation_chunks(
    lstm: LSTM,
    sequences: Sequence[np.ndarray],
    chunk_size: int = 128,
    on_progress: Callable[[int, int], None] | None = None,
    low: float = 0.1,
    high: float = 0.9,
) -> GateSaturation:
    """`analysis.gate_saturation` over `sequences`, `chunk_size` at a time, merged into one result.

    Each chunk's fractions are weighted by its number of timesteps, so the result equals one call
    over everything. `on_progress(sequences done, sequences in all)` is called after each chunk.
    """
    if len(sequences) == 0:
        raise ValueError("sequences must not be empty")
    parts = []
    for start in range(0, len(sequences), chunk_size):
        parts.append(gate_saturation(lstm, sequences[start : start + chunk_size], low=low, high=high))
        if on_progress is not None:
            on_progress(min(start + chunk_size, len(sequences)), len(sequences))
    timesteps = sum(part.timesteps for part in parts)

    def merged(which: str) -> dict[str, np.ndarray]:
        return {
            gate: sum(getattr(part, which)[gate] * part.timesteps for part in parts) / timesteps
            for gate in getattr(parts[0], which)
        }

    return GateSaturation(below=merged("below"), above=merged("above"), timesteps=timesteps, low=low, high=high)
