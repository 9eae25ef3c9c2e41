"""/gradients: why LSTMs exist. A trained plain tanh RNN and a trained LSTM, given the same data and the
same training budget, on a task that needs a long memory: how far back the gradient of a loss at the
last step reaches in each, where the LSTM's forget gates close, and how often each gets the task right.

Query parameters (bound to the widgets, so the URL follows every change): source (text or longlag),
text, lag, seed, measure (input, hidden or cell), mark (unit or mean) and untrained (also draw the
untrained cells). A link like /gradients?source=longlag&lag=60 opens exactly that view. The numbers
come from lstm_core's backpropagation through time (`lstm_core.analysis.gradients`).
"""

import streamlit as st

from lstm_core.analysis.gradients import CLOSED_BELOW, MEASURES, forget_marks
from lstm_core.data import tasks
from lstm_core.models.tokenize import UNKNOWN_TOKEN
from ui import accessibility, explain, gradient_runs, inputs, model_store, palette, typed_text, word_notices
from ui import gradient_figures as figures
from ui.query import check_query

SOURCES = ("text", "longlag")
SOURCE_CAPTIONS = ["a sentence you type, read by the story-world word model", "remember the first symbol across a long gap"]
MEASURE_CAPTIONS = ["∂L/∂xₜ", "∂L/∂hₜ", "∂L/∂cₜ (LSTM), ∂L/∂hₜ (RNN)"]
MARKS = ("unit", "mean")
LAG_LIMITS = (1, tasks.MAX_LAG, 60)  # lowest, highest, default
SEED_LIMITS = (0, 9_999, 0)
CHART_CONFIG = {"displayModeBar": False}
PRONOUN_EXAMPLE = tasks.PRONOUN_EXAMPLE
TEXT_EXAMPLES = {
    "A pronoun 40 words after the name": PRONOUN_EXAMPLE,
    "A pronoun right after a new subject": "Mary is a nice person. Dan, on the other hand, is evil. He",
    "Recall a name 48 words later": (
        "Bob knows swimming. He told me over the phone that he had served the navy for four long years. Later he "
        "lived in a small house on the river with his dog. Every morning he went to the beach. For his "
        "contributions, brave Bob"
    ),
}


# ------------------------------------------------------------------ what the URL asked for
raw_params = st.query_params.to_dict()  # read before any widget: bound widgets drop values they reject
checked = check_query(raw_params, {"source": SOURCES, "measure": MEASURES, "mark": MARKS},
                      {"lag": LAG_LIMITS, "seed": SEED_LIMITS})  # fmt: skip
for key, value in checked.corrected.items():
    st.session_state[key] = value  # what the notice promised (the bound widget would drop the bad value)
notices = list(checked.notices)

st.header("Why LSTMs: how far back can a network learn from?")
st.caption(
    "A network learns by sending the gradient of its loss back through the words it read, step by step. Here a "
    "plain RNN and an LSTM, each trained on the same data for the same number of steps, face a task that needs "
    "a long memory. You see how much of the gradient reaches each earlier word, where the LSTM's forget gate "
    "closes, and how often each one gets the task right."
)

# ------------------------------------------------------------------------------ the inputs
source_column, measure_column, number_column = st.columns([2, 3, 2])
with source_column:
    source = st.radio(
        "What the cells read",
        SOURCES,
        key="source",
        bind="query-params",
        persist_state="session",
        captions=SOURCE_CAPTIONS,
    )
with measure_column:
    measure = st.radio(
        "Gradient with respect to",
        MEASURES,
        key="measure",
        bind="query-params",
        persist_state="session",
        captions=MEASURE_CAPTIONS,
        horizontal=True,
        help="The input at each step, the hidden state, or the memory: the LSTM's cell state c "
        "(a plain RNN's only state is h).",
    )
with number_column:
    seed = st.number_input(
        "Random seed",
        min_value=SEED_LIMITS[0],
        max_value=SEED_LIMITS[1],
        value=SEED_LIMITS[2],
        step=1,
        key="seed",
        bind="query-params",
        persist_state="session",
        help="A number that fixes the random choices, so the same number always gives the same result: here the "
        "untrained cells' random weights and, for the long-lag sequence, its symbols.",
    )
    show_untrained = st.checkbox(
        "Also draw untrained cells",
        key="untrained",
        bind="query-params",
        persist_state="session",
        help="An RNN and an LSTM with fresh random weights (dashed): what training changed.",
    )
