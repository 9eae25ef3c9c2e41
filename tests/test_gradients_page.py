"""/gradients: the numbers it shows, held against torch autograd, and the page itself with AppTest
(the default run, each source, query parameters, bad input).

The teaching claims of the page's text are checked on the shipped long-lag weights in assets/longlag/.
The page tests point the page at stand-ins whose scores are known, so that its sentences can be
checked word for word, or at an empty folder, for the message a missing model gets.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

import lstm_core.analysis.gradient_comparison
import lstm_core.config
import lstm_core.models.task_model
from lstm_core import LSTM, RNN
from lstm_core.analysis.gradient_comparison import compare_on_task, compare_on_text, memory_units
from lstm_core.analysis.gradients import as_float64, cross_entropy_gradient, untrained_like
from lstm_core.config import LONGLAG_HIDDEN_SIZE
from lstm_core.data.tasks import PRONOUN_EXAMPLE, make_batch, remember_first
from lstm_core.models.language_model import load_pretrained
from lstm_core.models.task_model import TaskModel, load_task_model
from lstm_core.models.text_rnn import TEXT_RNN_FILE, TextRNN, load_text_rnn
from lstm_core.models.tokenize import CharTokenizer
from tests.pages import chart_specs, open_page
from tests.torch_reference import lstm_reference, rnn_reference
from ui import model_store

GRADIENTS = "views/gradients.py"
RTOL = 1e-5


# ------------------------------------------------------------------------ torch autograd
def torch_profile(cell: LSTM | RNN, inputs, readout_weight, readout_bias, target, loss: str = "cross_entropy"):
    """||dL/dx_t||, ||dL/dh_t|| and ||dL/dc_t|| (top layer, forward direction) by torch autograd, in
    float64, for the loss of a linear readout of the last output."""
    module_type = torch.nn.LSTM if isinstance(cell, LSTM) else torch.nn.RNN
    module = module_type(cell.input_size, cell.hidden_size, num_layers=cell.num_layers,
                         bidirectional=cell.num_directions == 2, dtype=torch.float64)  # fmt: skip
    module.load_state_dict(
        {name: torch.from_numpy(np.asarray(value, np.float64)) for name, value in cell.state_dict().items()}
    )
    x = torch.tensor(np.asarray(inputs, np.float64), requires_grad=True)
    if isinstance(cell, LSTM):
        output, _, _, _, cells, hiddens = lstm_reference(module, x)
    else:
        (output, hiddens), cells = rnn_reference(module, x), None
    scores = torch.from_numpy(np.asarray(readout_weight, np.float64)) @ output[-1]
    scores = scores + torch.from_numpy(np.asarray(readout_bias, np.float64))
    if loss == "cross_entropy":
        value = torch.nn.functional.cross_entropy(scores[None], torch.tensor([int(target)]))
    else:
        value = (scores[0] - float(target)) ** 2
    value.backward()
    top = (cell.num_layers - 1, 0)
    grad_norms = lambda states: np.array([state.grad.norm().item() for state in states[top]])  # noqa: E731
    return x.grad.norm(dim=1).numpy(), grad_norms(hiddens), None if cells is None else grad_norms(cells)


def assert_profile_equals_torch(profile, expected) -> None:
    inputs, hidden, cell = expected
    np.testing.assert_allclose(profile.input_norms, inputs, rtol=RTOL)
    np.testing.assert_allclose(profile.hidden_norms, hidden, rtol=RTOL)
    if cell is None:
        assert profile.cell_norms is None
    else:
        np.testing.assert_allclose(profile.cell_norms, cell, rtol=RTOL)


def float64_task_model(model: TaskModel) -> TaskModel:
    return TaskModel(as_float64(model.cell), model.readout_weight.astype(np.float64),
                     model.readout_bias.astype(np.float64), model.task, model.lag, model.metrics)  # fmt: skip


def random_task_model(kind: str, features: int, hidden: int, outputs: int, seed: int, task="remember_first"):
    cell = (LSTM if kind == "lstm" else RNN).random(features, hidden, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 100)
    return TaskModel(cell, rng.normal(size=(outputs, hidden)), rng.normal(size=outputs), task, lag=10)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
@pytest.mark.parametrize(("hidden", "lag", "seed"), [(5, 12, 0), (16, 40, 1), (32, 90, 2)])
def test_loss_gradient_of_every_state_equals_torch_autograd(kind, hidden, lag, seed):
    """Input, hidden and cell gradient norms at every step, float64, cross-entropy at the last step;
    long enough for the RNN's gradient to fall many orders of magnitude (still exact relative)."""
    model = random_task_model(kind, 8, hidden, 4, seed)
    batch = remember_first(1, lag, np.random.default_rng(seed))
    profile = model.loss_gradient(batch.inputs[0].astype(np.float64), batch.targets[0])
    expected = torch_profile(model.cell, batch.inputs[0], model.readout_weight, model.readout_bias, batch.targets[0])
    assert_profile_equals_torch(profile, expected)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_squared_error_loss_gradient_equals_torch_autograd(kind):
    model = random_task_model(kind, 2, 7, 1, seed=3, task="adding_problem")
    batch = make_batch("adding_problem", 1, 30, np.random.default_rng(3))
    profile = model.loss_gradient(batch.inputs[0].astype(np.float64), batch.targets[0])
    expected = torch_profile(model.cell, batch.inputs[0], model.readout_weight, model.readout_bias,
                             batch.targets[0], loss="squared_error")  # fmt: skip
    assert_profile_equals_torch(profile, expected)


