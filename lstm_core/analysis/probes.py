"""Linear probes: what each layer and direction of an LSTM knows, read out by logistic regression.

A probe is a multinomial logistic regression from one layer's hidden state h_t (one direction, or
both side by side) to a property of token t: its part of speech, whether it stands inside a
quotation, where it is in its sentence, the subject's gender. It is fitted on the tokens of one set
of texts and scored on another. A property a linear read-out recovers well is "in" the state in
the plainest sense: one weighted sum of the units separates its values.

The input vectors, before any LSTM, are probed too: the difference between them and a layer is what
reading the context added. Every probe is compared with the majority baseline (always answering the
most common value of the fitting tokens).

    >>> rng = np.random.default_rng(0)
    >>> states = rng.normal(size=(400, 5)); labels = (states[:, 2] > 0).astype(int)
    >>> probe = fit_probe(states[:300], labels[:300])
    >>> bool(probe.accuracy(states[300:], labels[300:]) > 0.95)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_core.numerics import softmax

__all__ = ["Probe", "fit_probe", "POSITION_BUCKETS", "position_bucket", "quotation_labels", "ProbeRow",
           "probe_rows", "tagger_probe_table"]  # fmt: skip

# Where a word stands in its sentence, counted from 1: the first word, the 2nd-3rd, 4th-7th, ...
POSITION_BUCKETS: tuple[str, ...] = ("1st", "2nd-3rd", "4th-7th", "8th-15th", "16th or later")


def position_bucket(index: int) -> int:
    """The `POSITION_BUCKETS` index of the word at 0-based `index`: log2 steps, so "near the start"
    is told apart finely and "somewhere later" coarsely."""
    return min(int(np.log2(index + 1)), len(POSITION_BUCKETS) - 1)


_OPENING_QUOTES = {"``", '"', "“"}
_CLOSING_QUOTES = {"''", '"', "”"}


def quotation_labels(words: Sequence[str]) -> np.ndarray:
    """(len(words),) 1 for a word inside a quotation (after an opening quote mark, up to and not
    including its closing mark), else 0. A plain '"' opens when no quotation is open and closes
    otherwise."""
    inside, labels = False, np.zeros(len(words), dtype=np.int64)
    for index, word in enumerate(words):
        if inside and word in _CLOSING_QUOTES:
            inside = False
        elif not inside and word in _OPENING_QUOTES:
            inside = True
            continue
        labels[index] = int(inside)
    return labels


@dataclass(frozen=True)
class Probe:
    """A fitted multinomial logistic regression on standardised states."""

    mean: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    weight: np.ndarray  # (D, C)
    bias: np.ndarray  # (C,)
    classes: np.ndarray  # (C,) the label values, in column order

    def predict(self, states: np.ndarray) -> np.ndarray:
        scores = ((states - self.mean) / self.scale) @ self.weight + self.bias
        return self.classes[scores.argmax(axis=1)]

    def accuracy(self, states: np.ndarray, labels: np.ndarray) -> float:
        return float(np.mean(self.predict(states) == labels))


def fit_probe(states: np.ndarray, labels: np.ndarray, steps: int = 300, learning_rate: float = 0.05,
              l2: float = 1e-3, seed: int = 0) -> Probe:  # fmt: skip
    """Fit a probe by full-batch gradient descent (Adam) on the cross-entropy plus `l2` * |W|^2.

    states: (N, D); labels: (N,) any hashable values (two or more distinct ones)."""
    states = np.asarray(states, dtype=np.float64)
    classes, targets = np.unique(np.asarray(labels), return_inverse=True)
    if len(classes) < 2:
        raise ValueError("a probe needs at least two distinct labels")
    mean, scale = states.mean(axis=0), states.std(axis=0) + 1e-6
    inputs = (states - mean) / scale
    rng = np.random.default_rng(seed)
    weight = rng.normal(scale=0.01, size=(states.shape[1], len(classes)))
    bias = np.zeros(len(classes))
    one_hot = np.eye(len(classes))[targets]
    moments = [np.zeros_like(weight), np.zeros_like(weight), np.zeros_like(bias), np.zeros_like(bias)]
    for step in range(1, steps + 1):
        error = (softmax(inputs @ weight + bias) - one_hot) / len(inputs)
        gradients = (inputs.T @ error + 2 * l2 * weight, error.sum(axis=0))
        for index, (parameter, gradient) in enumerate(zip((weight, bias), gradients, strict=True)):
            first, second = moments[2 * index], moments[2 * index + 1]
            first[:] = 0.9 * first + 0.1 * gradient
            second[:] = 0.999 * second + 0.001 * gradient**2
            parameter -= learning_rate * (first / (1 - 0.9**step)) / (np.sqrt(second / (1 - 0.999**step)) + 1e-8)
    return Probe(mean, scale, weight, bias, classes)


@dataclass(frozen=True)
class ProbeRow:
    """One probe's result: which states (`layer`: "input" or a layer number; `direction`: "forward",
    "backward" or "both"), which property, its held-out accuracy and the majority baseline."""

    states: str
    property: str
    accuracy: float
    baseline: float
    tokens: int  # scored tokens


def probe_rows(
    fit_states: dict[str, np.ndarray], fit_labels: dict[str, np.ndarray],
    score_states: dict[str, np.ndarray], score_labels: dict[str, np.ndarray],
) -> list[ProbeRow]:  # fmt: skip
    """A `ProbeRow` for every pair of states (keyed by a readable name) and property."""
    rows = []
    for prop, labels in fit_labels.items():
        values, counts = np.unique(labels, return_counts=True)
        majority = values[counts.argmax()]
        baseline = float(np.mean(score_labels[prop] == majority))
        for name, states in fit_states.items():
            probe = fit_probe(states, labels)
            rows.append(ProbeRow(name, prop, probe.accuracy(score_states[name], score_labels[prop]), baseline,
                                 len(score_labels[prop])))  # fmt: skip
    return rows


def _tagger_states(tagger, sentences: Sequence[Sequence[str]]) -> dict[str, np.ndarray]:
    """Every token's input vector and, per layer and direction, its hidden state, stacked over sentences."""
    collected: dict[str, list[np.ndarray]] = {"input": []}
    for words in sentences:
        trace = tagger.trace_words(words)
        collected["input"].append(tagger.word_vectors(words))
        for layer in range(tagger.lstm.num_layers):
            for direction in range(tagger.lstm.num_directions):
                name = f"layer {layer} " + ("backward" if direction else "forward")  # as the pages number them
                collected.setdefault(name, []).append(trace.hidden[layer, direction])
            if tagger.lstm.num_directions == 2:
                collected.setdefault(f"layer {layer} both", []).append(np.concatenate(trace.hidden[layer], axis=1))
    return {name: np.concatenate(parts) for name, parts in collected.items()}


