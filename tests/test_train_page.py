"""/train with AppTest: the page, tiny training runs set through the widgets, one run at a time, the
stop button, a run waiting in line for a slot, the trained LSTM opening in /gates and /step for this
session, and bad text or uploads.

Training runs in a background thread; `run_until_done` reruns the page until the run has finished,
as the page's own timer would in a browser.
"""

import threading

import pytest
from streamlit.testing.v1 import AppTest

from lstm_core.config import DEFAULT, MAX_TEXT_CHARS
from tests.pages import open_page
from tests.waiting import wait_until
from ui import model_store, train_queue, training

TRAIN = "views/train.py"
STORY = "Bob is a nice person. Dan, on the other hand, is evil. Mary sings all day long.\n" * 6


def open_train() -> AppTest:
    return open_page(TRAIN)


def job_of(app: AppTest):
    return app.session_state["train_job"] if "train_job" in app.session_state else None


def run_until_done(app: AppTest, timeout: float = 60) -> AppTest:
    def finished() -> bool:
        if not job_of(app).snapshot().active:
            return True
        app.run()
        return False

    wait_until(finished, timeout, interval=0.1, message="the training run did not finish")
    return app.run()


@pytest.fixture
def app():
    app = open_train()
    yield app
    job = job_of(app)
    if job is not None:  # never leave a run holding one of the server's training slots, or a place in line
        train_queue.process_queue().stop(job)
        job.wait(30)


def tiny_task(app: AppTest, task: str = "remember_first", lag: int = 3, steps: int = 100) -> AppTest:
    prefix = "train_add" if task == "adding_problem" else "train"
    app.radio(key="train_task").set_value(task).run()
    app.slider(key=f"{prefix}_lag").set_value(lag)
    app.select_slider(key=f"{prefix}_hidden").set_value(8)
    app.slider(key=f"{prefix}_steps").set_value(steps)
    app.select_slider(key=f"{prefix}_lr").set_value(0.03)
    return app.run()


def texts(elements) -> str:
    return "\n".join(element.value for element in elements).replace("\\", "")


def test_the_page_opens_on_the_default_run(app):
    assert not app.exception
    assert app.radio(key="train_task").value == "remember_first"
    assert app.slider(key="train_lag").value == DEFAULT.lag
    assert app.select_slider(key="train_hidden").value == DEFAULT.hidden_size
    assert app.slider(key="train_steps").value == DEFAULT.steps
    assert app.select_slider(key="train_lr").value == DEFAULT.learning_rate
    assert app.slider(key="train_noise").value == DEFAULT.noise
    assert app.button(key="train_stop").disabled
    assert "Press Train to start" in texts(app.info).replace("**", "")
    assert not app.get("plotly_chart") and job_of(app) is None


def test_a_tiny_run_trains_both_cells_and_opens_the_lstm_in_gates_and_step(app):
    tiny_task(app).button(key="train_start").click().run()
    assert not app.exception and job_of(app) is not None
    run_until_done(app)
    assert not app.exception
    assert len(app.get("plotly_chart")) == 1 and app.get("progress")
    verdict = texts(app.success) + texts(app.info)
    assert "After 100 steps" in verdict and "RNN" in verdict and "LSTM" in verdict
    history = job_of(app).snapshot().history
    assert {progress.kind for progress in history} == {"rnn", "lstm"}
    lstm = [progress for progress in history if progress.kind == "lstm"]
    assert lstm[-1].loss < lstm[0].loss

    names = model_store.session_model_names(session=app.session_state)
    assert names == ("remember-first LSTM, lag 3",)
    links = {link.proto.page: link.proto for link in app.get("page_link")}
    assert {"gates", "step", "gradients"} <= set(links)
    for page in ("gates", "step"):
        assert "model=remember-first+LSTM%2C+lag+3" in links[page].query_string

    app.switch_page("views/gates.py")
    app.query_params.update({"model": names[0], "text": "c w x y"})
    app.run()
    assert not app.exception and not app.warning
    assert app.radio(key="model").value == names[0]
    app.switch_page("views/step.py").run()
    assert not app.exception and app.radio(key="model").value == names[0]


def test_a_second_click_while_training_is_refused_and_stop_ends_the_run(app):
    app.slider(key="train_steps").set_value(3000)
    app.slider(key="train_lag").set_value(200)
    app.select_slider(key="train_hidden").set_value(128)
    app.run().button(key="train_start").click().run()
    first = job_of(app)
    assert first.snapshot().running and not app.button(key="train_stop").disabled
    app.button(key="train_start").click().run()
    assert "already training in this session" in texts(app.warning)
    assert job_of(app) is first  # still the one run
    app.button(key="train_stop").click().run()
    run_until_done(app)
    assert not app.exception
    snapshot = first.snapshot()
    assert snapshot.status == "done" and snapshot.result.stopped and snapshot.step < 3000
    assert "ended early" in texts(app.warning)
    assert model_store.session_model_names(session=app.session_state)  # even a stopped run can be opened


