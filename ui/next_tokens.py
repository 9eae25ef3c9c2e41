"""A traced text's next-token distributions, kept small: per token, the softmax normaliser and the few
most probable next tokens; a full distribution is recomputed from the trace when a page asks for it.

The whole table of next-token probabilities is T × V float32 values: 280 MB for 5,000 tokens of a
13,920-word vocabulary, and twice that while softmax runs. The pages draw the top guesses over a window
of tokens, one token's full distribution, or the probability of a few chosen tokens along the text. So
`NextTokens` keeps, for every token t of the trace,

    z_t = W h_t + b                          # (V,)  the decoder's scores (`LanguageModel.logits`)
    lognorm_t = log Σ_v exp(z_tv)            # ()    p_tv = exp(z_tv - lognorm_t)
    top_ids_t, top_probabilities_t           # (K,)  the K most probable next tokens, most probable first

and is built a chunk of rows at a time, so building it never holds more than a chunk × V block.

>>> from lstm_core import load_pretrained
>>> model = load_pretrained("words")
>>> trace = model.trace("Mary is a nice person. Dan, on the other hand, is evil.")
>>> next_tokens = NextTokens.from_trace(model, trace)
>>> ids, probabilities = next_tokens.top(trace.length - 1, trace.length, k=1)
>>> model.vocab[ids[0, 0]]
'he'
>>> next_tokens.row(-1).shape, next_tokens.columns([ids[0, 0]]).shape    # (V,), (T, n)
((341,), (16, 1))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lstm_core import LanguageModel, Trace

__all__ = ["CHUNK_VALUES", "TOP_K", "NextTokens"]

TOP_K = 10  # guesses kept per token: the pages show five at most
CHUNK_VALUES = 2**20  # scores computed at once while building: 4 MB of float32 per block, whatever V is


@dataclass(frozen=True, eq=False)
class NextTokens:
    """The distribution of the token after each token of one trace, as a normaliser and a top-K list.

    Read-only: one value may be shared by every session that traced the same text.

    Attributes:
        model: the model whose decoder gives the scores (shared, not copied).
        output: (T, num_directions * H) the trace's output, a view of the trace's own buffer.
        chunk_rows: rows scored at once; a row is recomputed in the same chunk, so its values are
            exactly those the top guesses were chosen from.
        lognorm: (T,) float64, log Σ_v exp(z_tv).
        top_ids: (T, K) the K = min(TOP_K, V) most probable next tokens, most probable first, ties
            broken by the lower id (as a stable sort of the whole row orders them).
        top_probabilities: (T, K) float32, their probabilities.
    """

    model: LanguageModel
    output: np.ndarray
    chunk_rows: int
    lognorm: np.ndarray
    top_ids: np.ndarray
    top_probabilities: np.ndarray

    @classmethod
    def from_trace(cls, model: LanguageModel, trace: Trace) -> NextTokens:
        """Score `trace.output` with `model`'s decoder, `CHUNK_VALUES` scores at a time."""
        output = trace.output
        length, vocab_size = output.shape[0], len(model.labels)
        chunk_rows = max(1, CHUNK_VALUES // vocab_size)
        kept = min(TOP_K, vocab_size)
        lognorm = np.empty(length, dtype=np.float64)
        top_ids = np.empty((length, kept), dtype=np.intp)
        top_probabilities = np.empty((length, kept), dtype=np.float32)
        for start in range(0, length, chunk_rows):
            chunk = slice(start, start + chunk_rows)
            probabilities, lognorm[chunk] = _scored(model, output[chunk])
            top_ids[chunk], top_probabilities[chunk] = _most_probable(probabilities, kept)
        for array in (lognorm, top_ids, top_probabilities):
            array.flags.writeable = False
        return cls(model, output, chunk_rows, lognorm, top_ids, top_probabilities)

    @property
    def length(self) -> int:
        """T, the number of tokens read."""
        return self.lognorm.shape[0]

    @property
    def nbytes(self) -> int:
        """The bytes this value adds to its trace: the output belongs to the trace, the model to every trace."""
        return self.lognorm.nbytes + self.top_ids.nbytes + self.top_probabilities.nbytes

    def row(self, t: int) -> np.ndarray:
        """(V,) float32, the distribution of the token after token `t` (negative counts from the end)."""
        if not isinstance(t, int | np.integer) or isinstance(t, bool) or not -self.length <= t < self.length:
            raise IndexError(f"t must be a token index in [-{self.length}, {self.length}), got {t!r}")
        t = int(t) % self.length
        # The whole chunk, as when the text was scored: BLAS sums a lone row (matrix times vector) or a
        # small block in another order, and guesses of nearly equal probability could then swap places.
        start = t - t % self.chunk_rows
        probabilities, _ = _scored(self.model, self.output[start : start + self.chunk_rows])
        return probabilities[t - start].copy()

    def top(self, start: int, stop: int, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """(rows, k) token ids and (rows, k) float32 probabilities of the `k` most probable next tokens
        after each token in ``start:stop`` (a slice, as on the whole table), most probable first.
        `k` is at most `TOP_K`; a vocabulary smaller than `k` gives all of its V tokens."""
        if not isinstance(k, int | np.integer) or isinstance(k, bool) or not 1 <= k <= TOP_K:
            raise ValueError(f"k must be a whole number from 1 to {TOP_K} (the guesses kept), got {k!r}")
        window = slice(start, stop)
        return self.top_ids[window, :k], self.top_probabilities[window, :k]

    def columns(self, token_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """(T, n) float32, the probability of each of the n tokens `token_ids` as the next token, after
        every token: exp(z_tv - lognorm_t), scoring those n tokens only."""
        ids = np.asarray(token_ids)
        vocab_size = len(self.model.labels)
        if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise ValueError(f"token_ids must be a sequence of token ids, got {token_ids!r}")
        if ids.size and not (0 <= ids.min() and ids.max() < vocab_size):
            raise ValueError(f"token ids must be in [0, {vocab_size}), got {ids.tolist()}")
        ids = ids.astype(np.intp)
        # the decoder's scores (`LanguageModel.logits`) for these n columns only
        scores = self.output @ self.model.decoder_weight[ids].T + self.model.decoder_bias[ids]  # (T, n)
        return np.exp(scores.astype(np.float64) - self.lognorm[:, None]).astype(np.float32)


def _scored(model: LanguageModel, output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, V) float32 next-token probabilities and (rows,) float64 log normalisers of `output`'s rows."""
    scores = model.logits(output)
    # softmax (`lstm_core.numerics.softmax`, as `LanguageModel.next_token_probs` uses it) written out, to
    # keep its normaliser as well
    highest = scores.max(axis=1, keepdims=True)
    exponentials = np.exp(scores - highest)
    totals = exponentials.sum(axis=1, keepdims=True)
    probabilities = (exponentials / totals).astype(np.float32, copy=False)
    return probabilities, highest[:, 0] + np.log(totals[:, 0].astype(np.float64))


def _most_probable(probabilities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, k) ids and probabilities of each row's `k` largest values, largest first, equal values
    by lower id: what the first `k` of a stable descending sort of the whole row give."""
    ids = np.argpartition(-probabilities, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(probabilities, ids, axis=1)
    order = np.lexsort((ids, -top), axis=1)
    ids, top = np.take_along_axis(ids, order, axis=1), np.take_along_axis(top, order, axis=1)
    # A value equal to the k-th may have been left out for a higher id: such rows are sorted whole.
    crowded = np.flatnonzero((probabilities >= top[:, -1:]).sum(axis=1) > k)
    if crowded.size:
        ids[crowded] = np.argsort(-probabilities[crowded], axis=1, kind="stable")[:, :k]
        top[crowded] = np.take_along_axis(probabilities[crowded], ids[crowded], axis=1)
    return ids, top
