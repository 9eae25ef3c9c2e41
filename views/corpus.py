"""/corpus: an LSTMVis-style explorer (Strobelt et al., 2018). Select a range of tokens in one text and a
threshold; see the units that are on inside the range and off around it; then find the other places
in the corpus where those units switch on together.

Query parameters (bound to the widgets, so the URL follows every change): model, corpus (stories or
pasted), stories, story_seed, corpus_text, layer, direction, signal, polarity, ref (the reference
text), start, end, threshold, margin. A link like /corpus?ref=0&start=21&end=29&signal=cell&threshold=1.5
opens exactly that exploration.
"""

import streamlit as st

from lstm_core.analysis import explore
from ui import accessibility, corpus_runs, explain, inputs, model_store, typed_text, word_notices
from ui import corpus_figures as figures
from ui.figures import signed_limit
from ui.query import DIRECTION_NAMES, carry_selection, check_query, check_view, clamp_index, index_notice, view_query

REFERENCE_TOKENS = {"words": 160, "chars": 440}  # the reference text shows this many tokens around the range
MATCH_TOKENS = {"words": 28, "chars": 70}  # tokens drawn per match, with this context either side:
MATCH_CONTEXT = {"words": 4, "chars": 12}
MAX_SELECTED = 12  # units carried into the search (the best separated ones)
DEFAULTS = {"ref": 0, "start": 21, "end": 29}  # story 0 of seed 1 quotes someone at tokens 21 to 29
CHART_CONFIG = {"displayModeBar": False}


# ------------------------------------------------------------------ what the URL asked for
raw_params = st.query_params.to_dict()  # read before any widget: bound widgets drop values they reject
carry_selection(raw_params, "corpus")
checked = check_query(
    raw_params,
    {"corpus": figures.SOURCES, "signal": figures.SIGNAL_CHOICES, "polarity": figures.POLARITIES},
    {"stories": figures.STORY_LIMITS, "story_seed": figures.SEED_LIMITS, "margin": figures.MARGIN_LIMITS},
    {"threshold": figures.THRESHOLD_LIMITS},
)
for key, value in checked.corrected.items():
    st.session_state[key] = value  # what the notice promised (the bound widget would drop the bad value)
notices = list(checked.notices)

st.header("Corpus explorer")
st.caption(
    "In the spirit of LSTMVis: select a range of tokens and a threshold to find the units that are on inside the "
    "range and off around it, then see where else in the corpus those units switch on together."
)

# ------------------------------------------------------------------------------ the corpus
model_column, source_column = st.columns([1, 3])
with model_column:
    model_name, model_notice = inputs.model_choice(raw_params)
with source_column:
    source = st.radio("Corpus", figures.SOURCES, key="corpus", bind="query-params", persist_state="session",
                      horizontal=True, captions=["stories of the story world", "text you paste"])  # fmt: skip
    if source == "stories":
        count_column, seed_column = st.columns(2)
        low, high, default = figures.STORY_LIMITS
        count_column.number_input("Stories", min_value=low, max_value=high, value=default, step=10, key="stories",
                                  bind="query-params", persist_state="session",
                                  help="Generated stories, the held-out mix: none of them was trained on.")  # fmt: skip
        low, high, default = figures.SEED_LIMITS
        seed_column.number_input("Story seed", min_value=low, max_value=high, value=default, step=1, key="story_seed",
                                 bind="query-params", persist_state="session")  # fmt: skip
        texts = figures.story_texts(int(st.session_state["stories"]), int(st.session_state["story_seed"]))
        text_noun = "Story"
    else:
        pasted = inputs.text_box(
            f"Your corpus (up to {figures.MAX_PASTED_CHARS:,} characters; each line is read as one text)",
            value=typed_text.DEFAULT_TEXT, key="corpus_text", max_chars=figures.MAX_PASTED_CHARS, height=120,
        )  # fmt: skip
        corpus_texts = figures.pasted_texts(pasted)
        notices += corpus_texts.notices
        texts = corpus_texts.texts
        text_noun = "Line"
notices = [notice for notice in (model_notice, *notices) if notice]
notice_box = st.container()
if not texts:
    inputs.show_notices(notice_box, notices)
    st.info("The corpus is empty. Paste some text (each line is one text), or read the stories of the story world.")
    st.stop()
model = inputs.model_or_stop(model_name, notice_box, notices)

lstm = model.lstm
budget = figures.token_budget(lstm.hidden_size, lstm.num_layers, lstm.num_directions)
texts, budget_notice = figures.texts_within_budget(texts, [len(model.tokens(text)) for text in texts], budget)
notices += [budget_notice] if budget_notice else []
corpus = corpus_runs.corpus_states(model_name, model, tuple(texts))

# ------------------------------------------------------------------------- what to look at
view = check_view(raw_params, {"layer": lstm.num_layers, "direction": lstm.num_directions}, model_store.model_names())
notices += view.notices[1 if model_notice else 0 :]
for key, value in view.corrected.items():
    st.session_state[key] = value
