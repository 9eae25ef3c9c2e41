"""The Kneser-Ney n-gram baseline: hand-computed numbers, normalisation, back-off, and agreement with a
plain dictionary implementation written from the formula on random corpora."""

from __future__ import annotations

from collections import Counter, defaultdict
from fractions import Fraction

import numpy as np
import pytest

from lstm_core.analysis import ngram
from lstm_core.analysis.ngram import FALLBACK_DISCOUNTS, KneserNeyModel, modified_kneser_ney_discounts

A, B, C, D = 0, 1, 2, 3
HAND_SEQUENCES = [np.array([A, B, A, B, A, B, A, B, C]), np.array([C, A, C, A, C])]


# ---------------------------------------------------------------- a reference written from the formula
class DictionaryKneserNey:
    """Interpolated modified Kneser-Ney with Python dictionaries of tuples, straight from the formula in
    the module docstring of `lstm_core.analysis.ngram`: slow, small, and sharing no code with it."""

    def __init__(self, sequences: list[np.ndarray], vocab_size: int, order: int) -> None:
        self.vocab_size, self.order, self.begin = vocab_size, order, vocab_size
        raw = [Counter() for _ in range(order + 1)]
        for sequence in sequences:
            padded = (self.begin, *(int(token) for token in sequence))
            for k in range(1, order + 1):
                for end in range(k - 1, len(padded)):
                    raw[k][padded[end - k + 1 : end + 1]] += 1
        self.followers: list[dict[tuple, dict[int, int]]] = [{} for _ in range(order + 1)]
        self.discounts: list[tuple[float, float, float]] = [(0.0, 0.0, 0.0)]
        for k in range(1, order + 1):
            adjusted = {}
            for gram, count in raw[k].items():
                if k == order or gram[0] == self.begin:
                    adjusted[gram] = count
                else:
                    adjusted[gram] = len({longer[0] for longer in raw[k + 1] if longer[1:] == gram})
            adjusted.pop((self.begin,), None)
            followers: dict[tuple, dict[int, int]] = defaultdict(dict)
            for gram, count in adjusted.items():
                followers[gram[:-1]][gram[-1]] = count
            self.followers[k] = followers
            n = Counter(adjusted.values())
            try:
                y = n[1] / (n[1] + 2 * n[2])
                estimate = (1 - 2 * y * n[2] / n[1], 2 - 3 * y * n[3] / n[2], 3 - 4 * y * n[4] / n[3])
                valid = 0 < estimate[0] < 1 and 0 < estimate[1] < 2 and 0 < estimate[2] < 3
            except ZeroDivisionError:
                valid = False
            self.discounts.append(estimate if valid else (0.5, 1.0, 1.5))

    def probability(self, history: tuple, word: int) -> float:
        k = len(history) + 1
        if k == 1:
            lower = 1.0 / self.vocab_size
        else:
            lower = self.probability(history[1:], word)
        followers = self.followers[k].get(history, {})
        total = sum(followers.values())
        if total == 0:
            return lower
        discount = {count: self.discounts[k][min(count, 3) - 1] for count in set(followers.values())}
        backoff = sum(discount[count] for count in followers.values()) / total
        count = followers.get(word, 0)
        own = (count - discount[count]) / total if count else 0.0
        return own + backoff * lower

    def log_probs(self, sequence: np.ndarray) -> np.ndarray:
        padded = (self.begin, *(int(token) for token in sequence))
        return np.array(
            [np.log(self.probability(padded[max(0, t - self.order + 1) : t], padded[t])) for t in range(1, len(padded))]
        )


def random_corpus(rng: np.random.Generator, vocab_size: int, n_sequences: int, max_length: int) -> list[np.ndarray]:
    """Sequences from a sticky random walk (so some grams repeat often) over all ids but the last,
    which stays unseen; some sequences are empty."""
    sequences = []
    for _ in range(n_sequences):
        length = int(rng.integers(0, max_length + 1))
        steps = rng.choice([-1, 0, 1, 2], size=length, p=[0.2, 0.3, 0.3, 0.2])
        sequences.append((int(rng.integers(vocab_size)) + np.cumsum(steps)) % (vocab_size - 1))
    return sequences


