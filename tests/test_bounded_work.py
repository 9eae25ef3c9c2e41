"""Bounded work everywhere: what a careless or hostile user sends costs no more than the largest thing
the app accepts, and the server's settings agree with the app's own limits.

- Text is cut before it is cleaned, and every text box holds at most a named number of characters.
- A page driven with a 20 MB text answers as fast as with the text it keeps.
- `.streamlit/config.toml`: the upload limit is the model budget, the websocket limit fits the largest
  chart any page may send, and errors show no details.
"""

from __future__ import annotations

import ast
import time
import tomllib

import numpy as np
import pytest
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from lstm_core import LSTM
from lstm_core.io import model_files
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.tokenize import CharTokenizer
from tests.pages import ROOT, messages, new_session, open_page
from ui import corpus_figures, export, figures, model_store, training, typed_text
from ui import playground as pg

SETTINGS = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
HUGE_TEXT = ("Bob is a nice person. Dan, on the other hand, is evil.\n" * 400_000)[:20_000_000]  # 20 MB
# A page that receives 20 MB may take this much longer than the same page showing the text it keeps.
# Cleaning 20 MB alone took about 6 s before the text was cut first; slicing and copying it, milliseconds.
EXTRA_SECONDS_FOR_HUGE_INPUT = 1.0


# ------------------------------------------------------------------------------ cut, then clean
def test_a_50_mb_paste_is_cut_before_it_is_cleaned():
    huge = "Bob\x00 is\tnice. " * 3_500_000  # 52.5 million characters, control characters all through
    started = time.perf_counter()
    cleaned = typed_text.clean_text(huge)
    seconds = time.perf_counter() - started
    assert seconds < 0.5, f"cleaning took {seconds:.2f} s: the text was not cut first"
    assert len(cleaned.text) <= typed_text.MAX_TEXT_CHARS and cleaned.text.startswith("Bob is nice. Bob is")
    assert cleaned.notices[0] == f"The text has {len(huge):,} characters; only the first 5,000 are used."
    dropped = huge[: typed_text.MAX_TEXT_CHARS].count("\x00")  # those of the part kept, no others
    assert cleaned.notices[1] == f"{dropped} invisible control character(s) were removed."


