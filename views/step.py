"""/step: one timestep of the cell, for one unit, with the real numbers.

Query parameters (bound to the widgets, so the URL follows every change): text, model, layer,
direction, t (token index), unit, compare_layers (the unit in every layer and direction), off and
off_mode (the unit switched off, its cell held at zero or at its mean), present (presentation mode). A link like /step?text=...&t=5&unit=17 opens exactly that view.
"""

import streamlit as st

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
    step_figures,
    typed_text,
)
from ui.diagram import cell_diagram_figure
from ui.query import carry_selection, check_view, view_query

PLAY_SECONDS = 1.0  # one token per second: slow enough to read the diagram change


# ------------------------------------------------------------------ what the URL asked for
raw_params = st.query_params.to_dict()  # read before any widget: bound widgets drop values they reject
carry_selection(raw_params, "step")  # from the other page: its bound parameters do not come along
# "present=1" works; a value no toggle can read gets a message
link_notices = [
    *classroom.apply_flags(raw_params, st.session_state, {"present": "", "compare_layers": "layers side by side",
                                                          "off": "switching the unit off"}),
    classroom.check_choice(raw_params, "off_mode", ablation.MODES, "value to hold the switched-off unit at"),
]  # fmt: skip
# Share and Export go in the toolbar once the view and the figures are known.
toolbar, present, headline = inputs.title_row(
    "step", "One step inside the cell",
    "Pick a token and a unit: the diagram, the sentence and the equations show what that unit's gates did there.",
    "Presentation mode: large type, only the diagram, the explanation and the token buttons (← → keys).",
)  # fmt: skip

# ------------------------------------------------------------------------------ the inputs
with st.container(key="step_controls_inputs"):  # drawn even when presenting: the widgets keep the URL
    text_column, model_column = st.columns([4, 1])
    with model_column:
        model_name, model_notice = inputs.model_choice(raw_params)
    with text_column:
        typed = inputs.text_box()
cleaned = typed_text.clean_text(typed)
notices = [notice for notice in (model_notice, *link_notices, *cleaned.notices) if notice]
notice_box = st.container()  # one box for everything the page had to change, filled once below
if not cleaned.text:
    inputs.show_notices(notice_box, notices)
    st.info("The text is empty. Type a sentence for the model to read, for example: " + typed_text.DEFAULT_TEXT)
    st.stop()

model = inputs.model_or_stop(model_name)
traced = model_store.text_trace(model_name, cleaned.text)
trace, tokens = traced.trace, list(traced.trace.tokens)
if traced.vocabulary_notice:
    st.caption(explain.as_markdown(traced.vocabulary_notice))

lstm = model.lstm
sizes = {"t": trace.length, "unit": lstm.hidden_size, "layer": lstm.num_layers, "direction": lstm.num_directions}
view = check_view(raw_params, sizes, model_store.model_names())
inputs.show_notices(notice_box, [*notices, *view.notices[1 if model_notice else 0 :]])
for key, value in view.corrected.items():
    st.session_state[key] = value  # what the notice promised (the bound widget would drop the bad value to 0)
for key, size in sizes.items():
    inputs.keep_in_range(key, size)

# ------------------------------------------------------------------- which layer, unit and token
gender_unit = model.units.get("subject gender")
pairs = figures.layer_pairs(lstm.num_layers, lstm.num_directions)
choices = st.container(key="step_controls_choices").columns(
    [1, 2, 1, 1] if len(pairs) > 1 else [1, 2, 2], vertical_alignment="bottom"
)
with choices[0]:
    unit = st.number_input(
        "Unit",
        min_value=0,
        max_value=lstm.hidden_size - 1,
        step=1,
        key="unit",
        value=model_store.default_unit(model),
        bind="query-params",
        persist_state="session",
        help=f"Which of the {lstm.hidden_size} units to follow.\n\n{glossary.help_text('unit')}",
    )
with choices[1]:
    if gender_unit is not None:
        st.button(
            f"Follow the subject-gender unit ({gender_unit.unit})",
            key="step_gender_unit",
            on_click=st.session_state.__setitem__,
            args=("unit", gender_unit.unit),
            disabled=unit == gender_unit.unit,
            help=glossary.help_text("named unit", "threshold"),
        )
    compare = len(pairs) > 1 and st.toggle(  # (models with one layer and direction have nothing to compare)
        "Every layer and direction",
        key="compare_layers",
        bind="query-params",
        persist_state="session",
        help="This unit's gates at this token in every layer and direction, side by side.\n\n"
        + glossary.help_text("layer", "direction"),
    )
