"""/your-model: upload an LSTM trained elsewhere and watch its gates.

A file with an embedding, a decoder and a vocabulary becomes a language model of this session: it is
listed in the Model choice of /gates, /step and the other pages, for this session only. A bare LSTM
reads vectors pasted or uploaded here (CSV, one timestep a line) and is drawn on this page; it lives in
`st.session_state` only. No query parameters: an uploaded model cannot travel in a link.
"""

from functools import partial

import streamlit as st

from lstm_core.io import model_files
from ui import accessibility, explain, figures, inputs, model_store, selection, typed_text, uploads, your_model
from ui.diagram import cell_diagram_figure
from ui.step_figures import gate_strips

MAX_WINDOW_STEPS = 80  # heatmap columns drawn at once, as on /gates
DEFAULT_UNITS = 48
CHART_CONFIG = {"displayModeBar": False}

# ---------------------------------------------------------------------------------- the uploads
st.header("Your own model")
st.caption(
    "Upload an LSTM you trained, and watch its gates here and on every page. It stays in this browser session: "
    "nobody else sees it, and it is gone when the session ends. Files are read as numbers only; nothing in them runs."
)
with st.expander("Which files this page reads, and how to save yours", icon=":material/description:"):
    st.markdown(your_model.KEY_NAMES_MARKDOWN)
    st.code(your_model.SAVE_SNIPPET, language="python")
    st.caption("A vocabulary file, vocab.json:")
    st.code(your_model.VOCAB_SNIPPET, language="json")

weights_column, vocab_column = st.columns(2)
with weights_column:
    weights_file = st.file_uploader(
        "Weights: .pt, .pth, .safetensors or .npz", type=list(model_files.WEIGHT_SUFFIXES), key="your_model_weights",
        max_upload_size=model_files.MAX_MODEL_BYTES // 2**20,
        help="A PyTorch state_dict of an nn.LSTM, optionally with an embedding and a decoder (see the key names above).",
    )  # fmt: skip
with vocab_column:
    vocab_file = st.file_uploader(
        "Vocabulary, for a model with an embedding: .json or .txt", type=list(model_files.VOCAB_SUFFIXES),
        key="your_model_vocab", max_upload_size=model_files.MAX_VOCAB_BYTES // 2**20,
        help="The tokens in id order: a JSON list or object, or one token a line.",
    )  # fmt: skip

if weights_file is None:
    uploads.forget_uploads()
    st.info(
        "Upload a weights file to begin. A whole language model (embedding, LSTM, decoder) with its vocabulary opens "
        "in Gates over a sentence and One step inside the cell; an LSTM alone reads numbers you paste here.",
        icon=":material/upload_file:",
    )
    st.stop()

fingerprint = uploads.fingerprint(weights_file, vocab_file)
read = uploads.read_or_stop(weights_file, vocab_file, fingerprint)
uploaded = read.model
lstm = uploaded.lstm
st.success(explain.as_markdown(f"{weights_file.name}: {your_model.describe_lstm(lstm)}."), icon=":material/check:")
with st.expander(f"The {len(uploaded.tensors)} tensors of the file"):
    st.dataframe(your_model.tensor_rows(uploaded), hide_index=True, width="stretch")

# ------------------------------------------------------------------------- a whole language model
if uploaded.is_language_model and vocab_file is not None:
    name = uploads.session_language_model(read, weights_file, vocab_file, fingerprint)
    model = model_store.language_model(name)
    for notice in st.session_state.get(uploads.NOTICES_KEY, ()):
        st.info(explain.as_markdown(notice), icon=":material/info:")
    with st.container(border=True):
        per = "character" if model.kind == "chars" else "word"
        st.markdown(
            f"**Your language model is ready**, listed as “{explain.as_markdown(name)}” in the Model choice of every "
            f"page of this session. It reads text one {per} at a time, with a vocabulary of {len(model.vocab):,} "
            "tokens. Other visitors never see it."
        )
        st.session_state.setdefault("your_model_text", your_model.example_text(model.vocab, model.kind))
        typed = st.text_input("A text to open it with", key="your_model_text", max_chars=typed_text.MAX_TEXT_CHARS)
        cleaned = typed_text.clean_text(typed)
        if cleaned.text:
            query = {"model": name, "text": cleaned.text}
            with st.container(horizontal=True):
                st.page_link("views/gates.py", label="Open it in Gates over a sentence", icon=":material/grid_on:",
                             query_params=query)  # fmt: skip
                st.page_link("views/step.py", label="Step through it in the cell", icon=":material/step:",
                             query_params=query)  # fmt: skip
            traced = model_store.text_trace(name, cleaned.text)  # the same cached trace /gates and /step will read
            guesses = explain.top_predictions(traced.next_tokens.row(-1), model.vocab, k=5)
            unknown = traced.unknown
            st.caption(
                explain.as_markdown(
                    "Its guesses for the next token: "
                    + ", ".join(f"“{explain.token_name(token)}” {p:.0%}" for token, p in guesses)
                    + (f". Not in its vocabulary: {', '.join(unknown[:12])}" if unknown else "")
                )
            )
        else:
            st.caption("Type a text to get the links.")
    st.stop()

if uploaded.is_language_model:
    st.info(
        f"This file is a whole language model ({uploaded.vocab_size:,} tokens). Upload its vocabulary, one token for "
        f"each of the {uploaded.vocab_size:,} rows of {uploaded.embedding_key}, to read text with it. Until then the "
        "LSTM inside it reads vectors below.",
        icon=":material/translate:",
    )
elif vocab_file is not None:
    st.warning(
        "This LSTM has no embedding, so the vocabulary is not used: it reads vectors.", icon=":material/warning:"
    )

