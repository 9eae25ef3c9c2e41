"""/tutorial: build up from one hand-set unit to a trained model's three lessons (forget, input, output),
each with a question to answer before reading the trace; then how the named units were found; then
gradients, layers and directions in short. Every unit, token and number comes from the chosen model's
own trace (ui.lessons), never from text written in advance.

Query parameter: model (bound to the model choice, shared with the other pages). A question's answer is
kept per model, so choosing another model asks its questions afresh. Until a question is answered (an
option picked, or "Show the answer" pressed) its lesson shows the text and the question only: the story,
the table and the charts all give the answer away.
"""

import streamlit as st

from lstm_core.analysis import directions
from lstm_core.models.tagger import TAGGERS
from ui import (
    ablation,
    accessibility,
    explain,
    glossary,
    inputs,
    lessons,
    model_store,
    palette,
    step_figures,
    tagger_lessons,
)
from ui import playground as pg
from ui.diagram import cell_diagram_figure
from ui.query import view_query

CHART_CONFIG = {"displayModeBar": False}

raw_params = st.query_params.to_dict()  # read before any widget: bound widgets drop values they reject

st.header("Tutorial: build an LSTM up, then check yourself")
st.markdown(
    "An LSTM reads a text one token at a time and carries two things from token to token: a **cell state** *c*, "
    "its memory, and a **hidden state** *h*, what it shows the rest of the network. Three **gates**, each a number "
    "between 0 and 1 for every unit, decide what happens to the memory: the **forget gate** keeps or erases it, the "
    "**input gate** adds something new, the **output gate** decides how much of it is shown. This page starts with "
    "one unit set by hand, then finds each gate at work in a trained model. Each lesson asks a question first: "
    "answer it, then read on.",
    help=glossary.help_text("token", "cell state", "hidden state", "gate", "unit"),
)
st.caption(palette.LEGEND)
st.page_link("views/glossary.py", label="Every term in plain words: the glossary", icon=":material/menu_book:")

# ------------------------------------------------------------------------------- one unit
warm = lessons.warm_up()
st.divider()
st.subheader("0 · Start small: one unit that keeps a bit and forgets on a marker",
             help=glossary.help_text("unit", "forget gate", "input gate"))  # fmt: skip
st.markdown(
    f"One unit, one number in per step, its weights set by hand (the playground's “{warm.preset.title}”). It reads "
    f"the sequence {warm.preset.sequence.replace('-', '−')}: a 1 is something to remember, a 0 a blank step, "
    "a −1 a marker."
)
with st.container(border=True):
    picked = st.pills(
        explain.as_markdown(warm.question.prompt),
        range(len(warm.question.labels)),
        format_func=warm.question.label,
        key="tutorial_question_warm_up",
        **inputs.reveal_on_pick("tutorial_question_warm_up"),
    )
    inputs.answer_or_wait(warm.question, picked, "tutorial_question_warm_up",
                          "Pick an answer, or show it; a chart of the unit then shows why.")  # fmt: skip
if inputs.question_answered("tutorial_question_warm_up"):
    st.plotly_chart(pg.playground_figure(warm.trace, selected_step=warm.step), key="tutorial_warm_up_chart", alt=accessibility.PLAYGROUND,
                    config=CHART_CONFIG)  # fmt: skip
    for sentence in warm.story:
        st.markdown(explain.as_markdown(sentence))
    st.table(warm.table, border="horizontal", hide_index=True)
st.page_link("views/playground.py", label="Set the weights yourself on the playground", icon=":material/tune:",
             query_params={"preset": warm.preset.title})  # fmt: skip

# -------------------------------------------------------------------------- the trained model
st.divider()
st.subheader("A trained model", help=glossary.help_text("story world", "vocabulary"))
model_column, about_column = st.columns([1, 2], gap="large")
with model_column:
    model_name, model_notice = inputs.model_choice(raw_params, only=model_store.next_word_model_names())
    if str(raw_params.get("model", "")) in TAGGERS:  # a tagger guesses no next word: its lesson is further down
        model_notice = (f"The lessons here follow a model's guess of the next word; the {raw_params['model']} model "
                        "tags words instead, and has its own lesson under “Stacked and bidirectional LSTMs” below.")  # fmt: skip
