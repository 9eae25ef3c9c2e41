"""Exports of /gates and /step (`ui.export`): the trace as CSV and .npz, figures as standalone HTML, and the
chart config of the client-side PNG button. Checked against the trace's own arrays, on a two-layer
bidirectional LSTM, with hostile tokens."""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import zipfile
from html.parser import HTMLParser

import numpy as np
import pytest

from lstm_core import LSTM
from ui import export, figures

HOSTILE_TOKENS = (
    '=HYPERLINK("http://evil")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\tTAB",
    "a,b",
    'say "hi"',
    "two\nlines",
    "</script><script>window.pwned=1</script>",
    "<img src=x onerror=alert(1)>",
    "ok",
)


def traced(tokens=HOSTILE_TOKENS, *, num_layers: int = 2, bidirectional: bool = True, hidden_size: int = 5):
    lstm = LSTM.random(input_size=4, hidden_size=hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                       seed=3, scale=1.5)  # fmt: skip
    inputs = np.random.default_rng(0).normal(size=(len(tokens), 4))
    return dataclasses.replace(lstm.run(inputs), tokens=tuple(tokens))


# --------------------------------------------------------------------------------------- CSV
def test_csv_has_one_row_per_token_layer_direction_and_unit_with_every_value():
    trace = traced()
    rows = list(csv.reader(io.StringIO(export.trace_csv(trace))))
    assert tuple(rows[0]) == export.CSV_COLUMNS
    layers, directions, length, hidden_size = trace.cell.shape
    body = rows[1:]
    assert len(body) == length * layers * directions * hidden_size == 11 * 2 * 2 * 5
    column = {name: index for index, name in enumerate(export.CSV_COLUMNS)}
    seen = set()
    for row in body:
        t, layer, unit = int(row[column["t"]]), int(row[column["layer"]]), int(row[column["unit"]])
        direction = ("forward", "backward").index(row[column["direction"]])
        seen.add((t, layer, direction, unit))
        for gate in export.EXPORT_GATE_NAMES:
            expected = trace.gates[gate][layer, direction, t, unit]
            np.testing.assert_allclose(float(row[column[gate]]), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            float(row[column["cell"]]), trace.cell[layer, direction, t, unit], rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(float(row[column["hidden"]]), trace.hidden[layer, direction, t, unit], rtol=1e-5,
                                   atol=1e-6)  # fmt: skip
    assert len(seen) == len(body)  # every (token, layer, direction, unit) exactly once


def test_csv_quotes_tokens_and_neutralises_formulas():
    trace = traced()
    rows = list(csv.DictReader(io.StringIO(export.trace_csv(trace))))
    token_of = {int(row["t"]): row["token"] for row in rows}
    for index, token in enumerate(HOSTILE_TOKENS):
        shown = token_of[index]
        if token[0] in "=+-@\t":
            assert shown == "'" + token  # a spreadsheet shows it as text, never runs it
        else:
            assert shown == token  # commas, quotes and newlines survive the round trip
    # The numbers are never touched: negative values stay numbers.
    assert any(float(row["candidate"]) < 0 for row in rows)
    assert not any(row["candidate"].startswith("'") for row in rows)


@pytest.mark.parametrize(("text", "expected"), [("=1+1", "'=1+1"), ("-", "'-"), ("@x", "'@x"), ("\rx", "'\rx"),
                                                ("bob", "bob"), ("", ""), ("a=b", "a=b")])  # fmt: skip
def test_spreadsheet_safe(text, expected):
    assert export.spreadsheet_safe(text) == expected


def test_csv_of_a_trace_without_tokens_numbers_them():
    lstm = LSTM.random(input_size=2, hidden_size=3, seed=0)
    rows = list(csv.DictReader(io.StringIO(export.trace_csv(lstm.run(np.ones((4, 2)))))))
    assert [row["token"] for row in rows[::3]] == ["0", "1", "2", "3"]


# --------------------------------------------------------------------------------------- npz
def test_npz_loads_without_pickle_and_holds_the_trace():
    trace = traced()
    data = export.trace_npz(trace)
    assert zipfile.is_zipfile(io.BytesIO(data))
    with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
        assert set(loaded.files) == {"gates", "gate_names", "cell", "hidden", "t", "tokens"}
        np.testing.assert_array_equal(loaded["t"], np.arange(trace.length))
        assert list(loaded["gate_names"]) == list(export.EXPORT_GATE_NAMES)
        assert loaded["gates"].shape == (4, *trace.cell.shape) and loaded["gates"].dtype == np.float32
        for index, gate in enumerate(export.EXPORT_GATE_NAMES):
            np.testing.assert_array_equal(loaded["gates"][index], trace.gates[gate])
        np.testing.assert_array_equal(loaded["cell"], trace.cell)
        np.testing.assert_array_equal(loaded["hidden"], trace.hidden)
        assert loaded["tokens"].dtype.kind == "U"
        assert list(loaded["tokens"]) == list(HOSTILE_TOKENS)


# -------------------------------------------------------------------------------------- HTML
class ScriptCounter(HTMLParser):
    """Counts the <script> elements and every tag name a browser would build from a page."""

    def __init__(self):
        super().__init__()
        self.scripts = 0
        self.script_sources: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.scripts += tag == "script"
        self.script_sources += [value or "" for name, value in attrs if tag == "script" and name == "src"]


def parsed(page: str) -> ScriptCounter:
    counter = ScriptCounter()
    counter.feed(page)
    return counter


def heatmap_of(tokens) -> object:
    trace = traced(tokens)
    values = figures.signals_of(trace)["forget"]
    return figures.gate_heatmap(values, list(tokens), np.arange(5), "forget")


def test_figure_html_is_standalone_and_typed_text_cannot_run():
    hostile = heatmap_of(HOSTILE_TOKENS)
    plain = heatmap_of([f"word{index}" for index in range(len(HOSTILE_TOKENS))])
    page = export.figure_html(hostile)
    assert page.lstrip().lower().startswith("<html") or page.lstrip().lower().startswith("<!doctype html")
    assert parsed(page).script_sources == []  # plotly.js is inline, not from a CDN: it opens offline
    assert len(page) > 1_000_000  # the whole library: it opens offline
    # The hostile tokens make no more <script> elements and no <img> than harmless ones.
    assert parsed(page).scripts == parsed(export.figure_html(plain)).scripts
    assert "img" not in parsed(page).tags
    assert "</script><script>window.pwned" not in page and "<img src=x" not in page


def test_figures_html_puts_several_figures_in_one_page_with_an_escaped_title():
    first, second = heatmap_of(HOSTILE_TOKENS), heatmap_of(("a", "b") * 5 + ("c",))
    page = export.figures_html([first, second], "<script>alert('title')</script> Bob & Dan")
    assert page.count('class="plotly-graph-div"') == 2
    assert "<script>alert('title')" not in page and "&lt;script&gt;alert(&#x27;title&#x27;)" in page
    assert "img" not in parsed(page).tags
    with pytest.raises(ValueError, match="at least one"):
        export.figures_html([], "nothing")


# --------------------------------------------------------------------------------------- PNG
def test_png_config_shows_only_the_download_button_at_twice_the_size():
    config = export.png_chart_config("forget-my text (chars)/../x", base={"scrollZoom": False})
    assert config["modeBarButtons"] == [["toImage"]]
    assert config["toImageButtonOptions"] == {"format": "png", "filename": "forget-my-text-chars-x", "scale": 2}
    assert config["displaylogo"] is False and config["displayModeBar"] == "hover" and config["scrollZoom"] is False


@pytest.mark.parametrize(
    ("parts", "expected"), [(("a b", "(c)"), "a-b-c"), (("<>",), "lstm"), (("x" * 100,), "x" * 60)]
)
def test_file_stem(parts, expected):
    assert export.file_stem(*parts) == expected


# ------------------------------------------------------------------------------------ bounds
@functools.cache  # the tests only read it: one run of each size serves them all
def long_trace(length: int = 2_000, hidden_size: int = 10):
    lstm = LSTM.random(input_size=2, hidden_size=hidden_size, num_layers=2, bidirectional=True, seed=1)
    trace = lstm.run(np.random.default_rng(1).normal(size=(length, 2)))
    return dataclasses.replace(trace, tokens=tuple(f"w{index}" for index in range(length)))


@pytest.mark.parametrize("selected", [0, 1_000, 1_999, -5, 99_999])
def test_a_long_trace_exports_whole_tokens_around_the_selected_one_within_the_row_limit(selected):
    trace = long_trace()  # 2,000 tokens x 2 layers x 2 directions x 10 units = 80,000 rows in all
    rows = list(csv.DictReader(io.StringIO(export.trace_csv(trace, selected, max_rows=4_000))))
    assert len(rows) == 4_000  # 100 whole tokens of 40 rows
    tokens = sorted({int(row["t"]) for row in rows})
    start, stop = export.csv_window(trace, selected, max_rows=4_000)
    assert tokens == list(range(start, stop)) and stop - start == 100
    assert start <= min(max(selected, 0), 1_999) < stop  # the selected token is in it
    for row in rows[::97]:  # the values are those of the token named in the row, not of the window's row
        t, layer, unit = int(row["t"]), int(row["layer"]), int(row["unit"])
        direction = ("forward", "backward").index(row["direction"])
        assert row["token"] == f"w{t}"
        np.testing.assert_allclose(float(row["hidden"]), trace.hidden[layer, direction, t, unit], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(float(row["forget"]), trace.gates["forget"][layer, direction, t, unit], rtol=1e-5,
                                   atol=1e-6)  # fmt: skip
    assert export.csv_label(trace, (start, stop)) == f"Trace as CSV, tokens {start} to {stop - 1} of 2,000"


def test_the_csv_never_exceeds_its_row_limit_by_default():
    trace = long_trace(length=3_000, hidden_size=40)  # 480,000 rows in all
    text = export.trace_csv(trace, selected=1_500)
    assert text.count("\n") - 1 <= export.MAX_CSV_ROWS
    assert export.csv_window(trace, 1_500) != (0, 3_000)


def test_a_trace_that_fits_is_exported_whole_under_its_plain_label():
    trace = traced()
    assert export.csv_window(trace, selected=5) == (0, trace.length)
    assert export.csv_label(trace, (0, trace.length)) == "Trace as CSV"
    assert export.trace_csv(trace, selected=5) == export.trace_csv(trace)


def test_a_unit_wider_than_the_limit_still_exports_one_token():
    trace = long_trace(length=20)
    assert export.csv_window(trace, selected=7, max_rows=10) == (7, 8)
    assert export.trace_csv(trace, 7, max_rows=10).count("\n") - 1 == 40


def npz_arrays(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
        return {name: loaded[name] for name in loaded.files}


@pytest.mark.parametrize("selected", [1_000, -5, 99_999])
def test_a_long_trace_exports_an_npz_of_whole_tokens_around_the_selected_one_within_the_byte_limit(selected):
    trace = long_trace()  # 40 units: 960 bytes of values, 8 of t and 20 of text ("w1999") a token, 2 MB in all
    limit = 100 * 988
    arrays = npz_arrays(export.trace_npz(trace, selected, max_bytes=limit))
    start, stop = export.npz_window(trace, selected, max_bytes=limit)
    assert stop - start == 100 and start <= min(max(selected, 0), 1_999) < stop
    assert sum(array.nbytes for name, array in arrays.items() if name != "gate_names") <= limit
    np.testing.assert_array_equal(arrays["t"], np.arange(start, stop))
    assert list(arrays["tokens"]) == [f"w{t}" for t in range(start, stop)]
    assert arrays["gates"].shape == (4, 2, 2, 100, 10)
    for index, gate in enumerate(export.EXPORT_GATE_NAMES):
        np.testing.assert_array_equal(arrays["gates"][index], trace.gates[gate][:, :, start:stop])
    np.testing.assert_array_equal(arrays["cell"], trace.cell[:, :, start:stop])
    np.testing.assert_array_equal(arrays["hidden"], trace.hidden[:, :, start:stop])
    assert export.npz_label(trace, (start, stop)) == f"Trace as NumPy .npz, tokens {start} to {stop - 1} of 2,000"


def test_the_npz_never_exceeds_its_byte_limit_by_default():
    # Long tokens rather than many units make it large (9 kB a token, 18 MB in all): the same bound,
    # without running a wide LSTM over a long text in a test.
    trace = long_trace()
    trace = dataclasses.replace(trace, tokens=tuple(f"{t:04}" + "x" * 2_000 for t in range(trace.length)))
    data = export.trace_npz(trace, selected=1_000)
    assert len(data) <= export.MAX_NPZ_BYTES + 4_096  # the zip's own headers
    start, stop = export.npz_window(trace, 1_000)
    assert 0 < start <= 1_000 < stop < trace.length
    assert npz_arrays(data)["hidden"].shape == (2, 2, stop - start, 10)


def test_long_tokens_count_against_the_npz_limit():
    """NumPy stores every token at the width of the longest: one long token makes every token cost more."""
    tokens = ["x" * 2_000, *(f"w{index}" for index in range(199))]
    trace = traced(tokens, hidden_size=2)  # 8 units: 200 bytes of values a token, 8,000 of text
    limit = 81_000  # the values alone of 389 tokens would fit
    arrays = npz_arrays(export.trace_npz(trace, selected=100, max_bytes=limit))
    assert sum(array.nbytes for name, array in arrays.items() if name != "gate_names") <= limit
    assert len(arrays["tokens"]) == 9 and arrays["t"][0] <= 100 <= arrays["t"][-1]


def test_a_trace_that_fits_is_exported_whole_as_npz_under_its_plain_label():
    trace = traced()
    assert export.npz_window(trace, selected=5) == (0, trace.length)
    assert export.npz_label(trace, (0, trace.length)) == "Trace as NumPy .npz"
    whole, around_5 = npz_arrays(export.trace_npz(trace)), npz_arrays(export.trace_npz(trace, selected=5))
    for name, array in whole.items():
        np.testing.assert_array_equal(around_5[name], array)


def test_a_trace_wider_than_the_npz_limit_still_exports_one_token():
    trace = long_trace(length=20)
    assert export.npz_window(trace, selected=7, max_bytes=10) == (7, 8)
    assert npz_arrays(export.trace_npz(trace, 7, max_bytes=10))["cell"].shape == (2, 2, 1, 10)
