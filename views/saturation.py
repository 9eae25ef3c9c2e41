"""/saturation: how often each gate of each unit is shut (< 0.1) or wide open (> 0.9) over a corpus, as in
Karpathy, Johnson and Fei-Fei (2015), "Visualizing and Understanding Recurrent Networks", figure 3.

Query parameters (bound to the widgets): models (repeated, shipped and this session's own) and stories
(how many stories of the story world are read). /saturation?models=words&models=chars&stories=200
opens exactly that comparison.
"""

import streamlit as st

from ui import accessibility, corpus_runs, explain, model_store
from ui import corpus_figures as figures
from ui.query import DIRECTION_NAMES, check_query

CHART_CONFIG = {"displayModeBar": False}


# ------------------------------------------------------------------ what the URL asked for
raw_params = st.query_params.to_dict()  # read before any widget: bound widgets drop values they reject
available = model_store.model_names()
checked = check_query(raw_params, {}, {"stories": figures.STORY_LIMITS})
for key, value in checked.corrected.items():
    st.session_state[key] = value
notices = list(checked.notices)
if "models" in raw_params:
    asked = [name for name in st.query_params.get_all("models") if name.strip()]  # repeated: ?models=a&models=b
    unknown = [name for name in asked if name not in available]
    if unknown:
        shown = ", ".join(f"“{name[:40]}”" for name in unknown[:5])
        notices.append(f"There is no model called {shown} in this session; choose among {', '.join(available)}.")
    if not any(name in available for name in asked):
        st.session_state["models"] = [available[0]]

st.header("Gate saturation")
st.caption(
    "Karpathy, Johnson and Fei-Fei (2015) asked how often each gate is nearly shut or fully open. Every point is one "
    "gate of one unit: how much of the time it sits below 0.1 (left-saturated) and above 0.9 (right-saturated)."
)

models_column, stories_column = st.columns([3, 1])
with models_column:
    chosen = st.multiselect("Models", available, default=[available[0]], key="models", bind="query-params",
                            persist_state="session",
                            help="The shipped models and the ones trained or uploaded in this session.")  # fmt: skip
with stories_column:
    low, high, default = figures.STORY_LIMITS
    stories = st.number_input("Stories read", min_value=low, max_value=high, value=default, step=10, key="stories",
                              bind="query-params", persist_state="session",
                              help="Held-out stories of the story world, none of them trained on.")  # fmt: skip
if notices:  # escaped: a notice quotes what the link said, and a link can say anything
    st.warning("\n".join(f"- {explain.as_markdown(notice)}" for notice in notices), icon="⚠️")
if not chosen:
    st.info("Choose at least one model.")
    st.stop()

for model_name in chosen:
    try:
        model = model_store.language_model(model_name)
    except (FileNotFoundError, ValueError):
        st.error(explain.as_markdown(f"The {model_name} model is not available. Choose another."))
        continue
    read, read_notice = corpus_runs.stories_read(model_name, int(stories))  # fewer for a wide model of this session
    saturation = corpus_runs.saturation_of(model_name, read)
    lstm = model.lstm
    st.subheader(model_store.MODEL_LABELS.get(model_name, model_name), anchor=False)
    st.caption(
        explain.as_markdown(
            f"{lstm.num_layers} layer(s) of {lstm.hidden_size} units, "
            f"{'bidirectional' if lstm.num_directions == 2 else 'one direction'}; {read} stories."
        )
    )
    if read_notice:
        st.info(explain.as_markdown(read_notice))
    for layer in range(lstm.num_layers):
        for direction in range(lstm.num_directions):
            title = f"Layer {layer}" + (f", {DIRECTION_NAMES[direction]}" if lstm.num_directions == 2 else "")
            chart_column, words_column = st.columns([3, 2], gap="large")
            with chart_column:
                st.plotly_chart(
                    figures.saturation_figure(saturation, layer, direction, title=title),
                    key=f"saturation_{model_name}_{layer}_{direction}",
                    alt=accessibility.SATURATION,
                    config=CHART_CONFIG,
                )
            with words_column, st.container(border=True):
                st.markdown(f"**What to read in {title.lower()}**")
                for sentence in figures.saturation_sentences(saturation, layer, direction):
                    st.markdown(explain.as_markdown(sentence))
st.caption(
    "The candidate g is a tanh in (−1, 1), not a gate, and is left out. Each gate has its own colour and marker "
    "shape, as its line has on /step and /playground."
)
