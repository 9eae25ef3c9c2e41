"""The widgets and the flow of /train: the settings of a run, starting and stopping it, its place in
line and live progress, and the trained LSTM made a model of the session. The job itself, the checks on
a text and the figures are in `ui.training`, the slots and the line in `ui.train_queue`; nothing here
imports torch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import UploadedFile

from lstm_core.config import (
    DEFAULTS,
    LIMITS,
    MAX_SECONDS,
    MAX_TEXT_CHARS,
    TEXT_LIMITS,
    TaskTrainConfig,
    TextTrainConfig,
    check_training_text,
)
from lstm_core.models.tokenize import CharTokenizer
from ui import accessibility, explain, model_store, train_queue, training

__all__ = [
    "JOB_KEY", "REFRESH_SECONDS", "QUEUE_REFRESH_SECONDS", "TextSettings", "task_settings", "text_settings",
    "restore_defaults", "stop_job", "owner_and_session", "start_run", "show_message", "live_progress", "place_message",
    "ended_early", "left_the_line", "chance_of", "keep_trained_model",
]  # fmt: skip

REFRESH_SECONDS = 0.5  # how often the curves are redrawn (and the run polled) while a run trains
QUEUE_REFRESH_SECONDS = 2.0  # how often a place in line is redrawn and polled: a line of a whole class costs little
JOB_KEY = "train_job"
OWNER_KEY = "train_owner"
XSRF_COOKIE = "_streamlit_xsrf"
HIDDEN_SIZES = [4, 8, 16, 32, 64, 128]
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1]
TEXT_DEFAULTS = TextTrainConfig()
CHART_CONFIG = {"displayModeBar": False}
# The widget key of every setting, by config field, so "Default settings" can restore them all.
TASK_KEYS = {
    "remember_first": {"lag": "train_lag", "hidden_size": "train_hidden", "steps": "train_steps",
                       "learning_rate": "train_lr", "noise": "train_noise"},
    "adding_problem": {"lag": "train_add_lag", "hidden_size": "train_add_hidden", "steps": "train_add_steps",
                       "learning_rate": "train_add_lr"},
}  # fmt: skip
TEXT_KEYS = {"hidden_size": "train_text_hidden", "steps": "train_text_steps", "learning_rate": "train_text_lr",
             "sequence_length": "train_text_length"}  # fmt: skip

Message = tuple[str, str, str]  # (the st function's name, the message, its icon)


@dataclass(frozen=True)
class TextSettings:
    """What the text task's widgets hold: the typed text, the upload (used instead when given), the config."""

    typed: object
    uploaded: UploadedFile | None
    config: TextTrainConfig


# ---------------------------------------------------------------------------------- the settings
def task_settings(task: str) -> TaskTrainConfig:
    """The lag, size, steps, learning rate (and noise) widgets of a long-lag task; returns the config."""
    keys, default = TASK_KEYS[task], DEFAULTS[task]
    columns = st.columns(5 if task == "remember_first" else 4)
    with columns[0]:
        lag = st.slider("Lag", *LIMITS["lag"], value=default.lag, key=keys["lag"],
                        persist_state="session", help="How many steps the network must carry the information across.")  # fmt: skip
    with columns[1]:
        hidden_size = st.select_slider("Hidden size", HIDDEN_SIZES, value=default.hidden_size,
                                       key=keys["hidden_size"], persist_state="session",
                                       help="Units in each cell. The LSTM has four times the weights of the RNN.")  # fmt: skip
    with columns[2]:
        steps = st.slider("Training steps", 10, LIMITS["steps"][1], value=default.steps, step=10, key=keys["steps"],
                          persist_state="session", help=f"Each step is one batch of {default.batch_size} sequences.")  # fmt: skip
    with columns[3]:
        learning_rate = st.select_slider("Learning rate", LEARNING_RATES, value=default.learning_rate,
                                         key=keys["learning_rate"], persist_state="session",
                                         help="Adam's step size, the same for both cells.")  # fmt: skip
    noise = 0.0
    if task == "remember_first":
        with columns[4]:
            noise = st.slider("Noise on the distractors", *LIMITS["noise"], value=default.noise, step=0.05,
                              key=keys["noise"], persist_state="session",
                              help="Gaussian noise added to every distractor step. A plain RNN must hold its "
                              "memory against it at every step; an LSTM can close its input gate.")  # fmt: skip
    return TaskTrainConfig(task=task, lag=lag, hidden_size=hidden_size, steps=steps, batch_size=default.batch_size,
                           learning_rate=learning_rate, noise=noise, seed=default.seed)  # fmt: skip


