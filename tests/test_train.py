"""Training: a tiny model learns in a few seconds, and its weights copy exactly into NumPy."""

import dataclasses

import numpy as np
import pytest
import torch

from lstm_core.training import language as train


def test_tiny_training_lowers_the_loss():
    losses = train.train_tiny(steps=60, seed=0)
    assert len(losses) == 60
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])


def test_torch_model_copies_into_numpy():
    torch.manual_seed(0)
    tokenizer = train.make_tokenizer("words")
    twin = train.TorchLanguageModel(len(tokenizer.vocab), 16, 16, 2)
    model = train.to_numpy_model(twin, "tiny", tokenizer)
    assert model.lstm.num_layers == 2 and model.decoder_weight.shape == (len(tokenizer.vocab), 16)
    text = "Bob is a nice person. She is evil."
    ids = torch.from_numpy(model.encode(text))[None]
    with torch.no_grad():
        expected = torch.softmax(twin(ids), dim=-1)[0].numpy()
    np.testing.assert_allclose(model.next_token_probs(model.trace(text)), expected, atol=2e-5)


def test_pronoun_positions_point_at_each_pronoun_in_characters_and_in_words():
    from lstm_core.data import corpus

    stories = corpus.switch_stories(20, seed=3) + corpus.generate_stories(5, seed=4)
    for story in stories:
        characters = train.pronoun_positions(story, "chars", max_length=10_000)
        words = train.pronoun_positions(story, "words", max_length=10_000)
        assert len(characters) == len(words) == sum(token in train.PRONOUNS for token in story.tokens)
        for position, index in zip(characters, words, strict=True):
            word = story.tokens[index]
            assert story.text[position : position + len(word)].lower() == word
        short = train.pronoun_positions(story, "chars", max_length=40)
        assert list(short) == [position for position in characters if position < 40]
    assert sum(len(train.pronoun_positions(story, "chars", 10_000)) for story in stories) > 20


def test_marked_targets_weigh_more_and_the_weight_one_loss_is_the_plain_mean():
    rows = [np.array([5, 6, 7, 8]), np.array([1, 2])]
    inputs, targets, weights = train._padded(rows, marks=[np.array([0, 2]), np.array([1])], mark_weight=9.0)
    # Target t is token t + 1: a mark at token 2 weighs target 1; a mark at token 0 has no target.
    np.testing.assert_array_equal(weights.numpy(), [[1, 9, 1], [9, 1, 1]])
    assert train._padded(rows)[2] is None
    np.testing.assert_array_equal(targets.numpy(), [[6, 7, 8], [2, -100, -100]])


def test_pronoun_weight_changes_the_character_training_loss():
    base = train.TrainConfig(kind="chars", embedding_size=8, hidden_size=8, num_layers=1, steps=3, batch_size=4,
                             learning_rate=1e-2, train_stories=40, max_length=80, seed=0, log_every=10**9)  # fmt: skip
    plain = train.train(base, log=lambda message: None)[2]
    same = train.train(base, log=lambda message: None)[2]
    weighted = train.train(dataclasses.replace(base, pronoun_weight=20.0), log=lambda message: None)[2]
    assert plain == same  # seeded: the difference below is the weight's
    assert weighted[0] != plain[0]


def test_chrono_initialisation_spreads_forget_biases_and_mirrors_the_input_gate():
    torch.manual_seed(0)
    plain = train.TorchLanguageModel(30, 8, 16, 2, tie_weights=False)
    chrono = train.TorchLanguageModel(30, 8, 16, 2, tie_weights=False, chrono_horizon=50)
    H = 16
    for layer in range(2):
        assert torch.all(getattr(plain.lstm, f"bias_ih_l{layer}")[H : 2 * H] == 1.0)
        bias_ih, bias_hh = getattr(chrono.lstm, f"bias_ih_l{layer}"), getattr(chrono.lstm, f"bias_hh_l{layer}")
        forget = bias_ih[H : 2 * H] + bias_hh[H : 2 * H]
        assert torch.all((forget >= 0) & (forget <= np.log(49) + 1e-6)) and forget.std() > 0.3
        torch.testing.assert_close(bias_ih[:H] + bias_hh[:H], -forget)


def test_recall_stories_end_by_naming_their_subject():
    from lstm_core.data import corpus

    stories = corpus.recall_stories(50, seed=11)
    assert stories == corpus.recall_stories(50, seed=11) and stories != corpus.recall_stories(50, seed=12)
    for story in stories:
        assert story.tokens[-1] == "." and story.tokens[-2] == story.subject_name[-1]
        assert "brave" in story.tokens or "remember" in story.tokens or "thanked" in story.tokens
    # The subject is not always the first person named: some stories put another person first.
    assert any(story.tokens[0] != story.subject_name[-1] for story in stories)


def test_the_learning_rate_warms_down_over_the_steps_or_the_time_limit_whichever_runs_out_first():
    assert train.warm_down(0, 100, 0.0, 0.0) == 1.0
    assert train.warm_down(50, 100, 10_000.0, 0.0) == 0.55  # no time limit: the steps alone
    assert train.warm_down(100, 100, 0.0, 0.0) == pytest.approx(0.1)
    assert train.warm_down(10, 100, 30.0, 1.0) == 0.55  # half the minute gone, a tenth of the steps
    assert train.warm_down(80, 100, 6.0, 1.0) == 1.0 - 0.9 * 0.8  # the steps run out first
    assert train.warm_down(10, 100, 120.0, 1.0) == pytest.approx(0.1)  # past the limit: the lowest rate, not below