with about_column:
    st.markdown(
        "Nobody set this model's weights by hand: it learned them by guessing the next word of many stories. So "
        "nobody told it where to forget. The three lessons below read its own numbers on three short texts and "
        "find where each gate does its job; choose another model and they find that model's units and tokens."
    )
    if model_notice:
        st.warning(explain.as_markdown(model_notice), icon=":material/warning:")
model = model_store.language_model(model_name)
with st.spinner("Reading the lessons' texts with the model…"):
    taught = lessons.lessons_for(model_name)

for lesson in taught.lessons:
    question_key = f"tutorial_question_{lesson.key}_{model_name}"
    answered = inputs.question_answered(question_key)
    st.divider()
    st.subheader(lesson.title, help=glossary.help_text(*lessons.LESSON_TERMS[lesson.key]))
    if answered:
        st.markdown(explain.highlighted_text(lesson.tokens, lesson.t, model.kind))
    else:  # the whole text, the answer's token not marked
        st.markdown(explain.highlighted_text(lesson.tokens, None, model.kind, radius=len(lesson.tokens)))
    if not lesson.found:
        st.caption("This model does not read the lesson's word as expected, so the lesson opens where the trace says.")
    with st.container(border=True):
        picked = st.pills(
            explain.as_markdown(lesson.question.prompt),
            range(len(lesson.question.labels)),
            format_func=lesson.question.label,
            key=question_key,
            **inputs.reveal_on_pick(question_key),
        )
        inputs.answer_or_wait(lesson.question, picked, question_key,
                              "Click a word to answer, or show the answer; the trace then shows why.")  # fmt: skip
    if not answered:  # the story, the table and every chart below give the answer away
        continue

    st.markdown(f"**Following unit {lesson.unit}**: {explain.as_markdown(lesson.unit_reason)}")
    for sentence in lesson.story:
        st.markdown(explain.as_markdown(sentence))
    if lesson.table:
        st.table(lesson.table, border="horizontal", hide_index=True)
    if lesson.carried:
        st.plotly_chart(lessons.carry_figure(lesson.tokens, lesson.carried, lesson.t),
                        key=f"tutorial_{lesson.key}_carry", alt=accessibility.CARRY, config=CHART_CONFIG)  # fmt: skip
    if lesson.origins is not None:
        st.plotly_chart(lessons.origin_figure(lesson.tokens, lesson.origins, lesson.t, lesson.unit),
                        key=f"tutorial_{lesson.key}_origins", alt=accessibility.ORIGINS, config=CHART_CONFIG)  # fmt: skip
    if lesson.effect is not None:
        st.markdown(f"**Switch unit {lesson.unit} off.** Does the unit cause the prediction, or only go along with "
                    "it? Read the text again with its cell held at 0 at every token:",
                    help=ablation.OFF_HELP)  # fmt: skip
        before_lines, after_lines = lessons.effect_lines(lesson.effect)
        lines_column, bars_column = st.columns([3, 2], gap="medium")
        if lesson.effect.words:
            lines_column.plotly_chart(
                ablation.word_probability_figure(lesson.tokens, before_lines, lesson.t, after=after_lines,
                                                 after_label=f"unit {lesson.unit} off"),
                key=f"tutorial_{lesson.key}_lines", alt=accessibility.WORD_PROBABILITIES, config=CHART_CONFIG,
            )  # fmt: skip
        bars_column.plotly_chart(ablation.ablation_figure(lesson.effect), key=f"tutorial_{lesson.key}_ablation", alt=accessibility.ABLATION,
                                 config=CHART_CONFIG)  # fmt: skip
        st.markdown(explain.as_markdown(ablation.ablation_sentence(lesson.effect)))
        if lesson.effect_reading:
            st.markdown(explain.as_markdown(lesson.effect_reading))

    step = lesson.trace.step(lesson.t, lesson.layer, lesson.direction)
    diagram_column, words_column = st.columns([3, 2], gap="large")
    with diagram_column:
        st.plotly_chart(cell_diagram_figure(step, lesson.unit, height=360), key=f"tutorial_{lesson.key}_diagram", alt=accessibility.CELL_DIAGRAM_WITH_NUMBERS,
                        config=CHART_CONFIG)  # fmt: skip
    with words_column:
        st.markdown(f"**Unit {lesson.unit} at token {lesson.t}, gate by gate**")
        with st.container(border=True):
            for sentence in explain.explain_step(step, lesson.unit, lesson.tokens, model.kind, model.units):
                st.markdown(explain.as_markdown(sentence))
        query = view_query(lesson.text, model_name, lesson.t, lesson.unit, lesson.layer, lesson.direction)
        st.page_link("views/step.py", label="Open this step, with the equations", icon=":material/biotech:",
                     query_params=query)  # fmt: skip
        st.page_link("views/gates.py", label="See every gate over the sentence", icon=":material/grid_on:",
                     query_params=query)  # fmt: skip
    st.plotly_chart(step_figures.unit_history(lesson.trace, lesson.unit, lesson.t, lesson.layer, lesson.direction,
                                              named=ablation.named_unit(model, (lesson.layer, lesson.direction, lesson.unit))),
                    key=f"tutorial_{lesson.key}_history", alt=accessibility.UNIT_HISTORY, config=CHART_CONFIG)  # fmt: skip

