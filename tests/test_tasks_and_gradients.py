"""Long-lag tasks, gradient profiles (against torch autograd), task models and their training; the
pronoun-after-a-gap prompts, forget-gate marks, and the shipped long-lag pair and story-world RNN."""

from dataclasses import asdict

import numpy as np
import pytest
import torch

from lstm_core import LSTM, RNN
from lstm_core.analysis.gradient_comparison import (
    compare_on_task,
    gap_accuracy,
    memory_units,
    pronoun_cue_distances,
    task_accuracy,
)
from lstm_core.analysis.gradients import GradientProfile, forget_marks, gradient_profile
from lstm_core.config import TaskTrainConfig
from lstm_core.data import corpus
from lstm_core.data.tasks import (
    QUOTE_CLAUSES,
    adding_problem,
    chance_level,
    make_batch,
    pronoun_after_gap,
    remember_first,
)
from lstm_core.models.task_model import TaskModel, load_task_model
from lstm_core.models.text_rnn import TextRNN, load_text_rnn
from lstm_core.models.tokenize import WordTokenizer
from lstm_core.training.language import CONFIGS, TrainConfig
from lstm_core.training.tasks import TorchTaskModel, train_task_model
from lstm_core.training.text_rnn import TorchTextRNN, to_text_rnn, train_text_rnn


def test_remember_first_puts_the_answer_only_at_the_start():
    batch = remember_first(32, lag=7, rng=np.random.default_rng(0))
    assert batch.inputs.shape == (32, 8, 8) and batch.targets.shape == (32,)
    np.testing.assert_array_equal(batch.inputs.sum(axis=2), 1.0)  # one-hot at every step
    np.testing.assert_array_equal(batch.inputs[:, 0, :4].argmax(axis=1), batch.targets)
    assert not batch.inputs[:, 1:, :4].any()  # distractors use their own symbols
    assert set(np.unique(batch.targets)) <= {0, 1, 2, 3} and len(np.unique(batch.targets)) > 1


def test_adding_problem_target_is_the_sum_of_the_two_marked_values():
    batch = adding_problem(50, lag=29, rng=np.random.default_rng(1))
    values, markers = batch.inputs[..., 0], batch.inputs[..., 1]
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)
    np.testing.assert_allclose(batch.targets, (values * markers).sum(axis=1), rtol=1e-6)
    assert (markers[:, :3].sum(axis=1) == 1).all()  # one marker in the first tenth


