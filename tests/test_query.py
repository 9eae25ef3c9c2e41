"""Reading and checking links (ui/query.py): the checks every page runs on its raw query parameters."""

from __future__ import annotations

from ui import corpus_figures
from ui.query import check_query, clamp_index, first_value, index_notice, quoted_value


def test_first_value_takes_the_first_of_a_repeated_parameter():
    assert first_value(["7", "8"]) == "7" and first_value(("x",)) == "x"
    assert first_value([]) == "" and first_value("3") == "3" and first_value(None) is None
    assert quoted_value(["<b>" * 10, "x"]) == "“" + ("<b>" * 10)[:20] + "…”"


def test_index_notice_repeats_the_reason_of_clamp_index():
    value, notice = clamp_index("99", 5)
    assert value == 4
    assert index_notice("end", ["99", "1"], notice) == (
        "The link asks for end “99”, but it is out of range (0 to 4); showing 4 instead."
    )


def test_check_query_explains_every_bad_value():
    choices = {"source": ("text", "longlag"), "measure": ("input", "hidden", "cell")}
    numbers = {"lag": (1, 400, 60), "seed": (0, 9999, 0)}
    checked = check_query({"lag": "abc", "seed": "-5", "source": "evil", "measure": ["cell"]}, choices, numbers)
    assert checked.corrected == {"lag": 60, "seed": 0}
    assert checked.notices == (
        "The link asks for source “evil”, which is not one of text, longlag; showing text instead.",
        "The link asks for lag “abc”, which is not a whole number; showing 60 instead.",
        "The link asks for seed “-5”, but it must be from 0 to 9999; showing 0 instead.",
    )
    checked = check_query({"lag": "99999", "measure": "x" * 100}, choices, numbers)
    assert checked.corrected == {"lag": 400}
    assert "“xxxxxxxxxxxxxxxxxxxx…”" in checked.notices[0]  # long values are cut
    assert check_query({"lag": "80", "source": "longlag"}, choices, numbers).notices == ()


def test_check_query_pulls_numbers_into_range_and_names_bad_choices():
    checked = check_query(
        {"stories": ["900", "3"], "threshold": "inf", "margin": "2", "signal": "cell", "corpus": "x" * 50},
        {"signal": corpus_figures.SIGNAL_CHOICES, "corpus": corpus_figures.SOURCES},
        {"stories": corpus_figures.STORY_LIMITS, "margin": corpus_figures.MARGIN_LIMITS},
        {"threshold": corpus_figures.THRESHOLD_LIMITS},
    )
    assert checked.corrected == {"stories": 400, "threshold": 0.5}
    assert len(checked.notices) == 3 and "…" in checked.notices[0]
