"""/train: a plain RNN and an LSTM learn a long-lag task side by side, here, on the server's CPU;
or a small character LSTM learns the user's own text. The trained LSTM then opens in /gates and
/step for this session only.

Training runs in a background thread (`ui.training.TrainingJob`, one per student, bounded); when the
server's slots are taken it waits in line (`ui.train_queue`) and the page shows its place and an
estimated wait. A fragment redraws the place or the progress bar and the curves while the run waits
or trains, and the Stop button leaves the line or ends the run after the current step.
"""

import streamlit as st

from lstm_core.config import DEFAULTS
from ui import explain, model_store, training
from ui import training_controls as controls

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

# ----------------------------------------------------------------------------------- inputs
st.header("Train an RNN and an LSTM")
st.caption(
    "Both networks learn here, on this server's CPU, from the same examples with the same optimizer, and you watch "
    "their loss and accuracy as they go. Afterwards the trained LSTM opens in the gates and step views, for you only."
)
task = st.radio("Task", list(training.TASK_CHOICES), format_func=training.TASK_CHOICES.get, key="train_task",
                horizontal=True, captions=TASK_CAPTIONS, persist_state="session")  # fmt: skip
st.markdown(EXPLANATIONS[task])
settings = controls.text_settings() if task == "text" else controls.task_settings(task)

job: training.TrainingJob | None = st.session_state.get(controls.JOB_KEY)
active = job is not None and job.snapshot().active  # training, or waiting in line
messages = []  # (box, message, icon), shown under the buttons
with st.container(horizontal=True, vertical_alignment="center"):
    if st.button("Train", key="train_start", type="primary", icon=":material/play_arrow:"):
        job, active, messages = controls.start_run(settings, job, active)
    st.button("Stop", key="train_stop", icon=":material/stop:", on_click=controls.stop_job, disabled=not active)
    st.button("Default settings", key="train_defaults", icon=":material/restart_alt:",
              on_click=controls.restore_defaults, args=(task,), help="Back to the settings of the default run.")  # fmt: skip
    if task != "text":
        st.caption(f"Batches of {DEFAULTS[task].batch_size} sequences, Adam; the LSTM's forget gate starts open.")
for box, message, icon in messages:
    controls.show_message(getattr(st, box), message, icon)

# ------------------------------------------------------------------------------ the run
if job is None:
    st.info("Press **Train** to start. The default run takes well under a minute; watch the LSTM's accuracy climb "
            "while the RNN's stays at chance.", icon=":material/model_training:")  # fmt: skip
    st.stop()

st.subheader(("Waiting to train: " if job.snapshot().status == "queued" else "Training: ") + job.description)
for notice in job.settings.get("notices", ()):
    controls.show_message(st.warning, notice, ":material/warning:")
controls.live_progress(job, active)
snapshot = job.snapshot()
if snapshot.active:
    st.stop()
if snapshot.status == "cancelled":
    controls.show_message(st.info, controls.left_the_line(snapshot), ":material/logout:")
    st.stop()
if snapshot.status == "failed":
    controls.show_message(st.error, f"Training failed ({snapshot.error}). Try smaller settings.", ":material/error:")
    st.stop()

# ------------------------------------------------------------------------------ the results
result = snapshot.result
if result.stopped:
    controls.show_message(st.warning, controls.ended_early(snapshot), ":material/stop_circle:")
box, sentence = training.verdict(snapshot.history, job.settings["task"], controls.chance_of(snapshot, job),
                                 job.settings.get("lag"))  # fmt: skip
(st.success if box == "success" else st.info)(sentence)

if job.settings["task"] == "adding_problem":
    st.info("The adding problem feeds the cells numbers, not symbols, so it cannot be opened as text in the gates and "
            "step views. Train on *Remember the first symbol* or on your own text to look inside the LSTM.",
            icon=":material/block:")  # fmt: skip
    st.stop()
controls.keep_trained_model(job, result)
if job.model_name not in model_store.session_model_names():
    st.info("This trained model was replaced by newer ones (a session keeps the last "
            f"{model_store.SESSION_MODEL_LIMIT}). Train again to open it.")  # fmt: skip
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
