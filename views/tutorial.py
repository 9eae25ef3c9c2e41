"""/tutorial: the three classic examples on the real word model, each opened at its token, then short
notes on why plain RNNs forget and on stacked and bidirectional LSTMs."""

import streamlit as st

from ui import explain, lessons, model_store, step_figures
from ui.diagram import cell_diagram_figure
from ui.query import view_query

MODEL_NAME = "words"  # the classic examples are about words: the word model reads them one word a step

st.header("Tutorial: three classic examples")
st.markdown(
    "An LSTM carries two things from word to word: a **cell state** *c*, its long-term memory, and a "
    "**hidden state** *h*, what it shows the rest of the network. Three gates, each a number between 0 and 1 "
    "for every unit, decide what happens to the memory: the **forget gate** keeps or erases it, the "
    "**input gate** writes something new, the **output gate** decides how much of it is shown. The three "
    "lessons below open a trained model's real numbers at the word where each gate does its job."
)

model = model_store.language_model(MODEL_NAME)
for number, lesson in enumerate(lessons.LESSONS):
    traced = model_store.text_trace(MODEL_NAME, lesson.text)
    trace, tokens = traced.trace, list(traced.trace.tokens)
    view = lessons.lesson_view(lesson, model, trace)
    step = trace.step(view.t, view.layer, view.direction)

    st.divider()
    st.subheader(lesson.title)
    st.markdown(lesson.story)
    st.markdown(explain.highlighted_text(tokens, view.t, model.kind))
    if not view.found:
        st.caption(
            f"This model does not read “{lesson.word}” as a word of its own, so the lesson opens on the last token."
        )

    diagram_column, words_column = st.columns([3, 2], gap="large")
    with diagram_column:
        st.plotly_chart(
            cell_diagram_figure(step, view.unit, height=360),
            key=f"tutorial_diagram_{number}",
            config={"displayModeBar": False},
        )
    with words_column:
        st.markdown(f"**Following unit {view.unit}**: {view.unit_reason}.")
        with st.container(border=True):
            for sentence in explain.explain_step(step, view.unit, tokens, model.kind, model.units):
                st.markdown(explain.as_markdown(sentence))
        gender_sentence = lessons.gender_reading(model, trace, view.t)
        if gender_sentence and model.units["subject gender"].unit != view.unit:
            st.markdown(explain.as_markdown(gender_sentence))
        guesses = explain.top_predictions(traced.next_tokens.row(view.t), model.vocab, k=3)
        st.caption(
            explain.as_markdown(
                "Next-token guesses: " + ", ".join(f"“{explain.token_name(token)}” {p:.0%}" for token, p in guesses)
            )
        )
        query = view_query(lesson.text, MODEL_NAME, view.t, view.unit, view.layer, view.direction)
        st.page_link(
            "views/step.py",
            label="Open this step, with the equations",
            icon=":material/biotech:",
            query_params=query,
        )
        st.page_link(
            "views/gates.py",
            label="See every gate over the sentence",
            icon=":material/grid_on:",
            query_params=query,
        )
    st.plotly_chart(
        step_figures.unit_history(trace, view.unit, view.t, view.layer, view.direction),
        key=f"tutorial_history_{number}",
        config={"displayModeBar": False},
    )

st.divider()
st.subheader("Why a plain RNN forgets")
st.markdown(
    "A plain recurrent network has no separate memory: at every word it rewrites its whole state, "
    "$h_t = \\tanh(W x_t + U h_{t-1} + b)$. Learning that “brave …” needs a name seen twenty words earlier means "
    "sending the error back through twenty of those rewrites. Each one multiplies it by U and by the slope of "
    "tanh, which is at most 1, so the signal usually shrinks step after step until nothing is left: the "
    "**vanishing gradient**. The network then simply never learns the long-range link.\n\n"
    "The LSTM's cell state takes a different road: $c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$ adds to the memory instead of "
    "rewriting it. Where the forget gate stays near 1, the error flows back along the cell almost unchanged, "
    "so a fact from far back can still be learned."
)
with st.container(horizontal=True):
    st.page_link("views/gradients.py", label="Measure both gradients, step by step back in time",
                 icon=":material/trending_down:", query_params={"source": "longlag", "lag": "60"})  # fmt: skip
    st.page_link(
        "views/train.py", label="Train an RNN and an LSTM on a long gap yourself", icon=":material/model_training:"
    )
st.subheader("Stacked and bidirectional LSTMs")
st.markdown(
    "**Stacked.** A second LSTM layer reads the first layer's hidden states as its input $x_t$, a third reads "
    "the second's, and so on (`num_layers` in PyTorch). Higher layers can combine what lower ones found into "
    "broader patterns. On the step view a model with several layers gets a layer choice.\n\n"
    "**Bidirectional.** A second LSTM reads the text backwards, from the last word to the first "
    "(`bidirectional=True`; its weights end in `_reverse`). At each word the two hidden states sit side by side, "
    "so the network knows both what came before and what comes after. That helps when labelling a whole "
    "sentence, but not when predicting the next word: the backward reader would already have seen it, which is "
    "why the models here read forward only."
)
st.subheader("Try it with one unit")
st.markdown(
    "One LSTM unit is small enough to set by hand. On the playground you move its weights with sliders and "
    "see the gates, the cell and the output over a short sequence: make it keep a bit forever, reset on a "
    "marker, count, or switch off the forget gate to meet the 1997 cell that could not let go."
)
st.page_link("views/playground.py", label="Open the playground", icon=":material/tune:")
