"""Training for the /train page: side-by-side runs, their bounds and stop callback, the task LSTM as a
language model, the character model on a user's text, and the page's pure helpers. A few seconds."""

import numpy as np
import pytest
import torch

from lstm_core.config import (
    DEFAULT,
    DEFAULTS,
    LIMITS,
    MAX_TEXT_CHARS,
    SHIPPED,
    TaskTrainConfig,
    TextTrainConfig,
    check_training_text,
)
from lstm_core.data.tasks import make_batch, remember_first
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.task_model import DISTRACTOR_TOKENS, SYMBOL_TOKENS, TaskModel, task_language_model, task_text
from lstm_core.models.tokenize import CharTokenizer
from lstm_core.training.tasks import TorchTaskModel, train_side_by_side, train_task_model
from lstm_core.training.text import train_on_text
from ui import training

EASY = TaskTrainConfig(task="remember_first", lag=3, hidden_size=8, steps=120, learning_rate=0.02, seed=0)
STORY = 'Bob is a nice person. Dan, on the other hand, is evil. Mary sings "la la" all day.\n' * 8


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_side_by_side_trains_both_cells_in_lockstep_and_improves_the_loss():
    seen = []
    run = train_side_by_side(EASY, on_progress=seen.append, evaluate_every=10)
    assert seen == run.history and not run.stopped
    kinds = [progress.kind for progress in run.history]
    assert kinds[:4] == ["rnn", "lstm", "rnn", "lstm"]  # both curves grow together
    assert [progress.step for progress in run.history[::2]] == list(range(10, 121, 10))
    for kind in ("rnn", "lstm"):
        mine = [progress for progress in run.history if progress.kind == kind]
        assert mine[0].loss > 1.0 > 0.3 > mine[-1].loss  # from guessing (log 4 ≈ 1.39) to knowing
    assert isinstance(run.models["lstm"], TaskModel) and run.models["lstm"].kind == "lstm"
    assert run.models["rnn"].kind == "rnn" and run.final("lstm").score > 0.9


def test_side_by_side_equals_training_each_cell_alone():
    config = TaskTrainConfig(task="remember_first", lag=4, hidden_size=6, steps=30, learning_rate=0.01, noise=0.2)
    both = train_side_by_side(config, evaluate_every=10)
    alone, history = train_task_model("lstm", config, evaluate_every=10)
    assert [p.loss for p in history] == pytest.approx([p.loss for p in both.history if p.kind == "lstm"], rel=1e-5)
    inputs = make_batch("remember_first", 1, 4, np.random.default_rng(3), noise=0.2).inputs[0]
    np.testing.assert_allclose(alone.predict(inputs), both.models["lstm"].predict(inputs), rtol=1e-4, atol=1e-5)


def test_the_stop_callback_ends_the_run_at_once():
    calls = []
    run = train_side_by_side(EASY, should_stop=lambda: len(calls.append(1) or calls) >= 7, evaluate_every=50)
    assert run.stopped and not run.timed_out
    assert {progress.step for progress in run.history} == {7}  # evaluated where it stopped, both cells
    assert {progress.kind for progress in run.history} == {"rnn", "lstm"}
    assert run.models["lstm"].metrics["stopped"] is True


def test_a_time_limit_ends_the_run_and_says_so():
    run = train_side_by_side(EASY, max_seconds=0.0)
    assert run.stopped and run.timed_out and run.history[-1].step == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lag": 0}, "lag must be between 1 and 200"),
        ({"lag": 10_000}, "lag must be between"),
        ({"hidden_size": 1000}, "hidden_size must be between 2 and 128"),
        ({"steps": 10**6}, "steps must be between 1 and 3000"),
        ({"learning_rate": 5.0}, "learning_rate must be between"),
        ({"batch_size": 10_000}, "batch_size must be between"),
        ({"noise": 3.0}, "noise must be between"),
        ({"steps": 2.5}, "steps must be between"),
        ({"hidden_size": True}, "hidden_size must be between"),
        ({"task": "adding_problem", "noise": 0.3}, "noise applies to the remember_first task only"),
        ({"seed": -1}, "seed must be"),
    ],
)
def test_limits_are_enforced_with_a_clear_message(changes, message):
    with pytest.raises(ValueError, match=message):
        TaskTrainConfig(**changes)


def test_defaults_fit_the_limits_and_match_the_shipped_pair():
    assert DEFAULT == SHIPPED == DEFAULTS["remember_first"]
    assert DEFAULT.lag == 60 and DEFAULT.noise > 0
    for config in DEFAULTS.values():
        for name, (low, high) in LIMITS.items():
            assert low <= getattr(config, name) <= high


