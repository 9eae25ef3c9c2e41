"""/gates: every gate, the cell state and the hidden state of every unit, token by token.

Query parameters (bound to the widgets, so the URL follows every change): text, model, layer,
direction, t (selected token), unit (selected unit), order and top_k (which units are drawn),
compare_layers and compare_signal (one signal in every layer and direction), off and off_mode (the
selected unit switched off, its cell held at zero or at its mean), words (whose probabilities the chart
follows), present (presentation mode).
Clicking a heatmap cell or a token of the coloured text selects it and offers the way to /step.
"""

from functools import partial

import streamlit as st

from lstm_core.models.subwords import NAMES_NOTE
from ui import (
    ablation,
    accessibility,
    classroom,
    explain,
    export,
    figures,
    glossary,
    inputs,
    model_store,
    selection,
    typed_text,
)
from ui.query import DIRECTION_NAMES, carry_selection, check_view, view_query

MAX_WINDOW_TOKENS = 80  # heatmap columns drawn at once: token labels stay readable
COLORED_TEXT_TOKENS = 400  # the coloured text shows this many tokens around the selection
DEFAULT_TOP_K = 32  # legible rows, and a third less to build and send than 48
CHART_CONFIG = {"displayModeBar": False}


# ------------------------------------------------------------------ what the URL asked for
raw_params = st.query_params.to_dict()  # read before any widget: bound widgets drop values they reject
carry_selection(raw_params, "gates")  # from the other page: its bound parameters do not come along
link_notices = [  # "present=1" works; a value no widget can read gets a message
    *classroom.apply_flags(raw_params, st.session_state, {"present": "", "compare_layers": "layers side by side",
                                                          "off": "switching the unit off"}),
    classroom.check_choice(raw_params, "compare_signal", figures.SIGNAL_NAMES, "signal"),
    classroom.check_choice(raw_params, "off_mode", ablation.MODES, "value to hold the switched-off unit at"),
]  # fmt: skip
# Share and Export go in the toolbar once the view and the figures are known.
toolbar, present, headline = inputs.title_row(
    "gates", "Gates over a sentence",
    "Every unit's forget, input and output gate, candidate, cell state and hidden state at every token. "
    "Hover a cell for its exact value; click one to select that token and unit.",
    "Presentation mode: large type, only the charts and the token buttons (← → keys).",
)  # fmt: skip

# ------------------------------------------------------------------------------ the inputs
with st.container(key="gates_controls_inputs"):  # drawn even when presenting: the widgets keep the URL
    example_columns = st.columns(len(typed_text.EXAMPLES))
    for index, (column, (name, example)) in enumerate(zip(example_columns, typed_text.EXAMPLES.items(), strict=True)):
        column.button(name, key=f"gates_example_{index}", on_click=inputs.set_state, kwargs={"text": example},
                      width="stretch", help=example)  # fmt: skip
    text_column, model_column = st.columns([4, 1])
    with model_column:
        model_name, model_notice = inputs.model_choice(raw_params)
    with text_column:
        typed = inputs.text_box()
cleaned = typed_text.clean_text(typed)
for notice in (model_notice, *link_notices, *cleaned.notices):
    if notice:  # escaped: a notice can quote what the link said, and a link can say anything
        st.warning(explain.as_markdown(notice), icon=":material/warning:")
if not cleaned.text:
    st.info("The text is empty. Type a sentence for the model to read, or pick one of the examples above.")
    st.stop()
model = inputs.model_or_stop(model_name)
traced = model_store.text_trace(model_name, cleaned.text)
trace, tokens = traced.trace, list(traced.trace.tokens)
if traced.vocabulary_notice:
    st.info(explain.as_markdown(traced.vocabulary_notice), icon=":material/spellcheck:")

# ------------------------------------------------------------------- which layer, token and unit
lstm = model.lstm
sizes = {"t": trace.length, "unit": lstm.hidden_size, "layer": lstm.num_layers}
view = check_view(raw_params, sizes, model_store.model_names())
for notice in view.notices[1 if model_notice else 0 :]:
    st.warning(explain.as_markdown(notice), icon=":material/warning:")
for key, value in view.corrected.items():
    if key not in st.session_state:  # the link counts on arrival; afterwards the widgets do
        st.session_state[key] = value
for key, size in {**sizes, "top_k": lstm.hidden_size + 1}.items():  # top_k counts from 1, up to every unit
    inputs.keep_in_range(key, size)  # the text or model changed

