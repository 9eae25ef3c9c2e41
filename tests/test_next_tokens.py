"""`NextTokens` against the whole table of next-token probabilities it replaces, its memory while it
is built, and the guesses /gates and /step show from it."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import plotly.io
import pytest

import lstm_core
from lstm_core import LSTM, LanguageModel
from lstm_core.models.language_model import LANGUAGE_MODELS
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer
from lstm_core.numerics import softmax
from tests.pages import chart_specs, open_page
from ui import explain, figures, model_store, typed_text
from ui.cache import estimated_bytes
from ui.next_tokens import CHUNK_VALUES, TOP_K, NextTokens

LONG_TEXT = " ".join([typed_text.DEFAULT_TEXT] * 6)


def tiny_model(vocab: list[str], seed: int = 0, dtype=np.float64, decoder_scale: float = 1.0) -> LanguageModel:
    """A random character model over `vocab` (which holds `UNKNOWN_TOKEN`)."""
    rng = np.random.default_rng(seed)
    lstm = LSTM.random(input_size=6, hidden_size=5, num_layers=2, bidirectional=True, seed=seed, scale=0.9, dtype=dtype)
    return LanguageModel(
        name="tiny", tokenizer=CharTokenizer(vocab), embedding=rng.normal(size=(len(vocab), 6)), lstm=lstm,
        decoder_weight=decoder_scale * rng.normal(size=(len(vocab), 10)), decoder_bias=rng.normal(size=len(vocab)),
    )  # fmt: skip


def stable_top(probabilities: np.ndarray, k: int) -> np.ndarray:
    """The first `k` ids of each row sorted by probability, largest first, equal ones by lower id."""
    return np.argsort(-probabilities, axis=1, kind="stable")[:, :k]


def separated(probabilities: np.ndarray, k: int) -> np.ndarray:
    """(T,) True where a row's `k` + 1 largest values differ by more than rounding: their order, and
    which `k` are the largest, do not depend on the last bits of the scores."""
    largest = -np.sort(-probabilities, axis=1)[:, : k + 1]
    return (largest[:, 1:] < largest[:, :-1] * (1 - 1e-4)).all(axis=1)


def assert_matches_table(next_tokens: NextTokens, table: np.ndarray, rtol: float = 1e-5) -> None:
    """Rows, top windows and columns of `next_tokens` against the (T, V) float32 `table`."""
    length, vocab_size = table.shape
    assert next_tokens.length == length
    rows = np.stack([next_tokens.row(t) for t in range(length)])
    assert rows.dtype == np.float32 and rows.shape == table.shape
    np.testing.assert_allclose(rows, table, rtol=rtol, atol=1e-7)
    np.testing.assert_array_equal(next_tokens.row(-1), rows[-1])
    # the top guesses are exactly those of the rows a page recomputes
    kept = min(TOP_K, vocab_size)
    np.testing.assert_array_equal(next_tokens.top_ids, stable_top(rows, kept))
    np.testing.assert_array_equal(next_tokens.top_probabilities, np.take_along_axis(rows, next_tokens.top_ids, axis=1))
    assert separated(table, kept).any()
    windows = [(0, length), (0, 1), (length // 3, length // 3 + 5), (length - 2, length), (length, length)]
    for start, stop in windows:
        for k in (1, 3, 5, TOP_K):
            ids, probabilities = next_tokens.top(start, stop, k)
            expected_ids, expected_probabilities = figures.top_predictions(table[start:stop], k=k)
            assert ids.shape == probabilities.shape == (len(table[start:stop]), min(k, vocab_size))
            np.testing.assert_allclose(probabilities, expected_probabilities, rtol=rtol, atol=1e-7)
            clear = separated(table[start:stop], min(k, vocab_size))
            np.testing.assert_array_equal(ids[clear], expected_ids[clear])
    chosen = [0, vocab_size - 1, vocab_size // 2, 0]
    columns = next_tokens.columns(chosen)
    assert columns.shape == (length, len(chosen)) and columns.dtype == np.float32
    np.testing.assert_allclose(columns, table[:, chosen], rtol=rtol, atol=1e-7)
    assert next_tokens.columns([]).shape == (length, 0)


def test_a_tagger_keeps_the_tags_of_every_word():
    tagger = lstm_core.load_pretrained("tagger")
    trace = tagger.trace("I can fish. A can of fish.")
    table = tagger.tag_probs(trace).astype(np.float32)
    next_tokens = NextTokens.from_trace(tagger, trace)
    assert_matches_table(next_tokens, table)
    ids, _ = next_tokens.top(0, trace.length, k=1)
    assert [tagger.labels[i] for i in ids[:, 0]] == tagger.tag(list(trace.tokens))


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_a_shipped_model_gives_the_whole_tables_values(name):
    model = lstm_core.load_pretrained(name)
    trace = model.trace(LONG_TEXT)
    table = model.next_token_probs(trace).astype(np.float32)
    next_tokens = NextTokens.from_trace(model, trace)
    assert_matches_table(next_tokens, table)
    for t in np.flatnonzero(separated(table, 5))[:: max(1, trace.length // 10)]:
        shown = explain.top_predictions(next_tokens.row(int(t)), model.vocab)
        expected = explain.top_predictions(table[t], model.vocab)
        assert [token for token, _ in shown] == [token for token, _ in expected]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("vocab_size", [3, TOP_K, 40])
def test_a_tiny_random_model_gives_the_whole_tables_values(vocab_size, dtype):
    vocab = [UNKNOWN_TOKEN, *"abcdefghijklmnopqrstuvwxyz0123456789 .,!?"[: vocab_size - 1]]
    model = tiny_model(vocab, seed=vocab_size, dtype=dtype, decoder_scale=4.0)
    text = "".join(np.random.default_rng(1).choice(vocab[1:], size=57))
    trace = model.trace(text)
    assert_matches_table(NextTokens.from_trace(model, trace), model.next_token_probs(trace).astype(np.float32))


def test_the_rows_are_scored_a_chunk_at_a_time(monkeypatch):
    model = tiny_model([UNKNOWN_TOKEN, *"abcdefg"])
    trace = model.trace("abcabcdefgfedcba gab")
    scored = []
    logits = model.logits
    monkeypatch.setattr(model, "logits", lambda output: scored.append(len(output)) or logits(output))
    monkeypatch.setattr("ui.next_tokens.CHUNK_VALUES", 3 * len(model.vocab))
    next_tokens = NextTokens.from_trace(model, trace)
    assert scored == [3] * 6 + [2]
    assert_matches_table(next_tokens, model.next_token_probs(trace).astype(np.float32))


def test_equal_probabilities_are_listed_by_lower_id_even_at_the_cut():
    vocab = [UNKNOWN_TOKEN, *"abcdefghijklmnop"]
    model = tiny_model(vocab)
    model.decoder_weight[:] = 0.0  # every token equally likely ...
    model.decoder_bias[:] = 0.0
    model.decoder_bias[[3, 12]] = 1.0  # ... but two
    trace = model.trace("abc")
    ids, probabilities = NextTokens.from_trace(model, trace).top(0, trace.length, TOP_K)
    np.testing.assert_array_equal(ids, [[3, 12, 0, 1, 2, 4, 5, 6, 7, 8]] * trace.length)
    assert probabilities[0, 0] == probabilities[0, 1] > probabilities[0, 2] == probabilities[0, -1]


def test_a_token_no_input_can_make_likely_has_probability_zero():
    model = tiny_model([UNKNOWN_TOKEN, *"abc"])
    model.decoder_bias[0] = -np.inf
    trace = model.trace("abcab")
    next_tokens = NextTokens.from_trace(model, trace)
    assert np.isfinite(next_tokens.lognorm).all()
    assert next_tokens.columns([0]).max() == 0.0 and next_tokens.row(2)[0] == 0.0
    assert_matches_table(next_tokens, model.next_token_probs(trace).astype(np.float32))


def test_bad_arguments_are_refused_by_name():
    model = tiny_model([UNKNOWN_TOKEN, *"abc"])
    next_tokens = NextTokens.from_trace(model, model.trace("abc"))
    for t in (3, -4, 1.0, True, "0"):
        with pytest.raises(IndexError, match="t must be a token index"):
            next_tokens.row(t)
    for k in (0, TOP_K + 1, 2.0):
        with pytest.raises(ValueError, match="k must be a whole number"):
            next_tokens.top(0, 3, k)
    for token_ids in ([4], [-1], [[0, 1]], [0.5]):
        with pytest.raises(ValueError, match="token"):
            next_tokens.columns(token_ids)


def test_it_is_read_only_and_counted_by_its_own_arrays():
    model = tiny_model([UNKNOWN_TOKEN, *"abcdefghijklmnop"])
    trace = model.trace("abcdefgh")
    next_tokens = NextTokens.from_trace(model, trace)
    ids, probabilities = next_tokens.top(0, 3, 5)
    for array in (next_tokens.lognorm, next_tokens.top_ids, next_tokens.top_probabilities, ids, probabilities):
        assert not array.flags.writeable
    own = next_tokens.lognorm.nbytes + next_tokens.top_ids.nbytes + next_tokens.top_probabilities.nbytes
    assert next_tokens.nbytes == own == trace.length * (8 + TOP_K * (np.dtype(np.intp).itemsize + 4))
    assert estimated_bytes(next_tokens) == own  # not the model's weights nor the trace's output
    traced = model_store.TextTrace(trace, next_tokens, ())
    assert trace.nbytes + own <= estimated_bytes(traced) < trace.nbytes + own + 4096


def test_building_for_a_long_text_never_holds_the_whole_table():
    model = lstm_core.load_pretrained("words")
    words = "the girl said that she would read the old book to her brother before dinner".split()
    text = " ".join(words[index % len(words)] for index in range(3000))
    trace = model.trace(text)
    length, vocab_size = trace.length, len(model.vocab)
    assert length == 3000 and vocab_size > 10_000
    table_bytes = length * vocab_size * 4
    tracemalloc.start()
    try:
        next_tokens = NextTokens.from_trace(model, trace)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < table_bytes / 8, f"peak {peak / 2**20:.1f} MiB for a {table_bytes / 2**20:.0f} MiB table"
    assert peak < 12 * CHUNK_VALUES * 4  # a few chunk-sized blocks, whatever the text's length
    assert next_tokens.nbytes < table_bytes / 100
    rows = [0, 1500, length - 1]
    expected = softmax(model.logits(trace.output[rows]))  # those rows of the table
    np.testing.assert_allclose([next_tokens.row(t) for t in rows], expected, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------------------- pages
def test_gates_draws_the_tables_guesses_for_its_window(models):
    model = models["words"]
    tokens = model.tokens(LONG_TEXT)
    t = len(tokens) // 2
    app = open_page("views/gates.py", {"model": "words", "text": LONG_TEXT, "t": str(t), "layer": "0"})
    assert not app.exception, app.exception
    start, stop = figures.token_window(len(tokens), t, 80)
    assert 0 < start < stop < len(tokens)
    table = model.next_token_probs(model.trace(LONG_TEXT)).astype(np.float32)
    ids, probabilities = figures.top_predictions(table[start:stop], k=5)
    predicted = [[model.vocab[index] for index in row] for row in ids]
    expected = figures.predictions_figure(tokens[start:stop], predicted, probabilities, start=start, selected=t)
    shown = [spec for spec in chart_specs(app) if "best guesses" in spec["layout"]["title"]["text"]]
    assert len(shown) == 1
    assert shown[0]["data"] == json.loads(plotly.io.to_json(expected, validate=False))["data"]


@pytest.mark.parametrize("t", [0, 5, -1])
def test_step_lists_the_tables_guesses(models, t):
    model = models["words"]
    t = t % len(model.tokens(typed_text.DEFAULT_TEXT))
    app = open_page("views/step.py", {"model": "words", "text": typed_text.DEFAULT_TEXT, "t": str(t), "layer": "0"})
    assert not app.exception, app.exception
    table = model.next_token_probs(model.trace(typed_text.DEFAULT_TEXT)).astype(np.float32)
    guesses = explain.top_predictions(table[t], model.vocab, k=5)
    expected = explain.as_markdown(
        "The model's guesses for the next token: "
        + ", ".join(f"“{explain.token_name(token)}” {p:.0%}" for token, p in guesses)
    )
    assert expected in [caption.value for caption in app.caption]
