"""/glossary with AppTest, and the glossary the tooltips read: every term the pages use has an entry in
plain words, the page lists them all, and the search narrows the list."""

import re

import pytest

from tests.pages import ROOT, new_session, open_page
from ui import glossary, lessons, palette

GLOSSARY_PAGE = "views/glossary.py"
# Terms the pages use that a student who knows no machine learning needs explained.
TERMS_THE_PAGES_USE = (
    "gate", "forget gate", "input gate", "output gate", "candidate", "cell state", "hidden state", "unit", "embedding",
    "token", "probability", "softmax", "perplexity", "gradient", "Jacobian", "layer", "direction", "seed",
    "gate colours", "sign colours", "Cividis", "weight_ih_l{k}", "weight_hh_l{k}", "threshold", "held out",
    "switching a unit off", "score", "vocabulary", "story world", "named unit",
)  # fmt: skip


def page_text(app) -> str:
    return "\n".join(element.value for element in app.markdown)


def test_every_term_the_pages_use_has_a_plain_entry():
    for name in TERMS_THE_PAGES_USE:
        term = glossary.GLOSSARY[name.casefold()]
        assert len(term.plain) > 40 and term.group in glossary.GROUPS
        assert glossary.help_text(name).startswith(f"**{term.name}**: ")
    assert glossary.GLOSSARY["cividis"].name == "Gate colours"  # the old scale's name leads to the new rule
    assert palette.GATE_RULE in glossary.GLOSSARY["gate colours"].plain
    assert palette.SIGN_RULE in glossary.GLOSSARY["sign colours"].plain
    assert glossary.GLOSSARY["jacobian"].curious and glossary.GLOSSARY["weight_ih_l{k}"].curious
    with pytest.raises(KeyError):
        glossary.help_text("flux capacitor")
    keys = [key.casefold() for term in glossary.TERMS for key in (term.name, *term.aliases)]
    assert len(keys) == len(set(keys))  # no name leads to two entries


def test_the_tutorials_tooltips_name_only_terms_the_glossary_has():
    asked = re.findall(r"help_text\(([^)]*)\)", (ROOT / "views" / "tutorial.py").read_text(encoding="utf-8"))
    names = [name for call in asked for name in re.findall(r'"([^"]+)"', call)]
    assert names and all(name.casefold() in glossary.GLOSSARY for name in names)
    assert all(name in glossary.GLOSSARY for names in lessons.LESSON_TERMS.values() for name in names)


def test_the_glossary_page_lists_every_term_grouped():
    app = open_page(GLOSSARY_PAGE)
    assert not app.exception
    text = page_text(app)
    for term in glossary.TERMS:
        assert f"**{term.name}**: {term.plain}" in text
    assert [header.value for header in app.subheader] == list(glossary.GROUPS)
    curious = [expander.label for expander in app.expander]
    assert "For the curious: Jacobian" in curious and "For the curious: weight_ih_l{k}" in curious


def test_the_search_narrows_the_list_and_says_when_nothing_matches():
    app = open_page(GLOSSARY_PAGE)
    app.text_input(key="glossary_find").input("softmax").run()
    assert not app.exception
    names = re.findall(r"^\*\*(.+?)\*\*: ", page_text(app), flags=re.MULTILINE)
    assert "Softmax" in names and "Forget gate" not in names
    app.text_input(key="glossary_find").input("zzzz").run()
    assert not app.markdown and app.info and not app.subheader


def test_the_glossary_has_its_own_address():
    app = new_session().run()
    assert not app.exception
    app.switch_page(GLOSSARY_PAGE).run()
    assert not app.exception and app.header[0].value == "Glossary"