def text_settings() -> TextSettings:
    """The text area, the upload and the model's settings."""
    typed = st.text_area("Your text", key="train_text", height=140, max_chars=MAX_TEXT_CHARS, persist_state="session",
                         placeholder="Paste a few paragraphs here: a poem, a story, some code…")  # fmt: skip
    uploaded = st.file_uploader(f"…or upload a .txt file (UTF-8, at most {training.MAX_UPLOAD_MB} MB; it is used "
                                "instead of the text above)", type=["txt"], key="train_upload",
                                max_upload_size=training.MAX_UPLOAD_MB)  # fmt: skip
    columns = st.columns(4)
    with columns[0]:
        hidden_size = st.select_slider("Hidden size", HIDDEN_SIZES, value=TEXT_DEFAULTS.hidden_size,
                                       key=TEXT_KEYS["hidden_size"], persist_state="session")  # fmt: skip
    with columns[1]:
        steps = st.slider("Training steps", 10, TEXT_LIMITS["steps"][1], value=TEXT_DEFAULTS.steps, step=10,
                          key=TEXT_KEYS["steps"], persist_state="session")  # fmt: skip
    with columns[2]:
        learning_rate = st.select_slider("Learning rate", LEARNING_RATES, value=TEXT_DEFAULTS.learning_rate,
                                         key=TEXT_KEYS["learning_rate"], persist_state="session")  # fmt: skip
    with columns[3]:
        sequence_length = st.slider("Sequence length", 16, TEXT_LIMITS["sequence_length"][1],
                                    value=TEXT_DEFAULTS.sequence_length, step=8, key=TEXT_KEYS["sequence_length"],
                                    persist_state="session",
                                    help="Characters per training window: the longest span the model learns across.")  # fmt: skip
    config = TextTrainConfig(hidden_size=hidden_size, steps=steps, learning_rate=learning_rate,
                             sequence_length=sequence_length)  # fmt: skip
    return TextSettings(typed, uploaded, config)


def restore_defaults(task: str) -> None:
    """The "Default settings" button's callback."""
    if task == "text":
        for field, key in TEXT_KEYS.items():
            st.session_state[key] = getattr(TEXT_DEFAULTS, field)
    else:
        for field, key in TASK_KEYS[task].items():
            st.session_state[key] = getattr(DEFAULTS[task], field)


# ---------------------------------------------------------------------------------- the run
def stop_job() -> None:
    """The Stop button's callback: the run ends after its current step, or leaves the line."""
    job = st.session_state.get(JOB_KEY)
    if job is not None:
        train_queue.process_queue().stop(job)


def owner_and_session() -> tuple[str, str]:
    """(owner, session id) of this page for the training queue. The owner is the browser, the same in all
    its tabs (`train_queue.browser_key`), or this session alone when the browser sent no cookie. The
    session id is Streamlit's, which the queue asks the server about."""
    context = get_script_run_ctx()
    session_id = context.session_id if context is not None else ""
    # Not the session id itself: under AppTest every session has the same one.
    session_key = st.session_state.setdefault(OWNER_KEY, uuid.uuid4().hex)
    return train_queue.browser_key(st.context.cookies.get(XSRF_COOKIE)) or session_key, session_id


def _text_to_train(settings: TextSettings) -> training.PreparedText:
    """The upload when there is one, else the typed text, checked."""
    raw = settings.typed
    if settings.uploaded is not None:
        raw, problem = training.read_upload(settings.uploaded.getvalue(), settings.uploaded.name)
        if problem is not None:
            return training.PreparedText(None, problem, ())
    alphabet = [token for token in CharTokenizer().vocab if len(token) == 1]
    return training.prepare_text(raw, MAX_TEXT_CHARS, check_training_text, alphabet)


def start_run(
    settings: TaskTrainConfig | TextSettings, job: training.TrainingJob | None, active: bool
) -> tuple[training.TrainingJob | None, bool, list[Message]]:
    """Press of Train: a new run of `settings`, training or in line, unless this student has one already
    (in this tab or another of the browser) or the line is full. Returns the session's job and whether it
    is active (the new one's once admitted), and the messages to show under the buttons."""
    messages: list[Message] = []
    if active:
        messages.append(("warning", ("Your run is already waiting in line" if job.snapshot().status == "queued"
                                     else "A run is already training in this session")
                         + ": one run at a time for each student, so that everyone gets a turn. Wait for it, or "
                         "press Stop.", ":material/hourglass_top:"))  # fmt: skip
        return job, active, messages
    new_job, problem = None, None
    if isinstance(settings, TextSettings):
        prepared = _text_to_train(settings)
        problem = prepared.error
        if prepared.text is not None:
            new_job = training.text_job(prepared.text, settings.config, prepared.notices)
        else:
            messages += [("warning", notice, ":material/warning:") for notice in prepared.notices]
    else:
        new_job = training.task_job(settings)
    if problem is not None:
        messages.append(("error", problem, ":material/error:"))
        return job, active, messages
    admission = train_queue.process_queue().join(new_job, *owner_and_session())
    if admission == "already":
        messages.append(("warning", "You have a run training or waiting in another tab of this browser: one run at "
                         "a time for each student, so that everyone gets a turn. Wait for it, or stop it in that tab.",
                         ":material/tab:"))  # fmt: skip
    elif admission == "full":
        messages.append(("warning", f"All {train_queue.MAX_WAITING} places in the line for training are taken. "
                         "Try again in a few minutes.", ":material/hourglass_top:"))  # fmt: skip
    else:
        st.session_state[JOB_KEY] = new_job
        return new_job, True, messages
    return job, active, messages