notice_box = st.container()  # one box for everything the page had to change, filled once below

if source == "text":
    example_columns = st.columns(len(TEXT_EXAMPLES))
    for index, (column, (name, example)) in enumerate(zip(example_columns, TEXT_EXAMPLES.items(), strict=True)):
        column.button(name, key=f"gradients_example_{index}", on_click=inputs.set_state, kwargs={"text": example},
                      width="stretch", help=example)  # fmt: skip
    typed = inputs.text_box(
        value=PRONOUN_EXAMPLE,
        help="The loss is the story-world word model's surprise at your last word, given the words before it: end "
        "the text "
        "on the word to predict, for example a pronoun long after the person was named.",
    )
    cleaned = typed_text.clean_text(typed)
    notices += cleaned.notices
    if not cleaned.text:
        inputs.show_notices(notice_box, notices)
        st.info("The text is empty. Type a sentence for the model to read, for example: " + PRONOUN_EXAMPLE)
        st.stop()
    try:
        model = model_store.language_model(gradient_runs.TEXT_LSTM)
    except FileNotFoundError:
        inputs.show_notices(notice_box, notices)
        st.error(
            f"The story-world word model is not installed (assets/{gradient_runs.TEXT_LSTM}/model.safetensors is "
            "missing). Choose the long-lag sequence."
        )
        st.stop()
    tokens = model.tokens(cleaned.text)
    if len(tokens) < 2:
        inputs.show_notices(notice_box, notices)
        st.info(
            "The model needs at least two words: the loss is its surprise at the last word, given the words before it."
        )
        st.stop()
    if len(tokens) > gradient_runs.MAX_TEXT_TOKENS:
        notices.append(
            f"The text has {len(tokens):,} tokens; this page reads the first {gradient_runs.MAX_TEXT_TOKENS}."
        )
    inputs.show_notices(notice_box, notices)
    unknown = model.unknown_words(cleaned.text)
    if all(token == UNKNOWN_TOKEN for token in tokens):
        st.warning(
            explain.as_markdown(
                "None of these words is in the story-world word model's vocabulary, so it reads every one as <unk>: "
                "the "
                "gradients below are real, but the text means nothing to the model. Try one of the examples."
            ),
            icon="⚠️",
        )
    elif unknown:
        st.caption(explain.as_markdown(word_notices.vocabulary_notice(model, unknown, "word")))
    rnn_stamp = gradient_runs.text_rnn_stamp()
    text_rnn, rnn_problem = gradient_runs.shipped_text_rnn(rnn_stamp)
    comparison = gradient_runs.text_comparison(cleaned.text, int(seed), rnn_stamp)
    st.caption(
        explain.as_markdown(
            f"The cells read the {comparison.length} words before the last one; the loss is the model's surprise at "
            f"the last word, “{comparison.target}” (−log p of it, through the model's decoder)."
        )
    )
    if rnn_problem is not None:
        box = st.info if rnn_problem == gradient_runs.NOT_INSTALLED else st.warning  # missing is normal, damaged is not
        box(
            f"The story-world RNN (assets/longlag/text_rnn.safetensors) {explain.as_markdown(rnn_problem)}, so for "
            "text only the LSTM is trained; the long-lag sequence compares a trained RNN with a trained LSTM. It is "
            "made with `python -m lstm_core.training.text_rnn` (a few minutes).",
            icon="ℹ️",
        )
    gender_unit = model.units.get("subject gender")
    marked_units = (gender_unit.unit,) if gender_unit else ()
    mark_captions = [
        f"unit {gender_unit.unit}, the subject-gender unit" if gender_unit else "no gender unit: the mean",
        f"the mean of all {model.lstm.hidden_size} units",
    ]
    trained_note = figures.text_models_note(model.lstm.hidden_size, text_rnn, int(seed))