if lstm.num_layers > 1:
    with choices[2]:
        layer = st.selectbox("Layer", range(lstm.num_layers), key="layer", bind="query-params", persist_state="session",
                             help=glossary.help_text("layer"))  # fmt: skip
else:
    layer = 0
    inputs.drop_param("layer")
if lstm.num_directions > 1:
    with choices[3]:
        direction = st.selectbox(
            "Direction",
            range(2),
            key="direction",
            bind="query-params",
            persist_state="session",
            format_func=("forward", "backward").__getitem__,
            help=glossary.help_text("direction"),
        )
else:
    direction = 0
    inputs.drop_param("direction")

named = ablation.named_unit(model, (layer, direction, unit))
with st.container(key="step_controls_off"):
    switched_off, off_mode = inputs.switch_off_controls(unit, named)

last = trace.length - 1
previous_column, slider_column, next_column, play_column = st.columns([1.4, 6, 1.4, 1.3], vertical_alignment="bottom")
with previous_column:
    st.button(
        "◀ Previous",
        key="step_previous",
        on_click=inputs.move_token,
        args=(-1, last),
        disabled=last == 0,
        shortcut="Left",
        width="stretch",
    )
with next_column:
    st.button(
        "Next ▶",
        key="step_next",
        on_click=inputs.move_token,
        args=(1, last),
        disabled=last == 0,
        shortcut="Right",
        width="stretch",
    )
with slider_column, st.container(key="step_controls_slider"):
    if last > 0:
        t = st.slider(
            "Token",
            min_value=0,
            max_value=last,
            key="t",
            bind="query-params",
            persist_state="session",
            help=f"Or use the ← and → keys.\n\n{glossary.help_text('token', 'timestep')}",
        )
    else:
        t = 0
        inputs.drop_param("t")
with play_column:
    playing = st.toggle("Play", key="step_play", disabled=last == 0, help="Step through the text, one token a second.")

if present:  # the headline; ← → keep stepping, Esc leaves
    where = f", layer {layer} {('forward', 'backward')[direction]}" if len(pairs) > 1 else ""
    headline.subheader(f"Token {t} {explain.as_markdown(f'“{tokens[t]}”')}, unit {unit}{where}", anchor=False)
st.markdown(explain.highlighted_text(tokens, t, model.kind))
if not present:
    st.caption("Light blue: the selected token, here and in the line chart of the unit along the text below.")

# -------------------------------------------------------------------------------- the step
step = trace.step(t, layer, direction)
share_query = classroom.present_query(
    view_query(cleaned.text, model_name, t, unit, layer, direction, off=switched_off, off_mode=off_mode),
    present=present, compare_layers=compare or None,
)  # fmt: skip
share_link = classroom.share_url(st.context.url, "step", share_query)
chart_stem = export.file_stem(model_name, "t", t, "unit", unit)
drawn = [cell_diagram_figure(step, unit)]  # every figure on the page, in order, for the HTML export
diagram_column, words_column = st.columns([3, 2], gap="large")
with diagram_column:
    st.plotly_chart(
        drawn[-1],
        key="step_diagram",
        alt=accessibility.CELL_DIAGRAM_WITH_NUMBERS,
        config=export.png_chart_config(f"cell-{chart_stem}"),
    )
