"""/compare with AppTest: the default pair, deep links, presets, widgets set by key, and bad input; reruns find
their work in the caches.

Runs on the shipped models.
"""

import base64

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.pages import chart_specs, messages, open_page
from ui import compare, figures, typed_text

COMPARE = "views/compare.py"
CHARTS = 3  # A's heatmap, B's heatmap, the difference
DEFAULT_A, DEFAULT_B = compare.PRESETS["A new subject"]
MARY_BOB = compare.PRESETS["Same story, other gender"]


def open_compare(query: dict[str, str] | None = None) -> AppTest:
    return open_page(COMPARE, query)


def page_text(app: AppTest) -> str:
    return "\n".join(element.value for kind in ("markdown", "caption") for element in getattr(app, kind))


def gates_links(app: AppTest) -> list:
    return [link for link in app.get("page_link") if "gates" in link.proto.page]


def decoded(array) -> np.ndarray:
    """A Plotly typed array ({"dtype", "bdata", "shape"}) or a plain list, as NumPy."""
    if isinstance(array, dict):
        values = np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
        return values.reshape([int(size) for size in str(array.get("shape", len(values))).split(",")])
    return np.asarray(array, dtype=np.float64)


def test_default_run_compares_the_bob_and_dan_pair(models):
    app = open_compare()
    assert not app.exception, app.exception
    assert app.text_area(key="compare_a").value == DEFAULT_A
    assert app.text_area(key="compare_b").value == DEFAULT_B
    assert app.radio(key="model").value == "words"
    assert app.radio(key="compare_signal").value == "cell"
    assert app.radio(key="compare_order").value == "difference"
    assert len(app.get("plotly_chart")) == CHARTS
    prefix = len(models["words"].tokens(DEFAULT_A))
    assert f"agree up to token {prefix - 1}" in page_text(app)
    assert "B goes on with" in page_text(app)
    assert not messages(app)
    links = gates_links(app)
    assert len(links) == 2
    assert "text=Bob+is+a+nice+person.&model=words" in links[0].proto.query_string
    assert "Dan%2C+on+the+other+hand" in links[1].proto.query_string


def test_difference_chart_holds_b_minus_a_of_the_traces(models):
    text_a, text_b = MARY_BOB
    app = open_compare({"compare_a": text_a, "compare_b": text_b, "compare_order": "index", "compare_top_k": "4"})
    assert not app.exception, app.exception
    model = models["words"]
    cell_a, cell_b = model.trace(text_a).cell[0, 0], model.trace(text_b).cell[0, 0]
    difference_spec = chart_specs(app)[-1]
    assert "Difference B − A of the cell state" in difference_spec["layout"]["title"]["text"]
    heatmap = difference_spec["data"][1]
    z = decoded(heatmap["z"])  # (units drawn, columns): same-length texts line up token by token
    units = [int(text) for text in difference_spec["layout"]["yaxis"]["ticktext"] if text.isdigit()]
    drawn = sorted(set(range(4)) | {info.unit for info in model.units.values()})
    assert z.shape == (len(drawn), len(cell_a))
    np.testing.assert_allclose(z, (cell_b - cell_a)[:, drawn].T, atol=1e-5)
    assert units[:4] == [0, 1, 2, 3]
    assert "A reads “bob” where B reads “mary”" in page_text(app)


def test_deep_link_opens_that_view(models):
    text_a, text_b = MARY_BOB
    query = {"compare_a": text_a, "compare_b": text_b, "compare_signal": "forget", "compare_top_k": "8"}
    app = open_compare(query)
    assert not app.exception, app.exception
    assert app.text_area(key="compare_a").value == text_a and app.text_area(key="compare_b").value == text_b
    assert app.radio(key="compare_signal").value == "forget"
    assert app.slider(key="compare_top_k").value == 8
    specs = chart_specs(app)
    assert specs[0]["layout"]["title"]["text"].startswith("Text A · Forget gate")
    assert specs[0]["data"][0]["zmin"] == 0 and specs[0]["data"][0]["zmax"] == 1  # gates on their fixed scale
    assert "forget gate" in specs[2]["layout"]["title"]["text"]
    assert "differ from the first token on" in page_text(app)


