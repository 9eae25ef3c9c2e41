"""Linear probes (`lstm_core.analysis.probes`) on states whose answer is known."""

import numpy as np
import pytest

from lstm_core.analysis import probes


def test_a_probe_reads_a_linear_property_and_not_noise():
    rng = np.random.default_rng(1)
    states = rng.normal(size=(1200, 8))
    three_way = np.digitize(states[:, 3] - states[:, 5], [-0.5, 0.5])  # 0, 1, 2
    probe = probes.fit_probe(states[:800], three_way[:800])
    assert probe.accuracy(states[800:], three_way[800:]) > 0.9
    noise = rng.integers(0, 2, size=1200)
    assert probes.fit_probe(states[:800], noise[:800]).accuracy(states[800:], noise[800:]) < 0.6
    with pytest.raises(ValueError, match="two distinct"):
        probes.fit_probe(states, np.zeros(1200))


def test_probe_rows_score_on_the_other_split_against_the_majority():
    rng = np.random.default_rng(2)
    fit_states, score_states = rng.normal(size=(600, 4)), rng.normal(size=(300, 4))
    fit_labels = {"sign": (fit_states[:, 0] > 1).astype(int)}
    score_labels = {"sign": (score_states[:, 0] > 1).astype(int)}
    (row,) = probes.probe_rows({"layer 1": fit_states}, fit_labels, {"layer 1": score_states}, score_labels)
    assert row.tokens == 300 and row.baseline == pytest.approx(np.mean(score_labels["sign"] == 0))
    assert row.accuracy > row.baseline


def test_quotation_and_position_labels():
    words = ["He", "said", "``", "go", "home", "''", "."]
    assert probes.quotation_labels(words).tolist() == [0, 0, 0, 1, 1, 0, 0]
    assert probes.quotation_labels(['"', "hi", '"', "he", "said"]).tolist() == [0, 1, 0, 0, 0]
    assert [probes.position_bucket(i) for i in (0, 1, 2, 3, 7, 15, 99)] == [0, 1, 1, 2, 3, 4, 4]
