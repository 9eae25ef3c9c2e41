"""The input widgets several pages share, so that they look and behave alike everywhere.

Their keys are shared too ("text", "model"): what a student typed on /gates is what /step and
/gradients read, and every one of them is bound to the URL.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from ui import explain, state
from ui.step_state import check_model

TEXT_LABEL = "Text the model reads"


def text_box(**options) -> str:
    """The text area every page that reads a sentence shows; `options` go to `st.text_area` (help, ...)."""
    return st.text_area(
        TEXT_LABEL,
        value=state.DEFAULT_TEXT,
        key="text",
        bind="query-params",
        persist_state="session",
        height=80,
        **options,
    )


def model_choice(raw_params: Mapping[str, object]) -> tuple[str, str | None]:
    """The model radio (shipped models, then this session's own) and a notice when the link named a
    model this session does not have."""
    model_names = state.model_names()
    _, notice = check_model(raw_params, model_names)
    name = st.radio("Model", model_names, key="model", bind="query-params", persist_state="session",
                    captions=[state.model_caption(name) for name in model_names])  # fmt: skip
    return name, notice


def show_notices(box, notices: list[str]) -> None:
    """Every value a page had to change, in one warning box. Escaped: a notice quotes what the link
    said, and a link can say anything."""
    if notices:
        box.warning("\n".join(f"- {explain.as_markdown(notice)}" for notice in notices), icon=":material/warning:")


def drop_param(key: str) -> None:
    """Remove a query parameter no widget shows on this view (a layer for a one-layer model)."""
    if key in st.query_params:
        try:
            del st.query_params[key]
        except Exception:  # noqa: BLE001 - a binding left by another page owns it; it goes with that page
            pass