@pytest.mark.parametrize(
    ("kind", "layers", "bidirectional", "seed"),
    [("lstm", 1, False, 0), ("lstm", 2, True, 1), ("rnn", 1, False, 2), ("rnn", 2, True, 3)],
)
def test_cross_entropy_gradient_equals_torch_autograd(kind, layers, bidirectional, seed):
    """A readout of the whole last output (both directions), as the story-world word model's decoder reads it."""
    cell = (LSTM if kind == "lstm" else RNN).random(6, 9, num_layers=layers, bidirectional=bidirectional,
                                                     seed=seed, dtype=np.float64)  # fmt: skip
    rng = np.random.default_rng(seed)
    inputs, weight, bias = rng.normal(size=(25, 6)), rng.normal(size=(11, 9 * cell.num_directions)), rng.normal(size=11)
    profile = cross_entropy_gradient(cell, inputs, weight, bias, target=4)
    expected = torch_profile(cell, inputs, weight, bias, 4)
    np.testing.assert_allclose(profile.input_norms, expected[0], rtol=RTOL)
    if not bidirectional:  # the top layer's forward states get their gradient only through h_T then
        assert_profile_equals_torch(profile, expected)


def test_the_text_comparison_equals_torch_autograd():
    """The trained LSTM of /gradients' text source: the story-world word model's LSTM under its own next-word loss."""
    model = load_pretrained("story")
    text = "Bob is a nice person. Dan, on the other hand, is evil."
    comparison = compare_on_text(model, text, seed=0)
    ids = model.encode(text)
    embedded = model.input_vectors(text)[: len(ids) - 1]
    assert comparison.step_labels == tuple(model.tokens(text)[:-1]) and comparison.target == "."
    cells = {
        ("lstm", True): model.lstm,
        ("lstm", False): untrained_like(model.lstm, 0),
        ("rnn", False): untrained_like(model.lstm, 0, kind="rnn"),
    }
    assert list(comparison.profiles) == [("rnn", False), ("lstm", False), ("lstm", True)]
    for key, cell in cells.items():
        expected = torch_profile(cell, embedded, model.decoder_weight, model.decoder_bias, ids[-1])
        assert_profile_equals_torch(comparison.profiles[key], expected)
    probabilities = model.next_token_probs(model.lstm.run(embedded))[-1]
    assert comparison.target_probabilities[("lstm", True)] == pytest.approx(probabilities[ids[-1]], rel=1e-4)