def _trained_lstm(seed: int = 0) -> TaskModel:
    torch.manual_seed(seed)
    module = TorchTaskModel("lstm", features=8, hidden_size=6, outputs=4)
    from lstm_core import LSTM

    return TaskModel(LSTM.from_torch(module.cell), module.readout.weight.detach().numpy(),
                     module.readout.bias.detach().numpy(), "remember_first", lag=9)  # fmt: skip


def test_task_language_model_traces_what_the_task_model_runs():
    model = _trained_lstm()
    language_model = task_language_model(model)
    assert isinstance(language_model, LanguageModel) and language_model.kind == "words"
    assert language_model.vocab[1:] == [*SYMBOL_TOKENS, *DISTRACTOR_TOKENS]
    batch = remember_first(5, lag=9, rng=np.random.default_rng(4))
    for inputs in batch.inputs:
        text = task_text(inputs)
        assert len(text.split()) == 10 and text.split()[0] in SYMBOL_TOKENS
        trace = language_model.trace(text)
        expected = model.cell.run(inputs)
        np.testing.assert_allclose(trace.cell, expected.cell, atol=1e-6)
        np.testing.assert_allclose(trace.hidden, expected.hidden, atol=1e-6)
        top_token, _ = language_model.predict_next(text, k=1)[0]
        assert top_token == SYMBOL_TOKENS[int(model.predict(inputs).argmax())]
        probabilities = language_model.next_token_probs(trace)
        assert probabilities[:, 5:].max() < 1e-9  # a distractor is never the answer
        np.testing.assert_allclose(probabilities[-1, 1:5].sum(), 1.0, rtol=1e-5)


def test_the_shipped_lstm_opens_as_text_and_answers_the_first_symbol():
    from lstm_core.models.task_model import load_task_model

    model = load_task_model("lstm")
    language_model = task_language_model(model)
    for symbol in SYMBOL_TOKENS:
        text = training.task_example(model.lag, symbol=SYMBOL_TOKENS.index(symbol), seed=7)
        assert text.split()[0] == symbol and len(text.split()) == model.lag + 1
        assert language_model.predict_next(text, k=1)[0][0] == symbol


def test_task_language_model_refuses_what_has_no_text_form():
    with pytest.raises(ValueError, match="only an LSTM"):
        from lstm_core import RNN

        task_language_model(TaskModel(RNN.random(8, 4, seed=0), np.zeros((4, 4)), np.zeros(4), "remember_first", 5))
    from lstm_core import LSTM

    adding = TaskModel(LSTM.random(2, 4, seed=0), np.zeros((1, 4)), np.zeros(1), "adding_problem", 5)
    with pytest.raises(ValueError, match="feeds the cell numbers"):
        task_language_model(adding)
    with pytest.raises(TypeError):
        task_language_model("lstm")


def test_character_model_on_a_small_text_improves_its_loss():
    seen = []
    config = TextTrainConfig(hidden_size=24, steps=60, learning_rate=0.02, sequence_length=32, batch_size=16)
    run = train_on_text(STORY, config, on_progress=seen.append, evaluate_every=10)
    assert seen == run.history and [p.step for p in run.history] == [10, 20, 30, 40, 50, 60]
    assert run.history[-1].loss < 0.7 * run.history[0].loss
    assert run.history[-1].score > run.baseline_accuracy
    model = run.model
    assert isinstance(model, LanguageModel) and model.kind == "chars" and isinstance(model.tokenizer, CharTokenizer)
    assert model.lstm.hidden_size == 24
    probabilities = model.next_token_probs(model.trace("Bob is a nice"))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_character_model_can_be_stopped():
    calls = []
    run = train_on_text(STORY, TextTrainConfig(steps=500), should_stop=lambda: len(calls.append(1) or calls) >= 3)
    assert run.stopped and run.history[-1].step == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The text is empty"),
        ("   \n\t  ", "The text is empty"),
        ("too short", "too short"),
        ("x" * (MAX_TEXT_CHARS + 1), "at most 50,000"),
        ("😀🧠👍🏽" * 40, "characters are ones the character model knows"),
        ("Привет, как дела? " * 10, "characters are ones the character model knows"),
    ],
    ids=["empty", "spaces", "short", "huge", "emoji", "cyrillic"],
)
def test_character_trainer_rejects_unusable_text(text, message):
    with pytest.raises(ValueError, match=message):
        check_training_text(text)
    with pytest.raises(ValueError, match=message):
        train_on_text(text, TextTrainConfig(steps=1))


def test_character_trainer_bounds_its_settings():
    with pytest.raises(ValueError, match="hidden_size must be between"):
        TextTrainConfig(hidden_size=4096)
    with pytest.raises(ValueError, match="steps must be between"):
        TextTrainConfig(steps=10**7)
    with pytest.raises(TypeError):
        check_training_text(b"bytes")


