"""/compare: two texts read by the same model, side by side, and where their traces part.

Query parameters (bound to the widgets, so the URL follows every change): compare_a and compare_b (the two
texts), model, layer and direction (when the model has more than one), compare_signal, compare_order,
compare_top_k and compare_at (where the window of a long text sits). A link like
/compare?compare_a=Bob%20is%20nice.&compare_b=Mary%20is%20nice. opens exactly that comparison.
"""

import streamlit as st

from ui import accessibility, compare, explain, figures, inputs, model_store, typed_text
from ui.query import DIRECTION_NAMES, check_query, check_view, view_query

MAX_WINDOW_TOKENS = 80  # as on /gates: columns drawn at once, so token labels stay readable
SIDE_BY_SIDE_TOKENS = 40  # as on /gates: wider windows are drawn one above the other, at full width
DEFAULT_TOP_K = 24  # rows of each of the three heatmaps; the side-by-side ones are half as wide as /gates'
DEFAULT_SIGNAL = "cell"
CHART_CONFIG = {"displayModeBar": False}
DEFAULT_A, DEFAULT_B = compare.PRESETS["A new subject"]

# ------------------------------------------------------------------ what the URL asked for
raw_params = st.query_params.to_dict()  # read before any widget: bound widgets drop values they reject
# The default first: a bound widget given a value it does not offer shows its default, which the notice names.
signal_choices = (DEFAULT_SIGNAL, *(name for name in figures.SIGNAL_NAMES if name != DEFAULT_SIGNAL))
choices = check_query(raw_params, {"compare_signal": signal_choices, "compare_order": tuple(compare.UNIT_ORDERS)}, {})
st.header("Compare two sentences")
st.caption(
    "The same model reads two texts. Where they start alike its states are the same; see where the traces part, "
    "which units carry the difference, and whether it lasts."
)

# ------------------------------------------------------------------------------ the inputs
preset_columns = st.columns(len(compare.PRESETS))
for index, (column, (name, pair)) in enumerate(zip(preset_columns, compare.PRESETS.items(), strict=True)):
    column.button(name, key=f"compare_preset_{index}", on_click=inputs.set_state,
                  kwargs={"compare_a": pair[0], "compare_b": pair[1]}, width="stretch",
                  help=f"A: {pair[0]}  \nB: {pair[1]}")  # fmt: skip
a_column, b_column, model_column = st.columns([2, 2, 1])
with model_column:
    model_name, model_notice = inputs.model_choice(raw_params)
with a_column:
    typed_a = inputs.text_box("Text A", value=DEFAULT_A, key="compare_a",
                              height=100)  # fmt: skip
with b_column:
    typed_b = inputs.text_box("Text B", value=DEFAULT_B, key="compare_b",
                              height=100, help="The difference heatmap shows B − A.")  # fmt: skip
cleaned_a, cleaned_b = typed_text.clean_text(typed_a), typed_text.clean_text(typed_b)
notices = [model_notice] if model_notice else []
notices += [f"Text A: {notice}" for notice in cleaned_a.notices] + [f"Text B: {notice}" for notice in cleaned_b.notices]
notices += choices.notices
notice_box = st.container()  # one box for everything the page had to change, filled once below
empty = [name for name, cleaned in (("A", cleaned_a), ("B", cleaned_b)) if not cleaned.text]
if empty:
    inputs.show_notices(notice_box, notices)
    which = "Both texts are empty" if len(empty) == 2 else f"Text {empty[0]} is empty"
    st.info(f"{which}. Type a sentence on each side, or pick one of the pairs above.", icon=":material/edit_note:")
    st.stop()
model = inputs.model_or_stop(model_name, notice_box, notices)
traced_a = model_store.text_trace(model_name, cleaned_a.text)
traced_b = model_store.text_trace(model_name, cleaned_b.text)
tokens_a, tokens_b = list(traced_a.trace.tokens), list(traced_b.trace.tokens)
for name, traced in (("A", traced_a), ("B", traced_b)):
    if traced.vocabulary_notice:
        st.caption(explain.as_markdown(f"Text {name}: {traced.vocabulary_notice}"))
