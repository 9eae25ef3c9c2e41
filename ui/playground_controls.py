"""The widgets and the flow of /playground besides its layout: a link repaired before any widget
reads it, the preset's callback, and the weight sliders. The unit, the presets and the figure are in
`ui.playground`.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from ui import playground as pg

__all__ = ["checked_link_notices", "load_preset", "preset_title", "parameter_slider"]

NOTICES_KEY = "playground_link_notices"  # what was wrong with a link, shown after the page reopens on it
REPAIRED_KEY = "playground_link_repaired"
SLIDER_HELP = {
    "w": "Input weight: how strongly this gate reads the number x_t of the current step.",
    "u": "Recurrent weight: how strongly this gate reads h_(t-1), what the unit output at the previous step.",
    "b": "Bias: where the gate sits when both x_t and h_(t-1) are 0.",
}


def checked_link_notices(raw_params: Mapping[str, object]) -> list[str]:
    """What was wrong with the link the page was opened on; call it before any widget exists.

    A bound widget silently drops a value it cannot use (w_i=99, preset=count). So a link that needs
    repairs reopens the page on the repaired link instead: the widgets then show, and the address bar
    then says, what the notices promise. Once only, whatever happens.
    """
    link = pg.check_link(raw_params)
    notices = st.session_state.pop(NOTICES_KEY, None) or link.notices
    just_repaired = st.session_state.pop(REPAIRED_KEY, False)
    if link.repaired is not None and not just_repaired:
        st.session_state[NOTICES_KEY] = notices
        st.session_state[REPAIRED_KEY] = True
        st.switch_page("views/playground.py", query_params=link.repaired)
    return notices


def load_preset() -> None:
    """Set every slider, the sequence and the switch to the chosen preset's values."""
    preset = pg.PRESETS[st.session_state.get(pg.PRESET_KEY) or pg.DEFAULT_PRESET]
    for key, value in preset.widget_values().items():
        st.session_state[key] = value


def preset_title(key: str) -> str:
    """A preset's button label."""
    return pg.PRESETS[key].title


def parameter_slider(name: str, preset: pg.Preset, disabled: bool = False) -> float:
    """The slider of weight `name` (w_i, u_f, b_o, ...), bound to the URL, its default the preset's value."""
    kind, letter = name.split("_")
    return st.slider(
        f"${kind}_{letter}$",
        min_value=-pg.WEIGHT_LIMIT,
        max_value=pg.WEIGHT_LIMIT,
        step=0.1,
        value=preset.weights[name],
        format="%.1f",
        key=name,
        bind="query-params",
        persist_state="session",
        disabled=disabled,
        help=SLIDER_HELP[kind],
    )