def show_message(box, message: str, icon: str) -> None:
    """`box` (st.warning, st.error, ...) with `message`, escaped: it can quote a file name or the user's text."""
    box(explain.as_markdown(message), icon=icon)


def chance_of(snapshot: training.JobSnapshot, job: training.TrainingJob) -> float:
    """The score of guessing, the line the curves are read against."""
    if job.settings["task"] == "text":
        return snapshot.result.baseline_accuracy if snapshot.result is not None else 0.0
    return job.settings["chance"]


def live_progress(job: training.TrainingJob, active: bool) -> None:
    """The place in line, or the progress bar and the curves. While the run waits or trains they redraw
    themselves (every `QUEUE_REFRESH_SECONDS`, `REFRESH_SECONDS`), and each redraw polls the run: the
    queue stops a run, or gives up a place, that no page polls. The whole page reruns when the run
    starts (the Stop button, the heading) and when it ends (the results and links appear)."""
    status = job.snapshot().status
    refresh = {"queued": QUEUE_REFRESH_SECONDS, "running": REFRESH_SECONDS}.get(status) if active else None
    st.fragment(_progress, run_every=refresh)(job, status if active else None)


def _progress(job: training.TrainingJob, armed_status: str | None) -> None:
    place = train_queue.process_queue().poll(job)
    snapshot = job.snapshot()
    if armed_status is not None and snapshot.status != armed_status:
        st.rerun()  # the whole page
    if place is not None and place.waiting:
        show_message(st.info, place_message(place), ":material/hourglass_top:")
        return
    latest = {progress.kind: progress for progress in snapshot.history}
    numbers = ", ".join(
        f"{training.CELL_NAMES[kind]} {progress.score:.4f}" if job.settings["task"] == "adding_problem"
        else f"{training.CELL_NAMES[kind]} {progress.score:.0%}"
        for kind, progress in latest.items()
    )  # fmt: skip
    status = "stopping…" if snapshot.running and snapshot.stop_requested else f"{snapshot.seconds:.0f} s"
    st.progress(min(snapshot.step / max(snapshot.total_steps, 1), 1.0),
                text=f"Step {snapshot.step} of {snapshot.total_steps} · {status}" + (f" · {numbers}" if numbers else ""))  # fmt: skip
    st.plotly_chart(
        training.progress_figure(snapshot.history, job.settings["task"], snapshot.total_steps, chance_of(snapshot, job)),
        key="train_curve", alt=accessibility.TRAINING_PROGRESS, config=CHART_CONFIG,
    )  # fmt: skip
    if snapshot.running:
        st.caption(f"Keep this page open while it trains: a run that no open page watches stops within "
                   f"{train_queue.POLL_PATIENCE_SECONDS:.0f} seconds, and its slot goes to the next in line.")  # fmt: skip


def place_message(place: train_queue.Place) -> str:
    """Where a waiting run stands, for the student: their place, the estimated wait, and why to stay."""
    return (
        f"You are {train_queue.ordinal(place.position)} in line for one of the server's {place.slots} training "
        f"slots. Estimated wait: {train_queue.wait_in_words(place.estimated_wait)} (an estimate, from the runs "
        "training now and the usual length of a run). Keep this page open: your run starts by itself when its "
        "turn comes, and a place or a run that no open page watches is given up."
    )


def ended_early(snapshot: training.JobSnapshot) -> str:
    """Why a run that stopped before its last step did."""
    lead = f"The run ended early, at step {snapshot.step} of {snapshot.total_steps}, "
    gone = ": a run that nobody watches stops, and its slot goes to the next in line."
    if snapshot.result is not None and snapshot.result.timed_out:
        return lead + f"after the time limit of {MAX_SECONDS / 60:.0f} minutes."
    if snapshot.stop_reason == "closed":
        return lead + "because this page lost its connection to the server (closed, or a network drop)" + gone
    if snapshot.stop_reason == "unwatched":
        return lead + f"because this page was not open for {train_queue.POLL_PATIENCE_SECONDS:.0f} seconds" + gone
    return lead + "after your Stop."


def left_the_line(snapshot: training.JobSnapshot) -> str:
    """Why a run that waited in line never trained."""
    again = " Press Train to join the line again."
    if snapshot.stop_reason == "stop":
        return "You left the line, and your run did not train." + again
    if snapshot.stop_reason == "closed":
        return "Your place in line was given up when this page lost its connection to the server." + again
    return (f"Your place in line was given up: this page was not open for "
            f"{train_queue.LINE_PATIENCE_SECONDS:.0f} seconds.") + again  # fmt: skip


# ---------------------------------------------------------------------------------- the result
def keep_trained_model(job: training.TrainingJob, result) -> None:
    """Make the LSTM of the finished run's `result` a model of this session, once per run: every rerun
    afterwards finds its name in `job.model_name`."""
    if job.model_name is not None:
        return
    if job.settings["task"] == "text":
        job.model_name = model_store.add_session_model(result.model, "my text (chars)")
    else:
        model = training.task_model_for_pages(result.models["lstm"], job.settings["lag"])
        job.model_name = model_store.add_session_model(model, model.name)
