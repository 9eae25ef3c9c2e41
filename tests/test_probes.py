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


def test_a_language_models_layer_reads_the_subjects_gender_that_its_input_does_not():
    from lstm_core.data import corpus
    from lstm_core.models.language_model import load_pretrained

    words = load_pretrained("words")
    rows = probes.language_model_probe_table(words, corpus.NAMES, None, fit_seed=5, score_seed=6)
    by_key = {(row["states"], row["property"]): row for row in rows}
    assert {prop for _, prop in by_key} == {"subject's gender", "inside a quotation", "position in the sentence"}
    gender_layer, gender_input = by_key[("layer 0 forward", "subject's gender")], by_key[("input", "subject's gender")]
    assert gender_layer["accuracy"] >= 0.95 > gender_input["accuracy"]
    assert gender_layer["baseline"] < 0.7  # both genders are common: the baseline is no free pass
    assert all(row["tokens"] > 1000 for row in rows)


@pytest.mark.parametrize("name", ["words", "chars", "story", "tagger", "tagger-forward"])
def test_every_shipped_model_carries_its_probes(name):
    from lstm_core import load_pretrained

    rows = load_pretrained(name).metrics["probes"]
    assert {row["states"] for row in rows} >= {"input", "layer 0 forward"}
    assert all(0 <= row["baseline"] <= 1 and 0 <= row["accuracy"] <= 1 for row in rows)
