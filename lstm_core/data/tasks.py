"""Long-lag tasks in the spirit of Hochreiter and Schmidhuber (1997), where a plain RNN fails and an
LSTM does not. Pure NumPy, seeded; each call returns a whole batch.

- `remember_first`: a symbol, then `lag` distractors (optionally with Gaussian noise on every
  distractor step); say the first symbol at the end.
- `adding_problem`: a stream of numbers with two of them marked; say their sum at the end.
- `pronoun_after_gap`: the same idea in the story world's words: a person is named, then quoted at
  length in words that say nothing of gender, then the next word is their pronoun.

    >>> batch = remember_first(batch_size=4, lag=10, rng=np.random.default_rng(0))
    >>> batch.inputs.shape, batch.targets.shape      # (B, T, features), (B,)
    ((4, 11, 8), (4,))
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from lstm_core.data import corpus
from lstm_core.models.tokenize import WordTokenizer

__all__ = [
    "TaskBatch", "TASKS", "remember_first", "adding_problem", "make_batch", "chance_level",
    "PronounPrompt", "GAP_CLAUSES", "QUOTE_CLAUSES", "PRONOUN_EXAMPLE", "pronoun_after_gap",
]  # fmt: skip

MAX_LAG = 400  # beyond this the page would wait for minutes; the point is made long before
MAX_NOISE = 2.0  # twice the size of a one-hot input: already drowns the distractors


@dataclass(frozen=True)
class TaskBatch:
    """inputs: (B, T, features) float32; targets: (B,) int64 class ids or float32 values."""

    inputs: np.ndarray
    targets: np.ndarray
    kind: str  # "classification" or "regression"
    num_classes: int  # 0 for regression


def _check(batch_size: int, lag: int) -> None:
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(lag, int | np.integer) or not 1 <= lag <= MAX_LAG:
        raise ValueError(f"lag must be an integer from 1 to {MAX_LAG}, got {lag!r}")


def remember_first(
    batch_size: int, lag: int, rng: np.random.Generator, symbols: int = 4, distractors: int = 4, noise: float = 0.0
) -> TaskBatch:
    """One of `symbols` symbols, then `lag` random distractor symbols (one-hot, separate alphabet).

    The target is the first symbol: only a memory spanning `lag` steps beats chance (1 / symbols).
    `noise` > 0 adds Gaussian noise of that standard deviation to every feature of every distractor
    step (the first step stays clean). A memory that can shut its input out ignores it; a state that
    must hold itself up against every input (a plain RNN's) is pushed off course.
    """
    _check(batch_size, lag)
    if not isinstance(noise, int | float) or not 0.0 <= noise <= MAX_NOISE:
        raise ValueError(f"noise must be a number from 0 to {MAX_NOISE}, got {noise!r}")
    features = symbols + distractors
    inputs = np.zeros((batch_size, lag + 1, features), dtype=np.float32)
    first = rng.integers(0, symbols, size=batch_size)
    inputs[np.arange(batch_size), 0, first] = 1.0
    distractor_ids = symbols + rng.integers(0, distractors, size=(batch_size, lag))
    rows, steps = np.meshgrid(np.arange(batch_size), np.arange(1, lag + 1), indexing="ij")
    inputs[rows, steps, distractor_ids] = 1.0
    if noise > 0:
        inputs[:, 1:] += (noise * rng.standard_normal((batch_size, lag, features))).astype(np.float32)
    return TaskBatch(inputs, first.astype(np.int64), "classification", symbols)


def adding_problem(batch_size: int, lag: int, rng: np.random.Generator) -> TaskBatch:
    """`lag` + 1 steps of (value in [0, 1], marker); one marked value in the first tenth of the
    sequence and one in the rest. The target is the sum of the two marked values."""
    _check(batch_size, lag)
    length = lag + 1
    values = rng.uniform(0.0, 1.0, size=(batch_size, length)).astype(np.float32)
    markers = np.zeros((batch_size, length), dtype=np.float32)
    early_end = max(1, length // 10)
    first = rng.integers(0, early_end, size=batch_size)
    second = rng.integers(early_end, length, size=batch_size) if length > early_end else first
    markers[np.arange(batch_size), first] = 1.0
    markers[np.arange(batch_size), second] = 1.0
    targets = (values * markers).sum(axis=1).astype(np.float32)
    return TaskBatch(np.stack([values, markers], axis=2), targets, "regression", 0)


TASKS = {"remember_first": remember_first, "adding_problem": adding_problem}
TASK_LABELS = {"remember_first": "Remember the first symbol", "adding_problem": "Adding problem"}


def make_batch(task: str, batch_size: int, lag: int, rng: np.random.Generator, noise: float = 0.0) -> TaskBatch:
    """A batch of `task`; `noise` is for `remember_first` only (the adding problem's inputs are already noise)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(TASKS)}")
    if task == "remember_first":
        return remember_first(batch_size, lag, rng, noise=noise)
    if noise:
        raise ValueError(f"noise applies to the remember_first task only, got noise={noise!r} for {task!r}")
    return TASKS[task](batch_size, lag, rng)


def chance_level(task: str) -> float:
    """Accuracy (classification) or mean squared error (regression) of the best constant guess."""
    if task == "remember_first":
        return 0.25
    if task == "adding_problem":
        return 1 / 6  # variance of the sum of two uniforms; guessing 1.0 always
    raise ValueError(f"unknown task {task!r}")


# ------------------------------------------------------------------ a long gap in words
# Clauses of the story world's quotations that name no one and carry no gender: said one after the
# other, they put a gap of any length between a name and the next pronoun. In training, a quotation
# has one or two clauses; longer ones test a memory past what the models ever saw.
QUOTE_CLAUSES: tuple[str, ...] = (
    "i am tired", "we will win", "the weather is nice today", "you are my best friend", "the sea is cold",
    "i love this city", "come with me", "what a beautiful day", "i do not know", "my dog is hungry", "it is late",
    "we need more bread", "thank you", "see you tomorrow", "let us go home", "i can not swim", "this is my house",
    "the war is over", "we are free", "i like your hat", "the food is good", "i will be back", "it is my birthday",
    "the train is late", "look at the sky",
)  # fmt: skip
GAP_CLAUSES: tuple[int, ...] = (1, 4, 8, 16, 32)  # quotation lengths: about 12 to 160 words from the name
# One such prompt, written out with its pronoun: "she" comes 40 words after "Mary" was last named.
PRONOUN_EXAMPLE = (
    'Bob is a nice person. Mary, on the other hand, is evil. Mary said: "the weather is nice today, we need more '
    'bread, the train is late, i am tired, let us go home, the sea is cold, see you tomorrow". Later, she'
)
_PRONOUNS = {"male": "he", "female": "she"}


@dataclass(frozen=True)
class PronounPrompt:
    """text: ends just before the pronoun; pronoun: the right one ("he" or "she"), other: the wrong
    one; gap: words (tokens) from the subject's last mention to the pronoun."""

    text: str
    pronoun: str
    other: str
    gap: int


def pronoun_after_gap(count: int, clauses: int, seed: int) -> list[PronounPrompt]:
    """`count` prompts, seeded: a change of subject and gender, then the new subject quoted for
    `clauses` clauses, then "Later," and the pronoun to predict.

        >>> prompt = pronoun_after_gap(1, clauses=2, seed=0)[0]
        >>> prompt.text.endswith("Later,"), prompt.pronoun in ("he", "she"), prompt.gap > 10
        (True, True, True)

    Only a memory of the subject's gender across the whole quotation beats chance (50%).
    """
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    if not isinstance(clauses, int) or not 1 <= clauses <= 40:
        raise ValueError(f"clauses must be an integer from 1 to 40, got {clauses!r}")
    rng = random.Random(seed)
    prompts = []
    for _ in range(count):
        gender = rng.choice(("male", "female"))
        other_gender = "female" if gender == "male" else "male"
        names = {"male": corpus.MALE_NAMES, "female": corpus.FEMALE_NAMES}
        first, subject = rng.choice(names[other_gender]).title(), rng.choice(names[gender]).title()
        quotation = ", ".join(rng.choice(QUOTE_CLAUSES) for _ in range(clauses))
        text = (f"{first} is a nice person. {subject}, on the other hand, is evil. {subject} said: "
                f'"{quotation}". Later,')  # fmt: skip
        words = WordTokenizer.words(text)
        last_mention = len(words) - 1 - words[::-1].index(subject.lower())
        gap = len(words) - last_mention  # the pronoun comes next, at position len(words)
        prompts.append(PronounPrompt(text, _PRONOUNS[gender], _PRONOUNS[other_gender], gap))
    return prompts
