"""The view a URL asks /step (and the tutorial's links) for, checked: which model, layer, direction, token
and unit, and a message for every value that had to change.

The widgets on /step are bound to the query parameters (`bind="query-params"`): a link
`/step?text=...&model=words&layer=0&t=5&unit=17` opens exactly that view and the URL follows every change.
Streamlit silently drops a bound value it cannot use (`t=abc`, `t=999`); `check_view` reads the raw
parameters first, so the page can say what it did instead, and gives the value to show.

>>> view = check_view({"t": "999", "unit": "-3", "model": "evil"}, sizes={"t": 12, "unit": 128, "layer": 1, "direction": 1})
>>> view.model, view.corrected
('words', {'t': 11, 'unit': 0})
>>> len(view.notices)
3
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from ui.state import MODEL_NAMES, clamp_index

__all__ = ["DIRECTION_NAMES", "INDEX_KEYS", "CheckedView", "check_model", "check_view", "view_query", "step_url",
           "first_value", "quoted_value"]  # fmt: skip

# Query parameter (and widget key) -> what it indexes, in a student's words. Shared with /gates.
INDEX_KEYS: dict[str, str] = {"layer": "layer", "direction": "direction", "t": "token", "unit": "unit"}
# The direction selectboxes show these names, and a bound selectbox keeps the shown name in the URL
# (`direction=backward`); links therefore use the names too, and a number is still understood.
DIRECTION_NAMES = ("forward", "backward")


@dataclass(frozen=True)
class CheckedView:
    model: str
    corrected: dict[str, int]  # only the indices the URL got wrong, each with the value to show instead
    notices: tuple[str, ...]  # one plain sentence per value that was changed


def first_value(value: object) -> object:
    # A repeated parameter (?t=1&t=2) arrives as a list; the first one counts.
    if isinstance(value, list | tuple):
        return value[0] if value else ""
    return value


def check_model(raw: Mapping[str, object], names: Sequence[str] = MODEL_NAMES) -> tuple[str, str | None]:
    """The model the URL names, or the first model with a notice when it names none this session has.

    Args:
        names: the models this session can open (`state.model_names()`): the shipped ones first, then
            the session's own. A link naming another session's model (a classmate's trained model)
            gets the notice, since that model lives only in the session that made it.
    """
    if "model" not in raw:
        return names[0], None
    wanted = str(first_value(raw["model"]))
    if wanted in names:
        return wanted, None
    shown = wanted if len(wanted) <= 40 else wanted[:40] + "…"
    choices = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    return names[0], (
        f"There is no model called “{shown}” in this session; showing the {names[0]} model (choose {choices})."
    )


def check_view(raw: Mapping[str, object], sizes: Mapping[str, int], names: Sequence[str] = MODEL_NAMES) -> CheckedView:
    """Check the raw query parameters against the sizes of the model and text being shown.

    Args:
        raw: `st.query_params.to_dict()` (or any mapping of strings), read before the widgets.
        sizes: how many values each index has: {"t": tokens, "unit": hidden units, "layer": layers,
            "direction": directions}.
        names: the models this session can open, as for `check_model`.
    """
    model, model_notice = check_model(raw, names)
    notices = [model_notice] if model_notice else []
    corrected = {}
    for key, noun in INDEX_KEYS.items():
        if key not in raw or key not in sizes:
            continue
        asked = first_value(raw[key])
        if key == "direction" and asked in DIRECTION_NAMES:
            asked = DIRECTION_NAMES.index(asked)
        value, notice = clamp_index(asked, sizes[key])
        if notice:
            corrected[key] = value
            notices.append(f"The link asks for {noun} {quoted_value(raw[key])}, but {notice[0].lower()}{notice[1:]}")
    return CheckedView(model, corrected, tuple(notices))


def quoted_value(value: object) -> str:
    text = str(first_value(value))
    return f"“{text if len(text) <= 20 else text[:20] + '…'}”"


def view_query(text: str, model: str, t: int, unit: int, layer: int = 0, direction: int = 0) -> dict[str, str]:
    """The query parameters of one view, for `st.page_link(..., query_params=...)` or a URL."""
    query = {"text": text, "model": model, "t": str(t), "unit": str(unit)}
    if layer:
        query["layer"] = str(layer)
    if direction:
        query["direction"] = DIRECTION_NAMES[direction]
    return query


def step_url(text: str, model: str, t: int, unit: int, layer: int = 0, direction: int = 0) -> str:
    """A shareable relative link to /step showing this view (what a teacher pastes to students)."""
    return "/step?" + urlencode(view_query(text, model, t, unit, layer, direction))