def test_cutting_first_keeps_what_a_text_box_can_hold():
    """The box holds MAX_TEXT_CHARS characters as typed; whatever it holds is read whole."""
    typed = "Bob  is\n\n nice. " * (typed_text.MAX_TEXT_CHARS // 16)
    assert len(typed) <= typed_text.MAX_TEXT_CHARS
    cleaned = typed_text.clean_text(typed)
    assert cleaned.text == " ".join(typed.split()) and not cleaned.notices


def widget_calls(names: tuple[str, ...] = ("text_area", "text_input")) -> list[tuple[str, int, set[str]]]:
    """(file, line, keyword names) of every `*.<name>(...)` call in the app's code (text boxes by default)."""
    calls = []
    for path in [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names:
                keywords = {keyword.arg for keyword in node.keywords if keyword.arg}
                calls.append((path.relative_to(ROOT).as_posix(), node.lineno, keywords))
    return calls


def test_every_text_box_in_the_app_has_max_chars():
    calls = widget_calls()
    assert len(calls) >= 5  # the shared text box, /train's text, /playground's sequence, /your-model's two
    missing = [f"{file}:{line}" for file, line, keywords in calls if "max_chars" not in keywords]
    assert not missing, f"text boxes without max_chars: {missing}"


# Every text box a page shows without an upload: (page, query, widget kind, key, the limit it must hold).
TEXT_BOXES = [
    ("views/gates.py", {}, "text_area", "text", typed_text.MAX_TEXT_CHARS),
    ("views/step.py", {}, "text_area", "text", typed_text.MAX_TEXT_CHARS),
    ("views/gradients.py", {}, "text_area", "text", typed_text.MAX_TEXT_CHARS),
    ("views/compare.py", {}, "text_area", "compare_a", typed_text.MAX_TEXT_CHARS),
    ("views/compare.py", {}, "text_area", "compare_b", typed_text.MAX_TEXT_CHARS),
    ("views/corpus.py", {"corpus": "pasted"}, "text_area", "corpus_text", corpus_figures.MAX_PASTED_CHARS),
    ("views/playground.py", {}, "text_input", pg.SEQUENCE_KEY, pg.MAX_SEQUENCE_CHARS),
]
BOX_IDS = [f"{page.removeprefix('views/').removesuffix('.py')}-{key}" for page, _, _, key, _ in TEXT_BOXES]


def box(app: AppTest, kind: str, key: str):
    return getattr(app, kind)(key=key)


@pytest.mark.parametrize(("page", "query", "kind", "key", "limit"), TEXT_BOXES, ids=BOX_IDS)
def test_a_page_driven_with_a_20_mb_text_answers_within_its_budget(models, page, query, kind, key, limit):
    app = open_page(page, query, timeout=120)
    assert box(app, kind, key).proto.max_chars == limit
    kept = HUGE_TEXT[:limit]
    box(app, kind, key).set_value(kept).run()  # the page's work for the text it keeps, now cached
    started = time.perf_counter()
    box(app, kind, key).set_value(kept).run()
    steady = time.perf_counter() - started
    assert not app.exception, app.exception

    started = time.perf_counter()
    box(app, kind, key).set_value(HUGE_TEXT).run()  # what a script talking to the websocket could send
    seconds = time.perf_counter() - started
    assert not app.exception, app.exception
    assert box(app, kind, key).value == kept  # Streamlit cut it to the box's max_chars
    assert seconds < steady + EXTRA_SECONDS_FOR_HUGE_INPUT, f"{seconds:.2f} s against {steady:.2f} s for {limit:,}"


@pytest.mark.parametrize(("page", "query", "kind", "key", "limit"), TEXT_BOXES[:-1], ids=BOX_IDS[:-1])
def test_a_link_with_a_longer_text_is_cut_to_the_box_with_a_warning(models, page, query, kind, key, limit):
    asked = HUGE_TEXT[: limit + 12_345]
    app = open_page(page, {**query, key: asked}, timeout=120)
    assert not app.exception, app.exception
    assert box(app, kind, key).value == asked[:limit]
    assert f"has {limit + 12_345:,} characters; only the first {limit:,} are used" in messages(app)


def test_a_link_too_long_for_streamlit_opens_the_page_as_usual(models):
    """Streamlit ignores a query string of more than half a million characters: the default text shows."""
    app = open_page("views/gates.py", {"text": HUGE_TEXT[:2_000_000]}, timeout=120)
    assert not app.exception
    assert app.text_area(key="text").value == typed_text.DEFAULT_TEXT


# ----------------------------------------------------------------------------------- export
def test_the_export_of_a_long_trace_says_which_tokens_it_holds(models):
    text = ("Bob is a nice person. " * 300)[: typed_text.MAX_TEXT_CHARS]  # 5,000 characters, one token each
    app = open_page("views/gates.py", {"model": "chars", "text": text, "t": "3000"}, timeout=120)
    assert not app.exception
    trace = model_store.text_trace("chars", text).trace
    start, stop = export.csv_window(trace, 3000)
    assert start <= 3000 < stop < trace.length
    labels = [button.proto.label for button in app.get("download_button")]
    assert f"Trace as CSV, tokens {start} to {stop - 1} of 5,000" in labels
    assert (stop - start) * trace.cell.shape[-1] <= export.MAX_CSV_ROWS
    # The .npz too: 5,000 tokens of 256 units are 31 MB of arrays, so it holds the tokens around t that fit.
    start, stop = export.npz_window(trace, 3000)
    assert start <= 3000 < stop and (start, stop) != (0, trace.length)
    assert f"Trace as NumPy .npz, tokens {start} to {stop - 1} of 5,000" in labels
    npz_help = next(button.proto.help for button in app.get("download_button") if ".npz" in button.proto.label)
    assert f"At most {export.MAX_NPZ_BYTES // 2**20} MB" in npz_help


# ----------------------------------------------------------------------------------- settings
def test_every_setting_is_a_streamlit_option():
    """A misspelt option would be ignored by Streamlit with no more than a line in the log."""
    def option_names(prefix: str, options: dict):
        for name, value in options.items():  # a nested table ([theme.light]) holds options of its own
            yield from option_names(f"{prefix}.{name}", value) if isinstance(value, dict) else [f"{prefix}.{name}"]

    names = [name for section, options in SETTINGS.items() for name in option_names(section, options)]
    assert "theme.light.textColor" in names and "server.maxMessageSize" in names
    for name in names:
        streamlit_config.get_option(name)  # raises for an option Streamlit does not have


def test_uploads_are_limited_to_the_model_budget_and_errors_show_no_details():
    assert SETTINGS["server"]["maxUploadSize"] * 2**20 == model_files.MAX_MODEL_BYTES  # Streamlit's unit is MiB
    assert SETTINGS["client"]["showErrorDetails"] == "none"
    # every file the pages take is within it (Streamlit refuses more than maxUploadSize whatever a widget says)
    smaller = (model_files.MAX_VOCAB_BYTES, model_files.MAX_INPUT_BYTES, training.MAX_UPLOAD_MB * 2**20)
    assert max(smaller) <= model_files.MAX_MODEL_BYTES


def test_every_file_uploader_names_its_own_limit():
    uploaders = widget_calls(("file_uploader",))
    assert len(uploaders) >= 4
    missing = [f"{file}:{line}" for file, line, keywords in uploaders if "max_upload_size" not in keywords]
    assert not missing, f"file uploaders without max_upload_size: {missing}"


def message_limit() -> int:
    return SETTINGS["server"]["maxMessageSize"] * 10**6  # Streamlit's unit here is MB


def largest_chart_bytes(app: AppTest) -> int:
    charts = app.get("plotly_chart")
    assert charts
    return max(chart.proto.ByteSize() for chart in charts)


def wide_model(num_layers: int, hidden_size: int) -> LanguageModel:
    """A character model with random weights, both directions."""
    tokenizer = CharTokenizer()
    rng = np.random.default_rng(0)
    vocab_size = len(tokenizer.vocab)
    lstm = LSTM.random(input_size=8, hidden_size=hidden_size, num_layers=num_layers, bidirectional=True, seed=0)
    return LanguageModel("wide", tokenizer, rng.normal(size=(vocab_size, 8)), lstm,
                         rng.normal(size=(vocab_size, 2 * hidden_size)), np.zeros(vocab_size))  # fmt: skip


def test_the_message_limit_fits_the_largest_charts_of_gates_four_times_over(models):
    text = ("Bob is a nice person. Dan, on the other hand, is evil. " * 100)[: typed_text.MAX_TEXT_CHARS]
    widest = max(models, key=lambda name: models[name].lstm.hidden_size)
    app = open_page("views/gates.py", {"model": widest, "text": text, "t": "600"}, timeout=120)
    app.slider(key="top_k").set_value(models[widest].lstm.hidden_size).run()  # every unit
    assert not app.exception
    every_unit = largest_chart_bytes(app)

    # Every layer and direction side by side, as many units as a chart may draw (4 x 2 x 390 x 80 tokens)
    units = figures.MAX_CELLS_PER_FIGURE // (figures.MAX_COMPARED_PAIRS * 80)
    app = new_session(timeout=120)
    name = model_store.add_session_model(wide_model(4, units), "wide", session=app.session_state)
    query = {"model": name, "text": text[:200], "t": "100", "top_k": str(units), "compare_layers": "true"}
    open_page("views/gates.py", query, app=app)
    assert not app.exception
    assert any("gates_compare_layers" in chart.proto.id for chart in app.get("plotly_chart"))
    every_layer = largest_chart_bytes(app)
    assert 4 * max(every_unit, every_layer) <= message_limit(), (every_unit, every_layer)


def draw_the_largest_heatmap() -> None:
    """A heatmap of as many cells as any chart may draw, labelled by the longest tokens a text box gives."""
    import numpy as np
    import streamlit as st

    from ui import figures, typed_text

    tokens = 80
    units = figures.MAX_CELLS_PER_FIGURE // tokens
    labels = ["&" * (typed_text.MAX_TEXT_CHARS // tokens)] * tokens  # each "&" is sent as "&amp;"
    values = np.random.default_rng(0).normal(size=(tokens, units)).astype(np.float32)
    names = {unit: f"named unit {unit}" for unit in range(0, units, 100)}
    st.plotly_chart(figures.gate_heatmap(values, labels, np.arange(units), "cell", selected=(3, 5), unit_names=names))


def test_the_message_limit_fits_the_largest_chart_any_page_may_draw():
    app = AppTest.from_function(draw_the_largest_heatmap, default_timeout=60).run()
    assert not app.exception
    assert 2 * largest_chart_bytes(app) <= message_limit()


def test_the_message_limit_takes_what_a_browser_may_send():
    """The websocket limit bounds incoming messages too: the largest a page asks for is /your-model's
    pasted input vectors, with the other boxes of that page beside them."""
    assert 2 * (model_files.MAX_INPUT_BYTES + 4 * typed_text.MAX_TEXT_CHARS) <= message_limit()