with st.sidebar:
    st.subheader("What to draw")
    # Shown even when the model has one layer and one direction, so students see the choice exists.
    layer = st.selectbox("Layer", range(lstm.num_layers), key="layer", bind="query-params", persist_state="session",
                         disabled=lstm.num_layers == 1, help=glossary.help_text("layer"))  # fmt: skip
    direction = st.selectbox("Direction", range(lstm.num_directions), key="direction", bind="query-params", persist_state="session",
                             format_func=DIRECTION_NAMES.__getitem__, disabled=lstm.num_directions == 1,
                             help=glossary.help_text("direction"))  # fmt: skip
    order = st.selectbox("Order the units", list(figures.UNIT_ORDERS), index=1, key="order", bind="query-params", persist_state="session",
                         format_func=figures.UNIT_ORDERS.__getitem__, help=glossary.help_text("unit"))  # fmt: skip
    top_k = st.slider("How many units to draw", min_value=1, max_value=lstm.hidden_size, key="top_k",
                      value=min(DEFAULT_TOP_K, lstm.hidden_size), bind="query-params", persist_state="session",
                      help="The first ones in the order above. The selected unit and named units are always drawn.\n\n"
                      + glossary.help_text("named unit"))  # fmt: skip
    show_values = st.toggle("Write the values in the cells", key="show_values", persist_state="session", help=f"When at most {figures.MAX_WRITTEN_COLUMNS} tokens and {figures.MAX_WRITTEN_CELLS} cells are drawn; otherwise hover a cell.")  # fmt: skip
    pairs = figures.layer_pairs(lstm.num_layers, lstm.num_directions)
    compare = st.toggle("Every layer and direction side by side", key="compare_layers", bind="query-params",
                        persist_state="session", disabled=len(pairs) == 1,
                        help="One signal of every layer and direction, stacked on the same token axis. "
                        + ("This model has one layer and one direction." if len(pairs) == 1 else "")
                        + "\n\n" + glossary.help_text("layer", "direction"))  # fmt: skip
    # Plain names as options (no format_func): a bound selectbox keeps the shown text in the URL.
    compare_signal = st.selectbox("Signal side by side", figures.SIGNAL_NAMES, key="compare_signal",
                                  bind="query-params", persist_state="session", disabled=not compare or len(pairs) == 1,
                                  help=glossary.help_text(*figures.SIGNAL_NAMES))  # fmt: skip
compare = compare and len(pairs) > 1

named_infos = {info.unit: info for info in model.units.values() if (info.layer, info.direction) == (layer, direction)}
named_units = {number: info.name for number, info in named_infos.items()}
with st.container(key="gates_controls_selection"):
    token_column, unit_column, follow_column = st.columns([2, 1, 2], vertical_alignment="bottom")
    with token_column:
        t = st.number_input(f"Selected token t (0 to {trace.length - 1})", min_value=0, max_value=trace.length - 1,
                            step=1, key="t", bind="query-params", persist_state="session",
                            help=glossary.help_text("token", "timestep"))  # fmt: skip
    with unit_column:
        unit = st.number_input(f"Selected unit (0 to {lstm.hidden_size - 1})", min_value=0,
                               max_value=lstm.hidden_size - 1, step=1, key="unit", bind="query-params",
                               persist_state="session", value=model_store.default_unit(model),
                               help=glossary.help_text("unit"))  # fmt: skip
    with follow_column, st.container(horizontal=True):
        for info in model.units.values():
            st.button(f"Follow the {info.name} unit ({info.unit})", key=f"gates_follow_{info.name}",
                      on_click=inputs.set_state, kwargs={"unit": info.unit, "layer": info.layer, "direction": info.direction},
                      disabled=(info.unit, info.layer, info.direction) == (unit, layer, direction),
                      help=glossary.help_text("named unit", "threshold"))  # fmt: skip
        if not model.units:
            st.caption(explain.as_markdown(f"The {model_name} model has no named units."))
    if "subject gender" in model.units:
        st.caption(NAMES_NOTE)
    switched_off, off_mode = inputs.switch_off_controls(unit, named_infos.get(unit))

# --------------------------------------------------------------------------- the selection
signals = figures.signals_of(trace, layer, direction)
step_link = view_query(cleaned.text, model_name, t, unit, layer, direction, off=switched_off, off_mode=off_mode)
token_shown = explain.as_markdown(f"“{tokens[t]}”")
unit_shown = f"unit {unit}" + (f" ({named_units[unit]})" if unit in named_units else "")
values_line = ", ".join(
    f"{figures.SIGNAL_SYMBOLS[name]} = {signals[name][t, unit]:.3f}" for name in figures.SIGNAL_NAMES
)
with st.sidebar:
    st.subheader("Selected")
    st.markdown(f"Token {t} {token_shown}, {unit_shown}  \n{values_line}")
    st.page_link(
        "views/step.py",
        label="Step through this token in the cell",
        icon=":material/step:",
        query_params=step_link,
    )