# ----------------------------------------------------------------------------- named units
st.divider()
st.subheader("How the named units were found", help=glossary.help_text("named unit", "threshold", "held out"))
with st.spinner("Reading the named units over many stories…"):
    named = lessons.named_units_for(model_name)
if not named:
    st.info("This model has no named units: nobody has searched it for units that track one property.",
            icon=":material/info:")  # fmt: skip
for story in named:
    with st.container(border=True):
        st.markdown(f"**{explain.as_markdown(story.title)}**")
        for sentence in story.sentences:
            st.markdown(explain.as_markdown(sentence))
        if story.sample is not None:
            st.plotly_chart(lessons.unit_sample_figure(story.sample, story.info),
                            key=f"tutorial_named_{story.info.unit}_{story.info.name}", alt=accessibility.UNIT_SAMPLE, config=CHART_CONFIG)  # fmt: skip
        if story.explorer is not None:
            st.markdown(explain.as_markdown(story.explorer_sentence))
            st.page_link("views/corpus.py", label="Open it in the corpus explorer", icon=":material/manage_search:",
                         query_params=story.explorer)  # fmt: skip

# ------------------------------------------------------------------------ further
st.divider()
st.subheader("Why a plain RNN forgets", help=glossary.help_text("RNN", "gradient", "vanishing gradient"))
st.markdown(
    "A plain recurrent network has no separate memory: at every word it rewrites its whole state. Learning that "
    "“brave …” needs a name seen twenty words earlier means sending the error back through twenty of those "
    "rewrites, and each one usually shrinks it, until nothing is left: the **vanishing gradient**. The LSTM's cell "
    "adds to its memory instead of rewriting it; where the forget gate stays near 1, the error flows back along the "
    "cell almost unchanged, so a fact from far back can still be learned."
)
with st.expander("For the curious: the Jacobian, and why it shrinks"):
    st.markdown(
        "A plain RNN computes $h_t = \\tanh(W x_t + U h_{t-1} + b)$. How much a late loss changes when an early state "
        "is nudged is a product of one table per step, the **Jacobian** "
        "$\\partial h_t / \\partial h_{t-1} = \\mathrm{diag}(1 - h_t^2)\\,U$. The slope of tanh is at most 1, so "
        "unless $U$ is large these tables shrink what passes through them, and a product of many shrinks to almost "
        "nothing. Along the LSTM's cell, $c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$ gives "
        "$\\partial c_t / \\partial c_{t-1} = \\mathrm{diag}(f_t)$ on that path: near 1 wherever the forget gate keeps."
    )