# ------------------------------------------------------------------------- the page's helpers
def test_uploads_are_read_as_utf8_text_or_refused_with_a_message():
    assert training.read_upload("Bob is nice.\n".encode("utf-8-sig"), "a.txt") == ("Bob is nice.\n", None)
    for data, message in [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "looks binary"),
        ("café".encode("latin-1"), "not UTF-8"),
        (b"x" * (training.MAX_UPLOAD_BYTES + 1), "at most 1 MB"),
    ]:
        text, problem = training.read_upload(data, "<b>evil</b>.txt")
        assert text is None and message in problem and "<b>evil</b>.txt" in problem  # the page escapes it


def test_prepare_text_cuts_checks_and_lists_unknown_characters():
    alphabet = [token for token in CharTokenizer().vocab if len(token) == 1]
    prepared = training.prepare_text(STORY + " 😀", 10_000, check_training_text, alphabet)
    assert prepared.error is None and prepared.text.endswith("😀")
    assert any("reads them as <unk>: 😀" in notice for notice in prepared.notices)
    long = training.prepare_text("Bob is nice. " * 1000, 500, check_training_text, alphabet)
    assert len(long.text) == 500 and "only the first 500" in long.notices[0]
    empty = training.prepare_text(None, 500, check_training_text, alphabet)
    assert empty.text is None and "empty" in empty.error


def test_progress_figure_and_verdict():
    run = train_side_by_side(EASY, evaluate_every=20)
    figure = training.progress_figure(run.history, "remember_first", EASY.steps, 0.25)
    names = [trace.name for trace in figure.data]
    assert names.count("RNN") == 2 and names.count("LSTM") == 2 and "chance: 25%" in names
    assert list(figure.data[0].x) == list(range(20, 121, 20))
    box, sentence = training.verdict(run.history, "remember_first", 0.25, lag=3)
    assert "both learned it" in sentence and box == "info"
    fake = [training_progress("rnn", 0.24), training_progress("lstm", 1.0)]
    box, sentence = training.verdict(fake, "remember_first", 0.25, lag=60)
    assert box == "success" and "LSTM has learned" in sentence and "RNN 24%" in sentence
    assert training.verdict([], "remember_first", 0.25)[1].startswith("No training yet")
    adding = training.progress_figure([training_progress("lstm", 0.01)], "adding_problem", 100, 1 / 6)
    assert adding.layout.yaxis.type == "log"


def training_progress(kind: str, score: float):
    from lstm_core.config import Progress

    return Progress(kind, 100, 0.1, score, 1.0)


def test_a_job_runs_in_the_background_and_stops_on_request():
    import threading

    from ui.train_queue import TrainingQueue

    release = threading.Event()

    def work(on_progress, should_stop):
        step = 0
        while not should_stop():
            step += 1
            on_progress(training_progress("lstm", 0.5))
            release.wait(0.01)
        return step

    line = TrainingQueue(slots=1, session_alive=lambda session_id: True)
    job = training.TrainingJob("test", total_steps=10, work=work)
    assert job.snapshot().status == "new" and not job.snapshot().active
    assert line.join(job, "a student", "a tab") == "admitted"
    assert job.snapshot().running and job.snapshot().active
    job.request_stop()
    assert job.wait(10) and job.snapshot().status == "done" and job.snapshot().result >= 0
    assert job.snapshot().stop_reason == "stop"
    with pytest.raises(RuntimeError, match="runs once"):
        job.begin()

    failing = training.TrainingJob("boom", 1, lambda on_progress, should_stop: 1 / 0)
    assert line.join(failing, "a student", "a tab") == "admitted" and failing.wait(10)
    assert failing.snapshot().status == "failed" and "ZeroDivisionError" in failing.snapshot().error
    assert line.training() == ()  # a failed run hands its slot on too


def test_the_server_runs_at_most_a_few_jobs_at_once_and_the_next_waits_in_line():
    import threading

    from ui.train_queue import TrainingQueue

    line = TrainingQueue(session_alive=lambda session_id: True)
    assert line.slots == training.MAX_CONCURRENT_RUNS
    gate = threading.Event()
    jobs = [
        training.TrainingJob(f"job {i}", 1, lambda p, s: gate.wait(10)) for i in range(training.MAX_CONCURRENT_RUNS)
    ]
    late = training.TrainingJob("one too many", 1, lambda p, s: "ok")
    try:
        assert all(line.join(job, f"student {i}", f"tab {i}") == "admitted" for i, job in enumerate(jobs))
        assert line.join(late, "late student", "late tab") == "admitted"
        assert late.snapshot().status == "queued" and line.place(late).position == 1
    finally:
        gate.set()
        for job in jobs:
            job.wait(10)
    assert late.wait(10) and late.snapshot().result == "ok"