for key, size in {"layer": lstm.num_layers, "direction": lstm.num_directions, "ref": len(texts)}.items():
    inputs.keep_in_range(key, size)
for key, size in {"ref": len(texts)}.items():
    asked = raw_params.get(key)
    if asked is not None and st.session_state.get(f"_corpus_{key}_checked") != asked:
        st.session_state[f"_corpus_{key}_checked"] = asked  # the link counts once; afterwards the widget does
        value, notice = clamp_index(str(asked), size, 0)
        if notice:
            notices.append(index_notice(text_noun.lower(), asked, notice))
            st.session_state[key] = value

signal_columns = st.columns([1.5, 2.5, 1, 1])
with signal_columns[0]:
    signal = st.radio("Signal", figures.SIGNAL_CHOICES, key="signal", bind="query-params",
                      persist_state="session", captions=[figures.SIGNAL_LABELS[name] for name in figures.SIGNAL_CHOICES],
                      horizontal=True,
                      help="LSTMVis looks at the hidden state; the cell state is the longer memory.")  # fmt: skip
with signal_columns[1]:
    polarity = st.radio("A unit is on when its value is", figures.POLARITIES, key="polarity", bind="query-params",
                        persist_state="session", horizontal=True,
                        captions=["above t or below −t", "above t", "below −t"],
                        help="Many units encode a property by going negative (the word model's quotation unit does).")  # fmt: skip
with signal_columns[2]:
    layer = st.selectbox("Layer", range(lstm.num_layers), key="layer", bind="query-params", persist_state="session",
                         disabled=lstm.num_layers == 1)  # fmt: skip
with signal_columns[3]:
    direction = st.selectbox("Direction", range(lstm.num_directions), key="direction", bind="query-params",
                             persist_state="session", format_func=DIRECTION_NAMES.__getitem__,
                             disabled=lstm.num_directions == 1)  # fmt: skip

# ----------------------------------------------------------------------------- the selection
ref_column, start_column, end_column, threshold_column, margin_column = st.columns([1.2, 1, 1, 1, 1])
with ref_column:
    ref = st.number_input(f"{text_noun} to select in (0 to {len(texts) - 1})", min_value=0, max_value=len(texts) - 1,
                          value=DEFAULTS["ref"] if DEFAULTS["ref"] < len(texts) else 0, step=1, key="ref",
                          bind="query-params", persist_state="session")  # fmt: skip
reference_tokens = corpus.tokens[ref]
last = len(reference_tokens) - 1
range_notices = []
for key in ("start", "end"):
    if key in raw_params and not st.session_state.get(f"_corpus_{key}_checked") == raw_params[key]:
        value, notice = clamp_index(str(raw_params[key]), len(reference_tokens), min(DEFAULTS[key], last))
        st.session_state[f"_corpus_{key}_checked"] = raw_params[key]
        if notice:
            range_notices.append(index_notice(key, raw_params[key], notice))
            st.session_state[key] = value
    inputs.keep_in_range(key, len(reference_tokens))
with start_column:
    start = st.number_input(f"Start token (0 to {last})", min_value=0, max_value=last, step=1, key="start",
                            value=min(DEFAULTS["start"], last), bind="query-params", persist_state="session")  # fmt: skip
with end_column:
    end = st.number_input(f"End token (0 to {last})", min_value=0, max_value=last, step=1, key="end",
                          value=min(DEFAULTS["end"], last), bind="query-params", persist_state="session")  # fmt: skip
with threshold_column:
    low, high, default = figures.THRESHOLD_LIMITS
    threshold = st.number_input("Threshold t", min_value=low, max_value=high, value=1.5, step=0.1, format="%.2f",
                                key="threshold", bind="query-params", persist_state="session",
                                help="On means above t (or below −t). The hidden state lies in (−1, 1).")  # fmt: skip
with margin_column:
    low, high, default = figures.MARGIN_LIMITS
    margin = st.number_input("Off for (tokens)", min_value=low, max_value=high, value=default, step=1, key="margin",
                             bind="query-params", persist_state="session",
                             help="How many tokens just before and just after the range must be off. 0: no condition.")  # fmt: skip
if start > end:
    range_notices.append(f"The start ({start}) comes after the end ({end}); the range is read from {end} to {start}.")
    start, end = end, start
inputs.show_notices(notice_box, notices + range_notices)

notice = word_notices.vocabulary_notice(model, model.unknown_words(texts[ref]), model_name)
if notice:
    st.caption(explain.as_markdown(notice))

values = corpus.text_values(ref, signal, layer, direction)
selected = explore.select_units(values, start, end, threshold, margin, figures.POLARITY_SIGNS[polarity])
units = [(chosen.unit, chosen.sign) for chosen in selected[:MAX_SELECTED]]
first, stop = figures.range_window(len(reference_tokens), start, end, REFERENCE_TOKENS[model.kind])
separator = "" if model.kind == "chars" else " "
on_counts = None
if units:
    on_counts = sum(sign * values[first:stop, unit] > threshold for unit, sign in units)
