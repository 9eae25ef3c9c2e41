"""/gradients: why LSTMs exist. The same input through a plain tanh RNN and an LSTM, untrained and
trained, and how far back the gradient of a loss at the last step reaches.

Query parameters (bound to the widgets, so the URL follows every change): source (text or longlag),
text, lag, seed and measure (input, hidden or cell). A link like /gradients?source=longlag&lag=60 opens
exactly that view. The numbers come from lstm_core's backpropagation through time (`lstm_core.analysis.gradients`).
"""

import streamlit as st

from lstm_core.analysis.gradients import MEASURES
from lstm_core.data import tasks
from lstm_core.models.tokenize import UNKNOWN_TOKEN
from ui import explain, gradient_runs, inputs, model_store, typed_text, word_notices
from ui import gradient_figures as figures
from ui.query import check_query

SOURCES = ("text", "longlag")
SOURCE_CAPTIONS = ["a sentence you type, read by the word model", "remember the first symbol across a long gap"]
MEASURE_CAPTIONS = ["∂L/∂xₜ", "∂L/∂hₜ", "∂L/∂cₜ (LSTM), ∂L/∂hₜ (RNN)"]
LAG_LIMITS = (1, tasks.MAX_LAG, 60)  # lowest, highest, default
SEED_LIMITS = (0, 9_999, 0)
CHART_CONFIG = {"displayModeBar": False}
TEXT_EXAMPLES = {
    "Recall a name 48 words later": (
        "Bob knows swimming. He told me over the phone that he had served the navy for four long years. Later he "
        "lived in a small house on the river with his dog. Every morning he went to the beach. For his "
        "contributions, brave Bob"
    ),
    "A short one": "Bob single-handedly fought the enemy and died for his country. For his contributions, brave Bob",
    "A change of subject": typed_text.DEFAULT_TEXT,
}


# ------------------------------------------------------------------ what the URL asked for
raw_params = st.query_params.to_dict()  # read before any widget: bound widgets drop values they reject
checked = check_query(raw_params, {"source": SOURCES, "measure": MEASURES}, {"lag": LAG_LIMITS, "seed": SEED_LIMITS})
for key, value in checked.corrected.items():
    st.session_state[key] = value  # what the notice promised (the bound widget would drop the bad value)
notices = list(checked.notices)

st.header("Why LSTMs: vanishing gradients")
st.caption(
    "To learn from a loss at the last step, a recurrent network sends its gradient back through time, step by "
    "step. Here you see how much of it reaches each earlier step, in a plain tanh RNN and in an LSTM."
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
        help="Picks the untrained cells' random weights and, for the long-lag sequence, its symbols.",
    )
notice_box = st.container()  # one box for everything the page had to change, filled once below

if source == "text":
    example_columns = st.columns(len(TEXT_EXAMPLES))
    for index, (column, (name, example)) in enumerate(zip(example_columns, TEXT_EXAMPLES.items(), strict=True)):
        column.button(name, key=f"gradients_example_{index}", on_click=inputs.set_state, kwargs={"text": example},
                      width="stretch", help=example)  # fmt: skip
    typed = inputs.text_box(
        help="The loss is the word model's surprise at your last word, given the words before it: end the text "
        "on the word to predict.",
    )
    cleaned = typed_text.clean_text(typed)
    notices += cleaned.notices
    if not cleaned.text:
        inputs.show_notices(notice_box, notices)
        st.info(
            "The text is empty. Type a sentence for the model to read, for example: " + TEXT_EXAMPLES["A short one"]
        )
        st.stop()
    try:
        model = model_store.language_model("words")
    except FileNotFoundError:
        inputs.show_notices(notice_box, notices)
        st.error(
            "The word model is not installed (assets/words/model.safetensors is missing). Choose the long-lag sequence."
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
                "None of these words is in the word model's vocabulary, so it reads every one as <unk>: the "
                "gradients below are real, but the text means nothing to the model. Try one of the examples."
            ),
            icon="⚠️",
        )
    elif unknown:
        st.caption(explain.as_markdown(word_notices.vocabulary_notice(model, unknown, "word")))
    comparison = gradient_runs.text_comparison(cleaned.text, int(seed))
    st.caption(
        explain.as_markdown(
            f"The cells read the {comparison.length} words before the last one; the loss is the model's surprise at "
            f"the last word, “{comparison.target}” (−log p of it, through the word model's decoder)."
        )
    )
    trained_note = (
        f"Which cells are trained: the trained LSTM is the word model's own ({model.lstm.hidden_size} units), "
        "trained on the story corpus. No RNN was trained on the stories, so for text there is no trained RNN "
        "(the long-lag sequence has one). The untrained LSTM and RNN have the same sizes and fresh random weights "
        f"(PyTorch's default initialisation, seed {seed}); all three read the same trained word embeddings, and "
        "the word model's decoder reads their last hidden state."
    )
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
            "(about two minutes).",
            icon="ℹ️",
        )
    for problem in unreadable:
        st.warning(explain.as_markdown(problem), icon="⚠️")
    try:
        comparison = gradient_runs.longlag_comparison(int(lag), int(seed), stamp)
    except ValueError as error:  # shipped models that do not fit the task: a broken install, not the user's doing
        message = f"The trained long-lag models do not fit the task ({error}); showing untrained cells."
        st.warning(explain.as_markdown(message), icon="⚠️")
        trained = {}
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
    trained_note = figures.task_models_note(trained, int(seed))

# -------------------------------------------------------------------------------- the chart
st.plotly_chart(figures.gradient_chart(comparison, measure), key="gradients_chart", config=CHART_CONFIG)
with st.container(border=True):
    for sentence in figures.summary_sentences(comparison, measure):
        st.markdown(explain.as_markdown(sentence))
    probability = figures.probability_sentence(comparison)
    if probability:
        st.markdown(explain.as_markdown(probability))
st.caption(explain.as_markdown(trained_note))

# ------------------------------------------------------------------------- the forget gate
st.subheader("The forget gate keeps the path open")
st.markdown(
    "Along the cell state, each step back multiplies the gradient by the forget gate *f* of that step, unit by "
    "unit. Bright yellow is *f* near 1: the unit keeps its memory, and the gradient passes back almost unchanged. "
    "Grey is *f* near 0.5: half is lost at every step."
)
st.plotly_chart(figures.forget_gate_chart(comparison), key="gradients_forget_chart", config=CHART_CONFIG)
for sentence in figures.forget_sentences(comparison):
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
        "to the power $k$: a straight line falling on the log scale. Training helps little (see the trained RNN on "
        "the long-lag sequence): to learn to keep the first symbol, the RNN needs a gradient from the loss back "
        "to that symbol, and only a sliver of it arrives."
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
        "Where the forget gate stays near 1 the path stays open. A freshly initialised LSTM has $f \\approx 0.5$, "
        "so its gradient dies nearly as fast as the RNN's; training opens the gate where the task needs memory."
    )
    st.markdown(
        "That is why a trained LSTM's curve often drops over the last few steps and then levels off: the part "
        "of the gradient that goes through units with a small forget gate dies within a few steps, as in the RNN; "
        "the part that travels along the cell state of units whose forget gate is near 1 shrinks only by the product "
        "of those gates, which stays close to 1 for a long way back."
    )