def test_a_run_waiting_for_a_slot_shows_its_place_and_estimated_wait_and_can_leave_the_line(app, monkeypatch):
    line = train_queue.TrainingQueue(slots=1, typical_seconds=40)
    monkeypatch.setattr(train_queue, "_process_queue", line)
    gate = threading.Event()
    occupant = training.TrainingJob("another student's run", 10, lambda on_progress, should_stop: gate.wait(30))
    assert line.join(occupant, "another student", "another tab") == "admitted"
    try:
        tiny_task(app).button(key="train_start").click().run()
        assert not app.exception
        job = job_of(app)
        assert job.snapshot().status == "queued" and line.waiting() == (job,)
        assert app.subheader[0].value.startswith("Waiting to train")
        assert "You are 1st in line" in texts(app.info) and "Estimated wait: about 40 seconds" in texts(app.info)
        assert not app.button(key="train_stop").disabled and not app.get("plotly_chart")
        app.button(key="train_start").click().run()
        assert "already waiting in line" in texts(app.warning) and job_of(app) is job
        app.button(key="train_stop").click().run()
        assert not app.exception and job.snapshot().status == "cancelled" and line.waiting() == ()
        assert "You left the line" in texts(app.info) and app.button(key="train_stop").disabled
    finally:
        gate.set()
        occupant.wait(10)


def test_the_adding_problem_trains_but_cannot_be_opened_as_text(app):
    tiny_task(app, "adding_problem", lag=5, steps=30).button(key="train_start").click().run()
    run_until_done(app)
    assert not app.exception
    assert "mean squared error" in texts(app.success) + texts(app.info)
    assert "cannot be opened as text" in texts(app.info)
    assert not app.get("page_link") or all(link.proto.page != "gates" for link in app.get("page_link"))
    assert model_store.session_model_names(session=app.session_state) == ()


def tiny_text(app: AppTest) -> AppTest:
    app.radio(key="train_task").set_value("text").run()
    app.select_slider(key="train_text_hidden").set_value(8)
    app.slider(key="train_text_steps").set_value(20)
    return app.run()


def test_a_character_model_on_your_text_opens_in_gates(app):
    tiny_text(app).text_area(key="train_text").input(STORY).run()
    app.button(key="train_start").click().run()
    run_until_done(app)
    assert not app.exception
    assert "predicts the next character of your text" in texts(app.success) + texts(app.info)
    assert model_store.session_model_names(session=app.session_state) == ("my text (chars)",)
    links = {link.proto.page: link.proto for link in app.get("page_link")}
    assert "model=my+text+%28chars%29" in links["gates"].query_string and "gradients" not in links
    app.switch_page("views/gates.py").run()
    app.radio(key="model").set_value("my text (chars)").run()
    assert not app.exception


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The text is empty"),
        ("   \n\t  ", "The text is empty"),
        ("<b>hi</b>", "too short"),
        ("😀🧠👍🏽 " * 30, "characters are ones the character model knows"),
    ],
    ids=["empty", "spaces", "short-html", "emoji"],
)
def test_unusable_text_gets_a_message_and_no_run(app, text, message):
    tiny_text(app).text_area(key="train_text").input(text).run()
    app.button(key="train_start").click().run()
    assert not app.exception
    assert message in texts(app.error)
    assert job_of(app) is None


def test_html_and_emoji_in_a_usable_text_are_trained_on_and_never_rendered(app):
    hostile = ("<script>alert('x')</script> <b>Bob</b> is <img src=x onerror=alert(1)> nice 😀. " * 4) + STORY
    tiny_text(app).text_area(key="train_text").input(hostile).run()
    app.button(key="train_start").click().run()
    assert "reads them as <unk>: 😀" in texts(app.warning)
    run_until_done(app)
    assert not app.exception
    shown = "\n".join(element.value for element in (*app.markdown, *app.warning, *app.info, *app.success))
    assert "<script" not in shown and "<img" not in shown and "<b>" not in shown
    link = next(link.proto for link in app.get("page_link") if link.proto.page == "gates")
    assert "<script>" in link.query_string.replace("%3C", "<").replace("%3E", ">")  # travels as data, in the URL


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks binary"),
        ("latin.txt", "Le café est très bon. ".encode("latin-1") * 5, "not UTF-8"),
        ("<b>x</b>.txt", b"", "The text is empty"),
    ],
)
def test_bad_uploads_get_a_message_and_no_run(app, name, data, message):
    tiny_text(app).get("file_uploader")[0].upload(name, data, "text/plain")
    app.run().button(key="train_start").click().run()
    assert not app.exception
    assert message in texts(app.error) and job_of(app) is None
    assert "<b>" not in "\n".join(element.value for element in app.error)


def test_a_huge_upload_is_cut_with_a_notice_and_trains(app):
    tiny_text(app).get("file_uploader")[0].upload("big.txt", (STORY * 200).encode(), "text/plain")
    app.run().button(key="train_start").click().run()
    assert not app.exception
    assert f"only the first {MAX_TEXT_CHARS:,} are used" in texts(app.warning)
    assert job_of(app) is not None
    run_until_done(app)
    assert not app.exception and model_store.session_model_names(session=app.session_state)


def test_default_settings_restores_the_widgets(app):
    app.slider(key="train_lag").set_value(7).run()
    app.slider(key="train_noise").set_value(0.0).run()
    app.button(key="train_defaults").click().run()
    assert app.slider(key="train_lag").value == DEFAULT.lag and app.slider(key="train_noise").value == DEFAULT.noise
