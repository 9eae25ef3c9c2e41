"""An interpolated modified Kneser-Ney n-gram language model over integer token ids, in NumPy: the
baseline a word-level LSTM is compared with (perplexity on the same held-out tokens).

The smoothing is Chen and Goodman's interpolated modified Kneser-Ney, with the treatment of the
begin-of-sequence token of KenLM:

- S. F. Chen and J. Goodman (1998), "An Empirical Study of Smoothing Techniques for Language
  Modeling", Harvard TR-10-98, section 3 (modified Kneser-Ney, three discounts per order);
- R. Kneser and H. Ney (1995), "Improved backing-off for m-gram language modeling", ICASSP
  (continuation counts for the lower orders);
- K. Heafield, I. Pouzyrevsky, J. H. Clark and P. Koehn (2013), "Scalable Modified Kneser-Ney
  Language Model Estimation", ACL (adjusted counts; grams that begin with <s> keep their raw count).

Sequences. Each sequence x_0 … x_{T-1} is read as <s> x_0 … x_{T-1}, where <s> is the id `vocab_size`
(one more than the largest token id). x_t is predicted from the last min(N-1, t+1) tokens before it,
<s> included, so every token of the sequence is predicted and the first one from <s> alone. <s> is
never predicted, and no end-of-sequence token is added: an LSTM run from a zero state predicts no
end either (a caller whose tokenizer puts an end token in the sequence gets it predicted like any
other token). An unknown word is whatever id the caller maps it to (`<unk>`), just another token.
`perplexity(..., first_scored=1)` counts every token after the first of each sequence, the tokens
that `lstm_core.analysis.perplexity` counts for an LSTM.

Formula. N is the order, V the vocabulary size, h a history of k-1 tokens and h' the same history
without its first (oldest) token. The adjusted count of an order-k gram is

    a(h w) = c(h w)                        if k = N, or if h begins with <s> (nothing precedes <s>)
           = |{v : c(v h w) > 0}|           otherwise (the number of distinct tokens seen before it)

and a(<s>) = 0, so <s> is never predicted. For each order k, with n_r the number of order-k grams
whose adjusted count is r,

    Y = n1 / (n1 + 2 n2)
    D_k(1) = 1 - 2 Y n2 / n1,   D_k(2) = 2 - 3 Y n3 / n2,   D_k(3+) = 3 - 4 Y n4 / n3

(when a count of counts is zero or a discount falls outside 0 < D_k(c) < c, that order uses the
fixed discounts `FALLBACK_DISCOUNTS` instead, as KenLM's `lmplz --discount_fallback` does), and

    p_k(w | h) = (a(h w) - D_k(a(h w))) / Σ_v a(h v)  +  γ(h) p_{k-1}(w | h')
    γ(h)       = (D_k(1) N1(h ·) + D_k(2) N2(h ·) + D_k(3+) N3+(h ·)) / Σ_v a(h v)
    p_k(w | h) = p_{k-1}(w | h')            when Σ_v a(h v) = 0 (h never seen with a follower)
    p_0(w)     = 1 / V

where N_r(h ·) counts the tokens v with a(h v) = r (a gram never seen contributes 0 to the first term).
Since γ(h) is exactly the mass the discounts take away, every p_k(· | h) sums to 1 over the V tokens.

Storage. Order k keeps one sorted int64 key per distinct gram, (row of its history in order k-1's
table) × (V + 1) + w: a trie flattened into sorted arrays. A key never overflows, since a row number is
below the number of training tokens, and lookups are `np.searchsorted` over every position at once.

>>> sequences = [np.array([0, 1, 0, 1, 0, 1, 0, 1, 2]), np.array([2, 0, 2, 0, 2])]
>>> model = KneserNeyModel.fit(sequences, vocab_size=4, order=2)
>>> model.discounts[1].round(4).tolist()              # order 2: n1, n2, n3, n4 = 3, 2, 1, 1
[0.4286, 1.3571, 1.2857]
>>> float(model.next_token_probs([0]).sum())
1.0
>>> np.exp(model.log_probs(np.array([0, 1, 3]))).round(4).tolist()
[0.4311, 0.5389, 0.0536]
>>> round(model.perplexity(sequences), 2)
2.19
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["FALLBACK_DISCOUNTS", "KneserNeyModel", "modified_kneser_ney_discounts"]

# D(1), D(2), D(3+) for an order whose count of counts gives no valid closed-form discounts (a tiny
# or deduplicated corpus, or a top order where almost every gram is a singleton): the values commonly
# passed to KenLM's `lmplz --discount_fallback`.
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)
_CHUNK_TOKENS = 1 << 20  # tokens scored at once: bounds the temporary (order, tokens) arrays


def modified_kneser_ney_discounts(count_of_counts: Sequence[int]) -> tuple[float, float, float] | None:
    """(D(1), D(2), D(3+)) of Chen and Goodman (1998) from (n1, n2, n3, n4), the numbers of
    grams of one order whose (adjusted) count is 1, 2, 3, 4; None when a count of counts it divides by
    is zero or a discount falls outside 0 < D(c) < c (then a seen gram would keep no mass, or an unseen
    token would get probability 0).

    >>> modified_kneser_ney_discounts([4, 2, 1, 1])
    (0.5, 1.25, 1.0)
    >>> modified_kneser_ney_discounts([0, 2, 1, 1]) is None
    True
    """
    n1, n2, n3, n4 = (float(count) for count in count_of_counts)
    if n1 <= 0 or n2 <= 0 or n3 <= 0:
        return None
    y = n1 / (n1 + 2.0 * n2)
    discounts = (1.0 - 2.0 * y * n2 / n1, 2.0 - 3.0 * y * n3 / n2, 3.0 - 4.0 * y * n4 / n3)
    if not all(0.0 < discount < count for discount, count in zip(discounts, (1, 2, 3), strict=True)):
        return None
    return discounts


class KneserNeyModel:
    """An interpolated modified Kneser-Ney model of order `order` over token ids 0 … vocab_size-1
    (the formula is in the module docstring). Build it with `KneserNeyModel.fit`.

    Attributes: `order`, `vocab_size`, `begin_id` (= vocab_size, the <s> id, never predicted),
    `discounts` (order, 3) with row k-1 holding D_k(1), D_k(2), D_k(3+), `count_of_counts` (order, 4)
    with n1…n4 of each order, `discounts_estimated` (order,) False where the fallback was used, and
    `gram_types` (order,) the number of distinct grams stored per order.
    """

    def __init__(
        self,
        *,
        vocab_size: int,
        keys: list[np.ndarray],
        own_probability: list[np.ndarray],
        backoff_weight: list[np.ndarray],
        discounts: np.ndarray,
        count_of_counts: np.ndarray,
        discounts_estimated: np.ndarray,
    ) -> None:
        # Per order k (index k-1): keys (G_k,) sorted; own_probability (G_k,) the discounted first
        # term of p_k for each stored gram; backoff_weight (G_{k-1},) γ(h) per history, 1 where the
        # history has no follower, so that the mixing below needs no special case.
        self.order = len(keys)
        self.vocab_size = vocab_size
        self.begin_id = vocab_size
        self._radix = vocab_size + 1
        self._keys = keys
        self._own_probability = own_probability
        self._backoff_weight = backoff_weight
        self.discounts = discounts
        self.count_of_counts = count_of_counts
        self.discounts_estimated = discounts_estimated
        self.gram_types = np.array([len(table) for table in keys])

    # -------------------------------------------------------------------------------- fitting
    @classmethod
    def fit(cls, sequences: Sequence[ArrayLike], vocab_size: int, order: int = 5) -> KneserNeyModel:
        """Count every gram of orders 1…`order` in `sequences` (a list of 1-D int arrays of ids in
        [0, vocab_size)) and estimate the model. Memory and time grow with the number of tokens, not
        with vocab_size ** order."""
        if not isinstance(order, int | np.integer) or order < 1:
            raise ValueError(f"order must be an int >= 1, got {order!r}")
        if not isinstance(vocab_size, int | np.integer) or vocab_size < 1:
            raise ValueError(f"vocab_size must be an int >= 1, got {vocab_size!r}")
        vocab_size = int(vocab_size)
        tokens, positions = _pad(sequences, vocab_size, "sequences[{index}]")
        if not (positions > 0).any():
            raise ValueError("sequences must hold at least one token to learn from")
        radix = vocab_size + 1

        keys, adjusted_counts = _count_grams(tokens, positions, order, radix)
        del tokens, positions  # freed before the per-order probability arrays are built

        own_probability, backoff_weight, discounts, count_of_counts, estimated = [], [], [], [], []
        for k in range(1, order + 1):
            table, adjusted = keys[k - 1], adjusted_counts[k - 1]
            adjusted_counts[k - 1] = None  # released order by order: the arrays below replace it
            order_count_of_counts = np.bincount(np.minimum(adjusted, 5), minlength=6)[1:5]  # n1…n4
            estimate = modified_kneser_ney_discounts(order_count_of_counts)
            order_discounts = estimate if estimate is not None else FALLBACK_DISCOUNTS
            discount = np.array([0.0, *order_discounts])[np.minimum(adjusted, 3)]  # D_k(a), 0 for a = 0
            histories = table // radix
            n_histories = 1 if k == 1 else len(keys[k - 2])
            totals = np.bincount(histories, weights=adjusted, minlength=n_histories)  # Σ_v a(h v)
            removed = np.bincount(histories, weights=discount, minlength=n_histories)  # Σ_v D_k(a(h v))
            seen = totals > 0
            safe_totals = np.where(seen, totals, 1.0)
            own = adjusted - discount
            own /= safe_totals[histories]
            own_probability.append(own)
            backoff_weight.append(np.where(seen, removed / safe_totals, 1.0))
            discounts.append(order_discounts)
            count_of_counts.append(order_count_of_counts)
            estimated.append(estimate is not None)
        return cls(
            vocab_size=vocab_size,
            keys=keys,
            own_probability=own_probability,
            backoff_weight=backoff_weight,
            discounts=np.array(discounts, dtype=np.float64),
            count_of_counts=np.array(count_of_counts, dtype=np.int64),
            discounts_estimated=np.array(estimated),
        )

    # -------------------------------------------------------------------------------- scoring
    def log_probs(self, sequence: ArrayLike) -> np.ndarray:
        """(T,) natural-log probability of each token of `sequence` given the up to order-1 tokens
        before it (<s> first), as the module docstring says."""
        return self._log_probs_many([sequence], "sequence")[0]

    def log_probs_many(self, sequences: Sequence[ArrayLike]) -> list[np.ndarray]:
        """`log_probs` of each sequence, scored in large vectorised chunks (much faster than one call
        per sentence)."""
        return self._log_probs_many(sequences, "sequences[{index}]")

    def _log_probs_many(self, sequences: Sequence[ArrayLike], name: str) -> list[np.ndarray]:
        """`log_probs_many`, with `name` describing the argument in error messages."""
        lengths = [int(np.size(sequence)) for sequence in sequences]
        results: list[np.ndarray] = []
        start = 0
        while start < len(sequences):
            stop, chunk_tokens = start, 0
            while stop < len(sequences) and (stop == start or chunk_tokens + lengths[stop] <= _CHUNK_TOKENS):
                chunk_tokens += lengths[stop]
                stop += 1
            tokens, positions = _pad(sequences[start:stop], self.vocab_size, name, first_index=start)
            predicted = np.log(self._probabilities(tokens, positions)[positions > 0])
            results.extend(np.split(predicted, np.cumsum(lengths[start : stop - 1])))
            start = stop
        return results

    def perplexity(self, sequences: Sequence[ArrayLike], first_scored: int = 0) -> float:
        """exp(mean negative log probability) over the tokens of `sequences` from index `first_scored`
        of each on. `first_scored=1` counts the tokens an LSTM's perplexity counts when it predicts
        each next token from a zero state (every token after the first)."""
        if first_scored < 0:
            raise ValueError(f"first_scored must be >= 0, got {first_scored}")
        scored = [log_probs[first_scored:] for log_probs in self.log_probs_many(sequences)]
        count = sum(len(log_probs) for log_probs in scored)
        if count == 0:
            raise ValueError(f"sequences hold no token at index >= first_scored={first_scored}")
        return float(np.exp(-sum(float(log_probs.sum()) for log_probs in scored) / count))

    def next_token_probs(self, prefix: ArrayLike) -> np.ndarray:
        """(V,) distribution of the token after `prefix`, the start of a sequence (<s> is implied
        before it; an empty prefix asks for the first token). It sums to 1, and its entry for token w
        equals exp(log_probs(prefix + [w]))[-1]."""
        tokens, positions = _pad([prefix], self.vocab_size, "prefix")
        gram_ids = self._gram_ids(tokens, positions)
        next_position = int(positions[-1]) + 1
        words = np.arange(self.vocab_size, dtype=np.int64)
        probability = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for k in range(1, self.order + 1):
            if k == 1:
                history_id = 0
            else:
                history_id = int(gram_ids[k - 2][-1]) if next_position >= k - 1 else -1
            history = np.full(self.vocab_size, history_id, dtype=np.int64)
            probability = self._mix(k, self._find(k, history, words), history, probability)
        return probability

    @property
    def nbytes(self) -> int:
        """Bytes held by the model's arrays."""
        arrays = [*self._keys, *self._own_probability, *self._backoff_weight]
        return sum(array.nbytes for array in arrays)

    # -------------------------------------------------------------------------------- internals
    def _find(self, k: int, history: np.ndarray, words: np.ndarray) -> np.ndarray:
        """Row of the order-k gram (history, word) in its table for each pair, -1 where the history is
        missing (-1) or the gram was never seen."""
        table = self._keys[k - 1]
        rows = np.full(len(words), -1, dtype=np.int64)
        if len(table) == 0:
            return rows
        query = history * self._radix + words
        found_at = np.minimum(np.searchsorted(table, query), len(table) - 1)
        found = (history >= 0) & (table[found_at] == query)
        rows[found] = found_at[found]
        return rows

    def _mix(self, k: int, rows: np.ndarray, history: np.ndarray, lower: np.ndarray) -> np.ndarray:
        """p_k = own term + γ(h) p_{k-1}; a missing history (-1) passes p_{k-1} through."""
        own = np.where(rows >= 0, self._own_probability[k - 1][np.maximum(rows, 0)], 0.0)
        weight = np.where(history >= 0, self._backoff_weight[k - 1][np.maximum(history, 0)], 1.0)
        return own + weight * lower

    def _history(self, k: int, gram_ids: list[np.ndarray], positions: np.ndarray) -> np.ndarray:
        """(n,) row of the order k-1 history before each position, -1 where fewer than k-1 tokens
        precede it in its sequence (<s> included) or that history was never seen."""
        if k == 1:
            return np.zeros(len(positions), dtype=np.int64)
        shifted = np.empty(len(positions), dtype=np.int64)
        shifted[0] = -1
        shifted[1:] = gram_ids[k - 2][:-1]
        return np.where(positions >= k - 1, shifted, -1)

    def _gram_ids(self, tokens: np.ndarray, positions: np.ndarray) -> list[np.ndarray]:
        """Per order, (n,) row of the gram ending at each position (-1 if unseen or too short)."""
        gram_ids: list[np.ndarray] = []
        for k in range(1, self.order + 1):
            gram_ids.append(self._find(k, self._history(k, gram_ids, positions), tokens))
        return gram_ids

    def _probabilities(self, tokens: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """(n,) p(token | history) at every position of padded sequences (meaningless at <s>)."""
        gram_ids = self._gram_ids(tokens, positions)
        probability = np.full(len(tokens), 1.0 / self.vocab_size)
        for k in range(1, self.order + 1):
            probability = self._mix(k, gram_ids[k - 1], self._history(k, gram_ids, positions), probability)
        return probability


def _count_grams(
    tokens: np.ndarray, positions: np.ndarray, order: int, radix: int
) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Per order k: the sorted keys of the distinct k-grams of padded sequences, and their adjusted
    counts a (raw at the top order and for grams that begin with <s>, continuation counts otherwise,
    0 for <s> itself). Only the previous order's per-position arrays are kept, to bound memory."""
    count_type = np.int32 if len(tokens) < np.iinfo(np.int32).max else np.int64
    keys: list[np.ndarray] = []
    adjusted_counts: list[np.ndarray | None] = []
    previous_ids = previous_raw = previous_begins = np.zeros(0, dtype=np.int64)
    for k in range(1, order + 1):
        if k == 1:
            ends = np.arange(len(tokens))
            gram_keys = tokens
        else:
            if len(keys[-1]) * radix >= np.iinfo(np.int64).max:
                raise OverflowError(f"{len(keys[-1])} grams of order {k - 1} times {radix} ids overflow int64")
            ends = np.flatnonzero(positions >= k - 1)  # positions where a whole k-gram ends
            gram_keys = previous_ids[ends - 1] * radix  # (row of the history) × (V + 1) + token
            gram_keys += tokens[ends]
        table, inverse, raw = np.unique(gram_keys, return_inverse=True, return_counts=True)
        del gram_keys
        begins = np.zeros(len(table), dtype=bool)
        begins[inverse] = positions[ends] == k - 1
        if k > 1:
            # Every occurrence of a gram has the same suffix (the order k-1 gram ending at the same
            # position), so a scatter that keeps any one of them is enough.
            suffix = np.empty(len(table), dtype=np.int64)
            suffix[inverse] = previous_ids[ends]
            continuation = np.bincount(suffix, minlength=len(keys[-1]))
            adjusted_counts.append(np.where(previous_begins, previous_raw, continuation).astype(count_type))
            del suffix, continuation
        if k < order:
            ids = np.full(len(tokens), -1, dtype=np.int64)
            ids[ends] = inverse
            previous_ids = ids
        del inverse, ends
        keys.append(table)
        previous_raw, previous_begins = raw, begins
    adjusted_counts.append(previous_raw.astype(count_type))
    bos_row = np.searchsorted(keys[0], radix - 1)
    if bos_row < len(keys[0]) and keys[0][bos_row] == radix - 1:
        adjusted_counts[0][bos_row] = 0  # <s> is never predicted
    return keys, adjusted_counts


def _pad(
    sequences: Sequence[ArrayLike], vocab_size: int, name: str, first_index: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate `sequences` with <s> (= vocab_size) before each: (tokens (n,), positions (n,)) where
    positions counts from 0 at each <s>. Checks every id; errors name the sequence by `name`, formatted
    with index = first_index + its place in `sequences`."""
    arrays = [np.asarray(sequence) for sequence in sequences]
    for index, array in enumerate(arrays):
        if array.ndim != 1:
            raise ValueError(f"{name.format(index=first_index + index)} must be 1-D, got shape {array.shape}")
        if array.size and array.dtype.kind not in "iu":
            described = name.format(index=first_index + index)
            raise ValueError(f"{described} must hold integer token ids, got dtype {array.dtype}")
    lengths = np.array([array.size for array in arrays], dtype=np.int64)
    body = np.concatenate([array for array in arrays if array.size] or [np.zeros(0)]).astype(np.int64)
    if body.size and (body.min() < 0 or body.max() >= vocab_size):
        bad = int(np.flatnonzero((body < 0) | (body >= vocab_size))[0])
        index = int(np.searchsorted(np.cumsum(lengths), bad, side="right"))
        raise ValueError(
            f"{name.format(index=first_index + index)} holds token id {body[bad]}, outside [0, vocab_size={vocab_size})"
        )
    padded_lengths = lengths + 1
    starts = np.cumsum(padded_lengths) - padded_lengths
    tokens = np.empty(int(padded_lengths.sum()), dtype=np.int64)
    is_start = np.zeros(len(tokens), dtype=bool)
    is_start[starts] = True
    tokens[is_start] = vocab_size
    tokens[~is_start] = body
    positions = np.arange(len(tokens), dtype=np.int64) - np.repeat(starts, padded_lengths)
    return tokens, positions
