"""What /train needs besides layout: the background training job of one session, the checks on a
user's text or upload, the live figure and the verdict sentence. No Streamlit here; torch is imported
by the job only when it starts.

A run trains in a thread of its own, so the page stays responsive: the page polls `job.snapshot()`
to draw the curves, and the Stop button sets a flag the trainer reads after every step. Jobs start
through `ui.train_queue`, which lets at most `MAX_CONCURRENT_RUNS` of them train at once on the whole
server (one per core, each on one torch thread, each bounded in steps, sizes and `MAX_SECONDS`) and
keeps the others waiting in line.

    >>> from ui.train_queue import TrainingQueue
    >>> job = TrainingJob("a test", total_steps=3, work=lambda on_progress, should_stop: "trained")
    >>> TrainingQueue().join(job, owner="a student", session_id="a tab")
    'admitted'
    >>> job.wait(5) and job.snapshot().result
    'trained'
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_core.config import MAX_SECONDS, TaskTrainConfig, TextTrainConfig
from lstm_core.data.tasks import chance_level
from lstm_core.models.task_model import SYMBOL_TOKENS, TaskModel, task_language_model, task_text

__all__ = [
    "TASK_CHOICES", "MAX_CONCURRENT_RUNS", "MAX_UPLOAD_BYTES", "CELL_COLORS", "TrainingJob", "JobSnapshot",
    "read_upload", "prepare_text", "PreparedText", "progress_figure", "verdict", "task_example", "text_example",
    "task_model_for_pages", "evaluate_every",
]  # fmt: skip

log = logging.getLogger(__name__)

TASK_CHOICES = {
    "remember_first": "Remember the first symbol",
    "adding_problem": "Adding problem",
    "text": "Your own text",
}
MAX_CONCURRENT_RUNS = 2  # runs training at once on the whole server: the machine has two cores
MAX_UPLOAD_MB = 1
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 2**20
CURVE_POINTS = 60  # evaluations per run: enough for a smooth curve, few enough to cost nothing
CELL_COLORS = {"rnn": "#D55E00", "lstm": "#0072B2"}  # the /gradients page's colours (Okabe-Ito, colour-blind safe)
CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM"}
REFERENCE_COLOR = "#7f7f7f"
SOLVED_ACCURACY = 0.9
SOLVED_ERROR_SHARE = 0.1  # the adding problem counts as solved below a tenth of the constant guess's error


# ----------------------------------------------------------------------------------- the job
@dataclass(frozen=True)
class JobSnapshot:
    """What the page draws: a consistent copy of a job's state at one moment."""

    status: str  # "new", "queued", "running", "done", "failed" or "cancelled" (taken out of the line unstarted)
    history: tuple  # Progress / TextProgress records, oldest first
    step: int
    total_steps: int
    seconds: float
    stop_requested: bool
    result: Any  # the trainer's return value once done
    error: str | None
    stop_reason: str | None = None  # "stop" (the Stop button), "closed" or "unwatched" (the page went away)

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def active(self) -> bool:
        """Training or waiting in line: the session's one run is taken."""
        return self.status in ("queued", "running")


