"""Reading and checking what a link asks for: the query parameters of every page, before its widgets.

The widgets are bound to the query parameters (`bind="query-params"`): a link
`/step?text=...&model=words&layer=0&t=5&unit=17` opens exactly that view and the URL follows every change.
Streamlit silently drops a bound value it cannot use (`t=abc`, `t=999`); the checks here read the raw
parameters first, so the page can say what it did instead, and give the value to show. Pure functions
(no widgets); `carry_selection` alone touches the session.

- `check_model`, `check_view`: the model and the indices a view shows (model, layer, direction, t, unit).
- `check_query`: any page's choices and numbers (/corpus, /gradients, /compare, /saturation).
- `view_query`, `step_url`: the parameters of one view, for links.

>>> view = check_view({"t": "999", "unit": "-3", "model": "evil"}, sizes={"t": 12, "unit": 128, "layer": 1, "direction": 1})
>>> view.model, view.corrected
('words', {'t': 11, 'unit': 0})
>>> len(view.notices)
3
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from ui.model_store import MODEL_NAMES

__all__ = [
    "DIRECTION_NAMES",
    "INDEX_KEYS",
    "SELECTION_KEYS",
    "CheckedQuery",
    "CheckedView",
    "carry_selection",
    "check_model",
    "check_query",
    "check_view",
    "clamp_index",
    "first_value",
    "index_notice",
    "quoted_value",
    "step_url",
    "view_query",
]

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
    """The value of a query parameter: a repeated one (?t=1&t=2) arrives as a list, and the first counts.

    >>> first_value(["1", "2"]), first_value([]), first_value("3")
    ('1', '', '3')
    """
    if isinstance(value, list | tuple):
        return value[0] if value else ""
    return value


def quoted_value(value: object) -> str:
    """A parameter's value as a notice quotes it: the first of a repeated one, cut after 20 characters."""
    text = str(first_value(value))
    return f"“{text if len(text) <= 20 else text[:20] + '…'}”"


def clamp_index(value: object, size: int, default: int = 0) -> tuple[int, str | None]:
    """An index from a URL or widget, forced into 0..size-1; with a notice when it had to change."""
    try:
        index = int(str(value).strip())
    except (TypeError, ValueError):
        return default, f"{value!r} is not a whole number; showing {default} instead."
    if size <= 0:
        return 0, None
    if not 0 <= index < size:
        fixed = min(max(index, 0), size - 1)
        return fixed, f"{index} is out of range (0 to {size - 1}); showing {fixed} instead."
    return index, None


def index_notice(noun: str, asked: object, notice: str) -> str:
    """The notice for an index the link got wrong, from `clamp_index`'s notice.

    >>> index_notice("start", "abc", "'abc' is not a whole number; showing 0 instead.")
    'The link asks for start “abc”, but it is not a whole number; showing 0 instead.'
    """
    reason = notice.split(" is ", 1)[1] if " is " in notice else notice
    return f"The link asks for {noun} {quoted_value(asked)}, but it is {reason}"