def test_presets_and_widgets_set_by_key(models):
    app = open_compare()
    app.button(key="compare_preset_1").click().run()
    assert not app.exception
    assert (app.text_area(key="compare_a").value, app.text_area(key="compare_b").value) == MARY_BOB
    for signal in figures.SIGNAL_NAMES:
        app.radio(key="compare_signal").set_value(signal).run()
        assert not app.exception, signal
        assert compare.SIGNAL_NOUNS[signal] in chart_specs(app)[-1]["layout"]["title"]["text"]
    for order in compare.UNIT_ORDERS:
        app.radio(key="compare_order").set_value(order).run()
        assert not app.exception, order
    app.slider(key="compare_top_k").set_value(3).run()
    app.radio(key="model").set_value("chars").run()
    assert not app.exception
    assert len(app.get("plotly_chart")) == CHARTS
    app.text_area(key="compare_b").input(app.text_area(key="compare_a").value).run()
    assert "The two texts are the same" in page_text(app)


def test_a_long_pair_is_drawn_in_a_window_that_moves(models):
    text_a = "Bob is a nice person. " * 40
    text_b = text_a + "Dan, on the other hand, is evil. " * 10
    app = open_compare({"compare_a": text_a, "compare_b": text_b})
    assert not app.exception, app.exception
    slider = app.slider(key="compare_at")
    assert slider.value == 0 and slider.max == len(models["words"].tokens(text_b)) - 1
    assert len(decoded(chart_specs(app)[-1]["data"][1]["x"])) == 80
    app.button(key="compare_jump").click().run()
    parted = len(models["words"].tokens(text_a))
    assert app.slider(key="compare_at").value == parted
    x = decoded(chart_specs(app)[-1]["data"][1]["x"])
    assert x[0] <= parted <= x[-1] and len(x) == 80
    assert not app.exception


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"compare_a": ""}, "Text A is empty"),
        ({"compare_b": "   "}, "Text B is empty"),
        ({"compare_a": "", "compare_b": ""}, "Both texts are empty"),
        ({"compare_a": "Bob is nice. " * 1600}, "only the first 5,000"),
        ({"compare_b": "Bob 😀 is nice 🎉."}, "😀"),
        ({"compare_a": "Bob\x00 is\x07 nice."}, "control character"),
        ({"compare_b": "<script>alert(1)</script> <b>Bob</b>"}, "script"),
        ({"compare_signal": "<b>evil</b>"}, "showing cell instead"),
        ({"compare_order": "random"}, "showing difference instead"),
        ({"compare_top_k": "99999"}, "must be from 1 to"),
        ({"compare_top_k": "lots"}, "not a whole number"),
        ({"compare_a": "Bob is nice. " * 50, "compare_at": "abc"}, "compare\\_at “abc”"),
        ({"layer": "5"}, "out of range"),
        ({"model": "evil"}, "no model called"),
    ],
)
def test_bad_input_gives_a_message_never_an_exception(models, query, expected):
    app = open_compare(query)
    assert not app.exception, app.exception
    assert expected in messages(app) + page_text(app), messages(app)
    for element in [*app.markdown, *app.caption, *app.warning, *app.info]:  # typed text is escaped, never HTML
        assert "<script>" not in element.value and "<b>" not in element.value


def test_bad_link_values_are_corrected_in_the_widgets(models):
    app = open_compare({"compare_top_k": "99999", "compare_signal": "nope"})
    assert not app.exception
    assert app.slider(key="compare_top_k").value == models["words"].lstm.hidden_size
    assert app.radio(key="compare_signal").value == "cell"


def test_reruns_find_the_traces_in_the_caches(work_done):
    app = open_compare()
    app.radio(key="compare_signal").set_value("output").run()
    app.slider(key="compare_top_k").set_value(5).run()
    assert not app.exception
    assert work_done["loads"] == ["words"]
    assert sorted(text for _, text in work_done["traces"]) == sorted([DEFAULT_A, DEFAULT_B])
    app.text_area(key="compare_a").input("Mary is nice.").run()
    assert [text for _, text in work_done["traces"]][-1] == "Mary is nice."
    assert len(work_done["traces"]) == 3
    assert typed_text.clean_text(app.text_area(key="compare_a").value).text == "Mary is nice."
