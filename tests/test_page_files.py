"""Page files only arrange widgets and figures: no function, lambda or class is defined in views/.

Callbacks, flows and cached computations live in ui/. Besides keeping a page readable as a description
of the screen, this matters at run time: a function defined in a page holds that run's whole namespace
(every trace and figure) through the widget or fragment that keeps it, in a reference cycle that only
a full garbage collection frees (tests/test_server.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VIEWS = Path(__file__).resolve().parent.parent / "views"
DEFINITIONS = {
    ast.FunctionDef: "function",
    ast.AsyncFunctionDef: "async function",
    ast.Lambda: "lambda",
    ast.ClassDef: "class",
}


def definitions_in(source: str) -> list[str]:
    """'line N: kind name' for every function, lambda or class the source defines, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        kind = DEFINITIONS.get(type(node))
        if kind is not None:
            found.append((node.lineno, f"line {node.lineno}: {kind} {getattr(node, 'name', '')}".rstrip()))
    return [text for _, text in sorted(found)]


def test_the_check_finds_every_kind_of_definition():
    source = (
        "import streamlit as st\n"
        "def on_click():\n    pass\n"
        "if st.toggle('x'):\n"
        "    @st.fragment(run_every=1)\n    def tick():\n        pass\n"
        "async def fetch():\n    pass\n"
        "st.selectbox('a', [1], format_func=lambda key: str(key))\n"
        "class Settings:\n    pass\n"
    )
    assert definitions_in(source) == [
        "line 2: function on_click",
        "line 6: function tick",
        "line 8: async function fetch",
        "line 10: lambda",
        "line 11: class Settings",
    ]
    assert definitions_in("import streamlit as st\nst.button('Go', on_click=st.rerun)\n") == []


@pytest.mark.parametrize("page", sorted(VIEWS.glob("*.py")), ids=lambda path: path.name)
def test_a_page_defines_no_functions_lambdas_or_classes(page):
    assert definitions_in(page.read_text()) == [], f"{page.name}: move these into a ui/ module"
