"""The two squashing functions of the cell and the softmax of a readout, written once.

    >>> sigmoid(np.array([0.0])), softmax(np.array([0.0, 0.0]))
    (array([0.5]), array([0.5, 0.5]))
"""

from __future__ import annotations

import numpy as np

__all__ = ["sigmoid", "softmax"]


def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + e^(-a)), written as (1 + tanh(a / 2)) / 2, which never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a)))


def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(scores) / sum(exp(scores)) along `axis`; the largest score is subtracted first so exp never
    overflows (the result is the same)."""
    scores = np.asarray(scores)
    exponentials = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return exponentials / exponentials.sum(axis=axis, keepdims=True)
