"""The training slots and the line for them: first come, first served; each run's place and estimated
wait; one run per student; a run (or a place in line) whose page is gone, closed or no longer polling,
gives up its slot to the next in line. Then two AppTest sessions compete for /train.

The queue's clock is a fake one that the tests move on, so nothing waits for the patience to run out;
the runs are real threads driven step by step by the test.
"""

from __future__ import annotations

import queue

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

from lstm_core.config import Progress
from tests.pages import open_page
from tests.waiting import wait_until
from ui import train_queue
from ui import training_controls as controls
from ui.train_queue import Place, TrainingQueue
from ui.training import TrainingJob

PATIENCE = 10.0
LINE_PATIENCE = 90.0
GRACE = 2.0
TYPICAL = 30.0
TIME_LIMIT = 240.0


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sessions:
    """The server's answer to "is a browser still connected to this session?"."""

    def __init__(self) -> None:
        self.closed: set[str] = set()

    def __call__(self, session_id: str) -> bool:
        return session_id not in self.closed


class Run:
    """A training run that the test drives: it reports the steps it is given and ends when told, or
    when it is asked to stop (between steps, as the real trainers do)."""

    def __init__(self, name: str, total_steps: int = 100) -> None:
        self.owner, self.session_id = name, f"tab of {name}"
        self._commands: queue.Queue[int | None] = queue.Queue()
        self.job = TrainingJob(f"run of {name}", total_steps, self._work)

    def _work(self, on_progress, should_stop) -> str:
        while not should_stop():
            try:
                step = self._commands.get(timeout=0.005)
            except queue.Empty:
                continue
            if step is None:
                return "finished"
            on_progress(Progress("lstm", step, 1.0, 0.5, 0.0))
        return "stopped"

    def report(self, step: int) -> None:
        self._commands.put(step)
        wait_until(lambda: self.job.snapshot().step == step, message=f"{self.owner}'s run never reported {step}")

    def finish(self) -> None:
        self._commands.put(None)
        assert self.job.wait(10)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sessions() -> Sessions:
    return Sessions()


@pytest.fixture
def line(clock, sessions):
    line = TrainingQueue(slots=2, clock=clock, session_alive=sessions, patience=PATIENCE, line_patience=LINE_PATIENCE,
                         disconnect_grace=GRACE, typical_seconds=TYPICAL, time_limit=TIME_LIMIT)  # fmt: skip
    yield line
    for job in (*line.waiting(), *line.training()):
        line.stop(job)
    for job in line.training():
        job.wait(10)


@pytest.fixture
def patient_line(clock, sessions):
    """A queue whose pages never go stale, for the arithmetic of waits over long stretches of time."""
    line = TrainingQueue(slots=2, clock=clock, session_alive=sessions, patience=float("inf"),
                         line_patience=float("inf"), typical_seconds=TYPICAL, time_limit=TIME_LIMIT)  # fmt: skip
    yield line
    for job in (*line.waiting(), *line.training()):
        line.stop(job)
    for job in line.training():
        job.wait(10)


def join_all(line: TrainingQueue, *names: str) -> list[Run]:
    runs = [Run(name) for name in names]
    for run in runs:
        assert line.join(run.job, run.owner, run.session_id) == "admitted"
    return runs


def positions(line: TrainingQueue, runs: list[Run]) -> list[int | None]:
    return [None if (place := line.place(run.job)) is None else place.position for run in runs]


# ------------------------------------------------------------------------------- first come, first served
def test_runs_take_the_free_slots_and_the_rest_wait_in_the_order_they_came(line):
    ann, bob, cat, dan, eve = runs = join_all(line, "ann", "bob", "cat", "dan", "eve")
    assert line.training() == (ann.job, bob.job) and line.waiting() == (cat.job, dan.job, eve.job)
    assert [run.job.snapshot().status for run in runs] == ["running", "running", "queued", "queued", "queued"]
    assert positions(line, runs) == [0, 0, 1, 2, 3]
    for run in reversed(runs):  # who polls first, or most often, does not matter
        for _ in range(3):
            line.poll(run.job)
    assert positions(line, runs) == [0, 0, 1, 2, 3]

    bob.finish()  # the slot goes to the first in line
    assert bob.job.snapshot().result == "finished"
    assert positions(line, runs) == [0, None, 0, 1, 2]
    assert cat.job.snapshot().status == "running"
    fay = join_all(line, "fay")[0]  # a late arrival goes to the end
    assert line.place(fay.job).position == 3

    line.stop(dan.job)  # leaving the line moves everyone behind up one place
    assert dan.job.snapshot().status == "cancelled" and dan.job.snapshot().stop_reason == "stop"
    assert positions(line, [eve, fay]) == [1, 2]
    ann.finish()
    cat.finish()
    assert line.training() == (eve.job, fay.job) and line.waiting() == ()