def test_the_story_world_rnn_on_text_equals_torch_autograd():
    """The trained RNN of /gradients' text source: its own embeddings, cell and decoder, its own loss."""
    model, rnn = load_pretrained("story"), load_text_rnn()
    comparison = compare_on_text(model, PRONOUN_EXAMPLE, seed=0, rnn=rnn)
    assert list(comparison.profiles) == [("rnn", False), ("rnn", True), ("lstm", False), ("lstm", True)]
    ids = np.asarray(rnn.tokenizer.encode(PRONOUN_EXAMPLE))
    expected = torch_profile(rnn.cell, rnn.embedding[ids[:-1]], rnn.embedding, rnn.decoder_bias, ids[-1])
    assert_profile_equals_torch(comparison.profiles[("rnn", True)], expected)
    assert comparison.target == "she" and comparison.step_labels[-1] == ","
    assert comparison.target_probabilities[("rnn", True)] == pytest.approx(
        rnn.next_token_probs(PRONOUN_EXAMPLE)[-2, ids[-1]], rel=1e-4
    )


def test_on_the_pronoun_example_the_rnns_gradient_reaching_the_name_is_far_smaller_than_the_lstms():
    """The page's text lesson, on the shipped weights: both trained cells expect "she", yet from the loss at
    "she" the RNN's gradient reaches "mary" (40 words back) at under a tenth of the share the LSTM's does."""
    comparison = compare_on_text(load_pretrained("story"), PRONOUN_EXAMPLE, rnn=load_text_rnn())
    name = comparison.length - 1 - comparison.step_labels[::-1].index("mary")
    back = comparison.length - 1 - name
    rnn, lstm = (comparison.profiles[(kind, True)].relative_by_distance("input")[back] for kind in ("rnn", "lstm"))
    assert rnn < 0.1 * lstm
    assert min(comparison.target_probabilities[(kind, True)] for kind in ("rnn", "lstm")) > 0.5


def test_the_long_lag_comparison_equals_torch_autograd():
    trained = {kind: random_task_model(kind, 8, 12, 4, seed) for seed, kind in enumerate(("rnn", "lstm"))}
    comparison = compare_on_task(trained, lag=70, seed=5)
    batch = remember_first(1, 70, np.random.default_rng(5))
    assert list(comparison.profiles) == [("rnn", False), ("rnn", True), ("lstm", False), ("lstm", True)]
    assert comparison.step_labels[0] == comparison.target == "ABCD"[batch.targets[0]]
    assert set(comparison.step_labels[1:]) <= set("wxyz") and comparison.length == 71
    for kind, model in trained.items():
        expected = torch_profile(
            model.cell, batch.inputs[0], model.readout_weight, model.readout_bias, batch.targets[0]
        )
        assert_profile_equals_torch(comparison.profiles[(kind, True)], expected)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_shipped_long_lag_models_loss_gradient_equals_torch_autograd(kind):
    model = float64_task_model(load_task_model(kind))
    noise = model.metrics.get("config", {}).get("noise", 0.0)
    for lag, seed in ((40, 0), (150, 1)):
        batch = make_batch(model.task, 1, lag, np.random.default_rng(seed), noise=noise)
        profile = model.loss_gradient(batch.inputs[0].astype(np.float64), batch.targets[0])
        expected = torch_profile(
            model.cell, batch.inputs[0], model.readout_weight, model.readout_bias, batch.targets[0]
        )
        assert_profile_equals_torch(profile, expected)


