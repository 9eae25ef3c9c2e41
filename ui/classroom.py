"""Classroom helpers for /gates and /step: the exact link of the current view, and presentation mode.

Pure functions and constants, no Streamlit: the pages call `share_url` with `st.context.url` and inject
`PRESENTATION_CSS` with `st.html`. The CSS is a constant of this module, never built from anything a
user typed, and `st.html` runs it through DOMPurify without scripts, so it can only restyle the page.

>>> share_url("http://school.example:8501/step", "step", {"text": "Bob is nice.", "t": "2", "present": "1"})
'http://school.example:8501/step?text=Bob%20is%20nice.&t=2&present=1'
>>> share_url(None, "gates", {"t": "2"})
'/gates?t=2'
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from ui.query import first_value

__all__ = [
    "PRESENTATION_CSS",
    "apply_flags",
    "check_choice",
    "check_flag",
    "check_present",
    "present_query",
    "share_url",
]

_TRUE_WORDS = ("1", "true", "yes", "on")
_FALSE_WORDS = ("0", "false", "no", "off", "")


def _shown(value: str) -> str:
    return value if len(value) <= 20 else value[:20] + "…"


def check_flag(raw: Mapping[str, object], key: str, noun: str) -> tuple[bool | None, str | None]:
    """What the link's on/off parameter `key` asks for: True, False, or None when it says nothing; with
    a notice naming `noun` when the value means neither. A bound toggle understands only "true" and
    "false", so the page sets the toggle itself for a "1" or "yes" (what a teacher types by hand).

    >>> check_flag({"present": "1"}, "present", "presentation mode"), check_flag({}, "present", "")
    ((True, None), (None, None))
    >>> check_flag({"present": "maybe"}, "present", "presentation mode")[1]
    'The link asks for presentation mode “maybe”, which is neither on (1) nor off (0); showing it off.'
    """
    if key not in raw:
        return None, None
    value = str(first_value(raw[key])).strip().lower()
    if value in _TRUE_WORDS:
        return True, None
    if value in _FALSE_WORDS:
        return False, None
    return False, f"The link asks for {noun} “{_shown(value)}”, which is neither on (1) nor off (0); showing it off."


def check_present(raw: Mapping[str, object]) -> tuple[bool | None, str | None]:
    """`check_flag` for `present`; the notice says how to present (present=1)."""
    present, notice = check_flag(raw, "present", "presentation mode")
    return present, notice and notice.replace("showing it off.", "use present=1 to present.")


def check_choice(raw: Mapping[str, object], key: str, choices: Sequence[str], noun: str) -> str | None:
    """A notice when the link's `key` names none of `choices` (the bound widget then shows its default).

    >>> check_choice({"compare_signal": "evil"}, "compare_signal", ("forget", "cell"), "signal")
    'The link asks for the signal “evil”; there is none by that name (forget or cell), so the first is shown.'
    """
    if key not in raw or str(first_value(raw[key])).strip() in choices:
        return None
    names = ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]
    asked = _shown(str(first_value(raw[key])).strip())
    return f"The link asks for the {noun} “{asked}”; there is none by that name ({names}), so the first is shown."


def apply_flags(raw: Mapping[str, object], session: MutableMapping, flags: Mapping[str, str]) -> list[str]:
    """Check the link's on/off parameters (key -> what it is, in words) before their toggles are drawn.

    A value a bound toggle cannot read ("1", "yes", "maybe") is dropped by Streamlit without a word; here
    it is written to `session` (`st.session_state`) as on or off, and a value that means neither gets a
    notice in the list returned. "true" and "false" are left to the toggle.

    >>> session = {}
    >>> apply_flags({"present": "1", "compare_layers": "maybe"}, session, {"present": "", "compare_layers": "x"})
    ['The link asks for x “maybe”, which is neither on (1) nor off (0); showing it off.']
    >>> session
    {'present': True, 'compare_layers': False}
    """
    notices = []
    for key, noun in flags.items():
        value, notice = check_present(raw) if key == "present" else check_flag(raw, key, noun)
        if value is not None and str(first_value(raw[key])).strip().lower() not in ("true", "false"):
            session[key] = value
        if notice:
            notices.append(notice)
    return notices


def present_query(query: Mapping[str, str], *, present: bool = False, **extra: object) -> dict[str, str]:
    """`query` (from `query.view_query`) plus the page's other view settings, as URL strings.

    Settings that are None are left out (the page's default then applies); booleans become "true",
    as a bound toggle writes them; `present` is added only when on, so ordinary links stay short.

    >>> present_query({"t": "3"}, present=True, order="index", top_k=8, compare_layers=False, signal=None)
    {'t': '3', 'order': 'index', 'top_k': '8', 'compare_layers': 'false', 'present': 'true'}
    """
    full = dict(query)
    for key, value in extra.items():
        if value is None:
            continue
        full[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if present:
        full["present"] = "true"
    return full


def share_url(page_url: str | None, page_path: str, query: Mapping[str, str]) -> str:
    """The link to this exact view: `page_url` (`st.context.url`, the page's address without its query,
    e.g. "http://host:8501/step") with `query`; a relative "/<page_path>?..." when the address is unknown
    (as under AppTest) or is not an http(s) address.

    Spaces are written %20 (not +), so the link reads like the text it carries.
    """
    encoded = urlencode(dict(query), quote_via=quote)
    if page_url:
        parts = urlsplit(str(page_url))
        if parts.scheme in ("http", "https") and parts.netloc:
            path = parts.path.rstrip("/")
            if not path.endswith("/" + page_path):
                path = f"{path}/{page_path}"
            return urlunsplit((parts.scheme, parts.netloc, path, encoded, ""))
    return f"/{page_path}?{encoded}"


# Presentation mode: no sidebar, no Streamlit header, no input controls (the pages put them in
# containers keyed `*_controls`, hidden here but still drawn, so their values stay bound to the URL),
# and large type for the back of a classroom.
PRESENTATION_CSS = """<style>
[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'], [data-testid='stHeader'],
[data-testid='stToolbar'], [data-testid='stDecoration'],
div[class*='st-key-gates_controls'], div[class*='st-key-step_controls'] { display: none !important; }
[data-testid='stMainBlockContainer'] { padding-top: 1.5rem !important; max-width: 100% !important; }
[data-testid='stMain'] [data-testid='stMarkdownContainer'] p,
[data-testid='stMain'] [data-testid='stMarkdownContainer'] li { font-size: 1.55rem !important; line-height: 1.45; }
[data-testid='stMain'] h1, [data-testid='stMain'] h2 { font-size: 2.3rem !important; }
[data-testid='stMain'] h3 { font-size: 1.8rem !important; }
[data-testid='stMain'] button p { font-size: 1.35rem !important; }
[data-testid='stMain'] button { min-height: 3.2rem; }
</style>"""