def test_stop_ends_a_training_run_between_steps_and_hands_on_its_slot(line):
    ann, bob, cat = join_all(line, "ann", "bob", "cat")
    ann.report(10)
    line.stop(ann.job)
    assert ann.job.wait(10)
    snapshot = ann.job.snapshot()
    assert snapshot.status == "done" and snapshot.result == "stopped" and snapshot.stop_reason == "stop"
    assert snapshot.step == 10
    assert line.training() == (bob.job, cat.job)


def test_each_student_holds_one_run_training_or_waiting(line):
    ann, bob = join_all(line, "ann", "bob")
    second_tab = TrainingJob("ann's second tab", 10, lambda on_progress, should_stop: None)
    assert line.join(second_tab, "ann", "another tab of ann") == "already"
    assert second_tab.snapshot().status == "new" and line.place(second_tab) is None
    cat = join_all(line, "cat")[0]
    assert line.join(TrainingJob("cat again", 10, print), "cat", cat.session_id) == "already"  # in line, too
    assert line.waiting() == (cat.job,)
    ann.finish()
    again = Run("ann")
    assert line.join(again.job, "ann", "another tab of ann") == "admitted"  # once the first has ended
    assert positions(line, [cat, again]) == [0, 1]


def test_the_line_has_a_bounded_length(clock, sessions):
    line = TrainingQueue(slots=1, clock=clock, session_alive=sessions, max_waiting=2)
    runs = join_all(line, "ann", "bob", "cat")
    late = Run("dan")
    assert line.join(late.job, late.owner, late.session_id) == "full"
    assert late.job.snapshot().status == "new" and len(line.waiting()) == 2
    for job in (*line.waiting(), *line.training()):
        line.stop(job)
    assert runs[0].job.wait(10)


# ------------------------------------------------------------------------------ places and estimated waits
def test_the_estimated_wait_follows_the_runs_training_and_the_typical_run(patient_line, clock):
    line = patient_line
    ann, bob, cat, dan, eve = join_all(line, "ann", "bob", "cat", "dan", "eve")
    # Nothing measured yet: each run ahead is taken to last the typical run.
    assert line.place(cat.job) == Place(1, TYPICAL, 2)
    assert line.place(dan.job) == Place(2, TYPICAL, 2) and line.place(eve.job) == Place(3, 2 * TYPICAL, 2)

    clock.advance(10)
    ann.report(50)  # half done in 10 s: 10 s left
    bob.report(20)  # a fifth done in 10 s: 40 s left
    # cat takes ann's slot at 10 s; dan the first free after that: bob's at 40 s, or cat's at 10 + 30.
    waits = [line.place(run.job).estimated_wait for run in (cat, dan, eve)]
    assert waits == pytest.approx([10, 40, 40])

    clock.advance(2)
    ann.finish()  # ann's run took 12 s: the typical run is now 12 s
    assert line.typical_seconds() == pytest.approx(12)
    # bob: 12 s for 20 steps, 48 s left; cat just started: 12 s left.
    assert line.place(dan.job) == Place(1, pytest.approx(12), 2)
    assert line.place(eve.job) == Place(2, pytest.approx(24), 2)


def test_a_run_is_never_expected_to_go_past_the_time_limit(patient_line, clock):
    line = patient_line
    ann, bob, cat = join_all(line, "ann", "bob", "cat")
    clock.advance(200)
    ann.report(1)  # at this pace 19,800 s to go, but the time limit ends it in 40
    bob.report(99)
    assert line.place(cat.job).estimated_wait == pytest.approx(200 / 99)
    bob.finish()
    assert line.place(cat.job) == Place(0, 0.0, 2)
    clock.advance(40)
    dan = join_all(line, "dan")[0]
    assert line.place(dan.job).estimated_wait == 0.0  # ann's run is at its time limit


@pytest.mark.parametrize("progress", [(0, 0), (5, 90), (60, 10), (99, 1)])
def test_waits_never_shrink_further_back_in_line(patient_line, clock, progress):
    line = patient_line
    runs = join_all(line, "ann", "bob", "cat", "dan", "eve", "fay", "gus")
    clock.advance(17)
    for run, step in zip(runs[:2], progress, strict=True):
        if step:
            run.report(step)
    places = [line.place(run.job) for run in runs[2:]]
    assert [place.position for place in places] == [1, 2, 3, 4, 5]
    waits = [place.estimated_wait for place in places]
    assert waits[0] >= 0 and waits[-1] > waits[0]
    # Each place waits for the one before it, and at most one typical run more: that run takes the
    # slot that frees first and holds it for a typical run, while the other slot may free sooner.
    for earlier, later in zip(waits, waits[1:], strict=False):
        assert earlier <= later <= earlier + line.typical_seconds() + 1e-9


