"""Switch a unit off: read a text again with some units' cell states held still, and see what changes.

A unit that lines up with a property of the text (the subject's gender, a quotation) need not be what
the model uses to predict. Holding its cell state fixed at every step (an ablation, as in Lakretz et
al. 2019, "The emergence of number and syntax units in LSTM language models") and reading the
next-token probabilities again shows what the unit causes:

    c_t[u] = held value               # every step, whatever the gates computed
    h_t[u] = o_t[u] · tanh(held value)

The rest of the network runs as usual: the next step, the layers above and the decoder read the held
state. Two held values:

- ``"zero"``: the cell state stays 0, so the unit's hidden state is 0 too;
- ``"mean"``: the cell state stays at the unit's average over reference texts of the story world
  (`unit_mean_cells`), so the layers after it see a typical value that no longer follows the text.

    >>> from lstm_core import load_pretrained
    >>> model = load_pretrained("words")
    >>> gender = model.units["subject gender"]
    >>> trace = ablated_trace(model, "Mary is nice. Dan is evil.", [(gender.layer, gender.direction, gender.unit)])
    >>> float(abs(trace.cell[gender.layer, gender.direction, :, gender.unit]).max())
    0.0

NumPy only.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Sequence

import numpy as np

from lstm_core.data import corpus
from lstm_core.lstm import Trace
from lstm_core.models.language_model import LanguageModel

__all__ = ["MODES", "REFERENCE_SEED", "REFERENCE_STORIES", "ablated_trace", "held_cells", "reference_texts",
           "unit_mean_cells"]  # fmt: skip

MODES = ("zero", "mean")
# Stories of each kind in `reference_texts`. The mean is a typical level to hold a unit at, not a precise
# statistic: with ten times as many stories, most units' means move by a few hundredths (at most about 0.15).
REFERENCE_STORIES = 64
REFERENCE_SEED = 3_000_001  # a seed no training or evaluation set draws from
_BATCH = 64  # texts per batched forward: bounds memory for the char model's long texts

_mean_cells: weakref.WeakKeyDictionary[LanguageModel, np.ndarray] = weakref.WeakKeyDictionary()
_mean_cells_lock = threading.Lock()  # pages of several sessions may ask for the same model at once


def ablated_trace(model: LanguageModel, text: str, units: Sequence[tuple[int, int, int]], mode: str = "zero") -> Trace:
    """The trace of `text` with each unit of `units` switched off: its cell state held at every step.

    Args:
        model: the language model whose LSTM reads the text.
        text: what it reads (tokenised as `model.trace` does).
        units: (layer, direction, unit) of each unit to switch off; none gives the normal trace.
        mode: ``"zero"`` holds the cell state at 0, ``"mean"`` at the unit's mean (`unit_mean_cells`).

    Returns:
        A `Trace` like `model.trace(text)`, with `held_cells` set; `model.next_token_probs` reads it.
    """
    held = held_cells(model, units, mode)
    trace = model.lstm.run(model.input_vectors(text), held_cells=held)
    return dataclasses.replace(trace, tokens=tuple(model.tokens(text)))


def held_cells(model: LanguageModel, units: Sequence[tuple[int, int, int]], mode: str = "zero") -> np.ndarray:
    """(L, D, H) what `LSTM.run(held_cells=...)` takes: NaN for a free unit, the held value for each unit
    of `units`. Raises ValueError naming a unit the model does not have, or an unknown `mode`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if isinstance(units, np.ndarray):
        units = units.tolist()
    if isinstance(units, str) or not isinstance(units, Sequence):
        raise ValueError(f"units must be a list of (layer, direction, unit), got {units!r}")
    lstm = model.lstm
    sizes = (lstm.num_layers, lstm.num_directions, lstm.hidden_size)
    chosen = []
    for entry in units:
        if not _is_unit(entry):
            raise ValueError(f"each unit must be (layer, direction, unit), three whole numbers, got {entry!r}")
        layer, direction, unit = (int(index) for index in entry)
        if not all(0 <= index < size for index, size in zip((layer, direction, unit), sizes, strict=True)):
            raise ValueError(
                f"there is no unit (layer {layer}, direction {direction}, unit {unit}) to switch off: the "
                f"{model.name} model has {sizes[0]} layer(s) (0 to {sizes[0] - 1}), {sizes[1]} direction(s) "
                f"(0 to {sizes[1] - 1}) and units 0 to {sizes[2] - 1}"
            )
        chosen.append((layer, direction, unit))
    held = np.full(sizes, np.nan, dtype=lstm.dtype)
    means = unit_mean_cells(model) if mode == "mean" and chosen else None
    for layer, direction, unit in chosen:
        held[layer, direction, unit] = 0.0 if means is None else means[layer, direction, unit]
    return held


def unit_mean_cells(model: LanguageModel, texts: Sequence[str] | None = None) -> np.ndarray:
    """(L, D, H) every unit's mean cell state over every token of `texts`, each read from a zero state.

    With no `texts`, over `reference_texts()`, computed once per model and kept while the model lives.
    """
    if texts is not None:
        return _mean_cells_over(model, texts)
    with _mean_cells_lock:
        means = _mean_cells.get(model)
        if means is None:
            means = _mean_cells_over(model, reference_texts())
            means.flags.writeable = False
            _mean_cells[model] = means
    return means


def reference_texts() -> list[str]:
    """The texts unit means are taken over: held-out stories of the story world, and as many short
    stories that switch from a person of one gender to one of the other, so both genders are common."""
    stories = corpus.generate_stories(REFERENCE_STORIES, seed=REFERENCE_SEED, heldout=True)
    stories += corpus.switch_stories(REFERENCE_STORIES, seed=REFERENCE_SEED + 1)
    return [story.text for story in stories]


def _mean_cells_over(model: LanguageModel, texts: Sequence[str]) -> np.ndarray:
    texts = [text for text in texts if isinstance(text, str) and text.strip()]
    if not texts:
        raise ValueError("unit_mean_cells needs at least one non-empty text")
    lstm = model.lstm
    total = np.zeros((lstm.num_layers, lstm.num_directions, lstm.hidden_size), dtype=np.float64)
    count = 0
    for start in range(0, len(texts), _BATCH):
        batch = model.trace_texts(texts[start : start + _BATCH])
        total += batch.cell[:, :, batch.mask].sum(axis=2, dtype=np.float64)  # (L, D, tokens, H) summed over tokens
        count += int(batch.lengths.sum())
    return (total / count).astype(lstm.dtype)


def _is_unit(entry: object) -> bool:
    return (
        isinstance(entry, Sequence)
        and not isinstance(entry, str)
        and len(entry) == 3
        and all(isinstance(index, int | np.integer) and not isinstance(index, bool) for index in entry)
    )
