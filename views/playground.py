"""/playground: one LSTM unit with a slider for every weight, run live on a sequence the student types.

Query parameters (bound to the widgets, so the URL follows every change): preset, sequence, no_forget,
the twelve weights w_i … b_o, c0, h0 and step. Every widget's default is the chosen preset's value, and
a widget at its default stays out of the URL: `/playground?preset=Count+the+1s` is the counting preset,
`...&w_g=0.5` changes one weight of it. A hand-written link may use the preset's short name
(`preset=count`).
"""

import streamlit as st

from ui import accessibility, explain
from ui import playground as pg
from ui import playground_controls as controls
from ui.diagram import cell_diagram_figure

CHART_CONFIG = {"displayModeBar": False}
GATE_HEADINGS = {
    gate: f"**{title}** ${pg.EQUATIONS[row]}$"
    for row, (gate, title) in enumerate(
        {"input": "Input gate", "forget": "Forget gate", "candidate": "Candidate", "output": "Output gate"}.items()
    )
}


# ------------------------------------------------------------------ what the URL asked for
raw_params = st.query_params.to_dict()  # read before any widget: bound widgets drop values they reject
notices = controls.checked_link_notices(raw_params)  # a link that needs repairs reopens the page on the repaired one

st.header("Playground: one LSTM unit")
st.caption(
    "One unit, one number in per step, every weight on a slider, in the spirit of TensorFlow Playground. "
    "Pick a preset, then move a slider or edit the sequence and watch the gates, the cell and the output change."
)
for notice in notices:  # escaped: a notice quotes what the link said, and a link can say anything
    st.warning(explain.as_markdown(notice), icon=":material/warning:")

# ------------------------------------------------------------------------------- the preset
preset_column, back_column = st.columns([5, 1.3], vertical_alignment="bottom")
with preset_column:
    # Bound like every widget: the URL carries the button's label (preset=Count+the+1s). Every other
    # widget's default is this preset's value, so the URL holds only what differs from the preset.
    preset_key = st.segmented_control(
        "Preset",
        list(pg.PRESETS),
        default=pg.DEFAULT_PRESET,
        required=True,
        format_func=controls.preset_title,
        key=pg.PRESET_KEY,
        bind="query-params",
        persist_state="session",
        on_change=controls.load_preset,
        help="Each preset sets every slider and the sequence to show one idea.",
    )
preset = pg.PRESETS[preset_key or pg.DEFAULT_PRESET]
back_box = back_column.empty()  # the button is drawn once the widgets below say whether anything changed
st.info(preset.note, icon=":material/lightbulb:")

sequence_column, switch_column = st.columns([3, 1.3], vertical_alignment="bottom")
with sequence_column:
    typed = st.text_input(
        r"Input sequence $x_1 \dots x_T$: numbers separated by spaces",
        value=preset.sequence,
        key=pg.SEQUENCE_KEY,
        bind="query-params",
        persist_state="session",
        max_chars=pg.MAX_SEQUENCE_CHARS,
        help=f"Up to {pg.MAX_STEPS} numbers between −{pg.INPUT_LIMIT:g} and {pg.INPUT_LIMIT:g}. "
        "In the presets 1 is the thing to store or count, 0 a blank step and −1 the marker that erases.",
    )
with switch_column:
    no_forget_gate = st.toggle(
        "1997 cell: no forget gate",
        value=preset.no_forget_gate,
        key=pg.NO_FORGET_KEY,
        bind="query-params",
        persist_state="session",
        help="Hochreiter and Schmidhuber's LSTM of 1997 had no forget gate: f = 1 always, so "
        "c_t = c_(t-1) + i_t·g_t. Gers, Schmidhuber and Cummins added the forget gate in 2000.",
    )
parsed = pg.parse_sequence(typed)
step_shown, step_notice = pg.check_step(raw_params, len(parsed.values)) if not parsed.empty else (None, None)
if step_notice:
    st.session_state[pg.STEP_KEY] = step_shown  # the bound slider would drop the bad value and show its default
input_notices = [notice for notice in (*parsed.notices, step_notice) if notice]
if input_notices:  # one box; the notices quote what was typed, so they are escaped
    st.warning("\n".join(f"- {explain.as_markdown(notice)}" for notice in input_notices), icon=":material/warning:")