else:
    lag = st.slider(
        "Lag: distractors between the symbol to remember and the question",
        min_value=LAG_LIMITS[0],
        max_value=LAG_LIMITS[1],
        value=LAG_LIMITS[2],
        key="lag",
        bind="query-params",
        persist_state="session",
    )
    inputs.show_notices(notice_box, notices)
    stamp = gradient_runs.weights_stamp()
    trained, missing, unreadable = gradient_runs.shipped_task_models(stamp)
    if missing:
        names = " and ".join(kind.upper() for kind in missing)
        st.info(
            f"The trained {names} {'is' if len(missing) == 1 else 'are'} not installed yet (assets/longlag/), so "
            "only untrained cells are shown in their place. They are made with `python -m lstm_core.training.tasks` "
            "(under a minute).",
            icon="ℹ️",
        )
    for problem in unreadable:
        st.warning(explain.as_markdown(problem), icon="⚠️")
    try:
        comparison = gradient_runs.longlag_comparison(int(lag), int(seed), stamp)
        memory = gradient_runs.memory_units(stamp)
    except ValueError as error:  # shipped models that do not fit the task: a broken install, not the user's doing
        message = f"The trained long-lag models do not fit the task ({error}); showing untrained cells."
        st.warning(explain.as_markdown(message), icon="⚠️")
        trained, memory = {}, ()
        comparison = gradient_runs.longlag_comparison(int(lag), int(seed), stamp, with_trained=False)
    first, rest = comparison.step_labels[0], comparison.step_labels[1:]
    sequence = f"**{explain.as_markdown(first)}** {explain.as_markdown(figures.sequence_preview(rest))}"
    if comparison.target_probabilities:  # remember the first symbol
        noisy = f", each blurred by random noise (σ = {comparison.noise:g})" if comparison.noise else ""
        st.markdown(
            f"The sequence: {sequence}. The first symbol is one of A, B, C, D; then come {len(rest)} distractors "
            f"from w, x, y, z{noisy}. At the end the cell must say which symbol came first (here "
            f"**{explain.as_markdown(comparison.target)}**); the loss is the cross-entropy of its answer."
        )
    else:  # the adding problem
        st.markdown(
            f"The sequence: {sequence}. At the end the cell must give the sum of the two marked numbers "
            f"(here {explain.as_markdown(comparison.target)}); the loss is the squared error of its answer."
        )
    marked_units = memory
    mark_captions = [
        f"{figures.marks_names(memory)[0]}, the units that hold the symbol" if memory else "no trained LSTM: the mean",
        "the mean of all units",
    ]
    trained_note = figures.task_models_note(trained, int(seed))

# ------------------------------------------------------------------ how often each is right
st.subheader("How often each one gets it right")
if source == "text":
    accuracies = gradient_runs.gap_accuracies(rnn_stamp)
    cue_distances = gradient_runs.training_cue_distances(rnn_stamp)
    metric_columns = st.columns(len(accuracies))
    for column, (key, rows) in zip(metric_columns, accuracies.items(), strict=True):
        column.metric(
            f"{figures.curve_name(key)}: pronoun right after about {rows[-1]['gap']:.0f} words",
            f"{rows[-1]['accuracy']:.0%}",
            help=f"Share of {rows[-1]['count']} held-out prompts where the model gives the right pronoun (he or she) "
            "a higher probability than the other one; chance is 50%.",
            border=True,
        )
    st.plotly_chart(
        figures.gap_accuracy_chart(accuracies),
        key="gradients_accuracy_chart",
        alt=accessibility.GAP_ACCURACY,
        config=CHART_CONFIG,
    )
    st.caption(
        explain.as_markdown(
            figures.gap_accuracy_sentence(accuracies) + " Each prompt changes the subject, quotes the new subject "
            f"for {tasks.GAP_CLAUSES[0]} to {tasks.GAP_CLAUSES[-1]} clauses that say nothing of gender, then asks for "
            "the pronoun: “... Dan, on the other hand, is evil. Dan said: “we will win, it is late, ...”. Later, ___”."
        )
    )
else:
    accuracies = cue_distances = None
    scores = figures.task_scores(trained)
    metric_columns = st.columns(max(len(scores), 1))
    for column, (kind, score) in zip(metric_columns, scores.items(), strict=False):
        column.metric(
            f"{figures.CELL_NAMES[kind]}, trained: first symbol right",
            f"{score:.0%}",
            help="Share of 512 held-out sequences of the trained lag whose first symbol the cell names; chance is 25%.",
            border=True,
        )
    if not scores:
        st.caption("No trained cells are installed, so there is no accuracy to show.")