class TrainingJob:
    """One training run in a background thread.

    Args:
        description: what is trained, in words ("RNN and LSTM, remember the first symbol, lag 60").
        total_steps: the run's step budget, for the progress bar.
        work: ``work(on_progress, should_stop) -> result``; called in the thread.
        settings: anything the page wants to remember about the run (task, lag, ...).

    A `ui.train_queue.TrainingQueue` moves it from "new" to "queued" and "running" (`wait_in_line`,
    `begin`) or takes it out of the line (`cancel`).
    """

    def __init__(self, description: str, total_steps: int, work: Callable, settings: dict | None = None) -> None:
        self.description = description
        self.total_steps = total_steps
        self.settings = dict(settings or {})
        self.model_name: str | None = None  # set by the page once the trained model is registered
        self._work = work
        self._lock = threading.Lock()
        self._history: list = []
        self._stop = threading.Event()
        self._stop_reason: str | None = None
        self._status = "new"
        self._result: Any = None
        self._error: str | None = None
        self._started = 0.0
        self._finished: float | None = None
        self._thread: threading.Thread | None = None
        self._over = threading.Event()  # set once it has ended or left the line, and its slot is handed on

    def wait_in_line(self) -> None:
        with self._lock:
            if self._status != "new":
                raise RuntimeError(f"only a new job can wait in line, not a {self._status} one")
            self._status = "queued"

    def begin(self, abandoned: Callable[[], str | None] = lambda: None,
              on_end: Callable[[TrainingJob], None] | None = None) -> None:  # fmt: skip
        """Start training in a thread. `abandoned()` is asked after every step with the stop flag: a
        reason ("closed", "unwatched") stops the run as Stop would. `on_end(job)` is called in the
        thread once the run has ended, however it ends."""
        with self._lock:
            if self._status not in ("new", "queued"):
                raise RuntimeError("a job runs once; make a new one")
            self._status, self._started = "running", time.monotonic()
        self._thread = threading.Thread(target=self._run, args=(abandoned, on_end), name="lstm-explorer-training",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def cancel(self, reason: str) -> bool:
        """Take a job that waits in line out of it, unstarted, for `reason`; False when it is not waiting."""
        with self._lock:
            if self._status != "queued":
                return False
            self._status, self._stop_reason = "cancelled", reason
        self._stop.set()
        self._over.set()
        return True

    def request_stop(self, reason: str = "stop") -> None:
        """End the run after its current step; the first reason given is the one kept."""
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended and handed on its slot, or has left the line (tests); True when it
        has trained to an end."""
        self._over.wait(timeout)
        return self._status in ("done", "failed")

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            history = tuple(self._history)
            status, result, error, reason = self._status, self._result, self._error, self._stop_reason
        end = self._finished if self._finished is not None else time.monotonic()
        return JobSnapshot(status, history, history[-1].step if history else 0, self.total_steps,
                           end - self._started if self._started else 0.0, self._stop.is_set(), result, error,
                           reason)  # fmt: skip

    def _progress(self, progress) -> None:
        with self._lock:
            self._history.append(progress)

    def _run(self, abandoned: Callable[[], str | None], on_end: Callable[[TrainingJob], None] | None) -> None:
        def should_stop() -> bool:
            if self._stop.is_set():
                return True
            reason = abandoned()
            if reason is not None:
                log.info("training stopped, its page is gone (%s): %s", reason, self.description)
                self.request_stop(reason)
            return reason is not None

        try:
            import torch  # only a running job needs it

            torch.set_num_threads(1)  # one core per run; MAX_CONCURRENT_RUNS runs fill the machine
            result = self._work(self._progress, should_stop)
            with self._lock:
                self._result, self._status = result, "done"
        except Exception as error:  # noqa: BLE001 - the page shows a message; the log keeps the traceback
            log.exception("training failed: %s", self.description)
            with self._lock:
                self._error, self._status = f"{type(error).__name__}: {error}", "failed"
        finally:
            self._finished = time.monotonic()
            try:
                if on_end is not None:
                    on_end(self)
            finally:
                self._over.set()


def task_job(config: TaskTrainConfig) -> TrainingJob:
    """An RNN and an LSTM trained side by side on a long-lag task (torch is imported when it starts)."""
    every = evaluate_every(config.steps)

    def work(on_progress, should_stop):
        from lstm_core.training.tasks import train_side_by_side

        return train_side_by_side(config, on_progress, should_stop, every)

    return TrainingJob(f"RNN and LSTM, {TASK_CHOICES[config.task].lower()}, lag {config.lag}, {config.steps} steps",
                       config.steps, work, {"task": config.task, "lag": config.lag, "chance": chance_level(config.task)})  # fmt: skip


def text_job(text: str, config: TextTrainConfig, notices: tuple[str, ...]) -> TrainingJob:
    """A small character LSTM trained on a user's text (torch is imported when it starts)."""
    every = evaluate_every(config.steps)

    def work(on_progress, should_stop):
        from lstm_core.training.text import train_on_text

        return train_on_text(text, config, on_progress, should_stop, every, max_seconds=MAX_SECONDS)

    return TrainingJob(f"character LSTM on your text ({len(text):,} characters), {config.steps} steps", config.steps,
                       work, {"task": "text", "example": text_example(text), "chance": None, "notices": notices})  # fmt: skip


def evaluate_every(steps: int) -> int:
    """Steps between evaluations so a run draws about `CURVE_POINTS` points."""
    return max(1, math.ceil(steps / CURVE_POINTS))


# ---------------------------------------------------------------------------- the user's text
def read_upload(data: bytes, name: str = "", max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[str | None, str | None]:
    """(text, None) for a UTF-8 text file, or (None, message) saying what is wrong with it."""
    shown = name if len(name) <= 60 else name[:57] + "…"
    if len(data) > max_bytes:
        return None, f"The file “{shown}” has {len(data):,} bytes; at most {max_bytes // 2**20} MB can be uploaded."
    if b"\x00" in data:
        return None, f"The file “{shown}” looks binary, not like text. Upload a plain .txt file."
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, f"The file “{shown}” is not UTF-8 text. Save it as plain text in UTF-8 and upload it again."
    return text, None


@dataclass(frozen=True)
class PreparedText:
    text: str | None  # what the model trains on, or None when it cannot
    error: str | None  # why not, for the student
    notices: tuple[str, ...]  # what was changed or will be read as <unk>


def prepare_text(raw: object, max_chars: int, check: Callable[[str], str], alphabet: Sequence[str]) -> PreparedText:
    """Cut `raw` to `max_chars` (with a notice), then `check` it (the trainer's own check, which
    raises ValueError with a message). Never raises."""
    text = "" if raw is None else str(raw)
    notices = []
    if len(text) > max_chars:
        notices.append(f"The text has {len(text):,} characters; only the first {max_chars:,} are used.")
        text = text[:max_chars]
    try:
        text = check(text)
    except ValueError as error:
        return PreparedText(None, str(error), tuple(notices))
    known = set(alphabet)
    unknown = list(dict.fromkeys(character for character in text if character not in known))
    if unknown:
        shown = " ".join(unknown[:12]) + (" …" if len(unknown) > 12 else "")
        count = "1 character is" if len(unknown) == 1 else f"{len(unknown)} different characters are"
        notices.append(f"{count} not in the model's alphabet; the model reads them as <unk>: {shown}")
    return PreparedText(text, None, tuple(notices))


def text_example(text: str, max_chars: int = 240) -> str:
    """The start of the training text, cut at a space, to open in /gates and /step."""
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    cut = flat[:max_chars]
    return cut[: cut.rfind(" ")] if " " in cut[max_chars // 2 :] else cut


# ------------------------------------------------------------------------- trained task models
def task_model_for_pages(model: TaskModel, lag: int):
    """The trained remember-first LSTM as a LanguageModel, named for the model lists."""
    return task_language_model(model, name=f"remember-first LSTM, lag {lag}")


def task_example(lag: int, symbol: int = 2, seed: int = 0) -> str:
    """A clean remember-first sequence as text ("c w z x ..."), to open in /gates and /step."""
    import numpy as np

    from lstm_core.data.tasks import remember_first

    batch = remember_first(1, lag, np.random.default_rng(seed))
    inputs = batch.inputs[0].copy()
    inputs[0] = 0.0
    inputs[0, symbol % len(SYMBOL_TOKENS)] = 1.0
    return task_text(inputs)


# ---------------------------------------------------------------------------------- the figure
def progress_figure(history: Sequence, task: str, total_steps: int, chance: float) -> go.Figure:
    """Loss and accuracy against training step, one colour per cell kind, with the chance line.

    For the adding problem there is one panel, the mean squared error on a log scale (its "score");
    for the user's text, `chance` is the accuracy of always guessing the most common character.
    """
    kinds = [kind for kind in CELL_NAMES if any(progress.kind == kind for progress in history)] or ["lstm"]
    regression = task == "adding_problem"
    titles = ("Mean squared error (lower is better)",) if regression else ("Loss (lower is better)", "Accuracy")
    figure = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.08)
    x_range = [0, max(total_steps, 1) * 1.02]
    for kind in kinds:
        mine = [progress for progress in history if progress.kind == kind]
        steps = [progress.step for progress in mine]
        name = "LSTM on your text" if task == "text" else CELL_NAMES[kind]
        style = {"color": CELL_COLORS[kind], "width": 3}
        figure.add_trace(go.Scatter(x=steps, y=[progress.loss for progress in mine], mode="lines", name=name,
                                    line=style, legendgroup=kind,
                                    hovertemplate=f"{name}<br>step %{{x}}<br>%{{y:.4f}}<extra></extra>"),
                         row=1, col=1)  # fmt: skip
        if not regression:
            figure.add_trace(go.Scatter(x=steps, y=[progress.score for progress in mine], mode="lines", name=name,
                                        line=style, legendgroup=kind, showlegend=False,
                                        hovertemplate=f"{name}<br>step %{{x}}<br>%{{y:.1%}}<extra></extra>"),
                             row=1, col=2)  # fmt: skip
    reference = {"dash": "dash", "color": REFERENCE_COLOR, "width": 2}
    if regression:
        label = f"always guessing 1.0: {chance:.3f}"
        figure.add_trace(go.Scatter(x=x_range, y=[chance, chance], mode="lines", name=label, line=reference,
                                    hoverinfo="skip"), row=1, col=1)  # fmt: skip
        figure.update_yaxes(type="log", row=1, col=1, exponentformat="power")
    else:
        label = f"most common character: {chance:.0%}" if task == "text" else f"chance: {chance:.0%}"
        figure.add_trace(go.Scatter(x=x_range, y=[chance, chance], mode="lines", name=label, line=reference,
                                    hoverinfo="skip"), row=1, col=2)  # fmt: skip
        if task != "text":
            guess_loss = -math.log(chance)
            figure.add_trace(go.Scatter(x=x_range, y=[guess_loss, guess_loss], mode="lines", line=reference,
                                        name=f"guessing: loss {guess_loss:.2f}", showlegend=False, hoverinfo="skip"),
                             row=1, col=1)  # fmt: skip
        figure.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
        figure.update_yaxes(rangemode="tozero", row=1, col=1)
    figure.update_xaxes(range=x_range, title_text="training step")
    figure.update_layout(height=380, margin={"l": 10, "r": 10, "t": 70, "b": 10},
                         legend={"orientation": "h", "yanchor": "bottom", "y": 1.1, "x": 0, "font": {"size": 14}},
                         hovermode="x unified", template={"layout": {"hovermode": "x unified"}})  # fmt: skip
    return figure


# --------------------------------------------------------------------------------- the verdict
def verdict(history: Sequence, task: str, chance: float, lag: int | None = None) -> tuple[str, str]:
    """(kind of box, sentence) from the last evaluation of each cell: "success" when the LSTM solved
    what the RNN did not, "info" otherwise. Empty history: ("info", a request to train)."""
    last = {progress.kind: progress for progress in history}
    if not last:
        return "info", "No training yet: press Train."
    step = max(progress.step for progress in last.values())
    if task == "text":
        lstm = last["lstm"]
        return "success" if lstm.score > chance else "info", (
            f"After {step} steps the LSTM predicts the next character of your text correctly {lstm.score:.0%} of the "
            f"time (always guessing the most common character: {chance:.0%}); its loss is {lstm.loss:.3f}."
        )
    if task == "adding_problem":
        solved = {kind: progress.score < SOLVED_ERROR_SHARE * chance for kind, progress in last.items()}
        numbers = ", ".join(f"{CELL_NAMES[kind]} {progress.score:.4f}" for kind, progress in last.items())
        reference = f"always guessing 1.0 gives {chance:.3f}"
    else:
        solved = {kind: progress.score >= SOLVED_ACCURACY for kind, progress in last.items()}
        numbers = ", ".join(f"{CELL_NAMES[kind]} {progress.score:.0%}" for kind, progress in last.items())
        reference = f"chance is {chance:.0%}"
    measure = "mean squared error" if task == "adding_problem" else "accuracy"
    lead = f"After {step} steps ({measure}: {numbers}; {reference}): "
    gap = f"a lag of {lag}" if lag is not None else "this lag"
    if solved.get("lstm") and not solved.get("rnn", False):
        return "success", lead + f"the LSTM has learned to carry the information across {gap}; the RNN has not."
    if solved.get("lstm") and solved.get("rnn"):
        return "info", lead + f"both learned it: {gap} is short enough for a plain RNN. Try a longer lag."
    if solved.get("rnn"):
        return "info", lead + "the RNN learned it and the LSTM not yet. Try more steps or another learning rate."
    return "info", lead + "neither has learned it yet. Try more steps, a shorter lag or another learning rate."