# ------------------------------------------------------------------------------ a bare LSTM
bare = your_model.keep_bare_model(st.session_state, lstm, weights_file.name, fingerprint)
st.subheader("Feed it vectors")
st.caption(
    f"One timestep a line, {lstm.input_size} number(s) separated by commas; an optional first line of column names. "
    f"At most {model_files.MAX_INPUT_STEPS:,} lines are read."
)
paste_column, file_column = st.columns([3, 2])
with file_column:
    csv_file = st.file_uploader("…or upload a .csv file (used instead of the box)", type=["csv", "txt"],
                                key="your_model_csv_file", max_upload_size=model_files.MAX_INPUT_BYTES // 2**20)  # fmt: skip
    st.button("Fill the box with example waves", key="your_model_example", on_click=uploads.fill_example_vectors,
              args=(lstm.input_size,), icon=":material/waves:")  # fmt: skip
with paste_column:
    pasted = st.text_area("Input vectors (CSV)", key="your_model_csv", height=150, max_chars=model_files.MAX_INPUT_BYTES,
                          placeholder=your_model.example_input_csv(lstm.input_size, steps=3))  # fmt: skip
vectors, input_notices = uploads.input_vectors_or_stop(csv_file, pasted, lstm.input_size)
for notice in input_notices:
    st.info(explain.as_markdown(notice), icon=":material/info:")
trace = bare.trace(vectors)
steps = trace.length

# ------------------------------------------------------------------------------- what to draw
for key, size in {"your_model_layer": lstm.num_layers, "your_model_direction": lstm.num_directions,
                  "your_model_t": steps, "your_model_unit": lstm.hidden_size}.items():  # fmt: skip
    inputs.keep_in_range(key, size)
choices = st.columns(5, vertical_alignment="bottom")
with choices[0]:
    layer = st.selectbox("Layer", range(lstm.num_layers), key="your_model_layer", disabled=lstm.num_layers == 1)
with choices[1]:
    direction = st.selectbox("Direction", range(lstm.num_directions), key="your_model_direction",
                             format_func=("forward", "backward").__getitem__, disabled=lstm.num_directions == 1)  # fmt: skip
with choices[2]:
    t = st.number_input(f"Timestep t (0 to {steps - 1})", min_value=0, max_value=steps - 1, step=1, key="your_model_t")
with choices[3]:
    unit = st.number_input(f"Unit (0 to {lstm.hidden_size - 1})", min_value=0, max_value=lstm.hidden_size - 1,
                           step=1, key="your_model_unit")  # fmt: skip
start, stop = figures.token_window(steps, t, MAX_WINDOW_STEPS)
# One row fewer than the cell budget allows: the selected unit is always drawn besides the top ones.
most_units = max(1, min(lstm.hidden_size, figures.MAX_CELLS_PER_FIGURE // (stop - start) - 1))
if isinstance(st.session_state.get("your_model_top_k"), int):
    st.session_state["your_model_top_k"] = min(max(st.session_state["your_model_top_k"], 1), most_units)
with choices[4]:
    if most_units > 1:
        top_k = st.slider("Units drawn (most varying first)", 1, most_units, value=min(DEFAULT_UNITS, most_units),
                          key="your_model_top_k")  # fmt: skip
    else:
        top_k = 1

signals = figures.signals_of(trace, layer, direction)
labels = [str(index) for index in range(steps)]
units = figures.shown_units(figures.unit_order(signals["cell"], "variance"), top_k, pinned=[unit])
if (start, stop) != (0, steps):
    st.caption(f"The input has {steps} timesteps; the heatmaps show {start} to {stop - 1}, around t.")
cell_limit = figures.signed_limit(signals["cell"])
st.caption("Click a cell of a heatmap to select that timestep and unit.  \n" + figures.legend_markdown())
columns = st.columns(2) if stop - start <= 24 else [st.container()] * 2  # numbers as labels need the room
for index, signal in enumerate(figures.SIGNAL_NAMES):
    chart_key = f"your_model_heatmap_{signal}"
    with columns[index % 2]:
        st.plotly_chart(
            figures.gate_heatmap(signals[signal][start:stop], labels[start:stop], units, signal, start=start,
                                 selected=(t, unit), signed_limit=cell_limit if signal == "cell" else None),
            key=chart_key, alt=accessibility.heatmap(signal), on_select=partial(selection.select_on_your_model, chart_key),
            selection_mode="points", config=CHART_CONFIG,
        )  # fmt: skip

# ---------------------------------------------------------------------------- one timestep
st.subheader(f"Timestep {t}, unit {unit}")
step = trace.step(t, layer, direction)
diagram_column, strips_column = st.columns([3, 2], gap="large")
with diagram_column:
    st.plotly_chart(cell_diagram_figure(step, unit, title=f"Unit {unit} at timestep {t}"), key="your_model_diagram", alt=accessibility.CELL_DIAGRAM_WITH_NUMBERS,
                    config=CHART_CONFIG)  # fmt: skip
with strips_column:
    shown = ", ".join(f"{value:.3f}" for value in step.x[:12]) + (" …" if len(step.x) > 12 else "")
    what = "the input vector" if layer == 0 else f"the hidden states of layer {layer - 1}"
    st.markdown(f"**What the cell reads at t = {t}**, {what} ({len(step.x)} values): {shown}")
    st.markdown(
        f"forget f = {step.gates['forget'][unit]:.3f}, input i = {step.gates['input'][unit]:.3f}, candidate g = "
        f"{step.gates['candidate'][unit]:.3f}, output o = {step.gates['output'][unit]:.3f}  \n"
        f"cell c = {step.cell[unit]:.3f}, hidden h = {step.hidden[unit]:.3f}"
    )
st.plotly_chart(gate_strips(step, unit), key="your_model_strips", alt=accessibility.GATE_STRIPS, config=CHART_CONFIG)
