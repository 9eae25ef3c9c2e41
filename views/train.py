"""/train: a plain RNN and an LSTM learn a long-lag task side by side, here, on the server's CPU;
or a small character LSTM learns the user's own text. The trained LSTM then opens in /gates and
/step for this session only.

Training runs in a background thread (`ui.training.TrainingJob`, one per session, bounded); a
fragment redraws the progress bar and the curves while it runs, and the Stop button ends it after the
current step.
"""

import streamlit as st

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
from ui import explain, state, training

REFRESH_SECONDS = 0.5  # how often the curves are redrawn while a run trains
JOB_KEY = "train_job"
HIDDEN_SIZES = [4, 8, 16, 32, 64, 128]
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1]
TEXT_DEFAULTS = TextTrainConfig()
CHART_CONFIG = {"displayModeBar": False}
TASK_CAPTIONS = ["a symbol, then distractors", "two marked numbers", "paste or upload a .txt"]
EXPLANATIONS = {
    "remember_first": (
        "Each sequence starts with one of four symbols **a b c d**, followed by *lag* distractors drawn from "
        "**w x y z**, each step blurred by a little random noise. At the end the network must say which symbol "
        "came first: guessing is right 25% of the time. This is one of the long-lag experiments of Hochreiter and "
        "Schmidhuber (1997), who introduced the LSTM."
    ),
    "adding_problem": (
        "Every step carries a random number between 0 and 1 and a marker; two steps are marked, one near the "
        "start. At the end the network must answer the sum of the two marked numbers. Always answering 1.0 "
        "gives a mean squared error of 0.167 (Hochreiter and Schmidhuber, 1997)."
    ),
    "text": (
        "Paste a text or upload a .txt file: a small character-level LSTM learns to predict its next character. "
        "Then open it in *Gates over a sentence* to see which units count quotes, words or lines."
    ),
}
# (widget key, config field, default) for every setting, so "Default settings" can restore them all.
TASK_KEYS = {
    "remember_first": {"lag": "train_lag", "hidden_size": "train_hidden", "steps": "train_steps",
                       "learning_rate": "train_lr", "noise": "train_noise"},
    "adding_problem": {"lag": "train_add_lag", "hidden_size": "train_add_hidden", "steps": "train_add_steps",
                       "learning_rate": "train_add_lr"},
}  # fmt: skip
TEXT_KEYS = {"hidden_size": "train_text_hidden", "steps": "train_text_steps", "learning_rate": "train_text_lr",
             "sequence_length": "train_text_length"}  # fmt: skip


def restore_defaults(task: str) -> None:
    if task == "text":
        for field, key in TEXT_KEYS.items():
            st.session_state[key] = getattr(TEXT_DEFAULTS, field)
    else:
        for field, key in TASK_KEYS[task].items():
            st.session_state[key] = getattr(DEFAULTS[task], field)


def stop_job() -> None:
    job = st.session_state.get(JOB_KEY)
    if job is not None:
        job.request_stop()


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


def text_settings() -> tuple[object, object, TextTrainConfig]:
    """The text area, the upload and the model's settings; returns (typed, uploaded file, config)."""
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
    return typed, uploaded, config


def text_to_train(typed: object, uploaded) -> training.PreparedText:
    """The upload when there is one, else the typed text, checked."""
    raw = typed
    if uploaded is not None:
        raw, problem = training.read_upload(uploaded.getvalue(), uploaded.name)
        if problem is not None:
            return training.PreparedText(None, problem, ())
    alphabet = [token for token in CharTokenizer().vocab if len(token) == 1]
    return training.prepare_text(raw, MAX_TEXT_CHARS, check_training_text, alphabet)


def show_message(box, message: str, icon: str) -> None:
    # Escaped: a message can quote a file name or characters of the user's text.
    box(explain.as_markdown(message), icon=icon)


# ----------------------------------------------------------------------------------- inputs
st.header("Train an RNN and an LSTM")
st.caption(
    "Both networks learn here, on this server's CPU, from the same examples with the same optimizer, and you watch "
    "their loss and accuracy as they go. Afterwards the trained LSTM opens in the gates and step views, for you only."
)
task = st.radio("Task", list(training.TASK_CHOICES), format_func=training.TASK_CHOICES.get, key="train_task",
                horizontal=True, captions=TASK_CAPTIONS, persist_state="session")  # fmt: skip
st.markdown(EXPLANATIONS[task])
if task == "text":
    typed, uploaded, text_config = text_settings()
else:
    config = task_settings(task)

