"""Long-lag tasks, gradient profiles (against torch autograd), task models and their training."""

import numpy as np
import pytest
import torch

from lstm_core import LSTM, RNN
from lstm_core.analysis.gradients import gradient_profile
from lstm_core.config import TaskTrainConfig
from lstm_core.data.tasks import adding_problem, chance_level, make_batch, remember_first
from lstm_core.models.task_model import TaskModel
from lstm_core.training.tasks import TorchTaskModel, train_task_model


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