st.caption(explain.as_markdown(trained_note))

# -------------------------------------------------------------------------------- the chart
st.subheader("How far back the gradient reaches")
mark = st.radio(
    "Shade the words where this forget gate closes (drops below one half)",
    MARKS,
    key="mark",
    bind="query-params",
    persist_state="session",
    captions=mark_captions,
    horizontal=True,
)
shown = figures.cells_to_show(comparison, show_untrained)
lstm_key = figures.marked_lstm(comparison)
marks = forget_marks(comparison.profiles[lstm_key], marked_units if mark == "unit" else (), CLOSED_BELOW)
marked_name, marked_gate = figures.marks_names(marks.units)
mark_label = f"{figures.curve_name(lstm_key)}: forget gate, {marked_name}"
st.plotly_chart(
    figures.gradient_chart(shown, measure, marks, mark_label),
    key="gradients_chart",
    alt=accessibility.GRADIENT,
    config=CHART_CONFIG,
)
st.caption(explain.as_markdown(figures.chart_caption(shown, measure)))
with st.container(border=True):
    for sentence in figures.marks_sentences(comparison, marks, marked_gate):
        st.markdown(explain.as_markdown(sentence))
    for sentence in figures.summary_sentences(shown, measure):
        st.markdown(explain.as_markdown(sentence))
    for sentence in figures.reach_sentences(comparison, measure, accuracies, cue_distances):
        st.markdown(explain.as_markdown(sentence))
    probability = figures.probability_sentence(shown)
    if probability:
        st.markdown(explain.as_markdown(probability))

# ------------------------------------------------------------------------- the forget gate
st.subheader("The forget gate keeps the path open")
st.markdown(
    "Along the cell state, each step back multiplies the gradient by the forget gate *f* of that step, unit by "
    f"unit. {palette.GATE_RULE} Dark green is *f* near 1: the unit keeps its memory, and the gradient passes back "
    "almost unchanged. Mid green is *f* near 0.5: half is lost at every step."
)
st.plotly_chart(
    figures.forget_gate_chart(shown), key="gradients_forget_chart", alt=accessibility.FORGET_GATES, config=CHART_CONFIG
)
for sentence in figures.forget_sentences(shown):
    st.markdown(explain.as_markdown(sentence))

# ---------------------------------------------------------------------------------- why
st.subheader("Why the RNN forgets and the LSTM does not")
rnn_column, lstm_column = st.columns(2, gap="large")
with rnn_column:
    st.markdown(
        "**Plain RNN.** Every step rewrites the whole state, $h_t = \\tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)$. "
        "Going one step back, the gradient is multiplied by"
    )
    st.latex(r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\!\left(1 - h_t^2\right) W_{hh}")
    st.markdown(
        "The slope of tanh, $1 - h_t^2$, is never above 1, and unless $W_{hh}$ stretches vectors enough to make up "
        "for it, every step shrinks the gradient by about the same factor. After $k$ steps that factor is raised "
        "to the power $k$: a straight line falling on the log scale. Training helps little: to learn to keep the "
        "first symbol (or the subject's gender across a long quotation), the RNN needs a gradient from the loss "
        "back to it, and only a sliver arrives."
    )
with lstm_column:
    st.markdown(
        "**LSTM.** The cell state is updated by adding, $c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$. Along the "
        "cell state, one step back multiplies the gradient by"
    )
    st.latex(
        r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t) \quad \text{(plus paths through } h_{t-1})"
    )
    st.markdown(
        "No tanh and no weight matrix on this path: $k$ steps back multiply by $f_t \\odot f_{t-1} \\odot \\dots$. "
        "Where the forget gate stays near 1 the path stays open; where it closes (the shaded words above) the path "
        "is cut. A freshly initialised LSTM has $f \\approx 0.5$, so its gradient dies nearly as fast as the RNN's; "
        "training opens the gate where the task needs memory and closes it where the memory should be replaced."
    )
