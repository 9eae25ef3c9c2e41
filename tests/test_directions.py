"""Reading both ways: the taggers side by side and the backward unit that carries a later word back."""

import numpy as np
import pytest

from lstm_core.analysis import directions
from lstm_core.models.tagger import load_tagger
from ui import tagger_lessons


@pytest.fixture(scope="module")
def taggers():
    return load_tagger("tagger"), load_tagger("tagger-forward")


def test_tag_rows_set_both_taggers_side_by_side(taggers):
    both, forward = taggers
    words = "a can of fish .".split()
    rows = directions.tag_rows(both, forward, words)
    assert [row.word for row in rows] == words
    assert [row.tag_both for row in rows] == both.tag(words) and [row.tag_forward for row in rows] == forward.tag(words)
    probabilities = both.tag_probs(both.trace_words(words))
    assert rows[1].p_both == pytest.approx(float(probabilities[1].max()))
    table = tagger_lessons.comparison_table(rows)
    assert table[1]["both ways"].startswith(rows[1].tag_both) and len(table) == len(words)
    assert ("≠" in table[1][""]) == rows[1].disagree


def test_the_carrier_unit_differs_most_at_the_ambiguous_word_and_its_path_reads_backwards(taggers):
    both, _ = taggers
    first, second = ("I can fish .".split(), 1), ("a can of fish .".split(), 1)
    unit, difference = directions.carrier_unit(both, first, second)
    cells = [both.trace_words(words).cell[0, 1, index] for words, index in (first, second)]
    assert np.argmax(np.abs(cells[0] - cells[1])) == unit
    assert difference == pytest.approx(float(cells[1][unit] - cells[0][unit]))  # from the first sentence to the second
    words, t = second
    trace = both.trace_words(words)
    path = directions.carried_path(trace, unit, t)
    assert path.positions == (4, 3, 2, 1)  # the last word first, back to "can"
    assert path.cell[-1] == pytest.approx(float(trace.cell[0, 1, t, unit]))
    assert path.written_at in path.positions[:-1]
    written = path.positions.index(path.written_at)
    assert path.kept == pytest.approx(float(np.prod(path.forget[written + 1 :])))
    sentence = tagger_lessons.carried_sentence(words, path, unit)
    assert f"unit {unit}" in sentence and f"“{words[path.written_at]}”" in sentence
    figure = tagger_lessons.carried_figure(words, path, unit)
    assert list(figure.data[0].y) == pytest.approx(path.input.round(3).tolist())


def test_a_forward_only_tagger_has_no_backward_unit(taggers):
    _, forward = taggers
    with pytest.raises(ValueError, match="bidirectional"):
        directions.carrier_unit(forward, (["I", "can"], 1), (["a", "can"], 1))


def test_probe_figure_and_sentences_follow_the_rows():
    rows = [
        {"states": "input", "property": "part of speech", "accuracy": 0.9, "baseline": 0.25, "tokens": 100},
        {"states": "layer 1 both", "property": "part of speech", "accuracy": 0.97, "baseline": 0.25, "tokens": 100},
        {"states": "layer 0 forward", "property": "part of speech", "accuracy": 0.95, "baseline": 0.25, "tokens": 100},
    ]
    figure = tagger_lessons.probe_figure(rows)
    assert [trace.name for trace in figure.data[:3]] == ["word vectors (no LSTM)", "layer 0 forward", "layer 1 both"]
    (sentence,) = tagger_lessons.probe_sentences(rows)
    assert (
        "layer 1 both (97.0% right" in sentence and "25.0%" in sentence and "alone, before any LSTM, 90.0%" in sentence
    )


def test_second_layer_bars_keep_their_colour_under_the_hatching():
    rows = [{"states": name, "property": "part of speech", "accuracy": 0.9, "baseline": 0.2, "tokens": 10}
            for name in ("layer 0 forward", "layer 1 forward")]  # fmt: skip
    first, second = tagger_lessons.probe_figure(rows).data[:2]
    assert first.marker.color == second.marker.color and first.marker.pattern.shape in (None, "")
    assert second.marker.pattern.shape == "/" and second.marker.pattern.fillmode == "overlay"