with st.container(horizontal=True):
    st.page_link("views/gradients.py", label="Measure both gradients, step by step back in time",
                 icon=":material/trending_down:", query_params={"source": "longlag", "lag": "60"})  # fmt: skip
    st.page_link("views/train.py", label="Train an RNN and an LSTM on a long gap yourself",
                 icon=":material/model_training:")  # fmt: skip

st.subheader("Stacked and bidirectional LSTMs", help=glossary.help_text("layer", "direction"))
st.markdown(
    "**Stacked.** A second LSTM layer reads the first layer's hidden states instead of the tokens, a third reads the "
    "second's, and so on; higher layers can combine what lower ones found.\n\n"
    "**Bidirectional.** A second LSTM reads the text backwards, from the last word to the first, and at each word the "
    "two hidden states sit side by side, so the network knows what came before and what comes after. That helps when "
    "labelling a whole sentence, but not when predicting the next word: the backward reader would already have seen "
    "it, which is why the language models above read forward only.\n\n"
    "Two **taggers** show both ideas at work. Each gives every word its part of speech (noun, verb, …) and has two "
    "stacked layers; `tagger` reads both ways, `tagger-forward` forwards only. Everything else is the same: size, "
    "training sentences (the Brown corpus of 1961 American English) and training time."
)
both, forward = model_store.language_model("tagger"), model_store.language_model("tagger-forward")
scores = {name: model_store.language_model(name).metrics.get("test", {}) for name in TAGGERS}
if all("accuracy" in score for score in scores.values()):
    st.markdown(
        f"On the {scores['tagger']['tokens']:,} words of the Brown files kept for testing, the tagger that reads both "
        f"ways is right on **{scores['tagger']['accuracy']:.1%}**, the forward-only one on "
        f"**{scores['tagger-forward']['accuracy']:.1%}**."
    )

st.markdown("**Reading both ways.** Some words can only be tagged from what comes after them.")
pair_index = st.segmented_control(
    "Two sentences with the same word", range(len(directions.AMBIGUOUS_PAIRS)), default=0,
    format_func=tagger_lessons.pair_label,
    key="tutorial_tagger_pair",
)  # fmt: skip
pair = directions.AMBIGUOUS_PAIRS[pair_index if pair_index is not None else 0]
(first_text, first_t, _), (second_text, second_t, second_tag) = pair
second_words = second_text.split()
second_rows = directions.tag_rows(both, forward, second_words)
question = tagger_lessons.which_tagger_question(second_rows, second_t, second_tag)
question_key = f"tutorial_question_tagger_{pair_index}"
with st.container(border=True):
    picked = st.pills(explain.as_markdown(question.prompt), range(len(question.labels)), format_func=question.label,
                      key=question_key, **inputs.reveal_on_pick(question_key))  # fmt: skip
    inputs.answer_or_wait(question, picked, question_key, "Pick an answer, or show it; the two taggers' tags then "
                          "show why.")  # fmt: skip