# ------------------------------------------------------------------ the sliders and the figure
sliders_column, figure_column = st.columns([1, 1.3], gap="medium")
with sliders_column:
    weights = {}
    for gate in pg.GATE_LETTERS:
        with st.container(border=True):
            off = gate == "forget" and no_forget_gate
            st.markdown(GATE_HEADINGS[gate] + ("  \n:gray[switched off: $f_t = 1$ at every step]" if off else ""))
            for column, kind in zip(st.columns(3, gap="small"), "wub", strict=True):
                with column:
                    name = f"{kind}_{pg.GATE_LETTERS[gate]}"
                    weights[name] = controls.parameter_slider(name, preset, disabled=off)
    with st.container(border=True):
        st.markdown("**Starting state** before step 1")
        c0_column, h0_column = st.columns(2, gap="small")
        with c0_column:
            c0 = st.slider("$c_0$", min_value=-pg.C0_LIMIT, max_value=pg.C0_LIMIT, step=0.1, value=preset.c0,
                           format="%.1f", key=pg.C0_KEY, bind="query-params", persist_state="session",
                           help="The memory the unit starts with.")  # fmt: skip
        with h0_column:
            h0 = st.slider("$h_0$", min_value=-pg.H0_LIMIT, max_value=pg.H0_LIMIT, step=0.05, value=preset.h0,
                           format="%.2f", key=pg.H0_KEY, bind="query-params", persist_state="session",
                           help="The output the unit starts with; the gates read it at step 1.")  # fmt: skip

shown = {**weights, pg.C0_KEY: c0, pg.H0_KEY: h0, pg.SEQUENCE_KEY: typed, pg.NO_FORGET_KEY: no_forget_gate}
back_box.button(
    "Back to the preset",
    key="playground_back_to_preset",
    icon=":material/restart_alt:",
    on_click=controls.load_preset,
    disabled=preset.matches(shown),
    width="stretch",
    help="Undo your changes: every slider, the sequence and the switch return to the preset's values.",
)

with figure_column:
    if parsed.empty:
        st.info(
            "The sequence is empty. Type numbers separated by spaces, for example 1 0 0 −1 0, or pick a preset above.",
            icon=":material/edit:",
        )
        st.stop()
    trace = pg.run_unit(weights, parsed.values, c0, h0, no_forget_gate)
    length = trace.length
    if isinstance(st.session_state.get(pg.STEP_KEY), int) and not 1 <= st.session_state[pg.STEP_KEY] <= length:
        st.session_state[pg.STEP_KEY] = min(max(st.session_state[pg.STEP_KEY], 1), length)  # the sequence got shorter
    step = 1
    chart_box = st.container()  # the chart above the step slider that shades its column
    if length > 1:
        step = st.slider("Look inside the cell at step", min_value=1, max_value=length, value=min(preset.step, length),
                         key=pg.STEP_KEY, bind="query-params", persist_state="session",
                         help="The shaded column; the diagram and the equations below show this step.")  # fmt: skip
    chart_box.plotly_chart(
        pg.playground_figure(trace, selected_step=step, no_forget_gate=no_forget_gate),
        key="playground_chart",
        alt=accessibility.PLAYGROUND,
        config=CHART_CONFIG,
    )
    final = pg.unit_values(trace)
    st.caption(
        f"After the last step: $c_{{{length}}} = {final['cell'][-1]:.3f}$, $h_{{{length}}} = {final['hidden'][-1]:.3f}$. "
        "Hover the chart for every value at a step."
    )

# ------------------------------------------------------------------------ inside one step
detail = trace.step(step - 1)  # the trace counts from 0, the page from 1
st.subheader(f"Inside the cell at step {step}")
diagram_column, words_column = st.columns([3, 2], gap="large")
with diagram_column:
    st.plotly_chart(
        cell_diagram_figure(detail, 0, title=f"Step {step}: x = {parsed.labels[step - 1]}"),
        key="playground_diagram",
        alt=accessibility.CELL_DIAGRAM_WITH_NUMBERS,
        config=CHART_CONFIG,
    )
with words_column, st.container(border=True):
    for sentence in pg.describe_step(trace, step, no_forget_gate):
        st.markdown(sentence)
    if no_forget_gate:
        st.caption(
            f"Without a forget gate its row is $0 \\cdot x_t + 0 \\cdot h_{{t-1}} + {pg.NO_FORGET_BIAS:g}$, and "
            f"$\\sigma({pg.NO_FORGET_BIAS:g}) = 1$ exactly in double precision: the cell can only add."
        )

symbols_column, numbers_column = st.columns([2, 3], gap="large")
with symbols_column:
    st.markdown("**The six equations** (σ is the sigmoid)")
    for equation in pg.EQUATIONS:
        st.latex(equation)
with numbers_column:
    st.markdown(f"**With the numbers of step {step}**")
    for equation in explain.numeric_equations(detail, 0):
        st.latex(equation)

with st.expander("The same unit in PyTorch"):
    st.markdown(
        "The sliders are the parameters of a `torch.nn.LSTM(1, 1)`: $w$ is `weight_ih_l0`, $u$ is "
        "`weight_hh_l0`, $b$ is `bias_ih_l0` (and `bias_hh_l0` stays 0), with rows in PyTorch's order "
        "input $i$, forget $f$, candidate $g$, output $o$. Every number on this page comes from the app's "
        "NumPy LSTM, which matches PyTorch's to rounding."
    )
    st.code(pg.pytorch_code(weights, no_forget_gate), language="python")