def _tagger_labels(tagger, sentences: Sequence[Sequence[str]], tags: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    return {
        "part of speech": np.concatenate(tags),
        "inside a quotation": np.concatenate([quotation_labels(words) for words in sentences]),
        "position in the sentence": np.concatenate(
            [[position_bucket(i) for i in range(len(words))] for words in sentences]
        ),
    }


def tagger_probe_table(tagger, fit: tuple[Sequence[Sequence[str]], Sequence[np.ndarray]],
                       score: tuple[Sequence[Sequence[str]], Sequence[np.ndarray]],
                       log: Callable[[str], None] = lambda message: None) -> list[dict]:  # fmt: skip
    """Probe a tagger's input vectors and every layer and direction on `fit` = (sentences, tag ids),
    scored on `score`. Returns the rows as plain dicts (for a model's stored metrics)."""
    fit_states, score_states = _tagger_states(tagger, fit[0]), _tagger_states(tagger, score[0])
    fit_labels, score_labels = _tagger_labels(tagger, *fit), _tagger_labels(tagger, *score)
    rows = probe_rows(fit_states, fit_labels, score_states, score_labels)
    for row in rows:
        log(f"[probe] {row.states:>18} {row.property:>26}: {row.accuracy:.3f} (baseline {row.baseline:.3f})")
    return [{"states": r.states, "property": r.property, "accuracy": round(r.accuracy, 4),
             "baseline": round(r.baseline, 4), "tokens": r.tokens} for r in rows]  # fmt: skip


# Stories read to fit and to score a language model's probes: enough tokens for a few hundred weights.
LANGUAGE_PROBE_STORIES = {"words": 160, "chars": 40}


def language_model_probe_table(model, names: Sequence[str], genders: dict | None, fit_seed: int, score_seed: int,
                               log: Callable[[str], None] = lambda message: None) -> list[dict]:  # fmt: skip
    """Probe a language model's input vectors and every layer and direction for the subject's gender,
    inside a quotation and the position in the sentence, over story-world stories told with `names`:
    fitted on the stories of `fit_seed`, scored on those of `score_seed`."""
    from lstm_core.analysis.units import token_table
    from lstm_core.data import corpus

    def read(seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        stories = corpus.generate_stories(LANGUAGE_PROBE_STORIES[model.kind], seed=seed, names=names, genders=genders)
        table = token_table(model, stories)
        states = {"input": np.concatenate([model.input_vectors(story.text) for story in stories])}
        for layer in range(model.lstm.num_layers):
            for direction in range(model.lstm.num_directions):
                name = f"layer {layer} " + ("backward" if direction else "forward")
                states[name] = table.states["hidden"][layer, direction]
        gender = table.labels["subject_gender"]
        labels = {
            "subject's gender": gender,
            "inside a quotation": table.labels["in_quotation"].astype(np.int64),
            "position in the sentence": np.array([position_bucket(int(i)) for i in table.labels["position_in_sentence"]]),
        }
        return states, labels

    fit_states, fit_labels = read(fit_seed)
    score_states, score_labels = read(score_seed)
    rows = []
    for prop in fit_labels:
        # the subject's gender only where a subject has been named
        fit_keep = np.array([value is not None for value in fit_labels[prop]]) if prop == "subject's gender" else None
        score_keep = np.array([value is not None for value in score_labels[prop]]) if prop == "subject's gender" else None
        pick = (lambda array, keep: array if keep is None else array[keep])  # noqa: E731 - two uses, right here
        rows += probe_rows(
            {name: pick(states, fit_keep) for name, states in fit_states.items()},
            {prop: pick(fit_labels[prop], fit_keep).astype(str)},
            {name: pick(states, score_keep) for name, states in score_states.items()},
            {prop: pick(score_labels[prop], score_keep).astype(str)},
        )
    for row in rows:
        log(f"[probe] {row.states:>18} {row.property:>26}: {row.accuracy:.3f} (baseline {row.baseline:.3f})")
    return [{"states": r.states, "property": r.property, "accuracy": round(r.accuracy, 4),
             "baseline": round(r.baseline, 4), "tokens": r.tokens} for r in rows]  # fmt: skip