st.markdown(f"**{text_noun} {ref}** of {len(texts)} ({corpus.token_count:,} tokens in all), with token numbers; "
            "the selected range in light blue, the tokens that must be off in grey:")  # fmt: skip
st.plotly_chart(
    figures.reference_text_figure(reference_tokens[first:stop], start, end, margin, first=first, separator=separator,
                                  counts=on_counts),
    key="corpus_reference", alt=accessibility.CORPUS_REFERENCE, config=CHART_CONFIG, width="content",
)  # fmt: skip

named = {info.unit: info.name for info in model.units.values() if (info.layer, info.direction) == (layer, direction)}
with st.container(border=True):
    for sentence in figures.selection_sentences(
        selected,
        reference_tokens,
        start,
        end,
        threshold,
        margin,
        signal,
        named,
        separator,
        figures.POLARITY_SIGNS[polarity],
    ):
        st.markdown(explain.as_markdown(sentence))
    if len(selected) > MAX_SELECTED:
        st.caption(f"The {MAX_SELECTED} best separated of {len(selected)} units are used below.")
if not units:
    st.stop()

rows = [
    {"unit": unit_label, "lowest inside": f"{chosen.inside_min:.2f}",
     "highest around": "none" if chosen.outside_max is None else f"{chosen.outside_max:.2f}",
     "clears t by": f"{chosen.score:.2f}"}
    for chosen in selected[:MAX_SELECTED]
    for unit_label in [figures.unit_label(chosen.unit, chosen.sign) + (f" ({named[chosen.unit]})" if chosen.unit in named else "")]
]  # fmt: skip
st.plotly_chart(
    figures.selection_figure(values[first:stop], reference_tokens[first:stop], units, start, end, threshold,
                             first=first, signal=signal),
    key="corpus_selection", alt=accessibility.CORPUS_SELECTION, config=CHART_CONFIG,
)  # fmt: skip
table_column, note_column = st.columns([3, 2], vertical_alignment="center")
with table_column, st.container(key="corpus_units"):
    st.table(rows, border="horizontal", hide_index=True)
note_column.caption(
    "Signed values: a ↓ unit's values are negated, so “on” is above the dashed threshold for every unit. "
    "“Clears t by” is how far the unit stays from the threshold inside the range and around it; the best first."
)

# ------------------------------------------------------------------------------- the matches
st.subheader("Where else these units switch on together")
search_columns = st.columns(2)
with search_columns[0]:
    min_units = st.slider("At least this many of the selected units on at once", min_value=1, max_value=len(units),
                          value=len(units), key="corpus_min_units") if len(units) > 1 else 1  # fmt: skip
with search_columns[1]:
    shown_count = st.slider("Matches to show", min_value=1, max_value=20, value=6, key="corpus_shown")
matches = explore.find_matches(
    corpus.values(signal, layer, direction), corpus.offsets, units, threshold, min_units=min_units,
    target_length=end - start + 1, exclude=(ref, start, end),
)  # fmt: skip
if not matches:
    st.info("No other span of the corpus has these units on together. Lower the number of units, or widen the corpus.")
    st.stop()
st.caption(
    f"{len(matches):,} spans found (the selection itself left out), ranked by how many units stay on over the whole "
    f"span, then by how close its length is to the selection's ({end - start + 1} tokens). Each heatmap shows the "
    "selected units under the text (orange above 0, white about 0, purple below), the match framed in black."
)
limit = 1.0 if signal == "hidden" else signed_limit(corpus.values(signal, layer, direction)[:, [u for u, _ in units]])
for number, match in enumerate(matches[:shown_count]):
    tokens = corpus.tokens[match.text_index]
    window_first, window_stop = figures.match_window(len(tokens), match, MATCH_CONTEXT[model.kind],
                                                     MATCH_TOKENS[model.kind])  # fmt: skip
    match_values = corpus.text_values(match.text_index, signal, layer, direction)[window_first:window_stop]
    with st.container(border=True):
        line_column, link_column = st.columns([4, 1], vertical_alignment="center")
        line_column.markdown(
            explain.as_markdown(
                figures.match_sentence(match, len(units), tokens, f"{text_noun} {match.text_index}", separator)
            )
        )
        link_column.page_link(
            "views/gates.py", label="Open in /gates", icon=":material/grid_on:",
            query_params=view_query(corpus.texts[match.text_index], model_name, match.start, units[0][0], layer, direction),
        )  # fmt: skip
        st.plotly_chart(
            figures.match_figure(match_values, tokens[window_first:window_stop], units, match, first=window_first,
                                 signal=signal, limit=limit),
            key=f"corpus_match_{number}", alt=accessibility.CORPUS_MATCH, config=CHART_CONFIG,
        )  # fmt: skip