if present:  # the headline and the token buttons; ← → step as on /step, Esc leaves
    with headline:
        st.button("◀ Previous", key="gates_previous", on_click=inputs.move_token, args=(-1, trace.length - 1),
                  disabled=t == 0, shortcut="Left")  # fmt: skip
        st.button("Next ▶", key="gates_next", on_click=inputs.move_token, args=(1, trace.length - 1),
                  disabled=t == trace.length - 1, shortcut="Right")  # fmt: skip
        st.markdown(f"**Token {t} {token_shown}, {unit_shown}**  \n{values_line}", width="stretch")
else:
    with st.container(border=True):
        link_column, values_column = st.columns([2, 3], vertical_alignment="center")
        with link_column:
            st.page_link("views/step.py", label=f"Open token {t}, {unit_shown} in the step view",
                         icon=":material/step:", query_params=step_link)  # fmt: skip
        with values_column:
            st.markdown(f"Token {t} {token_shown}: {values_line}")
if st.session_state.pop("gates_clicked", False):
    st.toast(f"Selected token {t} and unit {unit}. The step view link is in the sidebar.", icon=":material/step:")

# ------------------------------------------------------------------------- the coloured text
cell_of_unit = signals["cell"][:, unit]
text_start, text_stop = figures.token_window(trace.length, t, COLORED_TEXT_TOKENS)
limit = figures.signed_limit(cell_of_unit)
drawn = [  # every figure on the page, in order, for the HTML export
    figures.colored_text_figure(
        tokens[text_start:text_stop], cell_of_unit[text_start:text_stop], signed=True, limit=limit,
        start=text_start, selected=t, separator="" if model.kind == "chars" else " ", value_name="c",
        title=f"The text coloured by the cell state of {unit_shown} (purple < 0, white ≈ 0, orange > 0; click a token to select it)",
        named=named_infos.get(unit),
    )
]  # fmt: skip
st.plotly_chart(drawn[-1], key="gates_text_chart", alt=accessibility.TEXT_BY_CELL_STATE, on_select=partial(selection.select_on_gates, "gates_text_chart"),
                selection_mode="points", config=export.png_chart_config(f"text-{model_name}-unit-{unit}"),
                width="content")  # fmt: skip

# ------------------------------------------------------------------------------- predictions
start, stop = figures.token_window(trace.length, t, MAX_WINDOW_TOKENS)
if (start, stop) != (0, trace.length):
    st.info(
        f"The text has {trace.length} tokens; the charts below show tokens {start} to {stop - 1}, around the "
        "selected token. Change the selected token to move along the text.", icon=":material/swap_horiz:",
    )  # fmt: skip
effect_kind = ablation.effect_kind(model)  # what a probability is of: the next word or character, or a tag
tags = effect_kind == "tags"
if layer == lstm.num_layers - 1:
    ids, probabilities = traced.next_tokens.top(start, stop, k=5)
    predicted = [[model.labels[index] for index in row] for row in ids]
    drawn.append(figures.predictions_figure(tokens[start:stop], predicted, probabilities, start=start, selected=t,
                                            show_values=show_values, tags=tags))  # fmt: skip
    st.plotly_chart(
        drawn[-1],
        key="gates_predictions",
        alt=accessibility.PREDICTIONS,
        config=export.png_chart_config(f"guesses-{model_name}"),
    )

# ----------------------------------------------------------------------- switching the unit off
switched_unit = (layer, direction, unit)
st.subheader(f"What {unit_shown} does to the prediction", anchor=False,
             help=glossary.help_text("switching a unit off", "probability"))  # fmt: skip
for sentence in explain.unit_summary(cell_of_unit, tokens, t, unit, named_infos.get(unit), backward=direction == 1):
    st.markdown(explain.as_markdown(sentence))
off_traced = (
    model_store.ablated_text_trace(model_name, cleaned.text, (switched_unit,), off_mode) if switched_off else None
)
# A model with no words to follow by default (the character model) follows the tokens that switching this
# unit off changes the most; held at 0 unless the student has switched it off another way already.
probe_mode = off_mode if off_traced is not None else "zero"
changed = None
if not ablation.default_words(model):
    probe = (
        off_traced
        if off_traced is not None
        else model_store.ablated_text_trace(model_name, cleaned.text, (switched_unit,), probe_mode)
    )
    changed = ablation.most_changed_tokens(traced.next_tokens, probe.next_tokens)
with st.container(key="gates_controls_words"):
    typed_words = st.text_input(
        {"tags": "Tags to follow", "words": "Words to follow", "chars": "Characters to follow"}[effect_kind],
        key="words", max_chars=100,
        placeholder=", ".join(ablation.default_words(model) or (token for token, _ in changed or ())) or "e, a, H",
        bind="query-params", persist_state="session",
        help=f"{ablation.WORDS_HELP}\n\n{glossary.help_text('probability')}",
    )  # fmt: skip