# ----------------------------------------------------------------------------------- pages that are gone
def test_a_run_no_page_polls_stops_and_the_next_in_line_gets_its_slot(line, clock):
    ann, bob, cat, dan = join_all(line, "ann", "bob", "cat", "dan")
    ann.report(30)
    for _ in range(3):  # bob's, cat's and dan's pages poll; ann's does not any more
        clock.advance(PATIENCE / 2)
        for run in (bob, cat, dan):
            line.poll(run.job)
    assert ann.job.wait(10)
    snapshot = ann.job.snapshot()
    assert snapshot.result == "stopped" and snapshot.stop_reason == "unwatched" and snapshot.step == 30
    assert line.training() == (bob.job, cat.job) and positions(line, [dan]) == [1]


def test_the_run_itself_notices_between_steps_that_its_page_is_gone(line, clock):
    ann, bob = join_all(line, "ann", "bob")
    line.poll(bob.job)
    clock.advance(PATIENCE + 1)  # nobody polls: the runs' own checks after each step stop them
    assert ann.job.wait(10) and bob.job.wait(10)
    assert {run.job.snapshot().stop_reason for run in (ann, bob)} == {"unwatched"}
    assert line.training() == ()


def test_a_closed_session_frees_its_slot(line, clock, sessions):
    ann, bob, cat = join_all(line, "ann", "bob", "cat")
    sessions.closed.add(ann.session_id)  # ann closes her tab
    line.poll(cat.job)
    clock.advance(GRACE)
    line.poll(cat.job)
    assert ann.job.wait(10) and ann.job.snapshot().stop_reason == "closed"
    assert line.training() == (bob.job, cat.job) and cat.job.snapshot().status == "running"


def test_a_connection_that_comes_back_within_the_grace_keeps_its_run(line, clock, sessions):
    ann, bob = join_all(line, "ann", "bob")
    sessions.closed.add(ann.session_id)
    line.poll(ann.job)
    clock.advance(GRACE / 2)
    sessions.closed.discard(ann.session_id)  # the Wi-Fi is back, the same session resumes
    line.poll(ann.job)
    clock.advance(GRACE)
    line.poll(ann.job)
    assert ann.job.snapshot().status == "running" and not ann.job.snapshot().stop_requested


def test_a_place_in_line_whose_page_is_gone_is_given_up(line, clock, sessions):
    ann, bob, cat, dan, eve = join_all(line, "ann", "bob", "cat", "dan", "eve")
    sessions.closed.add(cat.session_id)  # cat closes her tab
    line.poll(eve.job)
    clock.advance(GRACE)
    assert positions(line, [dan, eve]) == [1, 2]
    assert cat.job.snapshot().status == "cancelled" and cat.job.snapshot().stop_reason == "closed"
    for _ in range(int(LINE_PATIENCE / 5) + 1):  # then eve's page stops polling too
        clock.advance(5)
        for run in (ann, bob, dan):
            line.poll(run.job)
    assert line.waiting() == (dan.job,)
    assert eve.job.snapshot().status == "cancelled" and eve.job.snapshot().stop_reason == "unwatched"
    ann.finish()
    assert line.training() == (bob.job, dan.job)  # nobody trains for a page that is gone
    assert eve.job.wait(0) is False


def test_a_hidden_tab_keeps_its_place_and_its_run_gets_a_full_patience_when_it_starts(line, clock):
    ann, bob, cat = join_all(line, "ann", "bob", "cat")
    for _ in range(3):  # cat's tab is hidden: the browser polls it once a minute
        for _ in range(12):
            clock.advance(5)
            line.poll(ann.job)
            line.poll(bob.job)
        line.poll(cat.job)
    clock.advance(50)  # 50 s since cat's last poll: more than a run's patience, less than a place's
    line.poll(ann.job)
    line.poll(bob.job)
    assert line.waiting() == (cat.job,)
    ann.finish()
    assert cat.job.snapshot().status == "running"
    clock.advance(PATIENCE / 2)
    line.poll(bob.job)
    assert not cat.job.snapshot().stop_requested  # its patience counts from its start
    clock.advance(PATIENCE / 2 + 1)
    line.poll(bob.job)
    assert cat.job.wait(10) and cat.job.snapshot().stop_reason == "unwatched"