def test_tasks_refuse_bad_sizes():
    with pytest.raises(ValueError, match="lag must be"):
        remember_first(4, lag=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="batch_size"):
        adding_problem(0, lag=5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown task"):
        make_batch("sorting", 4, 5, np.random.default_rng(0))
    assert chance_level("remember_first") == 0.25


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_gradient_profile_matches_torch_autograd(cell):
    torch.manual_seed(0)
    module = torch.nn.LSTM(3, 6, num_layers=2) if cell == "lstm" else torch.nn.RNN(3, 6, num_layers=2)
    x = torch.randn(12, 3, requires_grad=True)
    readout = torch.randn(6)
    output, _ = module(x)
    (output[-1] @ readout).backward()
    model = LSTM.from_torch(module) if cell == "lstm" else RNN.from_torch(module)
    profile = gradient_profile(model, x.detach().numpy(), readout.numpy())
    np.testing.assert_allclose(profile.input_norms, x.grad.norm(dim=1).numpy(), rtol=1e-4, atol=1e-7)
    distance, norms = profile.by_distance()
    assert distance[0] == 0 and norms[0] == profile.input_norms[-1]
    assert (profile.cell_norms is None) == (cell == "rnn")


def test_rnn_gradient_vanishes_where_an_open_forget_gate_keeps_it():
    x = np.random.default_rng(0).normal(size=(60, 4))
    rnn = gradient_profile(RNN.random(4, 16, seed=0, scale=0.2), x)
    params = LSTM.random(4, 16, seed=0, scale=0.2).state_dict()
    params["bias_ih_l0"][16:32] = 6.0  # forget gate ≈ 0.998
    lstm = gradient_profile(LSTM.from_state_dict(params), x)
    assert rnn.decay_per_step() < 0.8 < 0.95 < lstm.decay_per_step()
    assert rnn.input_norms[0] / rnn.input_norms[-1] < 1e-6 < 1e-2 < lstm.input_norms[0] / lstm.input_norms[-1]


@pytest.mark.parametrize("kind", ["lstm", "rnn"])
def test_task_model_equals_torch_and_survives_a_checkpoint(tmp_path, kind):
    torch.manual_seed(1)
    module = TorchTaskModel(kind, features=8, hidden_size=5, outputs=4)
    batch = remember_first(3, lag=6, rng=np.random.default_rng(2))
    with torch.no_grad():
        expected = module(torch.from_numpy(batch.inputs)).numpy()
    cell_type = LSTM if kind == "lstm" else RNN
    model = TaskModel(cell_type.from_torch(module.cell), module.readout.weight.detach().numpy(),
                      module.readout.bias.detach().numpy(), "remember_first", lag=6)  # fmt: skip
    for i in range(3):
        np.testing.assert_allclose(model.predict(batch.inputs[i]), expected[i], atol=2e-5)
    model.save(tmp_path / "m.safetensors")
    again = TaskModel.load(tmp_path / "m.safetensors")
    assert again.kind == kind and again.lag == 6
    np.testing.assert_array_equal(again.predict(batch.inputs[0]), model.predict(batch.inputs[0]))

    x = torch.from_numpy(batch.inputs[:1]).requires_grad_(True)
    torch.nn.functional.cross_entropy(module(x), torch.from_numpy(batch.targets[:1])).backward()
    profile = model.loss_gradient(batch.inputs[0], batch.targets[0])
    np.testing.assert_allclose(profile.input_norms, x.grad[0].norm(dim=1).numpy(), rtol=1e-4, atol=1e-8)


def test_a_short_training_run_improves_the_loss_and_can_be_stopped():
    config = TaskTrainConfig(task="remember_first", lag=3, hidden_size=8, steps=120, learning_rate=0.02, seed=0)
    model, history = train_task_model("lstm", config, evaluate_every=5)
    assert history[0].loss > 1.0  # near log(4) ≈ 1.39: guessing
    assert history[-1].loss < 0.3
    assert history[-1].score > 0.9  # a 3-step lag is easy
    batch = remember_first(64, lag=3, rng=np.random.default_rng(99))
    predictions = np.array([model.predict(x).argmax() for x in batch.inputs])
    assert (predictions == batch.targets).mean() > 0.9  # the NumPy copy works as well as torch's

    calls = []
    _, stopped = train_task_model("rnn", config, should_stop=lambda: len(calls.append(1) or calls) >= 10)
    assert stopped[-1].step == 10


def test_training_config_is_bounded():
    with pytest.raises(ValueError, match="hidden_size must be between"):
        TaskTrainConfig(hidden_size=100_000)
    with pytest.raises(ValueError, match="steps must be between"):
        TaskTrainConfig(steps=10**9)
    with pytest.raises(ValueError, match="unknown task"):
        TaskTrainConfig(task="chess")


# ------------------------------------------------------------------ a long gap in words
def test_pronoun_after_gap_names_the_subject_then_quotes_it_without_gender():
    assert pronoun_after_gap(5, 3, seed=1) == pronoun_after_gap(5, 3, seed=1)
    assert pronoun_after_gap(5, 3, seed=1) != pronoun_after_gap(5, 3, seed=2)
    gendered = {"he", "she", "his", "her", "him"}
    vocabulary = set(corpus.vocabulary())
    for clause in QUOTE_CLAUSES:
        assert not set(clause.split()) & gendered and set(clause.split()) <= vocabulary
    for clauses in (1, 8):
        for prompt in pronoun_after_gap(40, clauses, seed=0):
            words = WordTokenizer.words(prompt.text)
            subject = words[words.index("said") - 1]
            assert prompt.pronoun == ("he" if corpus.gender_of(subject) == "male" else "she") != prompt.other
            assert prompt.gap == len(words) - max(t for t, word in enumerate(words) if word == subject)
            assert not set(words[words.index("said") :]) & gendered  # nothing after the name tells the gender
            assert words[-2:] == ["later", ","] and words.count(",") >= clauses + 1
    longer = np.mean([prompt.gap for prompt in pronoun_after_gap(50, 16, seed=0)])
    assert longer > 2 * np.mean([prompt.gap for prompt in pronoun_after_gap(50, 4, seed=0)])
    with pytest.raises(ValueError, match="clauses"):
        pronoun_after_gap(3, 0, seed=0)
    with pytest.raises(ValueError, match="count"):
        pronoun_after_gap(0, 2, seed=0)


# ------------------------------------------------------------------ where the forget gate closes
def test_forget_marks_are_the_steps_where_the_chosen_gate_is_below_the_threshold():
    forget = np.array([[0.9, 0.2], [0.1, 0.8], [0.95, 0.99], [0.45, 0.6], [0.6, 0.3]])
    profile = GradientProfile(np.ones(5), np.ones(5), np.ones(5), forget_gates=forget)
    np.testing.assert_array_equal(forget_marks(profile, units=[0]).steps, [1, 3])
    np.testing.assert_array_equal(forget_marks(profile, units=[1]).steps, [0, 4])
    mean = forget_marks(profile)  # all units: the mean gate
    np.testing.assert_allclose(mean.values, forget.mean(axis=1))
    np.testing.assert_array_equal(mean.steps, [1, 4])
    np.testing.assert_array_equal(forget_marks(profile, units=[0], threshold=0.95).steps, [0, 1, 3, 4])
    assert forget_marks(profile, units=[0]).kept_along_cell(1) == pytest.approx(0.95 * 0.45 * 0.6)
    with pytest.raises(ValueError, match="no forget gate"):
        forget_marks(GradientProfile(np.ones(5), np.ones(5), None))
    with pytest.raises(ValueError, match="units must be"):
        forget_marks(profile, units=[2])


# ------------------------------------------------------------------ the shipped long-lag pair
@pytest.fixture(scope="module")
def shipped_long_lag():
    return {kind: load_task_model(kind) for kind in ("rnn", "lstm")}


@pytest.mark.parametrize("lag", [30, 60, 100])
def test_the_trained_rnns_gradient_reaches_back_less_far_than_the_trained_lstms(shipped_long_lag, lag):
    """At the first symbol, `lag` steps back, the trained RNN keeps under a hundredth of the share of its
    gradient that the trained LSTM keeps, for the input and for the memory (c, or the RNN's h)."""
    for seed in range(3):
        comparison = compare_on_task(shipped_long_lag, lag=lag, seed=seed)
        for measure in ("input", "cell"):
            rnn, lstm = (
                comparison.profiles[(kind, True)].relative_by_distance(measure)[lag] for kind in ("rnn", "lstm")
            )
            assert rnn < 1e-2 * lstm, (measure, seed, rnn, lstm)


def test_the_long_lag_models_stored_accuracy_matches_a_recomputation(shipped_long_lag):
    """On the trainer's own held-out sequences exactly; on a fresh sample within 4 standard errors."""
    for model in shipped_long_lag.values():
        stored = model.metrics["validation_score"]
        config = model.metrics["config"]
        assert task_accuracy(model, 512, seed=config["seed"] + 10_000) == pytest.approx(stored, abs=1 / 512)
        fresh = task_accuracy(model, 2048, seed=31_337)
        error = np.sqrt(0.25 * 0.75 / 512 + 0.25 * 0.75 / 2048)  # the largest error a share this size can have
        assert abs(fresh - stored) < 4 * error
    assert (
        shipped_long_lag["rnn"].metrics["validation_score"]
        < 0.35
        < 0.99
        < shipped_long_lag["lstm"].metrics["validation_score"]
    )


def test_memory_units_are_the_lstm_units_that_hold_the_symbol_with_an_open_forget_gate(shipped_long_lag):
    units, forget = memory_units(shipped_long_lag["lstm"])
    assert len(set(units.tolist())) == 4 and (forget > 0.95).all()
    with pytest.raises(ValueError, match="LSTM"):
        memory_units(shipped_long_lag["rnn"])


# ------------------------------------------------------------------ the story-world RNN
def test_the_story_world_rnn_equals_torch_and_survives_a_checkpoint(tmp_path):
    torch.manual_seed(0)
    tokenizer = WordTokenizer(["<unk>", "bob", "is", "nice", "."])
    module = TorchTextRNN(len(tokenizer.vocab), 6)
    model = to_text_rnn(module, tokenizer)
    texts = ["Bob is nice.", "bob is bob is nice nice .", "nice"]
    for text in texts:
        with torch.no_grad():
            expected = torch.softmax(module(torch.tensor([tokenizer.encode(text)])), dim=-1)[0].numpy()
        np.testing.assert_allclose(model.next_token_probs(text), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.last_token_probs(texts),
                               [model.next_token_probs(text)[-1] for text in texts], rtol=1e-5)  # fmt: skip
    model.metrics["note"] = "kept"
    model.save(tmp_path / "m.safetensors", storage_dtype=np.float32)
    again = TextRNN.load(tmp_path / "m.safetensors")
    assert again.vocab == tokenizer.vocab and again.metrics == {"note": "kept"}
    np.testing.assert_array_equal(again.next_token_probs(texts[1]), model.next_token_probs(texts[1]))
    model.save(tmp_path / "half.safetensors")  # half precision, as shipped
    np.testing.assert_allclose(TextRNN.load(tmp_path / "half.safetensors").next_token_probs(texts[1]),
                               model.next_token_probs(texts[1]), atol=2e-3)  # fmt: skip
    TaskModel(RNN.random(8, 4, seed=0), np.zeros((4, 4)), np.zeros(4), "remember_first", lag=3).save(
        tmp_path / "t.safetensors"
    )
    with pytest.raises(ValueError, match="expected 'text_rnn'"):
        TextRNN.load(tmp_path / "t.safetensors")


def test_a_tiny_story_world_rnn_training_run_lowers_the_loss():
    config = TrainConfig(**(asdict(CONFIGS["words"]) | {"steps": 40, "train_stories": 300, "log_every": 10}))
    logged = []
    model, _ = train_text_rnn(config, log=logged.append)
    losses = [float(line.split("loss")[1].split()[0]) for line in logged]
    assert losses[-1] < losses[0] and model.metrics["config"]["steps"] == 40
    assert model.cell.hidden_size == CONFIGS["words"].hidden_size and len(model.vocab) > 300


@pytest.fixture(scope="module")
def story_world_rnn():
    return load_text_rnn()


def test_the_story_world_rnns_stored_accuracy_matches_a_recomputation(story_world_rnn):
    """The card's and the page's numbers: exactly on the stored prompts, and within 4 standard errors
    on fresh ones."""
    stored = story_world_rnn.metrics["gap_accuracy"]
    assert gap_accuracy(story_world_rnn) == stored
    fresh = gap_accuracy(story_world_rnn, count=400, seed=424_242)
    for old, new in zip(stored, fresh, strict=True):
        assert old["clauses"] == new["clauses"]
        share = min(max(old["accuracy"], 0.05), 0.95)
        error = np.sqrt(share * (1 - share) * (1 / old["count"] + 1 / new["count"]))
        assert abs(old["accuracy"] - new["accuracy"]) < 4 * error, (old, new)


def test_pronoun_cue_distances_count_back_to_the_last_word_that_gave_the_gender():
    story = corpus.Story(
        tokens="bob is nice . he likes tea . mary said : \" we will win \" . she".split(),
        text="", token_spans=[], subject_gender=[], subject_name=[], in_quotation=[], position_in_sentence=[],
    )  # fmt: skip
    np.testing.assert_array_equal(pronoun_cue_distances([story]), [4, 9])  # he after bob; she after mary
    assert pronoun_cue_distances(corpus.generate_stories(50, seed=7)).max() < 40