chosen = ablation.chosen_words(model, typed_words)
for notice in chosen.notices:
    st.warning(explain.as_markdown(notice), icon=":material/spellcheck:")
followed = chosen.words or tuple(token for token, _ in changed or ())
if off_traced is not None:
    effect = ablation.compare_next_tokens(model, tokens, traced.next_tokens, off_traced.next_tokens, switched_unit,
                                          chosen.words, off_mode)  # fmt: skip
    drawn.append(ablation.ablation_figure(effect, t))
    st.plotly_chart(
        drawn[-1],
        key="gates_ablation",
        alt=accessibility.ABLATION,
        config=export.png_chart_config(f"switched-off-{model_name}-unit-{unit}"),
    )
    st.markdown(explain.as_markdown(" ".join(filter(None, (ablation.ablation_sentence(effect, t),
                                                           ablation.held_reading(effect))))))  # fmt: skip
    if t != trace.length - 1:
        st.caption(explain.as_markdown("At the last token: " + ablation.ablation_sentence(effect)))
else:
    st.caption(f"Switch unit {unit} off (above) to read the text again with its cell state held still at every "
               f"token, and compare the model's {'tag' if tags else 'next-token'} probabilities before and after.")  # fmt: skip
if changed is not None and not chosen.words:
    st.caption(explain.as_markdown(ablation.followed_note(changed, unit, probe_mode, model.kind)))
if followed:
    drawn.append(ablation.word_probability_figure(
        tokens, ablation.word_probabilities(traced.next_tokens, followed), t,
        after=None if off_traced is None else ablation.word_probabilities(off_traced.next_tokens, followed),
        after_label=f"unit {unit} off", start=start, stop=stop,
        noun={"tags": "tag", "words": "word", "chars": "character"}[effect_kind],
    ))  # fmt: skip
    st.plotly_chart(
        drawn[-1],
        key="gates_word_probabilities",
        alt=accessibility.WORD_PROBABILITIES,
        config=export.png_chart_config(f"words-{model_name}"),
    )

# ---------------------------------------------------------------------------------- heatmaps
units = figures.shown_units(figures.unit_order(signals["cell"], order, t), top_k, pinned=[unit, *named_units])
cell_limit = figures.signed_limit(signals["cell"])
if compare:
    drawn.append(figures.layers_heatmap(trace, compare_signal, pairs, tokens[start:stop], units, start=start,
                                        stop=stop, selected=(t, unit), units_title=figures.UNIT_ORDER_TITLES[order]))  # fmt: skip
    st.plotly_chart(drawn[-1], key="gates_compare_layers", alt=accessibility.layers_heatmap(compare_signal),
                    config=export.png_chart_config(f"{compare_signal}-{model_name}-every-layer"))  # fmt: skip
columns = st.columns(2) if stop - start <= 40 else [st.container()] * 2
for index, signal in enumerate(() if compare else figures.SIGNAL_NAMES):
    chart_key = f"gates_heatmap_{signal}"
    drawn.append(figures.gate_heatmap(signals[signal][start:stop], tokens[start:stop], units, signal, start=start,
                                      selected=(t, unit), unit_names=named_units,
                                      signed_limit=cell_limit if signal == "cell" else None, show_values=show_values,
                                      units_title=figures.UNIT_ORDER_TITLES[order]))  # fmt: skip
    with columns[index % 2]:
        st.plotly_chart(drawn[-1], key=chart_key, alt=accessibility.heatmap(signal), on_select=partial(selection.select_on_gates, chart_key),
                        selection_mode="points", config=export.png_chart_config(f"{signal}-{model_name}"))  # fmt: skip
for info in named_infos.values():
    st.caption(explain.as_markdown(f"In the cell state heatmap, {figures.named_unit_colours(info)}."))
st.caption(figures.legend_markdown(probabilities=layer == lstm.num_layers - 1))

# ---------------------------------------------------------------------- share and export
view_title = f"LSTM Gate Explorer: {model_name} model, token {t}, unit {unit}"
with toolbar:
    with st.popover("Share", icon=":material/share:", key="gates_share"):
        st.caption("The link to exactly this view (text, model, token, unit, order, presentation):")
        share_query = classroom.present_query(
            step_link, present=present, order=figures.UNIT_ORDERS[order], top_k=top_k,  # as the bound box shows it
            compare_layers=True if compare else None, compare_signal=compare_signal if compare else None,
            words=typed_words or None,
        )  # fmt: skip
        st.code(classroom.share_url(st.context.url, "gates", share_query), language=None, wrap_lines=True)
    inputs.export_popover(
        "gates", trace, drawn, model_name, view_title, f"{export.file_stem('lstm', model_name)}-gates.html"
    )
