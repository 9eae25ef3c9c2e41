"""The input widgets several pages share, so that they look and behave alike everywhere, and the
callbacks pages give their widgets.

Their keys are shared too ("text", "model"): what a student typed on /gates is what /step and
/gradients read, and every one of them is bound to the URL.

Callbacks live here, not in the pages: a function defined in a page keeps that page's whole namespace
(its figures and traces) alive through the widget that holds it, and ties the namespace into a
reference cycle that only Python's full garbage collections free; those stop every session at once
(benchmarks.load_test).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

import streamlit as st

from lstm_core.models.language_model import UnitInfo
from ui import ablation, classroom, explain, export, glossary, model_store, typed_text
from ui.query import check_model

TEXT_LABEL = "Text the model reads"


def text_box(
    label: str = TEXT_LABEL,
    *,
    key: str = "text",
    value: str = typed_text.DEFAULT_TEXT,
    max_chars: int = typed_text.MAX_TEXT_CHARS,
    height: int = 80,
    **options,
) -> str:
    """A text area bound to the URL (`key` is the query parameter) that holds at most `max_chars`
    characters; `options` go to `st.text_area` (help, ...). By default the one every page that reads a
    sentence shows.

    The browser stops typing and pasting at `max_chars`, and Streamlit cuts whatever value arrives to
    it (a link, a script talking to the websocket) before the page sees it, so no page ever cleans or
    traces more. A link whose value is longer gets a warning under the box saying so.
    """
    longest = max((len(asked) for asked in st.query_params.get_all(key)), default=0)
    typed = st.text_area(label, value=value, key=key, bind="query-params", persist_state="session", height=height,
                         max_chars=max_chars, **options)  # fmt: skip
    if longest > max_chars:
        st.warning(f"The link's text has {longest:,} characters; only the first {max_chars:,} are used.",
                   icon=":material/content_cut:")  # fmt: skip
    return typed


def model_choice(raw_params: Mapping[str, object], only: Sequence[str] | None = None) -> tuple[str, str | None]:
    """The model radio (shipped models, then this session's own) and a notice when the link named a
    model this session does not have. `only`: the models a page can teach with, when not every one."""
    model_names = model_store.model_names()
    if only is not None:
        model_names = [name for name in model_names if name in only]
    _, notice = check_model(raw_params, model_names)
    name = st.radio("Model", model_names, key="model", bind="query-params", persist_state="session",
                    captions=[model_store.model_caption(name) for name in model_names])  # fmt: skip
    return name, notice


def show_notices(box, notices: list[str]) -> None:
    """Every value a page had to change, in one warning box. Escaped: a notice quotes what the link
    said, and a link can say anything."""
    if notices:
        box.warning("\n".join(f"- {explain.as_markdown(notice)}" for notice in notices), icon=":material/warning:")


def model_or_stop(model_name: str, box=None, notices: Sequence[str] = ()):
    """The language model `model_name`, or, when its files are missing, the page's notices in `box`,
    an error that says so and the end of the run."""
    try:
        return model_store.language_model(model_name)
    except FileNotFoundError:
        if box is not None:
            show_notices(box, list(notices))
        st.error(f"The {model_name} model is not installed yet (its files are missing from assets/{model_name}). "
                 "Choose another model.", icon=":material/construction:")  # fmt: skip
        st.stop()


def drop_param(key: str) -> None:
    """Remove a query parameter no widget shows on this view (a layer for a one-layer model)."""
    if key in st.query_params:
        try:
            del st.query_params[key]
        except Exception:  # noqa: BLE001 - a binding left by another page owns it; it goes with that page
            pass


def set_state(**values) -> None:
    """A button's callback that sets session-state keys: `on_click=set_state, kwargs={"text": example}`."""
    st.session_state.update(values)


def move_token(step: int, last: int) -> None:
    """Previous / next token (`step` = -1 or 1), within 0..`last`."""
    st.session_state["t"] = min(max(int(st.session_state.get("t", 0)) + step, 0), last)


def play_tokens(last: int, seconds: float) -> None:
    """The Play toggle of /step: one token on every `seconds`, up to `last`, where the toggle turns off.

    Call it on every run while the toggle is on. That call only arms the timer; each tick of the
    fragment's timer moves one token on and reruns the page.
    """
    st.session_state["step_play_armed"] = True
    st.fragment(_advance_one_token, run_every=seconds)(last)


def _advance_one_token(last: int) -> None:
    if st.session_state.pop("step_play_armed", False):
        return
    if st.session_state.get("t", 0) >= last:
        st.session_state["step_play"] = False
    else:
        move_token(1, last)
    st.rerun()


def keep_in_range(key: str, size: int) -> None:
    """A value carried over from another text, model or corpus may not fit this one: pull it into
    0..size-1 before its widget is drawn (Streamlit would otherwise reset it to 0 without a word)."""
    value = st.session_state.get(key)
    if isinstance(value, int) and not 0 <= value < size:
        st.session_state[key] = min(max(value, 0), size - 1)


def presentation_toggle(help: str) -> bool:
    """The "Present" toggle of /gates and /step, bound to the URL (`present`)."""
    return st.toggle("Present", key="present", bind="query-params", persist_state="session", help=help)


def title_row(page: str, title: str, caption: str, present_help: str):
    """The top of /gates and /step: the title and its caption, or in presentation mode the bar with its
    way out. Returns (toolbar, present, headline): the container for Share and Export (hidden when
    presenting), whether presentation mode is on, and the bar's container for the headline (None
    when not presenting).

    The title row is hidden whole when presenting (its key starts like the other controls'), so it
    leaves no gap."""
    title_column, toolbar_column = st.container(key=f"{page}_controls_top").columns([3, 2], vertical_alignment="bottom")
    toolbar = toolbar_column.container(horizontal=True, horizontal_alignment="right")
    with toolbar:
        present = presentation_toggle(present_help)
    if present:
        return toolbar, True, presentation_bar(page)
    title_column.header(title)
    st.caption(caption)
    return toolbar, False, None


def presentation_bar(page: str):
    """Presentation mode's CSS and its top bar; returns the container for the page's headline.

    The way out comes first, so it is there even when the page stops early (an empty text).
    """
    st.html(classroom.PRESENTATION_CSS)
    bar = st.container(horizontal=True, vertical_alignment="center", key=f"{page}_present_bar")
    headline = bar.container(horizontal=True, vertical_alignment="center")  # filled once the view is known
    bar.button("Leave presentation", key=f"{page}_leave_present", on_click=set_state, kwargs={"present": False},
               shortcut="Escape", icon=":material/close_fullscreen:")  # fmt: skip
    return headline


def export_popover(page: str, trace, figures: Sequence, model_name: str, title: str, html_name: str) -> None:
    """The Export popover of /gates and /step: the trace as CSV and .npz, the charts as one HTML page.

    Each file is built only when its button is clicked (a callable `data`), never on a rerun. The CSV
    holds at most `export.MAX_CSV_ROWS` rows and the .npz at most `export.MAX_NPZ_BYTES` of arrays, each
    whole tokens around the selected token (the "t" both pages share); a label says which tokens when
    that is not all of them.
    """
    selected = st.session_state.get("t", 0)
    selected = selected if isinstance(selected, int) else 0
    whole = (0, trace.length)
    csv_window, npz_window = export.csv_window(trace, selected), export.npz_window(trace, selected)
    rows_help = "One row per token, layer, direction and unit: every gate, cell and hidden value."
    if csv_window != whole:
        rows_help += f" At most {export.MAX_CSV_ROWS:,} rows: the tokens around the selected one."
    arrays_help = "gates (4, L, D, T, H), cell, hidden, tokens, and t (each token's place in the text)."
    if npz_window != whole:
        arrays_help += f" At most {export.MAX_NPZ_BYTES // 2**20} MB: the tokens around the selected one."
    with st.popover("Export", icon=":material/download:", key=f"{page}_export"):
        stem = export.file_stem("lstm", model_name)
        st.download_button(export.csv_label(trace, csv_window), data=partial(export.trace_csv, trace, selected),
                           file_name=f"{stem}-trace.csv", mime="text/csv", key=f"{page}_export_csv", on_click="ignore",
                           icon=":material/table:", help=rows_help)  # fmt: skip
        st.download_button(export.npz_label(trace, npz_window), data=partial(export.trace_npz, trace, selected),
                           file_name=f"{stem}-trace.npz", mime="application/octet-stream", key=f"{page}_export_npz",
                           on_click="ignore", icon=":material/data_array:", help=arrays_help)  # fmt: skip
        st.download_button("Charts as HTML", data=partial(export.figures_html, tuple(figures), title),
                           file_name=html_name, mime="text/html", key=f"{page}_export_html", on_click="ignore",
                           icon=":material/code:", help="Every chart of this view in one page that opens offline.")  # fmt: skip
        st.caption("A chart as PNG: hover it and click the camera at its top right.")


def switch_off_controls(unit: int, named: UnitInfo | None = None) -> tuple[bool, str]:
    """The "Switch unit N off" toggle and the "hold its cell state at" choice, kept in the URL (`off`,
    `off_mode`) so that a shared link shows the switched-off view; returns (switched off, mode).

    `named`: the unit's `UnitInfo` when it is a named unit; the choice's help then says what a cell held
    at 0 reads as by its threshold (`ablation.mode_help`)."""
    off_column, mode_column = st.columns([2, 3], vertical_alignment="center")
    with off_column:
        switched_off = st.toggle(f"Switch unit {unit} off", key="off", bind="query-params", persist_state="session",
                                 help=f"{glossary.help_text('switching a unit off')}\n\n{ablation.OFF_HELP}")  # fmt: skip
    with mode_column:
        off_mode = st.radio("Hold its cell state at", ablation.MODES, key="off_mode", horizontal=True,
                            captions=ablation.MODE_CAPTIONS, bind="query-params", persist_state="session",
                            help=ablation.mode_help(named), disabled=not switched_off)  # fmt: skip
    return switched_off, off_mode


def question_answered(key: str) -> bool:
    """Whether the predict-then-reveal question whose pills have key `key` is answered: the student has
    picked an option (now or before: `reveal_on_pick`) or pressed "Show the answer". Until then the page
    keeps the answer, and every number or chart that gives it away, to itself."""
    return bool(st.session_state.get(f"{key}_shown")) or st.session_state.get(key) is not None


def reveal_on_pick(key: str) -> dict:
    """The `on_change` and `kwargs` of a question's pills: once an option is picked the answer stays shown,
    even if the student then clears the pick."""
    return {"on_change": set_state, "kwargs": {f"{key}_shown": True}}


def answer_or_wait(question, picked: int | None, key: str, waiting: str) -> None:
    """Under a question's pills: before it is answered (`question_answered`), `waiting` and a "Show the
    answer" button; after, the answer (`show_answer`): right or wrong for the option `picked`, or the
    answer alone for a student who asked for it. `question` has `reveal(picked)` and `shown()`."""
    if not question_answered(key):
        st.caption(waiting)
        st.button("Show the answer", key=f"{key}_reveal", on_click=set_state, kwargs={f"{key}_shown": True},
                  icon=":material/visibility:")  # fmt: skip
        return
    show_answer(question.reveal(picked) if picked is not None else question.shown())


def show_answer(reveal) -> None:
    """A predict-then-reveal question's answer: right or wrong with the reason from the trace, or (the
    student asked for it without picking) the answer alone. `reveal`: an object with `right` (True,
    False, or None for the answer alone) and `text`."""
    if reveal.right is None:
        st.info(explain.as_markdown(reveal.text), icon=":material/lightbulb:")
    elif reveal.right:
        st.success(explain.as_markdown(reveal.text), icon=":material/check_circle:")
    else:
        st.error(explain.as_markdown(reveal.text), icon=":material/cancel:")