# ---------------------------------------------------------------------------------- hand-checked
def test_discounts_against_chen_and_goodman_by_hand():
    """n1..n4 = 4, 2, 1, 1: Y = 4 / (4 + 2·2) = 1/2, D1 = 1 - 2·(1/2)·2/4 = 1/2,
    D2 = 2 - 3·(1/2)·1/2 = 5/4, D3+ = 3 - 4·(1/2)·1/1 = 1. Without doubletons (n2 = 0) D2 is undefined,
    and n1..n4 = 1, 1, 1, 0 gives D1 = 1 - 2·(1/3)·1 = 1/3, D2 = 2 - 1 = 1, D3+ = 3 - 0 = 3, not < 3."""
    assert modified_kneser_ney_discounts([4, 2, 1, 1]) == pytest.approx((0.5, 1.25, 1.0), abs=1e-15)
    assert modified_kneser_ney_discounts([4, 0, 1, 1]) is None
    assert modified_kneser_ney_discounts([1, 1, 1, 0]) is None
    # Many singletons push D1 towards 1, never past it.
    assert 0.99 < modified_kneser_ney_discounts([10_000, 10, 5, 2])[0] < 1.0


def test_bigram_model_by_hand():
    """V = 4 (a, b, c, d; d never seen), <s> = 4, sequences "a b a b a b a b c" and "c a c a c".

    Bigram counts (order 2 is the top order, so raw): <s>a 1, ab 4, ba 3, bc 1, <s>c 1, ca 2, ac 2.
    n1..n4 = 3, 2, 1, 1, so Y = 3/7, D1 = 1 - 2·(3/7)·(2/3) = 3/7, D2 = 2 - 3·(3/7)·(1/2) = 19/14,
    D3+ = 3 - 4·(3/7)·1 = 9/7.
    Unigram continuation counts (distinct tokens before): a {<s>, b, c} 3, b {a} 1, c {b, <s>, a} 3;
    n1..n4 = 1, 0, 2, 0 has no doubletons, so order 1 uses the fallback 0.5, 1, 1.5.
    p1: Σa = 7, γ = (0.5 + 1.5 + 1.5)/7 = 1/2, so p1(a) = (3 - 1.5)/7 + (1/2)(1/4) = 19/56,
    p1(b) = (1 - 0.5)/7 + 1/8 = 11/56, p1(c) = 19/56, p1(d) = 1/8 = 7/56.
    After a: ab 4, ac 2, total 6, γ(a) = (9/7 + 19/14)/6 = 37/84;
    p(b | a) = (4 - 9/7)/6 + (37/84)(11/56) = 2535/4704, p(c | a) = (2 - 19/14)/6 + (37/84)(19/56),
    p(a | a) = (37/84)(19/56), p(d | a) = (37/84)(7/56).
    After <s>: <s>a 1, <s>c 1, γ(<s>) = (3/7 + 3/7)/2 = 3/7; p(a | <s>) = (1 - 3/7)/2 + (3/7)(19/56) = 169/392.
    After b: ba 3, bc 1, γ(b) = (9/7 + 3/7)/4 = 3/7; p(d | b) = (3/7)(7/56) = 3/56.
    After d (never seen): p(a | d) = p1(a) = 19/56.
    """
    model = KneserNeyModel.fit(HAND_SEQUENCES, vocab_size=4, order=2)
    np.testing.assert_array_equal(model.count_of_counts, [[1, 0, 2, 0], [3, 2, 1, 1]])
    np.testing.assert_array_equal(model.discounts_estimated, [False, True])
    np.testing.assert_allclose(model.discounts, [FALLBACK_DISCOUNTS, [3 / 7, 19 / 14, 9 / 7]], rtol=1e-15)

    def as_float(fraction: Fraction) -> float:
        return fraction.numerator / fraction.denominator

    gamma_a = Fraction(37, 84)
    unigram = [Fraction(19, 56), Fraction(11, 56), Fraction(19, 56), Fraction(7, 56)]
    after_a = [
        gamma_a * unigram[A],
        (4 - Fraction(9, 7)) / 6 + gamma_a * unigram[B],
        (2 - Fraction(19, 14)) / 6 + gamma_a * unigram[C],
        gamma_a * unigram[D],
    ]
    assert after_a[B] == Fraction(2535, 4704) and sum(after_a) == 1
    np.testing.assert_allclose(model.next_token_probs([B, A]), [as_float(p) for p in after_a], rtol=1e-13)
    np.testing.assert_allclose(model.next_token_probs([C, D]), [as_float(p) for p in unigram], rtol=1e-13)
    np.testing.assert_allclose(
        np.exp(model.log_probs(np.array([A, B, D, A]))),
        [169 / 392, 2535 / 4704, 3 / 56, 19 / 56],
        rtol=1e-13,
    )


def test_begin_token_is_never_predicted_and_rejected_as_input():
    model = KneserNeyModel.fit(HAND_SEQUENCES, vocab_size=4, order=3)
    assert model.begin_id == 4 and model.next_token_probs([A]).shape == (4,)
    with pytest.raises(ValueError, match=r"sequence holds token id 4, outside \[0, vocab_size=4\)"):
        model.log_probs(np.array([A, 4]))