def test_the_pages_teaching_claims_hold_on_the_shipped_models():
    """What the page's fixed text says, on the shipped weights: training helps the RNN little (its
    gradient still shrinks at every step, it answers at chance); the trained LSTM's forget gate sits near
    1 and, past the last few steps, carries the gradient back without shrinking; an untrained LSTM's
    forget gate sits near 0.5 and its gradient dies nearly as fast as the RNN's."""
    trained = {kind: load_task_model(kind) for kind in ("rnn", "lstm")}
    assert trained["rnn"].metrics["validation_score"] < 0.4 < 0.9 < trained["lstm"].metrics["validation_score"]
    for seed in range(3):
        comparison = compare_on_task(trained, lag=60, seed=seed)
        relative = {key: profile.relative_by_distance("cell") for key, profile in comparison.profiles.items()}
        per_step = {key: (values[-1] / values[10]) ** (1 / 50) for key, values in relative.items()}  # 10 back to 60
        assert relative[("rnn", True)][-1] < 1e-4 and relative[("rnn", False)][-1] < 1e-10
        assert relative[("lstm", True)][-1] > 1e-3 > 1e-8 > relative[("lstm", False)][-1]
        assert per_step[("rnn", True)] < 0.9 and per_step[("rnn", False)] < 0.7 and per_step[("lstm", False)] < 0.8
        assert per_step[("lstm", True)] > 0.97  # levels off: carried back whole
        assert comparison.profiles[("lstm", True)].forget_gates.mean() > 0.9
        assert 0.4 < comparison.profiles[("lstm", False)].forget_gates.mean() < 0.6
        assert comparison.target_probabilities[("lstm", True)] > 0.9
        assert comparison.target_probabilities[("rnn", True)] < 0.5


def test_the_long_lag_sequence_has_the_noise_the_models_were_trained_with():
    trained = {kind: random_task_model(kind, 8, 6, 4, seed) for seed, kind in enumerate(("rnn", "lstm"))}
    for model in trained.values():
        model.metrics["config"] = {"noise": 0.3}
    noisy = compare_on_task(trained, lag=40, seed=2)
    clean = compare_on_task(trained, lag=40, seed=2, noise=0.0)
    assert (noisy.noise, clean.noise) == (0.3, 0.0)
    assert noisy.step_labels == clean.step_labels and noisy.target == clean.target  # the same symbols
    batch = make_batch("remember_first", 1, 40, np.random.default_rng(2), noise=0.3)
    model = trained["lstm"]
    expected = torch_profile(model.cell, batch.inputs[0], model.readout_weight, model.readout_bias, batch.targets[0])
    assert_profile_equals_torch(noisy.profiles[("lstm", True)], expected)
    assert not np.allclose(noisy.profiles[("lstm", True)].input_norms, clean.profiles[("lstm", True)].input_norms)


def test_untrained_cells_have_pytorch_init_the_given_sizes_and_float64():
    lstm = LSTM.random(7, 10, num_layers=2, seed=0)
    for kind, cell_type in (("lstm", LSTM), ("rnn", RNN), (None, LSTM)):
        cell = untrained_like(lstm, seed=4, kind=kind)
        assert isinstance(cell, cell_type) and cell.dtype == np.float64
        assert (cell.input_size, cell.hidden_size, cell.num_layers) == (7, 10, 2)
        weights = np.concatenate([value.ravel() for value in cell.state_dict().values()])
        assert np.abs(weights).max() <= 1 / np.sqrt(10) and weights.std() > 0.1
    again = untrained_like(lstm, seed=4)
    np.testing.assert_array_equal(again.weight("weight_hh"), untrained_like(lstm, seed=4).weight("weight_hh"))
    assert not np.array_equal(again.weight("weight_hh"), untrained_like(lstm, seed=5).weight("weight_hh"))
    with pytest.raises(ValueError, match="kind"):
        untrained_like(lstm, kind="gru")
    assert as_float64(lstm).dtype == np.float64
    np.testing.assert_allclose(as_float64(lstm).weight("weight_ih"), lstm.weight("weight_ih"))


def test_the_default_long_lag_size_is_the_shipped_configuration():
    from lstm_core.config import SHIPPED

    assert LONGLAG_HIDDEN_SIZE == SHIPPED.hidden_size
    comparison = compare_on_task({}, lag=10, seed=0)
    assert list(comparison.profiles) == [("rnn", False), ("lstm", False)]
    assert comparison.profiles[("lstm", False)].forget_gates.shape == (11, LONGLAG_HIDDEN_SIZE)


