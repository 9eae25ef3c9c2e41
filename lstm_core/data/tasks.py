"""Long-lag tasks in the spirit of Hochreiter and Schmidhuber (1997), where a plain RNN fails and an
LSTM does not. Pure NumPy, seeded; each call returns a whole batch.

- `remember_first`: a symbol, then `lag` distractors (optionally with Gaussian noise on every
  distractor step); say the first symbol at the end.
- `adding_problem`: a stream of numbers with two of them marked; say their sum at the end.

    >>> batch = remember_first(batch_size=4, lag=10, rng=np.random.default_rng(0))
    >>> batch.inputs.shape, batch.targets.shape      # (B, T, features), (B,)
    ((4, 11, 8), (4,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TaskBatch", "TASKS", "remember_first", "adding_problem", "make_batch", "chance_level"]

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