# ---------------------------------------------------------------------------------- normalisation
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_next_token_distribution_sums_to_one_and_matches_log_probs(order: int):
    rng = np.random.default_rng(100 + order)
    vocab_size = 12
    model = KneserNeyModel.fit(random_corpus(rng, vocab_size, 40, 25), vocab_size, order)
    for _ in range(12):
        prefix = rng.integers(0, vocab_size, size=int(rng.integers(0, 9)))
        distribution = model.next_token_probs(prefix)
        assert distribution.shape == (vocab_size,)
        assert abs(distribution.sum() - 1.0) < 1e-9
        assert (distribution > 0).all()
        scored = [model.log_probs(np.append(prefix, word))[-1] for word in range(vocab_size)]
        np.testing.assert_allclose(np.exp(scored), distribution, rtol=1e-12)


def test_distribution_sums_to_one_on_a_larger_zipfian_corpus():
    rng = np.random.default_rng(7)
    vocab_size = 300
    weights = 1.0 / np.arange(1, vocab_size + 1)
    tokens = rng.choice(vocab_size, size=30_000, p=weights / weights.sum())
    sequences = np.split(tokens, np.arange(40, len(tokens), 40))
    model = KneserNeyModel.fit(sequences, vocab_size, order=5)
    # Orders 2-4 have the closed-form discounts; order 5 (n1..n4 = 27703, 18, 1, 2: D3+ < 0) and
    # order 1 (no rare continuation) fall back, so both paths are checked.
    assert model.discounts_estimated.tolist() == [False, True, True, True, False]
    for sequence in sequences[:5] + [rng.integers(0, vocab_size, size=10)]:
        for length in (0, 1, 3, 4, 8):
            assert abs(model.next_token_probs(sequence[:length]).sum() - 1.0) < 1e-9


# ---------------------------------------------------------------------------------- back-off
def test_unseen_history_backs_off_to_the_part_that_was_seen():
    """Order 3 on a b a b … / c a c a c: the history "c b" was never seen, so after it the model gives
    p2(· | b), which is also what it gives after "d b" (d never seen); after "a b" (seen) it differs.
    A history ending in the unseen d backs off to the unigram level wherever it starts."""
    model = KneserNeyModel.fit(HAND_SEQUENCES, vocab_size=4, order=3)
    after_cb = model.next_token_probs([A, C, B])
    np.testing.assert_allclose(model.next_token_probs([B, D, B]), after_cb, rtol=1e-14)
    assert np.abs(model.next_token_probs([B, A, B]) - after_cb).max() > 0.05
    unigram = model.next_token_probs([A, B, D])
    np.testing.assert_allclose(model.next_token_probs([D, D]), unigram, rtol=1e-14)
    np.testing.assert_allclose(model.next_token_probs([C, A, C, D]), unigram, rtol=1e-14)
    assert unigram[B] < unigram[A] == pytest.approx(unigram[C])  # b follows only a; a and c three tokens each


def test_first_token_is_predicted_from_the_begin_token_alone():
    model = KneserNeyModel.fit(HAND_SEQUENCES, vocab_size=4, order=5)
    first = model.next_token_probs([])
    assert first[A] > 0.3 and first[C] > 0.3 and first[B] < 0.15  # both sequences start with a or c
    np.testing.assert_allclose(np.exp(model.log_probs(np.array([B]))), [first[B]], rtol=1e-14)


# ---------------------------------------------------------------------------------- against the reference
@pytest.mark.parametrize(
    ("seed", "vocab_size", "order"), [(0, 3, 1), (1, 5, 2), (2, 6, 3), (3, 9, 4), (4, 7, 5), (5, 20, 3)]
)
def test_matches_the_dictionary_implementation_on_random_corpora(seed: int, vocab_size: int, order: int):
    rng = np.random.default_rng(seed)
    training = random_corpus(rng, vocab_size, 30, 20)
    model = KneserNeyModel.fit(training, vocab_size, order)
    reference = DictionaryKneserNey(training, vocab_size, order)
    np.testing.assert_allclose(model.discounts, reference.discounts[1:], rtol=1e-14)
    held_out = random_corpus(rng, vocab_size, 10, 20) + [rng.integers(0, vocab_size, size=15)]
    for sequence in training[:10] + held_out:
        np.testing.assert_allclose(model.log_probs(sequence), reference.log_probs(sequence), rtol=1e-11, atol=1e-13)