alignment = compare.cached_alignment(tuple(tokens_a), tuple(tokens_b))

# ------------------------------------------------------------------- what to draw, checked first
lstm = model.lstm
view = check_view(raw_params, {"layer": lstm.num_layers, "direction": lstm.num_directions}, model_store.model_names())
numbers = {"compare_top_k": (1, lstm.hidden_size, min(DEFAULT_TOP_K, lstm.hidden_size))}
long_texts = len(alignment) > MAX_WINDOW_TOKENS
if long_texts:
    numbers["compare_at"] = (0, len(alignment) - 1, 0)
checked = check_query(raw_params, {}, numbers)
inputs.show_notices(notice_box, [*notices, *view.notices[1 if model_notice else 0 :], *checked.notices])
for key, value in {**view.corrected, **checked.corrected}.items():
    st.session_state[key] = value  # what the notice promised (the bound widget would drop the bad value)
for key, size in {"compare_top_k": lstm.hidden_size + 1, "compare_at": len(alignment)}.items():
    if isinstance(st.session_state.get(key), int) and st.session_state[key] >= size:
        st.session_state[key] = size - 1  # the texts or the model changed under a value that fitted before

with st.sidebar:
    st.subheader("What to compare")
    layer = direction = 0
    if lstm.num_layers > 1:
        layer = st.selectbox("Layer", range(lstm.num_layers), key="layer", bind="query-params", persist_state="session")
    else:
        inputs.drop_param("layer")
    if lstm.num_directions > 1:
        direction = st.selectbox("Direction", range(lstm.num_directions), key="direction", bind="query-params",
                                 persist_state="session", format_func=DIRECTION_NAMES.__getitem__)  # fmt: skip
    else:
        inputs.drop_param("direction")
    signal = st.radio("Signal", figures.SIGNAL_NAMES, index=figures.SIGNAL_NAMES.index(DEFAULT_SIGNAL),
                      key="compare_signal", bind="query-params", persist_state="session", horizontal=True,
                      help="The three gates (0 to 1), the candidate, the cell state (the memory) or the hidden state.")  # fmt: skip
    order = st.radio("Order the units", list(compare.UNIT_ORDERS), key="compare_order", bind="query-params",
                     persist_state="session", captions=list(compare.UNIT_ORDERS.values()))  # fmt: skip
    top_k = st.slider("How many units to draw", min_value=1, max_value=lstm.hidden_size, key="compare_top_k",
                      value=min(DEFAULT_TOP_K, lstm.hidden_size), bind="query-params", persist_state="session",
                      help="The first ones in the order above. Named units are always drawn.")  # fmt: skip

# ------------------------------------------------------------------------------ the numbers
signals_a = figures.signals_of(traced_a.trace, layer, direction)
signals_b = figures.signals_of(traced_b.trace, layer, direction)
values_a, values_b = signals_a[signal], signals_b[signal]
difference = compare.aligned_difference(values_a, values_b, alignment)
named_units = {
    info.unit: info.name for info in model.units.values() if (info.layer, info.direction) == (layer, direction)
}
summary = compare.summarize_difference(alignment, values_a, values_b, signal, named_units=sorted(named_units))
order_of_units = compare.compare_unit_order(order, values_a, values_b, difference)
units = figures.shown_units(order_of_units, top_k, pinned=list(named_units))
if summary.largest is not None:
    focus_column, focus_unit = summary.largest[:2]
else:
    focus_column = alignment.parted_at or 0
    focus_unit = summary.final[0] if summary.final is not None else int(order_of_units[0])

