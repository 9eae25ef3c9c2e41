"""The widgets and the flow of /train: the settings of a run, starting and stopping it, its live
progress, and the trained LSTM made a model of the session. The job itself, the checks on a text and
the figures are in `ui.training`; nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from lstm_core.config import (
    DEFAULTS,
    LIMITS,
    MAX_TEXT_CHARS,
    TEXT_LIMITS,
    TaskTrainConfig,
    TextTrainConfig,
    check_training_text,
)
from lstm_core.models.tokenize import CharTokenizer
from ui import explain, model_store, training

__all__ = [
    "JOB_KEY", "REFRESH_SECONDS", "TextSettings", "task_settings", "text_settings", "restore_defaults", "stop_job",
    "start_run", "show_message", "live_progress", "chance_of", "keep_trained_model",
]  # fmt: skip

REFRESH_SECONDS = 0.5  # how often the curves are redrawn while a run trains
JOB_KEY = "train_job"
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
    """The Stop button's callback: the run ends after its current step."""
    job = st.session_state.get(JOB_KEY)
    if job is not None:
        job.request_stop()


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
    settings: TaskTrainConfig | TextSettings, job: training.TrainingJob | None, running: bool
) -> tuple[training.TrainingJob | None, bool, list[Message]]:
    """Press of Train: a new run of `settings` unless one is running in this session or the server is
    full. Returns the session's job and whether it runs (the new one's once started), and the messages
    to show under the buttons."""
    messages: list[Message] = []
    if running:
        messages.append(("warning", "A run is already training in this session: wait for it, or press Stop.",
                         ":material/hourglass_top:"))  # fmt: skip
        return job, running, messages
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
    elif not new_job.start():
        messages.append(("warning", f"{training.MAX_CONCURRENT_RUNS} runs are already training on this server. "
                         "Try again in a minute.", ":material/hourglass_top:"))  # fmt: skip
    else:
        st.session_state[JOB_KEY] = new_job
        return new_job, True, messages
    return job, running, messages


def show_message(box, message: str, icon: str) -> None:
    """`box` (st.warning, st.error, ...) with `message`, escaped: it can quote a file name or the user's text."""
    box(explain.as_markdown(message), icon=icon)


def chance_of(snapshot: training.JobSnapshot, job: training.TrainingJob) -> float:
    """The score of guessing, the line the curves are read against."""
    if job.settings["task"] == "text":
        return snapshot.result.baseline_accuracy if snapshot.result is not None else 0.0
    return job.settings["chance"]


def live_progress(job: training.TrainingJob, running: bool) -> None:
    """The progress bar and the curves; while the run trains they redraw themselves every
    `REFRESH_SECONDS`, and the whole page reruns once it ends (the results and links appear)."""
    st.fragment(_progress, run_every=REFRESH_SECONDS if running else None)(job, running)


def _progress(job: training.TrainingJob, armed_while_running: bool) -> None:
    snapshot = job.snapshot()
    if armed_while_running and not snapshot.running:
        st.rerun()  # the whole page: the results and the links appear
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
        key="train_curve", config=CHART_CONFIG,
    )  # fmt: skip


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
