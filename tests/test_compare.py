"""ui.compare: alignment of two token sequences, the difference of their traces and the words about it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.fake_models import fake_language_model
from ui import compare, figures, palette


def kinds_of(a: str, b: str, **options) -> tuple[str, ...]:
    return compare.align_tokens(a.split(), b.split(), **options).kinds


# --------------------------------------------------------------------------------- alignment
def test_a_text_continued_aligns_on_the_shared_start():
    alignment = compare.align_tokens(["bob", "is", "nice"], ["bob", "is", "nice", ".", "dan"])
    assert alignment.kinds == ("same", "same", "same", "only_b", "only_b")
    assert alignment.a_index.tolist() == [0, 1, 2, -1, -1]
    assert alignment.b_index.tolist() == [0, 1, 2, 3, 4]
    assert alignment.shared_prefix == 3 and alignment.parted_at == 3 and not alignment.identical
    assert alignment.aligned.tolist() == [True, True, True, False, False]


def test_an_insertion_in_the_middle_keeps_both_ends_aligned():
    alignment = compare.align_tokens("bob is nice .".split(), "bob is very nice .".split())
    assert alignment.kinds == ("same", "same", "only_b", "same", "same")
    assert alignment.a_index.tolist() == [0, 1, -1, 2, 3]
    assert alignment.b_index.tolist() == [0, 1, 2, 3, 4]
    deleted = compare.align_tokens("bob is very nice .".split(), "bob is nice .".split())
    assert deleted.kinds == ("same", "same", "only_a", "same", "same")


def test_a_swapped_word_is_paired_and_a_swapped_phrase_of_other_length_is_not():
    assert kinds_of("mary is kind", "bob is kind") == ("changed", "same", "same")
    assert kinds_of("bob is kind", "mary ann is kind") == ("only_a", "only_b", "only_b", "same", "same")


def test_no_shared_token():
    alignment = compare.align_tokens(["a", "b"], ["x", "y", "z"])
    assert alignment.kinds == ("only_a", "only_a", "only_b", "only_b", "only_b")
    assert alignment.shared_prefix == 0 and alignment.parted_at == 0 and not alignment.aligned.any()


def test_identical_and_empty_texts():
    alignment = compare.align_tokens(["bob", "is"], ["bob", "is"])
    assert alignment.identical and alignment.parted_at is None and alignment.shared_prefix == 2
    assert len(compare.align_tokens([], [])) == 0
    assert compare.align_tokens([], ["x"]).kinds == ("only_b",)


def test_a_middle_too_large_for_difflib_is_matched_word_for_word():
    assert kinds_of("a b c d", "x b c y") == ("changed", "same", "same", "changed")
    assert kinds_of("a b c d", "x b c y", max_middle_cells=3) == ("changed", "same", "same", "changed")
    assert kinds_of("p a b c q", "p x y q", max_middle_cells=3) == ("same", "changed", "changed", "only_a", "same")
    assert kinds_of("p a b c q", "p x y q") == ("same", "only_a", "only_a", "only_a", "only_b", "only_b", "same")


def test_swapped_names_in_a_repetitive_text_line_up_word_for_word():
    text_a = "bob is nice . mary went home . " * 4
    text_b = text_a.replace("mary", "lucy", 2) + "dan is evil ."
    alignment = compare.align_tokens(text_a.split(), text_b.split())
    changed = [column for column, kind in enumerate(alignment.kinds) if kind == "changed"]
    assert changed == [4, 12]  # the two swapped names, not a shift by a whole sentence
    assert alignment.kinds.count("only_b") == 4 and alignment.kinds.count("only_a") == 0  # "dan is evil ."


@pytest.mark.parametrize("seed", range(20))
def test_every_token_appears_once_in_order_and_kinds_match_the_tokens(seed):
    rng = np.random.default_rng(seed)
    a = list(rng.choice(list("abcde"), size=rng.integers(0, 30)))
    b = list(rng.choice(list("abcde"), size=rng.integers(0, 30)))
    alignment = compare.align_tokens(a, b)
    np.testing.assert_array_equal(alignment.a_index[alignment.a_index >= 0], np.arange(len(a)))
    np.testing.assert_array_equal(alignment.b_index[alignment.b_index >= 0], np.arange(len(b)))
    for i, j, kind in zip(alignment.a_index, alignment.b_index, alignment.kinds, strict=True):
        assert (kind == "same") == (i >= 0 and j >= 0 and a[i] == b[j])
        assert (kind == "changed") == (i >= 0 and j >= 0 and a[i] != b[j])
        assert (kind == "only_a") == (j < 0) and (kind == "only_b") == (i < 0)
    # difflib finds every shared token it can: no fewer "same" columns than the longest common prefix + suffix
    assert alignment.kinds.count("same") >= alignment.shared_prefix


def test_side_index_and_side_window():
    alignment = compare.align_tokens(["bob", "is", "nice"], ["bob", "is", "nice", ".", "dan"])
    assert [compare.side_index(alignment, column, "a") for column in range(5)] == [0, 1, 2, 2, 2]
    assert [compare.side_index(alignment, column, "b") for column in range(5)] == [0, 1, 2, 3, 4]
    assert compare.side_window(alignment, "a", 1, 5) == (1, 3)
    assert compare.side_window(alignment, "a", 3, 5) == (0, 0)  # A has nothing there
    assert compare.side_window(alignment, "b", 3, 5) == (3, 5)
    only_b_first = compare.align_tokens(["x"], ["y", "z", "x"])
    assert only_b_first.kinds == ("only_b", "only_b", "same")
    assert compare.side_index(only_b_first, 0, "a") == 0


# ---------------------------------------------------------------------- the difference itself
@pytest.fixture(scope="module")
def model():
    return fake_language_model("words", hidden_size=16, seed=3)


@pytest.mark.parametrize(
    ("text_a", "text_b"),
    [
        ("Bob is a nice person.", "Bob is a nice person. Dan, on the other hand, is evil."),
        ("Mary is a nice person. Dan is evil.", "Bob is a nice person. Dan is evil."),
        ("Bob is nice.", "Bob is very nice."),
    ],
)
def test_difference_is_the_traces_difference_at_aligned_tokens(model, text_a, text_b):
    trace_a, trace_b = model.trace(text_a), model.trace(text_b)
    alignment = compare.align_tokens(trace_a.tokens, trace_b.tokens)
    for signal in figures.SIGNAL_NAMES:
        values_a, values_b = figures.signals_of(trace_a)[signal], figures.signals_of(trace_b)[signal]
        difference = compare.aligned_difference(values_a, values_b, alignment)
        assert difference.shape == (len(alignment), 16) and difference.dtype == np.float32
        for column, (i, j) in enumerate(zip(alignment.a_index, alignment.b_index, strict=True)):
            if i >= 0 and j >= 0:
                np.testing.assert_array_equal(difference[column], values_b[j] - values_a[i])
            else:
                assert np.isnan(difference[column]).all()
        # the LSTM reads left to right: over the shared start both traces are the same
        np.testing.assert_allclose(difference[: alignment.shared_prefix], 0.0, atol=1e-5)


def test_aligned_values_puts_nan_where_the_text_has_no_token():
    values = np.arange(6, dtype=np.float32).reshape(3, 2)
    got = compare.aligned_values(values, np.array([0, -1, 2, -1]))
    np.testing.assert_array_equal(got[[0, 2]], values[[0, 2]])
    assert np.isnan(got[[1, 3]]).all()


def test_unit_orders():
    values_a = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)  # (T=2, H=3)
    values_b = np.array([[0.0, 0.5, -2.0], [0.0, 1.0, 0.0], [0.2, 0.0, -0.1]], dtype=np.float32)
    alignment = compare.align_tokens(["x", "y"], ["x", "z", "w"])  # same, only_a, only_b, only_b
    difference = compare.aligned_difference(values_a, values_b, alignment)
    np.testing.assert_array_equal(compare.compare_unit_order("difference", values_a, values_b, difference), [2, 1, 0])
    np.testing.assert_array_equal(compare.compare_unit_order("index", values_a, values_b, difference), [0, 1, 2])
    np.testing.assert_array_equal(compare.compare_unit_order("variance", values_a, values_b, difference), [2, 1, 0])
    # nothing differs where the texts line up (noise only): the end states decide
    noise = np.full((2, 3), 1e-6, dtype=np.float32)
    np.testing.assert_array_equal(compare.compare_unit_order("difference", values_a, values_b, noise), [0, 2, 1])
    with pytest.raises(ValueError, match="order must be one of"):
        compare.compare_unit_order("nonsense", values_a, values_b, difference)


def test_difference_limit_ignores_gaps_and_keeps_a_floor():
    assert compare.difference_limit(np.array([[np.nan, 1e-7]])) == 0.1
    assert compare.difference_limit(np.array([[np.nan, 2.0, -3.0]]), floor=0.1) == pytest.approx(2.98)


# ------------------------------------------------------------------------------- the words
def test_summary_numbers_on_a_hand_made_pair():
    tokens_a, tokens_b = ["mary", "is", "kind"], ["bob", "is", "kind"]
    alignment = compare.align_tokens(tokens_a, tokens_b)
    values_a = np.array([[0.0, -1.0], [0.0, -1.0], [0.0, -0.2]], dtype=np.float32)
    values_b = np.array([[0.0, 0.5], [0.0, 0.3], [0.5, 0.0]], dtype=np.float32)
    summary = compare.summarize_difference(alignment, values_a, values_b, "cell")
    assert summary.first_difference == 0
    column, unit, difference, a_value, b_value = summary.largest
    assert (column, unit) == (0, 1) and difference == pytest.approx(1.5)
    assert (a_value, b_value) == (pytest.approx(-1.0), pytest.approx(0.5))
    assert summary.faded_to[0] == 2 and summary.faded_to[1] == pytest.approx(0.2)
    assert summary.final[0] == 0 and summary.final[1:] == (pytest.approx(0.0), pytest.approx(0.5))
    named = compare.summarize_difference(alignment, values_a, values_b, "cell", named_units=[0, 1])
    assert named.named[0][:2] == (0, 2) and named.named[0][2:] == (pytest.approx(0.5), pytest.approx(0.5))
    assert named.named[1][:2] == (1, 0) and named.named[1][2:] == (pytest.approx(1.5), pytest.approx(0.2))
    identical = compare.summarize_difference(alignment, values_a, values_a, "cell", named_units=[0, 1])
    assert identical.named == ()
    assert identical.first_difference is None and identical.largest is None and identical.faded_to is None


def test_sentences_for_a_continued_text_come_from_the_numbers():
    tokens_a = ["bob", "is", "nice", "person", "."]
    tokens_b = [*tokens_a, "dan", "is", "evil", "."]
    alignment = compare.align_tokens(tokens_a, tokens_b)
    summary = compare.DifferenceSummary("cell", None, None, None, final=(41, -0.62, 0.68))
    sentences = compare.summary_sentences(summary, alignment, tokens_a, tokens_b, {41: "subject gender"})
    assert sentences == [
        "The two texts agree up to token 4 (“bob” … “.”): the model reads from left to right, so its states there "
        "are the same in A and B.",
        "A ends there; B goes on with 4 tokens A does not have, from “dan”.",
        "Where the texts line up, the cell state is the same in A and B (within 0.001).",
        "After their last tokens, unit 41 (subject gender)'s cell state differs most: A ends at -0.62, B at 0.68 "
        "(B − A = +1.30).",
    ]


def test_sentences_for_a_swapped_word_name_the_largest_difference_and_its_fading():
    tokens_a = ["mary", "is", "nice", ".", "dan", "is", "evil"]
    tokens_b = ["bob", *tokens_a[1:]]
    alignment = compare.align_tokens(tokens_a, tokens_b)
    summary = compare.DifferenceSummary("forget", 0, (3, 7, -0.9, 0.95, 0.05), (6, -0.01), (7, 0.5, 0.5))
    sentences = compare.summary_sentences(summary, alignment, tokens_a, tokens_b)
    assert sentences[0] == "The two texts differ from the first token on."
    assert sentences[1] == "At token 0 A reads “mary” where B reads “bob”."
    assert sentences[2] == (
        "The largest difference where the texts line up is at “.” (token 3): unit 7's forget gate is 0.90 lower "
        "in B than in A (0.95 in A, 0.05 in B)."
    )
    assert sentences[3] == "By the last token the texts share, “evil” (token 6), that difference is down to -0.01."
    assert sentences[4] == "After their last tokens, A and B end with the same forget gate (within 0.001)."
    with_named = compare.DifferenceSummary("forget", 0, (3, 7, -0.9, 0.95, 0.05), (6, -0.01), (7, 0.5, 0.5),
                                           named=((41, 3, -0.5, -0.004), (7, 3, -0.9, -0.01)))  # fmt: skip
    named_sentences = compare.summary_sentences(with_named, alignment, tokens_a, tokens_b, {41: "subject gender"})
    assert named_sentences[4] == (
        "Unit 41 (subject gender): B − A is largest at “.” (token 3), -0.50; at the last token the texts share it is 0.00."
    )
    assert len(named_sentences) == 6  # unit 7 is the largest difference already: no second sentence about it
    lasting = compare.DifferenceSummary("forget", 0, (3, 7, -0.9, 0.95, 0.05), (6, -0.8), (7, 0.5, 0.5))
    assert not any(
        "down to" in sentence for sentence in compare.summary_sentences(lasting, alignment, tokens_a, tokens_b)
    )


def test_sentences_for_other_shapes_of_pair():
    same = compare.align_tokens(["bob"], ["bob"])
    summary = compare.DifferenceSummary("cell", None, None, None, (0, 1.0, 1.0))
    assert compare.summary_sentences(summary, same, ["bob"], ["bob"]) == [
        "The two texts are the same, so the model's traces of them are the same too."
    ]
    tokens_a, tokens_b = ["bob", "is", "very", "nice", "day"], ["bob", "is", "nice", "day"]
    deleted = compare.align_tokens(tokens_a, tokens_b)
    summary = compare.DifferenceSummary("hidden", 3, (4, 2, 0.25, 0.5, 0.75), None, (2, 0.5, 0.75))
    sentences = compare.summary_sentences(summary, deleted, tokens_a, tokens_b)
    assert sentences[1] == "Then A has 1 token B does not have, from “very”."
    assert sentences[2] == "Where the texts line up, the hidden state first differs at “nice” (token 3 of A, 2 of B)."
    assert sentences[3].startswith("The largest difference where the texts line up is at “day” (token 4 of A, 3 of B): "
                                   "unit 2's hidden state is 0.25 higher in B")  # fmt: skip
    # a backward direction sees the different ending even over the shared start
    backward = compare.DifferenceSummary("cell", 0, (0, 1, 0.5, 0.0, 0.5), None, None)
    assert (
        "yet the cell state differs from token 0 on"
        in compare.summary_sentences(backward, deleted, tokens_a, tokens_b)[0]
    )


def test_alignment_markdown_escapes_and_marks_tokens():
    tokens_a = ["<b>bob</b>", "is", "*nice*"]
    tokens_b = ["[x](javascript:alert(1))", "is", "*nice*", "."]
    alignment = compare.align_tokens(tokens_a, tokens_b)
    line_a, line_b = compare.alignment_markdown(alignment, tokens_a, tokens_b)
    # swapped tokens on blue, tokens only one text has on grey: places, never a sign or gate colour
    assert line_a == r":blue-background[**\<b\>bob\</b\>**] is \*nice\*"
    assert line_b.startswith(r":blue-background[**\[x\]\(javascript\:alert\(1\)\)**]")
    assert line_b.endswith(r":gray-background[**\.**]")
    window_a, _ = compare.alignment_markdown(alignment, tokens_a, tokens_b, start=1, stop=2)
    assert window_a == "… is …"
    chars = compare.align_tokens(list("a b"), list("a c"))
    assert compare.alignment_markdown(chars, list("a b"), list("a c"), kind="chars")[0] == "a·:blue-background[**b**]"


# ------------------------------------------------------------------------------ the figure
def test_difference_heatmap_draws_b_minus_a_with_grey_gaps():
    tokens_a, tokens_b = ["<b>bob</b>", "is", "kind"], ["mary", "is", "kind", "dan"]
    alignment = compare.align_tokens(tokens_a, tokens_b)
    rng = np.random.default_rng(0)
    values_a, values_b = rng.normal(size=(3, 5)), rng.normal(size=(4, 5))
    a_columns = compare.aligned_values(values_a, alignment.a_index)
    b_columns = compare.aligned_values(values_b, alignment.b_index)
    units = np.array([4, 0, 2])
    labels = compare.column_labels(alignment, tokens_a, tokens_b)
    assert labels == ["<b>bob</b>→mary", "is", "kind", "+dan"]
    figure = compare.difference_heatmap(a_columns, b_columns, labels, alignment.kinds, units, "cell",
                                        selected=(0, 2), unit_names={2: "subject gender"})  # fmt: skip
    grey, heatmap = figure.data
    expected = (values_b[alignment.b_index[:3]] - values_a[alignment.a_index[:3]])[:, units].T
    np.testing.assert_allclose(np.asarray(heatmap.z)[:, :3], expected, rtol=1e-6)
    assert np.isnan(np.asarray(heatmap.z)[:, 3]).all()
    assert np.isnan(np.asarray(grey.z)[:, :3]).all() and (np.asarray(grey.z)[:, 3] == 0).all()
    assert heatmap.zmid == 0 and heatmap.zmin == -heatmap.zmax
    assert [stop[1] for stop in heatmap.colorscale] == [color for _, color in palette.SIGNED_SCALE]  # purple low end
    a, b = a_columns[0, 2], b_columns[0, 2]
    assert figure.layout.title.subtitle.text == (
        f"column 0 “&lt;b&gt;bob&lt;/b&gt;→mary”, unit 2: A {a:.3f}, B {b:.3f}, B − A {b - a:.3f}"
    )
    ticks = list(figure.layout.xaxis.ticktext)
    assert ticks[0] == "<b>&lt;b&gt;bob&lt;/b&gt;→mary</b>" and ticks[3] == "<i>+dan</i>"
    assert [annotation.text for annotation in figure.layout.annotations] == ["only in B"]
    assert "<b>subject gender · 2</b>" in figure.layout.yaxis.ticktext
    serialised = json.loads(figure.to_json())
    assert serialised["data"][1]["z"]["dtype"] == "f4"  # float32 payload
    # the hover names the column by its tick text (the typed tag shown, never live) and its number
    assert heatmap.hovertemplate.startswith("%{x} (column %{x:d})") and heatmap.text is None


def test_difference_heatmap_refuses_too_many_cells_and_unknown_signals():
    columns = np.zeros((2100, 128), dtype=np.float32)
    kinds = ["same"] * 2100
    with pytest.raises(ValueError, match="more than"):
        compare.difference_heatmap(columns, columns, ["x"] * 2100, kinds, np.arange(128), "cell")
    with pytest.raises(ValueError, match="signal must be one of"):
        compare.difference_heatmap(columns[:2], columns[:2], ["x"] * 2, kinds[:2], np.arange(3), "memory")


def test_side_heatmap_titles_the_side_and_shares_the_scale():
    values = np.linspace(-3, 3, 12, dtype=np.float32).reshape(4, 3)
    figure = compare.side_heatmap("A", values, ["a", "b", "c", "d"], np.arange(3), "cell", signed_limit=2.5)
    assert figure.layout.title.text.startswith("Text A · Cell state")
    assert figure.data[0].zmax == 2.5
    assert compare.shared_signed_limit(values[:2], values[2:]) == figures.signed_limit(values)