def check_model(raw: Mapping[str, object], names: Sequence[str] = MODEL_NAMES) -> tuple[str, str | None]:
    """The model the URL names, or the first model with a notice when it names none this session has.

    Args:
        names: the models this session can open (`model_store.model_names()`): the shipped ones first, then
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


@dataclass(frozen=True)
class CheckedQuery:
    corrected: dict[str, int | float]  # only the values the URL got wrong, each with the value to show instead
    notices: tuple[str, ...]  # one plain sentence per value that was changed


def check_query(
    raw: Mapping[str, object],
    choices: Mapping[str, Sequence[str]],
    integers: Mapping[str, tuple[int, int, int]],
    decimals: Mapping[str, tuple[float, float, float]] | None = None,
) -> CheckedQuery:
    """Check a page's raw query parameters before its (bound) widgets read them.

    Args:
        raw: `st.query_params.to_dict()`.
        choices: parameter -> allowed values, the default first; a bound widget drops any other value
            itself, so only a notice.
        integers, decimals: parameter -> (lowest, highest, default); a value out of range is pulled to
            the nearest end, anything that is not a (finite) number falls back to the default.

    >>> check_query({"lag": "99999", "measure": "<b>"}, {"measure": ("input",)}, {"lag": (1, 400, 60)}).corrected
    {'lag': 400}
    >>> checked = check_query({"threshold": "abc", "signal": "<b>"}, {"signal": ("hidden", "cell")},
    ...                       {}, {"threshold": (0.0, 1.0, 0.5)})
    >>> checked.corrected, len(checked.notices)
    ({'threshold': 0.5}, 2)
    """
    corrected: dict[str, int | float] = {}
    notices = []
    for key, allowed in choices.items():
        if key in raw and first_value(raw[key]) not in allowed:
            notices.append(f"The link asks for {key} {quoted_value(raw[key])}, which is not one of "
                           f"{', '.join(allowed)}; showing {allowed[0]} instead.")  # fmt: skip
    numbers = [(key, limits, int) for key, limits in integers.items()]
    numbers += [(key, limits, float) for key, limits in (decimals or {}).items()]
    for key, (low, high, default), kind in numbers:
        if key not in raw:
            continue
        text = str(first_value(raw[key])).strip()
        try:
            value = kind(text)
            if not math.isfinite(value):
                raise ValueError(text)
        except (ValueError, OverflowError):
            corrected[key] = default
            noun = "a whole number" if kind is int else "a number"
            notices.append(
                f"The link asks for {key} {quoted_value(raw[key])}, which is not {noun}; showing {default} instead."
            )
            continue
        if not low <= value <= high:
            corrected[key] = kind(min(max(value, low), high))
            notices.append(f"The link asks for {key} {quoted_value(raw[key])}, but it must be from {low} to {high}; "
                           f"showing {corrected[key]} instead.")  # fmt: skip
    return CheckedQuery(corrected, tuple(notices))


def view_query(
    text: str,
    model: str,
    t: int,
    unit: int,
    layer: int = 0,
    direction: int = 0,
    *,
    off: bool = False,
    off_mode: str = "zero",
) -> dict[str, str]:
    """The query parameters of one view, for `st.page_link(..., query_params=...)` or a URL.

    off: the unit is switched off (its cell state held at 0, or at its mean with `off_mode` "mean"),
    as the "Switch this unit off" toggles of /gates and /step show it.
    """
    query = {"text": text, "model": model, "t": str(t), "unit": str(unit)}
    if layer:
        query["layer"] = str(layer)
    if direction:
        query["direction"] = DIRECTION_NAMES[direction]
    if off:
        query["off"] = "true"  # as a bound toggle writes it
        if off_mode != "zero":
            query["off_mode"] = off_mode
    return query


def step_url(text: str, model: str, t: int, unit: int, layer: int = 0, direction: int = 0) -> str:
    """A shareable relative link to /step showing this view (what a teacher pastes to students)."""
    return "/step?" + urlencode(view_query(text, model, t, unit, layer, direction))


# The widget keys /gates and /step share: what a student selected on one page is what the other opens.
SELECTION_KEYS = ("text", "model", "layer", "direction", "t", "unit")
_LAST_PAGE_KEY = "_lstm_last_selection_page"  # the page that last ran carry_selection in this session


def carry_selection(raw_params: Mapping[str, object], page: str, session: MutableMapping | None = None) -> bool:
    """Keep this session's selection on a page opened from another one; True when something was kept.

    Call before the page's widgets. When a student moves between /gates and /step (the step link, the
    sidebar), Streamlit drops query parameters that the previous page's widgets were bound to, and a
    bound widget whose parameter is missing starts from its default even with `persist_state`. Setting
    the kept values again before the widgets are drawn makes them count; a value the URL does give
    wins, so a shared link still opens exactly what it says. Only on arrival from another page: on a
    rerun of the same page the widgets hold their values themselves.
    """
    session = st.session_state if session is None else session
    arrived = session.get(_LAST_PAGE_KEY) != page
    session[_LAST_PAGE_KEY] = page
    carried = False
    for key in SELECTION_KEYS if arrived else ():
        if key not in raw_params and key in session:
            session[key] = session[key]
            carried = True
    return carried