job: training.TrainingJob | None = st.session_state.get(JOB_KEY)
running = job is not None and job.snapshot().running
messages: list[tuple[str, str, str]] = []  # (box, message, icon), shown under the buttons
with st.container(horizontal=True, vertical_alignment="center"):
    if st.button("Train", key="train_start", type="primary", icon=":material/play_arrow:"):
        if running:
            messages.append(("warning", "A run is already training in this session: wait for it, or press Stop.",
                             ":material/hourglass_top:"))  # fmt: skip
        else:
            new_job, problem = None, None
            if task == "text":
                prepared = text_to_train(typed, uploaded)
                problem = prepared.error
                if prepared.text is not None:
                    new_job = training.text_job(prepared.text, text_config, prepared.notices)
                else:
                    messages += [("warning", notice, ":material/warning:") for notice in prepared.notices]
            else:
                new_job = training.task_job(config)
            if problem is not None:
                messages.append(("error", problem, ":material/error:"))
            elif not new_job.start():
                messages.append(("warning", f"{training.MAX_CONCURRENT_RUNS} runs are already training on this server. "
                                 "Try again in a minute.", ":material/hourglass_top:"))  # fmt: skip
            else:
                st.session_state[JOB_KEY] = job = new_job
                running = True
    st.button("Stop", key="train_stop", icon=":material/stop:", on_click=stop_job, disabled=not running)
    st.button("Default settings", key="train_defaults", icon=":material/restart_alt:", on_click=restore_defaults,
              args=(task,), help="Back to the settings of the default run.")  # fmt: skip
    if task != "text":
        st.caption(f"Batches of {DEFAULTS[task].batch_size} sequences, Adam; the LSTM's forget gate starts open.")
for box, message, icon in messages:
    show_message(getattr(st, box), message, icon)


# ------------------------------------------------------------------------------ the run
def chance_of(snapshot: training.JobSnapshot, job: training.TrainingJob) -> float:
    if job.settings["task"] == "text":
        return snapshot.result.baseline_accuracy if snapshot.result is not None else 0.0
    return job.settings["chance"]


@st.fragment(run_every=REFRESH_SECONDS if running else None)
def live_progress(job: training.TrainingJob, armed_while_running: bool) -> None:
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


if job is None:
    st.info("Press **Train** to start. The default run takes well under a minute; watch the LSTM's accuracy climb "
            "while the RNN's stays at chance.", icon=":material/model_training:")  # fmt: skip
    st.stop()

st.subheader("Training: " + job.description)
for notice in job.settings.get("notices", ()):
    show_message(st.warning, notice, ":material/warning:")
live_progress(job, running)
snapshot = job.snapshot()
if snapshot.running:
    st.stop()
if snapshot.status == "failed":
    show_message(st.error, f"Training failed ({snapshot.error}). Try smaller settings.", ":material/error:")
    st.stop()

# ------------------------------------------------------------------------------ the results
result = snapshot.result
if result.stopped:
    ended = f"the time limit of {MAX_SECONDS / 60:.0f} minutes" if result.timed_out else "your Stop"
    st.warning(f"The run ended early, at step {snapshot.step} of {snapshot.total_steps}, after {ended}.",
               icon=":material/stop_circle:")  # fmt: skip
box, sentence = training.verdict(snapshot.history, job.settings["task"], chance_of(snapshot, job),
                                 job.settings.get("lag"))  # fmt: skip
(st.success if box == "success" else st.info)(sentence)

if job.settings["task"] == "adding_problem":
    st.info("The adding problem feeds the cells numbers, not symbols, so it cannot be opened as text in the gates and "
            "step views. Train on *Remember the first symbol* or on your own text to look inside the LSTM.",
            icon=":material/block:")  # fmt: skip
    st.stop()
if job.model_name is None:  # once per run: every rerun afterwards finds the name
    if job.settings["task"] == "text":
        job.model_name = state.add_session_model(result.model, "my text (chars)")
    else:
        model = training.task_model_for_pages(result.models["lstm"], job.settings["lag"])
        job.model_name = state.add_session_model(model, model.name)
if job.model_name not in state.session_model_names():
    st.info("This trained model was replaced by newer ones (a session keeps the last "
            f"{state.SESSION_MODEL_LIMIT}). Train again to open it.")  # fmt: skip
    st.stop()
example = job.settings["example"] if job.settings["task"] == "text" else training.task_example(job.settings["lag"])
query = {"model": job.model_name, "text": example}
with st.container(border=True):
    st.markdown(f"**Your trained LSTM is now a model of this session**, listed as “{explain.as_markdown(job.model_name)}” "
                "in the Model choice of the gates and step views. Other visitors never see it.")  # fmt: skip
    if job.settings["task"] != "text":
        st.caption(
            "Its tokens are the task's inputs: a b c d for the first symbol, w x y z for the distractors. Its "
            "“next token” guess after any token is the symbol it would answer if the sequence ended there. "
            "The RNN has no gates, so only the LSTM opens there."
        )
    with st.container(horizontal=True):
        st.page_link("views/gates.py", label="Open it in Gates over a sentence", icon=":material/grid_on:",
                     query_params=query)  # fmt: skip
        st.page_link("views/step.py", label="Step through it in the cell", icon=":material/step:", query_params=query)
        if job.settings["task"] != "text":
            st.page_link("views/gradients.py", label="Why the RNN fails: vanishing gradients",
                         icon=":material/trending_down:")  # fmt: skip