if long_texts:
    at_column, jump_column = st.columns([3, 1], vertical_alignment="bottom")
    with jump_column:
        st.button("Go to where they part", key="compare_jump", on_click=st.session_state.__setitem__,
                  args=("compare_at", alignment.parted_at or 0), width="stretch")  # fmt: skip
    with at_column:
        at = st.slider("Position along the two texts (aligned token)", min_value=0, max_value=len(alignment) - 1,
                       key="compare_at", value=0, bind="query-params", persist_state="session",
                       help=f"The texts line up in {len(alignment)} positions; the charts show {MAX_WINDOW_TOKENS} "
                            "of them around this one.")  # fmt: skip
else:
    at = focus_column
    inputs.drop_param("compare_at")
start, stop = figures.token_window(len(alignment), at, MAX_WINDOW_TOKENS)

# ------------------------------------------------------------------------------ in words
with st.container(border=True):
    line_a, line_b = compare.alignment_markdown(alignment, tokens_a, tokens_b, kind=model.kind, start=start, stop=stop)
    st.markdown(f"**A** {line_a}  \n**B** {line_b}")
    st.caption("Blue: a token swapped for another at the same place. Grey: a token only one of the texts has.")
    st.markdown("\n".join(f"- {explain.as_markdown(sentence)}"
                          for sentence in compare.summary_sentences(summary, alignment, tokens_a, tokens_b, named_units)))  # fmt: skip
    link_columns = st.columns(2)
    for link_column, side, text in zip(link_columns, ("a", "b"), (cleaned_a.text, cleaned_b.text), strict=True):
        t = compare.side_index(alignment, focus_column, side)
        link_column.page_link("views/gates.py", label=f"Open text {side.upper()} in the gates view (token {t}, unit {focus_unit})",
                              icon=":material/grid_on:", query_params=view_query(text, model_name, t, focus_unit, layer, direction))  # fmt: skip

# ------------------------------------------------------------------------------ the heatmaps
cell_limit = compare.shared_signed_limit(values_a, values_b)  # one colour scale for A and B
side_windows = {side: compare.side_window(alignment, side, start, stop) for side in ("a", "b")}
wide = max(side_stop - side_start for side_start, side_stop in side_windows.values()) > SIDE_BY_SIDE_TOKENS
heatmap_columns = [st.container(), st.container()] if wide else st.columns(2)
for column, side, signals, tokens in zip(heatmap_columns, ("a", "b"), (signals_a, signals_b), (tokens_a, tokens_b),
                                         strict=True):  # fmt: skip
    side_start, side_stop = side_windows[side]
    with column:
        if side_start == side_stop:
            st.info(
                f"Text {side.upper()} has no tokens in this part of the comparison.", icon=":material/visibility_off:"
            )
            continue
        st.plotly_chart(
            compare.side_heatmap(side.upper(), signals[signal][side_start:side_stop], tokens[side_start:side_stop],
                                 units, signal, start=side_start, unit_names=named_units,
                                 selected=(compare.side_index(alignment, focus_column, side), focus_unit),
                                 signed_limit=cell_limit if signal == "cell" else None,
                                 units_title=compare.UNIT_ORDER_TITLES[order]),
            key=f"compare_heatmap_{side}", alt=accessibility.heatmap(signal, side.upper()), config=CHART_CONFIG,
        )  # fmt: skip
st.plotly_chart(
    compare.difference_heatmap(
        compare.aligned_values(values_a, alignment.a_index[start:stop]),
        compare.aligned_values(values_b, alignment.b_index[start:stop]),
        compare.column_labels(alignment, tokens_a, tokens_b)[start:stop], alignment.kinds[start:stop], units, signal,
        start=start, selected=(focus_column, focus_unit), unit_names=named_units,
        limit=compare.difference_limit(difference), units_title=compare.UNIT_ORDER_TITLES[order],
    ),
    key="compare_difference", alt=accessibility.difference_heatmap(signal), config=CHART_CONFIG,
)  # fmt: skip
st.caption(
    f"{figures.legend_markdown()}  \nA and B share one colour scale. The difference B − A is orange where B is higher, "
    "purple where it is lower; grey columns are tokens only one text has (+ only in B, − only in A), and “a→b” marks "
    "a token swapped for another. The solid frame is the unit that differs most, where it differs most."
)