if inputs.question_answered(question_key):
    first_rows = directions.tag_rows(both, forward, first_text.split())
    table_columns = st.columns(2, gap="large")
    for column, text, rows, t in ((table_columns[0], first_text, first_rows, first_t),
                                   (table_columns[1], second_text, second_rows, second_t)):  # fmt: skip
        with column:
            st.markdown(f"**“{explain.as_markdown(text)}”**")
            st.table(tagger_lessons.comparison_table(rows), border="horizontal", hide_index=True)
            st.markdown(explain.as_markdown(tagger_lessons.comparison_sentence(rows, t)))
    unit, difference = directions.carrier_unit(both, (first_text.split(), first_t), (second_words, second_t))
    st.markdown(
        f"**Which gate carries the later words back?** In the tagger's first layer, the backward unit whose cell state "
        f"at “{second_words[second_t]}” differs most between the two sentences is unit {unit} "
        f"({difference:+.2f} from the first sentence to the second). Here it is read as the backward direction reads, "
        "from the last word back:".replace("+-", "−")
    )  # fmt: skip
    path_columns = st.columns(2, gap="large")
    paths = []
    for column, text, t in ((path_columns[0], first_text, first_t), (path_columns[1], second_text, second_t)):
        words = text.split()
        path = directions.carried_path(both.trace_words(words), unit, t)
        paths.append((words, path))
        with column:
            st.plotly_chart(tagger_lessons.carried_figure(words, path, unit), key=f"tutorial_carried_{pair_index}_{t}_{text}",
                            alt=accessibility.CARRIED_BACK, config=CHART_CONFIG)  # fmt: skip
            st.markdown(explain.as_markdown(tagger_lessons.carried_sentence(words, path, unit)))
            st.page_link("views/step.py", label="Open this step, with the equations", icon=":material/biotech:",
                         query_params=view_query(text, "tagger", t, unit, 0, 1))  # fmt: skip
    st.markdown(explain.as_markdown(tagger_lessons.gate_contrast_sentence(paths[0], paths[1], unit)))

typed_sentence = st.text_input("Or type a sentence for both taggers", key="tutorial_tagger_text", max_chars=300,
                               placeholder="I saw her duck.")  # fmt: skip
if typed_sentence.strip():
    typed_rows = directions.tag_rows(both, forward, both.tokens(typed_sentence))
    st.table(tagger_lessons.comparison_table(typed_rows), border="horizontal", hide_index=True)
    differing = [row.word for row in typed_rows if row.disagree]
    st.caption(explain.as_markdown(
        f"The taggers disagree on {', '.join(f'“{word}”' for word in differing)}: only one of them has read what "
        "comes after." if differing else "The two taggers agree on every word of this sentence."
    ))  # fmt: skip

st.markdown("**What each layer knows.** Give a simple reader, one weighted sum of a layer's units (a linear "
            "**probe**), that layer's hidden state at each word, fit it on some sentences, and test it on others. "
            "What it reads right is plainly there in the layer.", help=glossary.help_text("probe"))  # fmt: skip
probe_rows = both.metrics.get("probes")
if probe_rows:
    st.plotly_chart(tagger_lessons.probe_figure(probe_rows), key="tutorial_probes", alt=accessibility.PROBES,
                    config=CHART_CONFIG)  # fmt: skip
    for sentence in tagger_lessons.probe_sentences(probe_rows):
        st.markdown(sentence)
else:
    st.info("This tagger was saved without its probes (`python -m lstm_core.training.tagger tagger --probes-only`).",
            icon=":material/info:")  # fmt: skip
language_probes = model.metrics.get("probes")
if language_probes:
    st.markdown(f"The same probes on the **{model_name}** model chosen above, one layer read forwards, on stories "
                "it never read; it also has the subject's gender to read:")  # fmt: skip
    st.plotly_chart(tagger_lessons.probe_figure(language_probes, height=300), key="tutorial_language_probes",
                    alt=accessibility.PROBES, config=CHART_CONFIG)  # fmt: skip
    for sentence in tagger_lessons.probe_sentences(language_probes):
        st.markdown(sentence)
with st.expander("For the curious: the PyTorch names"):
    st.markdown(
        "In PyTorch, `nn.LSTM(num_layers=2)` is a stacked LSTM and `bidirectional=True` adds the backward reader. "
        "Layer *k*'s weights are `weight_ih_l{k}` (from its input), `weight_hh_l{k}` (from the previous hidden "
        "state), `bias_ih_l{k}` and `bias_hh_l{k}`; the backward reader's end in `_reverse`. "
        + explain.TORCH_NAMES_NOTE
    )
