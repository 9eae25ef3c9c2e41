"""Find what units of a trained LSTM do, in the spirit of Karpathy, Johnson and Fei-Fei (2015),
"Visualizing and Understanding Recurrent Networks".

- `rank_units(values, labels)`: how well each unit's value alone separates a labelled property of
  the tokens (the current subject's gender, inside a quotation, position in the sentence).
- `token_table(model, stories)`: every token of some corpus stories with its labels and every
  gate, cell and hidden value, from the core's batched forward.
- `find_subject_gender_unit(model)`: the cell unit that best tells the subject's gender, chosen on
  one half of the names and scored on the other half; `find_quotation_unit(model)` likewise for
  "inside a quotation", the property of Karpathy et al.'s famous quote cell.
- `gate_saturation(lstm, sequences)`: for every unit of every gate, the fraction of timesteps below
  0.1 (left-saturated) and above 0.9 (right-saturated).
- `perplexity`, `pronoun_agreement`, `recall_accuracy`: the held-out metrics of the model card.

>>> values = np.array([[0.1, 5.0], [0.2, -5.0], [0.9, 5.0], [0.8, -5.0]])     # (N=4, H=2)
>>> best = rank_units(values, np.array(["a", "a", "b", "b"]))[0]
>>> best.unit, best.score, best.above
(0, 1.0, 'b')
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_core.data import corpus
from lstm_core.lstm import GATE_NAMES, LSTM
from lstm_core.models.language_model import LanguageModel, UnitInfo
from lstm_core.numerics import softmax

__all__ = [
    "UnitScore",
    "rank_units",
    "TokenTable",
    "token_table",
    "find_subject_gender_unit",
    "find_quotation_unit",
    "switch_flip_rate",
    "GateSaturation",
    "gate_saturation",
    "perplexity",
    "perplexity_of_texts",
    "pronoun_agreement",
    "recall_accuracy",
]

_BATCH = 128  # sequences per batched forward: bounds memory, keeps each matrix product large


# ------------------------------------------------------------------------------ ranking units
@dataclass(frozen=True)
class UnitScore:
    """How well one unit's value separates a label.

    For a two-valued label, `score` is the accuracy of the best rule "value > threshold means
    `above`, otherwise `below`", and `auc` the area under the ROC curve for `above` (0.5 is chance).
    For a numeric label with more values, `score` is |Pearson correlation|, `correlation` its signed
    value, and threshold/above/below/auc are None.
    """

    unit: int
    score: float
    threshold: float | None = None
    above: object = None
    below: object = None
    auc: float | None = None
    correlation: float | None = None


def rank_units(values: np.ndarray, labels: Sequence) -> list[UnitScore]:
    """Score every unit by how well its value alone predicts `labels`; best first.

    Args:
        values: (N, H) one row per token, one column per unit (cell states, gate values, ...).
        labels: (N,) a two-valued label (bools, strings, ...) or a numeric one (e.g. positions).
    """
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels)
    if values.ndim != 2 or labels.shape != (len(values),):
        raise ValueError(f"values must be (N, H) and labels (N,), got {values.shape} and {labels.shape}")
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError("labels must take at least two different values")
    if len(classes) == 2:
        scores = _rank_binary(values, labels == classes[1], classes[1], classes[0])
    elif np.issubdtype(labels.dtype, np.number):
        scores = _rank_numeric(values, labels.astype(np.float64))
    else:
        raise ValueError(f"labels must be two-valued or numeric, got {len(classes)} classes of {labels.dtype}")
    return sorted(scores, key=lambda score: -score.score)


def _rank_binary(values: np.ndarray, positive: np.ndarray, positive_label, negative_label) -> list[UnitScore]:
    count, units = values.shape
    positives = int(positive.sum())
    order = np.argsort(values, axis=0, kind="stable")  # (N, H)
    sorted_values = np.take_along_axis(values, order, axis=0)
    sorted_positive = positive[order]  # (N, H)
    # Cutting after the first k sorted values: "above the cut means positive" gets right the
    # negatives below the cut and the positives above it. k runs over 0..N.
    negatives_below = np.vstack([np.zeros((1, units)), np.cumsum(~sorted_positive, axis=0)])
    positives_below = np.vstack([np.zeros((1, units)), np.cumsum(sorted_positive, axis=0)])
    accuracy_above = (negatives_below + positives - positives_below) / count  # (N + 1, H)
    # A cut is only real between two different values.
    valid = np.ones_like(accuracy_above, dtype=bool)
    valid[1:-1] = sorted_values[1:] > sorted_values[:-1]
    best_above = np.where(valid, accuracy_above, -np.inf)
    best_below = np.where(valid, 1.0 - accuracy_above, -np.inf)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, count + 1)[:, None], axis=0)
    auc = (ranks[positive].sum(axis=0) - positives * (positives + 1) / 2) / max(positives * (count - positives), 1)
    padded = np.vstack([sorted_values[:1] - 1.0, sorted_values, sorted_values[-1:] + 1.0])  # (N + 2, H)
    scores = []
    for unit in range(units):
        cut_above, cut_below = int(np.argmax(best_above[:, unit])), int(np.argmax(best_below[:, unit]))
        positive_above = best_above[cut_above, unit] >= best_below[cut_below, unit]
        cut = cut_above if positive_above else cut_below
        threshold = 0.5 * (padded[cut, unit] + padded[cut + 1, unit])  # midway between the values it splits
        scores.append(
            UnitScore(
                unit=unit,
                score=float(max(best_above[cut_above, unit], best_below[cut_below, unit])),
                threshold=float(threshold),
                above=_plain(positive_label if positive_above else negative_label),
                below=_plain(negative_label if positive_above else positive_label),
                auc=float(auc[unit]),
            )
        )
    return scores


def _rank_numeric(values: np.ndarray, labels: np.ndarray) -> list[UnitScore]:
    centred_values = values - values.mean(axis=0)
    centred_labels = labels - labels.mean()
    spread = np.sqrt((centred_values**2).sum(axis=0) * (centred_labels**2).sum())
    correlation = (centred_values * centred_labels[:, None]).sum(axis=0) / np.where(spread > 0, spread, 1.0)
    return [UnitScore(unit=u, score=float(abs(r)), correlation=float(r)) for u, r in enumerate(correlation)]


def _plain(label):
    """NumPy scalars to plain Python, so that scores serialise to JSON."""
    return label.item() if isinstance(label, np.generic) else label


# ---------------------------------------------------------------------------- token tables
@dataclass(frozen=True)
class TokenTable:
    """Every token of some stories as read by a model, with labels and LSTM states.

    Attributes:
        tokens: (N,) the model's tokens, stories one after another.
        story_index: (N,) which story each token is from.
        labels: label name (`corpus.LABELS`) -> (N,) array; subject_gender holds None before a subject.
        states: ``"cell"``, ``"hidden"`` and each gate name -> (num_layers, num_directions, N, H).
    """

    tokens: np.ndarray
    story_index: np.ndarray
    labels: dict[str, np.ndarray]
    states: dict[str, np.ndarray]


def token_table(model: LanguageModel, stories: Sequence[corpus.Story]) -> TokenTable:
    """Run `model` over `stories` (batched) and lay out every token with its labels and states.

    For the char model every character is a token and takes the label of the word it belongs to.
    """
    if not stories:
        raise ValueError("stories must not be empty")
    token_ids = [model.encode(story.text) for story in stories]
    tokens, story_index = [], []
    labels: dict[str, list] = {name: [] for name in corpus.LABELS}
    for index, story in enumerate(stories):
        tokens += model.tokens(story.text)
        story_index += [index] * len(token_ids[index])
        for name in corpus.LABELS:
            story_labels = story.labels(name) if model.kind == "words" else story.char_labels(name)
            if len(story_labels) != len(token_ids[index]):
                raise ValueError(f"story {index}: {len(story_labels)} labels for {len(token_ids[index])} tokens")
            labels[name] += story_labels
    states: dict[str, list[np.ndarray]] = {name: [] for name in ("cell", "hidden", *GATE_NAMES)}
    for start in range(0, len(stories), _BATCH):
        batch = model.trace_texts([story.text for story in stories[start : start + _BATCH]])
        mask = batch.mask  # (B, T_max)
        for name in states:
            array = batch.cell if name == "cell" else batch.hidden if name == "hidden" else batch.gates[name]
            states[name].append(array[:, :, mask])  # (L, D, tokens of this batch, H)
    return TokenTable(
        tokens=np.array(tokens, dtype=object),
        story_index=np.array(story_index),
        labels={
            name: np.array(values, dtype=object if name == "subject_gender" else None)
            for name, values in labels.items()
        },
        states={name: np.concatenate(parts, axis=2) for name, parts in states.items()},
    )


def find_subject_gender_unit(
    model: LanguageModel,
    choose_names: Sequence[str] = corpus.split_names(0),
    score_names: Sequence[str] = corpus.split_names(1),
    story_count: int = 300,
    choose_seed: int = 101,
    score_seed: int = 102,
    genders: Mapping[str, str] | None = None,
) -> UnitInfo:
    """The cell unit whose value alone best tells the current subject's gender.

    The unit and its threshold are chosen on stories whose people all come from `choose_names`;
    its accuracy is then measured on stories whose people all come from `score_names`, so the
    reported `UnitInfo.accuracy` is about names the choice never saw. Every token that has a
    subject counts, including the name that makes a person the subject.

    Both sets are long stories plus as many short switch stories ("Mary is a nice person. Dan, on
    the other hand, is evil. He ..."): on long stories alone, a unit that drifts to the new gender
    over a sentence or two scores well, yet misreads exactly the sentences a student types.
    `genders` (name -> "male"/"female") is needed for names outside the story world's own cast.
    """
    if set(choose_names) & set(score_names):
        raise ValueError("choose_names and score_names must not share names")

    def stories(seed: int, names: Sequence[str]) -> list[corpus.Story]:
        long_stories = corpus.generate_stories(story_count, seed, names, heldout=True, genders=genders)
        return long_stories + corpus.switch_stories(3 * story_count, seed + 1, names, genders=genders)

    return _choose_and_score(
        model,
        name="subject gender",
        choose_stories=stories(choose_seed, choose_names),
        score_stories=stories(score_seed, score_names),
        label_of=lambda table: table.labels["subject_gender"],
        description=(
            f"Chosen among all cell units on {len(choose_names)} names, scored on {len(score_names)} other names, "
            "over every token that has a subject, in long stories and in short stories with a change of subject."
        ),
    )


def find_quotation_unit(
    model: LanguageModel, story_count: int = 200, choose_seed: int = 103, score_seed: int = 104,
    exclude: Collection[tuple[int, int, int]] = (),
) -> UnitInfo:  # fmt: skip
    """The cell unit whose value alone best tells whether the text is inside a quotation.

    `exclude`: (layer, direction, unit) triples not to choose, e.g. the subject-gender unit, so that
    the app never names one unit for two things.

    Only stories that contain a quotation are used, and the "outside" tokens are subsampled to as
    many as the "inside" ones, so that "always outside" scores 50% rather than 90%. The unit is
    chosen on one set of stories and scored on another.
    """

    def quoted_stories(seed: int) -> list[corpus.Story]:
        stories = corpus.generate_stories(4 * story_count, seed, heldout=True)
        return [story for story in stories if '"' in story.tokens][:story_count]

    return _choose_and_score(
        model,
        name="inside quotation",
        choose_stories=quoted_stories(choose_seed),
        score_stories=quoted_stories(score_seed),
        label_of=lambda table: np.where(table.labels["in_quotation"].astype(bool), "inside", "outside"),
        description=(
            "Chosen among all cell units on stories with quotations, scored on other such stories; "
            "inside and outside tokens in equal numbers (chance is 50%)."
        ),
        balance=True,
        exclude=exclude,
    )


def _choose_and_score(
    model: LanguageModel,
    name: str,
    choose_stories: list[corpus.Story],
    score_stories: list[corpus.Story],
    label_of,
    description: str,
    balance: bool = False,
    exclude: Collection[tuple[int, int, int]] = (),
) -> UnitInfo:
    """Pick the best (layer, direction, unit) of the cell state on one set of stories, score it on another.

    `label_of(table)` gives the (N,) labels of a `TokenTable`; tokens labelled None are left out.
    With `balance`, every label keeps only as many tokens as the rarest one has (a seeded sample).
    """
    choose_values, choose_labels = _labelled_cells(model, choose_stories, label_of, balance)
    score_values, score_labels = _labelled_cells(model, score_stories, label_of, balance)
    best: tuple[int, int, UnitScore] | None = None
    for layer in range(model.lstm.num_layers):
        for direction in range(model.lstm.num_directions):
            ranked = rank_units(choose_values[layer, direction], choose_labels)
            top = next(score for score in ranked if (layer, direction, score.unit) not in exclude)
            if best is None or top.score > best[2].score:
                best = (layer, direction, top)
    layer, direction, top = best
    held_out_values = score_values[layer, direction][:, top.unit]
    predicted = np.where(held_out_values > top.threshold, top.above, top.below)
    return UnitInfo(
        name=name,
        layer=layer,
        direction=direction,
        unit=top.unit,
        threshold=top.threshold,
        above=str(top.above),
        below=str(top.below),
        accuracy=float(np.mean(predicted == score_labels)),
        chosen_accuracy=top.score,
        signal="cell",
        description=description,
    )


def _labelled_cells(
    model: LanguageModel, stories: list[corpus.Story], label_of, balance: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Cell states (L, D, N, H) and string labels (N,) of the tokens whose label is not None."""
    table = token_table(model, stories)
    labels = np.asarray(label_of(table), dtype=object)
    keep = np.flatnonzero(labels != None)  # noqa: E711 - elementwise comparison on an object array
    if balance:
        rng = np.random.default_rng(0)
        classes, counts = np.unique(labels[keep].astype(str), return_counts=True)
        keep = np.sort(
            np.concatenate(
                [rng.choice(keep[labels[keep] == label], size=counts.min(), replace=False) for label in classes]
            )
        )
    return table.states["cell"][:, :, keep], labels[keep].astype(str)


def switch_flip_rate(model: LanguageModel, unit: UnitInfo, prompts: Sequence[tuple[str, str]]) -> float:
    """Fraction of subject switches across which `unit` reads both subjects' genders right.

    `prompts` are `corpus.pronoun_prompts`: a first sentence about one person, then a second
    sentence about a person of the other gender. The unit must read the first gender at the end of
    the first sentence and the second gender at the end of the text.
    """
    second_gender = {"he": "male", "she": "female"}
    flips = 0
    for text, pronoun in prompts:
        trace = model.trace(text)
        values = unit.values(trace)
        first_stop = trace.tokens.index(".")
        expected_second = second_gender[pronoun]
        expected_first = "female" if expected_second == "male" else "male"
        flips += unit.read(values[first_stop]) == expected_first and unit.read(values[-1]) == expected_second
    return flips / len(prompts)


# ---------------------------------------------------------------------------- saturation
@dataclass(frozen=True)
class GateSaturation:
    """Per gate, (num_layers, num_directions, H) fractions of timesteps below `low` / above `high`."""

    below: dict[str, np.ndarray]
    above: dict[str, np.ndarray]
    timesteps: int
    low: float = 0.1
    high: float = 0.9


def gate_saturation(
    lstm: LSTM,
    sequences: Sequence[np.ndarray],
    gates: Sequence[str] = ("input", "forget", "output"),
    low: float = 0.1,
    high: float = 0.9,
) -> GateSaturation:
    """How often each unit of each gate is nearly shut (< `low`) or fully open (> `high`).

    Args:
        lstm: the core LSTM.
        sequences: LSTM inputs, each (T_i, input_size), e.g. embedded corpus stories.
        gates: which gates; the default are the three sigmoid gates (the candidate is a tanh in
            (-1, 1), so the same thresholds would not mean "shut" and "open" for it).
    """
    unknown = set(gates) - set(GATE_NAMES)
    if unknown:
        raise ValueError(f"gates must be among {GATE_NAMES}, got {sorted(unknown)}")
    if len(sequences) == 0:
        raise ValueError("sequences must not be empty")
    shape = (lstm.num_layers, lstm.num_directions, lstm.hidden_size)
    below = {gate: np.zeros(shape) for gate in gates}
    above = {gate: np.zeros(shape) for gate in gates}
    timesteps = 0
    for start in range(0, len(sequences), _BATCH):
        batch = lstm.run_batch(list(sequences[start : start + _BATCH]))
        mask = batch.mask  # padding is zero, which would otherwise count as "below"
        timesteps += int(mask.sum())
        for gate in gates:
            values = batch.gates[gate][:, :, mask]  # (L, D, timesteps, H)
            below[gate] += (values < low).sum(axis=2)
            above[gate] += (values > high).sum(axis=2)
    return GateSaturation(
        below={gate: counts / timesteps for gate, counts in below.items()},
        above={gate: counts / timesteps for gate, counts in above.items()},
        timesteps=timesteps,
        low=low,
        high=high,
    )


# ------------------------------------------------------------------------------- metrics
def perplexity(model: LanguageModel, stories: Sequence[corpus.Story]) -> float:
    """exp(mean negative log-likelihood) of every token after the first of each story."""
    return perplexity_of_texts(model, [story.text for story in stories])


def perplexity_of_texts(model: LanguageModel, texts: Sequence[str]) -> float:
    """exp(mean negative log-likelihood) of every token after the first of each text, each read from
    a zero state. A token outside the vocabulary counts as predicting ``<unk>``."""
    total_nll, total_count = 0.0, 0
    for start in range(0, len(texts), _BATCH):
        chunk = texts[start : start + _BATCH]
        batch = model.trace_texts(chunk)
        logits = model.logits(batch.output).astype(np.float64)  # (B, T_max, V)
        log_probs = logits - logits.max(axis=-1, keepdims=True)
        log_probs -= np.log(np.exp(log_probs).sum(axis=-1, keepdims=True))
        for row, text in enumerate(chunk):
            ids = model.encode(text)
            total_nll -= log_probs[row, np.arange(len(ids) - 1), ids[1:]].sum()
            total_count += len(ids) - 1
    return float(np.exp(total_nll / total_count))


def _final_probs(model: LanguageModel, texts: Sequence[str]) -> np.ndarray:
    """(len(texts), V) next-token distribution after each whole text, batched."""
    rows = []
    for start in range(0, len(texts), _BATCH):
        batch = model.trace_texts(texts[start : start + _BATCH])
        last = batch.lengths - 1
        logits = model.logits(batch.output[np.arange(len(last)), last]).astype(np.float64)
        rows.append(softmax(logits))
    return np.concatenate(rows)


def pronoun_agreement(model: LanguageModel, prompts: Sequence[tuple[str, str]]) -> float:
    """Fraction of `corpus.pronoun_prompts` whose expected pronoun beats the other one (he/she).

    A character model is scored by chaining over characters: P("He ") against P("She ") after the
    prompt and a space.
    """
    if model.kind == "chars":
        he, she = _continuation_log_probs(model, [text + " " for text, _ in prompts], ("He ", "She "))
        return float(np.mean([(h > s) == (pronoun == "he") for h, s, (_, pronoun) in zip(he, she, prompts, strict=True)]))
    probabilities = _final_probs(model, [text for text, _ in prompts])
    he, she = model.tokenizer.token_to_id["he"], model.tokenizer.token_to_id["she"]
    agree = [
        (row[he] > row[she]) if pronoun == "he" else (row[she] > row[he])
        for row, (_, pronoun) in zip(probabilities, prompts, strict=True)
    ]
    return float(np.mean(agree))


def _continuation_log_probs(
    model: LanguageModel, prompts: Sequence[str], continuations: Sequence[str]
) -> list[np.ndarray]:
    """For each continuation, (len(prompts),) log P(continuation | prompt), chained token by token."""
    results = []
    for continuation in continuations:
        texts = [prompt + continuation for prompt in prompts]
        count = len(model.encode(continuation))
        scores = []
        for start in range(0, len(texts), _BATCH):
            chunk = texts[start : start + _BATCH]
            batch = model.trace_texts(chunk)
            log_probs = np.log(softmax(model.logits(batch.output).astype(np.float64)))  # (B, T_max, V)
            for row, text in enumerate(chunk):
                ids = model.encode(text)
                positions = np.arange(len(ids) - count - 1, len(ids) - 1)  # the steps that predict it
                scores.append(float(log_probs[row, positions, ids[positions + 1]].sum()))
        results.append(np.array(scores))
    return results


def recall_accuracy(
    model: LanguageModel, prompts: Sequence[tuple[str, str]], candidates: Sequence[str] = corpus.NAMES
) -> float:
    """Fraction of `corpus.recall_prompts` whose expected name is the most probable of `candidates`."""
    probabilities = _final_probs(model, [text for text, _ in prompts])
    candidate_ids = np.array([model.tokenizer.token_to_id[name] for name in candidates])
    best = candidate_ids[np.argmax(probabilities[:, candidate_ids], axis=1)]
    expected = np.array([model.tokenizer.token_to_id[name] for _, name in prompts])
    return float(np.mean(best == expected))
