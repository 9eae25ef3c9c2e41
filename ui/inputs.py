"""The input widgets several pages share, so that they look and behave alike everywhere.

Their keys are shared too ("text", "model"): what a student typed on /gates is what /step and
/gradients read, and every one of them is bound to the URL.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from ui import state
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