# ------------------------------------------------------------------------------------------ the words
def test_places_and_waits_in_words():
    assert [train_queue.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th",
    ]  # fmt: skip
    assert train_queue.wait_in_words(0) == "a few seconds"
    assert train_queue.wait_in_words(44) == "about 40 seconds"
    assert train_queue.wait_in_words(89) == "about 90 seconds"
    assert train_queue.wait_in_words(150) == "about 2 minutes"
    message = controls.place_message(Place(3, 150, 2))
    assert "You are 3rd in line" in message and "Estimated wait: about 2 minutes (an estimate" in message


def test_every_tab_of_a_browser_has_one_key_from_its_xsrf_cookie():
    token = bytes(range(16))
    tabs = {train_queue.browser_key(generate_xsrf_token_string(token, 1_700_000_000)) for _ in range(5)}
    assert len(tabs) == 1 and None not in tabs  # masked afresh for each tab, one token underneath
    other = train_queue.browser_key(generate_xsrf_token_string(bytes(16), 1_700_000_000))
    assert other not in tabs
    for cookie in (None, "", "2|zz|00|1", "1|abc", "2|0011|", "2|00112233||5", "x" * 5000):
        assert train_queue.browser_key(cookie) is None


# ---------------------------------------------------------------------- two sessions compete for /train
def press_train(app: AppTest, lag: int, hidden: int, steps: int) -> AppTest:
    app.slider(key="train_lag").set_value(lag)
    app.select_slider(key="train_hidden").set_value(hidden)
    app.slider(key="train_steps").set_value(steps)
    app.select_slider(key="train_lr").set_value(0.03)
    return app.run().button(key="train_start").click().run()


def infos(app: AppTest) -> str:
    return "\n".join(element.value for element in app.info).replace("\\", "")


def test_two_sessions_compete_for_train_fairly_and_a_closed_one_frees_its_slot(monkeypatch, clock, sessions):
    line = TrainingQueue(slots=2, clock=clock, session_alive=sessions, patience=PATIENCE, disconnect_grace=GRACE,
                         typical_seconds=TYPICAL)  # fmt: skip
    monkeypatch.setattr(train_queue, "_process_queue", line)
    xia, yan = join_all(line, "xia", "yan")  # the two slots are taken
    first, second = open_page("views/train.py"), open_page("views/train.py")
    try:
        press_train(first, lag=200, hidden=128, steps=3000)  # a long run: it must be stopped to end
        assert not first.exception
        assert "You are 1st in line" in infos(first) and "Estimated wait: about 30 seconds" in infos(first)
        assert first.subheader[0].value.startswith("Waiting to train")
        press_train(second, lag=3, hidden=8, steps=100)
        assert "You are 2nd in line" in infos(second) and "Estimated wait: about 30 seconds" in infos(second)
        job_first, job_second = (app.session_state[controls.JOB_KEY] for app in (first, second))
        assert line.waiting() == (job_first, job_second)

        first.button(key="train_start").click().run()  # one run per student: a second press takes no place
        assert "already waiting in line" in "\n".join(element.value for element in first.warning)
        assert line.waiting() == (job_first, job_second)
        assert "You are 1st in line" in infos(first.run())

        sessions.closed.add(xia.session_id)  # xia closes her tab: her slot goes to the first in line
        line.poll(yan.job)
        clock.advance(GRACE)
        wait_until(lambda: job_first.snapshot().running, message="the first in line never got the free slot")
        assert xia.job.snapshot().stop_reason == "closed"
        first.run()
        assert not first.exception and first.get("progress") and first.subheader[0].value.startswith("Training")
        assert "You are 1st in line" in infos(second.run())

        # The first session's tab closes: it stops polling, the second (and yan's page) go on.
        for _ in range(3):
            clock.advance(PATIENCE / 2)
            second.run()
            line.poll(yan.job)
        wait_until(lambda: job_second.snapshot().status != "queued", message="the second never got the slot")
        assert job_first.wait(30) and job_first.snapshot().stop_reason == "unwatched"
        assert line.training() == (yan.job, job_second)
        assert job_second.wait(60)
        second.run()
        assert not second.exception and "After 100 steps" in infos(second) + "\n".join(e.value for e in second.success)
        first.run()  # back on the page: it says why the run ended
        assert "this page was not open for 10 seconds" in "\n".join(element.value for element in first.warning)
    finally:
        for job in (*line.waiting(), *line.training()):
            line.stop(job)
        for job in (xia.job, yan.job, *(app.session_state[controls.JOB_KEY] for app in (first, second)
                                        if controls.JOB_KEY in app.session_state)):  # fmt: skip
            job.wait(30)