def test_comparisons_refuse_bad_arguments():
    model = load_pretrained("story")
    with pytest.raises(ValueError, match="at least two tokens"):
        compare_on_text(model, "bob", seed=0)
    with pytest.raises(ValueError, match="lag must be"):
        compare_on_task({}, lag=100_000, seed=0)
    with pytest.raises(ValueError, match="keyed 'lstm' or 'rnn'"):
        compare_on_task({"gru": random_task_model("rnn", 8, 4, 4, 0)}, lag=5, seed=0)
    # An RNN that reads characters reads another number of tokens than the story-world word model.
    characters = CharTokenizer()
    size = len(characters.vocab)
    odd = TextRNN(characters, np.zeros((size, 3)), RNN.random(3, 3, seed=0), np.zeros(size))
    with pytest.raises(ValueError, match="the RNN reads 9 tokens of this text, the language model 3"):
        compare_on_text(model, "bob nice.", seed=0, rnn=odd)


# ----------------------------------------------------------------------------- the page
@pytest.fixture
def longlag_dir(tmp_path, monkeypatch):
    """An empty long-lag folder for the page: no trained models until a test saves some there."""
    folder = tmp_path / "longlag"
    folder.mkdir()
    monkeypatch.setattr(lstm_core.config, "LONGLAG_DIR", folder)
    st.cache_data.clear()
    yield folder
    st.cache_data.clear()


@pytest.fixture
def text_rnn_dir(longlag_dir):
    """The long-lag folder with the shipped story-world RNN in it (and no long-lag models)."""
    shutil.copy(lstm_core.config.ASSETS_DIR / "longlag" / TEXT_RNN_FILE, longlag_dir / TEXT_RNN_FILE)
    return longlag_dir


@pytest.fixture
def stand_in_models(longlag_dir):
    """Stand-ins for the shipped long-lag models, saved where the page looks (float32, as shipped)."""
    for seed, kind in enumerate(("rnn", "lstm")):
        cell = (LSTM if kind == "lstm" else RNN).random(8, 16, seed=seed)
        if kind == "lstm":
            params = cell.state_dict()
            params["bias_ih_l0"][16:32] = 5.0  # an open forget gate, as training makes it
            cell = LSTM.from_state_dict(params)
        rng = np.random.default_rng(seed)
        model = TaskModel(cell, rng.normal(size=(4, 16)).astype(np.float32), np.zeros(4, np.float32),
                          "remember_first", lag=40, metrics={"validation_score": [0.26, 1.0][seed], "chance": 0.25,
                                                             "config": {"steps": 800, "noise": 0.3}})  # fmt: skip
        model.save(longlag_dir / f"{kind}.safetensors")
    return longlag_dir


def open_gradients(query: dict[str, str] | None = None) -> AppTest:
    return open_page(GRADIENTS, query)


def shown_text(app: AppTest) -> str:
    """Everything written on the page, as a student reads it (Markdown escapes removed)."""
    parts = [element.value for element in (*app.markdown, *app.caption, *app.warning, *app.info, *app.error)]
    return "\n".join(parts).replace("\\", "")