with words_column:
    st.subheader("What happened here", help=glossary.help_text(*figures.SIGNAL_NAMES))
    with st.container(border=True):
        for sentence in explain.explain_step(step, unit, tokens, model.kind, model.units):
            st.markdown(explain.as_markdown(sentence))
    if layer == lstm.num_layers - 1:
        guesses = explain.top_predictions(traced.next_tokens.row(t), model.labels, k=5)
        tagger = ablation.effect_kind(model) == "tags"
        st.caption(
            explain.as_markdown(
                (f"The tagger's likeliest tags for “{tokens[t]}”: " if tagger
                 else "The model's guesses for the next token: ")
                + ", ".join(f"“{explain.token_name(token)}” {p:.0%}" for token, p in guesses)
            )
        )  # fmt: skip
    if switched_off:
        switched_unit = (layer, direction, unit)
        off_traced = model_store.ablated_text_trace(model_name, cleaned.text, (switched_unit,), off_mode)
        effect = ablation.compare_next_tokens(model, tokens, traced.next_tokens, off_traced.next_tokens, switched_unit,
                                              mode=off_mode)  # fmt: skip
        drawn.append(ablation.ablation_figure(effect, t, height=260))
        st.plotly_chart(
            drawn[-1],
            key="step_ablation",
            alt=accessibility.ABLATION,
            config=export.png_chart_config(f"switched-off-{chart_stem}"),
        )
        st.markdown(explain.as_markdown(" ".join(filter(None, (ablation.ablation_sentence(effect, t),
                                                               ablation.held_reading(effect))))))  # fmt: skip
        st.caption(f"The diagram and the equations show unit {unit} as the model reads the text normally; only "
                   "these bars come from reading it again with the unit switched off.")  # fmt: skip
    if not present:
        st.caption("Link to this view, to share:")
        st.code(share_link, language=None, wrap_lines=True)

if compare:
    st.subheader(f"Unit {unit} at token {t} in every layer and direction")
    steps = {pair: (step if pair == (layer, direction) else trace.step(t, *pair)) for pair in pairs}
    drawn.append(step_figures.unit_across_layers(steps, unit))
    st.plotly_chart(
        drawn[-1],
        key="step_compare_layers",
        alt=accessibility.UNIT_ACROSS_LAYERS,
        config=export.png_chart_config(f"layers-{chart_stem}"),
    )

if not present:  # presenting keeps to the diagram and the explanation
    st.subheader(f"Every unit at this token ({lstm.hidden_size} units, unit {unit} outlined)",
                 help=glossary.help_text("unit", "gate colours", "sign colours"))  # fmt: skip
    drawn.append(step_figures.gate_strips(step, unit))
    st.plotly_chart(
        drawn[-1],
        key="step_strips",
        alt=accessibility.GATE_STRIPS,
        config=export.png_chart_config(f"strips-{chart_stem}"),
    )
    st.caption(figures.legend_markdown())

    st.subheader(f"Unit {unit} along the text", help=glossary.help_text("gate", "cell state", "hidden state",
                                                                        "selected token"))  # fmt: skip
    drawn.append(step_figures.unit_history(trace, unit, t, layer, direction,
                                           window=40 if model.kind == "chars" else 60, named=named))  # fmt: skip
    st.plotly_chart(
        drawn[-1],
        key="step_history",
        alt=accessibility.UNIT_HISTORY,
        config=export.png_chart_config(f"history-{chart_stem}"),
    )

    st.subheader("The six equations", help=glossary.help_text("sigmoid", "tanh"))
    if direction == 1:
        st.caption(f"This is the backward direction: it has read the {'sentence' if model.kind == 'words' else 'text'} "
                   f"from its end, so the state it starts token {t} with, c and h at t+1, comes from token {t + 1} "
                   "(zero at the last token), not from the token before.")  # fmt: skip
    symbols_column, numbers_column = st.columns(2, gap="large")
    with symbols_column:
        st.markdown("**With symbols** (σ is the sigmoid, ⊙ multiplies unit by unit)")
        for equation in explain.symbolic_equations(direction):
            st.latex(equation)
    with numbers_column:
        st.markdown(f"**With unit {unit}'s numbers at token {t}**")
        for equation in explain.numeric_equations(step, unit):
            st.latex(equation)
    st.caption(explain.TORCH_NAMES_NOTE)

# ---------------------------------------------------------------------- share and export
with toolbar:
    with st.popover("Share", icon=":material/share:", key="step_share"):
        st.caption("The link to exactly this view (text, model, token, unit, presentation):")
        st.code(share_link, language=None, wrap_lines=True)
    inputs.export_popover("step", trace, drawn, model_name, f"LSTM Gate Explorer: {model_name}, token {t}, unit {unit}",
                          f"{export.file_stem('lstm', chart_stem)}.html")  # fmt: skip


# --------------------------------------------------------------------------------- playing
if playing:
    inputs.play_tokens(last, PLAY_SECONDS)