# ---------------------------------------------------------------------------------- perplexity
def test_training_text_is_more_likely_than_the_same_text_shuffled():
    rng = np.random.default_rng(11)
    vocab_size = 40
    training = random_corpus(rng, vocab_size, 200, 30)
    model = KneserNeyModel.fit(training, vocab_size, order=3)
    shuffled = [rng.permutation(sequence) for sequence in training]
    in_order, out_of_order = model.perplexity(training), model.perplexity(shuffled)
    assert in_order < 0.6 * out_of_order
    held_out = random_corpus(rng, vocab_size, 100, 30)
    assert model.perplexity(held_out) < 0.6 * model.perplexity([rng.permutation(s) for s in held_out])


def test_higher_order_wins_on_long_repeated_phrases():
    """Ten random phrases of 40 tokens over 4 ids: one or two tokens of history say little, four say
    much more, so held-out perplexity falls with each order, and steeply from order 3 on (about 4.0,
    3.9, 3.8, 3.1, 1.8)."""
    rng = np.random.default_rng(3)
    phrases = [rng.integers(0, 4, size=40) for _ in range(10)]

    def stories(count: int) -> list[np.ndarray]:
        return [np.concatenate([phrases[i] for i in rng.integers(0, 10, size=4)]) for _ in range(count)]

    training, held_out = stories(200), stories(30)
    perplexities = [KneserNeyModel.fit(training, 4, order).perplexity(held_out) for order in (1, 2, 3, 4, 5)]
    assert all(higher < 0.995 * lower for lower, higher in zip(perplexities, perplexities[1:], strict=False))
    assert perplexities[4] < 0.6 * perplexities[3] and perplexities[3] < 0.85 * perplexities[2]


def test_perplexity_counts_the_tokens_from_first_scored_on():
    rng = np.random.default_rng(5)
    model = KneserNeyModel.fit(random_corpus(rng, 10, 30, 12), 10, order=3)
    sequences = [np.array([1, 2, 3]), np.array([4]), np.array([], dtype=np.int64), np.array([5, 6])]
    log_probs = model.log_probs_many(sequences)
    assert [len(lp) for lp in log_probs] == [3, 1, 0, 2]
    all_tokens = np.concatenate(log_probs)
    after_first = np.concatenate([lp[1:] for lp in log_probs])
    assert model.perplexity(sequences) == pytest.approx(np.exp(-all_tokens.mean()), rel=1e-12)
    assert model.perplexity(sequences, first_scored=1) == pytest.approx(np.exp(-after_first.mean()), rel=1e-12)
    with pytest.raises(ValueError, match="first_scored=3"):
        model.perplexity(sequences, first_scored=3)


def test_scoring_in_chunks_gives_the_same_numbers(monkeypatch: pytest.MonkeyPatch):
    rng = np.random.default_rng(9)
    sequences = random_corpus(rng, 15, 60, 20)
    model = KneserNeyModel.fit(sequences, 15, order=4)
    whole = model.log_probs_many(sequences)
    monkeypatch.setattr(ngram, "_CHUNK_TOKENS", 7)
    chunked = model.log_probs_many(sequences)
    assert len(chunked) == len(whole)
    for expected, actual in zip(whole, chunked, strict=True):
        np.testing.assert_array_equal(actual, expected)
    np.testing.assert_array_equal(model.log_probs(sequences[3]), whole[3])


# ---------------------------------------------------------------------------------- arguments
def test_bad_arguments_are_named():
    good = [np.array([0, 1, 2])]
    with pytest.raises(ValueError, match=r"sequences\[1\] holds token id 7, outside \[0, vocab_size=5\)"):
        KneserNeyModel.fit([np.array([0, 1]), np.array([2, 7])], vocab_size=5)
    with pytest.raises(ValueError, match=r"sequences\[0\] holds token id -1"):
        KneserNeyModel.fit([np.array([-1, 1])], vocab_size=5)
    with pytest.raises(ValueError, match=r"sequences\[0\] must hold integer token ids"):
        KneserNeyModel.fit([np.array([0.0, 1.0])], vocab_size=5)
    with pytest.raises(ValueError, match=r"sequences\[0\] must be 1-D"):
        KneserNeyModel.fit([np.zeros((2, 2), dtype=int)], vocab_size=5)
    with pytest.raises(ValueError, match="order must be an int >= 1"):
        KneserNeyModel.fit(good, vocab_size=5, order=0)
    with pytest.raises(ValueError, match="vocab_size must be an int >= 1"):
        KneserNeyModel.fit(good, vocab_size=0)
    with pytest.raises(ValueError, match="at least one token"):
        KneserNeyModel.fit([np.array([], dtype=np.int64)], vocab_size=5)
    model = KneserNeyModel.fit(good, vocab_size=5, order=2)
    with pytest.raises(ValueError, match=r"prefix holds token id 5"):
        model.next_token_probs([5])