def metrics_of(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def curve_names(spec: dict) -> list[str]:
    """The gradient chart's cells (its lines on the upper panel)."""
    return [trace["name"] for trace in spec["data"] if trace.get("yaxis", "y") == "y"]


def test_default_run_compares_the_trained_rnn_and_lstm_on_a_pronoun_after_a_long_gap(text_rnn_dir):
    app = open_gradients()
    assert not app.exception and not app.warning and not app.info
    assert app.radio(key="source").value == "text" and app.radio(key="measure").value == "input"
    assert app.text_area(key="text").value == PRONOUN_EXAMPLE and app.radio(key="mark").value == "unit"
    assert [header.value for header in app.subheader][:2] == ["How often each one gets it right",
                                                              "How far back the gradient reaches"]  # fmt: skip
    accuracy, gradient, forget = chart_specs(app)
    assert [trace["name"] for trace in accuracy["data"]] == ["RNN, trained", "LSTM, trained"]
    assert curve_names(gradient) == ["RNN, trained", "LSTM, trained"]  # the fair pair: both trained
    assert (
        gradient["layout"]["yaxis"]["type"] == "log" and "(log scale)" in gradient["layout"]["yaxis"]["title"]["text"]
    )
    assert "mary" in gradient["layout"]["xaxis2"]["ticktext"]  # the words on the x axis
    assert [trace["type"] for trace in forget["data"]] == ["heatmap"]  # the trained LSTM's gates
    words = model_store.language_model("story")
    gender = words.units["subject gender"].unit
    gate = next(trace for trace in gradient["data"] if trace.get("yaxis") == "y2")
    assert gate["name"] == f"LSTM, trained: forget gate, unit {gender}"
    text = shown_text(app)
    assert "the loss is the model's surprise at the last word, “she”" in text
    assert f"where unit {gender}'s forget gate is below 0.5" in text
    assert "multiplied by that same small number" in text
    assert "in the trained RNN" in text and "in the trained LSTM" in text
    assert "only the cell differs" in text
    assert "Right pronoun, out of 200 held-out prompts per gap" in text
    assert "At “mary”, the last name, 40 words back: the gradient is" in text
    assert "Yet the trained RNN still says the right pronoun" in text and "at most 20 words after" in text
    metrics = metrics_of(app)
    assert len(metrics) == 2 and all(label.endswith("words") for label in metrics)
    assert len(app.latex) == 2


def test_the_shading_marks_the_words_where_the_gender_units_forget_gate_is_below_one_half(text_rnn_dir):
    app = open_gradients()
    gradient = chart_specs(app)[1]
    words = model_store.language_model("story")
    unit = words.units["subject gender"].unit
    trace = words.trace(PRONOUN_EXAMPLE)
    forget = trace.gates["forget"][0, 0, :-1, unit]  # the cells read every word but the last
    shaded = sorted(round(shape["x0"] + 0.5) for shape in gradient["layout"]["shapes"] if shape["type"] == "rect")
    assert shaded == np.flatnonzero(forget < 0.5).tolist() and shaded  # e.g. the full stops and the names
    app.radio(key="mark").set_value("mean").run()
    assert not app.exception
    gradient = chart_specs(app)[1]
    mean = trace.gates["forget"][0, 0, :-1].mean(axis=1)
    shaded = sorted(round(shape["x0"] + 0.5) for shape in gradient["layout"]["shapes"] if shape["type"] == "rect")
    assert shaded == np.flatnonzero(mean < 0.5).tolist()
    assert "where the mean forget gate of all units is below 0.5" in shown_text(app)


def test_untrained_cells_are_drawn_when_asked(text_rnn_dir):
    app = open_gradients({"untrained": "true"})
    assert not app.exception and app.checkbox(key="untrained").value
    _, gradient, forget = chart_specs(app)
    assert curve_names(gradient) == ["RNN, untrained", "RNN, trained", "LSTM, untrained", "LSTM, trained"]
    assert len(forget["data"]) == 2


def test_without_the_story_world_rnn_the_text_view_says_so(longlag_dir):
    app = open_gradients()
    assert not app.exception
    assert "text_rnn.safetensors) is not installed" in shown_text(app)
    _, gradient, _ = chart_specs(app)
    assert curve_names(gradient) == ["RNN, untrained", "LSTM, untrained", "LSTM, trained"]
    assert "No RNN trained on the stories is installed" in shown_text(app)
    assert list(metrics_of(app)) == [next(iter(metrics_of(app)))] and "LSTM" in next(iter(metrics_of(app)))


def test_the_long_lag_source_without_shipped_weights_says_so_and_shows_the_untrained_cells(longlag_dir):
    app = open_gradients({"source": "longlag", "lag": "60"})
    assert not app.exception
    assert app.slider(key="lag").value == 60
    assert "The trained RNN and LSTM are not installed yet (assets/longlag/)" in shown_text(app)
    gradient, forget = chart_specs(app)
    assert curve_names(gradient) == ["RNN, untrained", "LSTM, untrained"]
    assert len(forget["data"]) == 1
    assert "both cells here are untrained" in shown_text(app)
    assert "No trained cells are installed" in shown_text(app) and not app.metric


def test_the_long_lag_source_with_trained_models_compares_them_with_their_accuracy(stand_in_models):
    app = open_gradients({"source": "longlag", "lag": "80", "seed": "3", "measure": "cell"})
    assert not app.exception and not app.warning and not app.info
    assert (app.slider(key="lag").value, app.number_input(key="seed").value) == (80, 3)
    gradient, _ = chart_specs(app)
    assert curve_names(gradient) == ["RNN, trained", "LSTM, trained"]
    assert "c<sub>t</sub>" in gradient["layout"]["yaxis"]["title"]["text"]
    assert metrics_of(app) == {"RNN, trained: first symbol right": "26%", "LSTM, trained: first symbol right": "100%"}
    text = shown_text(app)
    assert "80 steps back, the gradient is" in text and "in the trained RNN" in text
    assert "accuracy on held-out sequences: RNN 26%, LSTM 100% (chance: 25%)" in text
    assert "each blurred by random noise (σ = 0.3)" in text
    assert "The probability each cell gives to the right answer" in text
    assert "not installed" not in text
    app.checkbox(key="untrained").check().run()
    assert curve_names(chart_specs(app)[0]) == ["RNN, untrained", "RNN, trained", "LSTM, untrained", "LSTM, trained"]


def test_the_long_lag_source_on_the_shipped_models():
    st.cache_data.clear()
    app = open_gradients({"source": "longlag"})
    assert not app.exception and not app.info and not app.warning
    assert app.slider(key="lag").value == 60
    gradient, forget = chart_specs(app)
    assert curve_names(gradient) == ["RNN, trained", "LSTM, trained"]
    assert len(forget["data"]) == 1
    lstm, rnn = load_task_model("lstm"), load_task_model("rnn")
    assert metrics_of(app) == {
        "RNN, trained: first symbol right": f"{rnn.metrics['validation_score']:.0%}",
        "LSTM, trained: first symbol right": f"{lstm.metrics['validation_score']:.0%}",
    }
    text = shown_text(app)
    assert "60 steps back, the gradient is 10⁻" in text and "in the trained RNN, but" in text
    assert f"were trained on this task with a {lstm.lag}-step lag" in text
    units, _ = memory_units(lstm)
    assert app.radio(key="mark").value == "unit"
    assert f"the mean of units {', '.join(str(unit) for unit in units)}, the units that hold the symbol" in str(
        app.radio(key="mark").proto
    )
    assert f"The mean forget gate of units {', '.join(str(unit) for unit in units)} never drops below 0.5" in text
    assert "it learned to shut the distractors out and to let the first symbol in" in text


def test_a_damaged_or_unfitting_shipped_model_gets_a_message(stand_in_models):
    (stand_in_models / "rnn.safetensors").write_bytes(b"not a checkpoint at all")
    app = open_gradients({"source": "longlag"})
    assert not app.exception
    assert "The trained RNN could not be read" in shown_text(app)
    assert curve_names(chart_specs(app)[0]) == ["RNN, untrained", "LSTM, untrained", "LSTM, trained"]
    model = TaskModel(LSTM.random(3, 4, seed=0), np.zeros((4, 4)), np.zeros(4), "remember_first", lag=5)
    model.save(stand_in_models / "lstm.safetensors")  # reads 3 features; the task has 8
    (stand_in_models / "rnn.safetensors").unlink()
    app = open_gradients({"source": "longlag"})
    assert not app.exception
    assert "do not fit the task" in shown_text(app) and "The trained RNN is not installed yet" in shown_text(app)
    assert curve_names(chart_specs(app)[0]) == ["RNN, untrained", "LSTM, untrained"]


def test_a_damaged_story_world_rnn_gets_a_message(longlag_dir):
    (longlag_dir / TEXT_RNN_FILE).write_bytes(b"not a checkpoint at all")
    app = open_gradients()
    assert not app.exception
    assert "text_rnn.safetensors) could not be read" in shown_text(app)
    assert curve_names(chart_specs(app)[1]) == ["RNN, untrained", "LSTM, untrained", "LSTM, trained"]


def test_widgets_by_key_change_the_view(stand_in_models):
    app = open_gradients()
    app.radio(key="source").set_value("longlag").run()
    assert not app.exception and app.slider(key="lag").value == 60
    app.slider(key="lag").set_value(120).run()
    app.radio(key="measure").set_value("hidden").run()
    assert not app.exception
    gradient, _ = chart_specs(app)
    assert (
        len(gradient["data"][0]["x"]["bdata"]) > 0 and "h<sub>t</sub>" in gradient["layout"]["yaxis"]["title"]["text"]
    )
    assert "120 steps back" in shown_text(app)
    app.number_input(key="seed").set_value(9).run()
    assert "seed 9" in shown_text(app)
    app.radio(key="source").set_value("text").run()
    app.button(key="gradients_example_2").click().run()
    assert not app.exception
    assert "At the first word, “bob”, 47 words back" in shown_text(app)
    app.button(key="gradients_example_1").click().run()
    assert "the last word, “he”" in shown_text(app)


@pytest.mark.parametrize(
    ("query", "message", "lag"),
    [
        ({"lag": "abc"}, "lag “abc”, which is not a whole number; showing 60", 60),
        ({"lag": "99999"}, "lag “99999”, but it must be from 1 to 400; showing 400", 400),
        ({"lag": "0"}, "lag “0”, but it must be from 1 to 400; showing 1", 1),
        ({"seed": "-5"}, "seed “-5”, but it must be from 0 to 9999; showing 0", 60),
        ({"measure": "<b>x</b>"}, "measure “<b>x</b>”, which is not one of input, hidden, cell", 60),
        ({"mark": "evil"}, "mark “evil”, which is not one of unit, mean", 60),
    ],
)
def test_bad_link_values_get_a_message_not_an_error(longlag_dir, query, message, lag):
    app = open_gradients({"source": "longlag", **query})
    assert not app.exception
    assert message in "\n".join(warning.value for warning in app.warning).replace("\\", "")
    assert app.slider(key="lag").value == lag
    assert len(app.get("plotly_chart")) == 2


def test_an_unknown_source_falls_back_to_text_with_a_message(longlag_dir):
    app = open_gradients({"source": "evil"})
    assert not app.exception and app.radio(key="source").value == "text"
    assert "source “evil”, which is not one of text, longlag" in shown_text(app)


@pytest.mark.parametrize(
    ("text", "message", "charts"),
    [
        ("", "The text is empty", 0),
        ("   \n\t ", "The text is empty", 0),
        ("bob", "at least two words", 0),
        ("😀 🎉 ☃", "None of these words is in the story-world word model's vocabulary", 3),
        ("qwertyuiop asdfghjkl", "None of these words is in the story-world word model's vocabulary", 3),
        ("<script>alert(1)</script> <b>Bob</b> is nice", "Not in the word model's vocabulary", 3),
        ("Bob is nice. " * 400, "this page reads the first 200", 3),
    ],
)
def test_bad_text_gets_a_clear_message(text_rnn_dir, text, message, charts):
    app = open_gradients({"text": text})
    assert not app.exception
    assert message in shown_text(app)
    assert len(app.get("plotly_chart")) == charts
    for element in app.markdown:  # what the user typed is escaped wherever it is written
        assert "<script>" not in element.value and "<b>Bob" not in element.value


def test_reruns_and_a_new_measure_backpropagate_nothing_again(stand_in_models, monkeypatch):
    """Speed lives in `python -m benchmarks.page_speed`; here, what makes a rerun cheap: one
    backpropagation per text (or lag) and seed, whatever the measure, the marks or the cells shown."""
    calls = []
    for name in ("compare_on_text", "compare_on_task", "gap_accuracy"):
        original = getattr(lstm_core.analysis.gradient_comparison, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(lstm_core.analysis.gradient_comparison, name, counted)
    text = "Bob knows swimming. He told me over the phone that he had served the navy for four long years. " * 2
    for query in ({"text": text}, {"source": "longlag", "lag": "200"}):
        app = open_gradients(query)
        app.run()
        app.radio(key="measure").set_value("hidden").run()
        app.radio(key="mark").set_value("mean").run()
        app.checkbox(key="untrained").check().run()
        assert not app.exception
    assert calls == ["compare_on_text", "gap_accuracy", "compare_on_task"]  # no story-world RNN here: the LSTM's only
    open_gradients({"source": "longlag", "lag": "201"})
    assert calls[-1] == "compare_on_task" and len(calls) == 4
