"""Server time of a page rerun, and the bytes a page sends, against a reference measured in the same run.

    python -m benchmarks.page_speed            # about a minute
    python -m benchmarks.page_speed --quick    # a few seconds, fewer repetitions

Each page runs under Streamlit's AppTest on the shipped models, first once (the model loads and the
trace is computed and cached), then rerun several times, as when a student moves the selected token.
Server time is the CPU time of the script thread inside the page's run: other processes on a busy
machine do not count, and neither does AppTest's own bookkeeping around the run. The reference is
the same measure for a page that draws one line of text, interleaved with the others so that machine
noise hits both alike. Budget (the app issue): at most 100 ms for a 50-token sentence.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from streamlit.navigation.page import StreamlitPage
from streamlit.testing.v1 import AppTest

from ui import model_store

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 0.100
SENTENCE = "Bob is a nice person. Dan, on the other hand, is evil. "
ENGLISH_SENTENCE = "Priya is a doctor. She works at the hospital near the river. Omar, on the other hand, is a pilot. "
REFERENCE_SCRIPT = 'import streamlit as st\n\nst.write("one line of text")\n'


def text_of(tokens: int, model_name: str = "words") -> str:
    """Exactly `tokens` tokens of `model_name`: a sentence repeated (word tokens joined by spaces, or
    characters); for words, one with names it reads from their spelling and records."""
    if model_name == "chars":
        return (SENTENCE * (tokens // len(SENTENCE) + 1))[:tokens].rstrip() + "."
    sentence = ENGLISH_SENTENCE if model_name == "words" else SENTENCE
    words = model_store.language_model(model_name).tokens(sentence)
    return " ".join((words * (tokens // len(words) + 1))[:tokens])


# (tokens, model): a page takes at most 5,000 characters, so 5,000 tokens are characters of the char model.
# words reads spelling and has a vocabulary of thousands: its 50-word row is the one to watch; story,
# the story-world model of 341 words, beside it.
LENGTHS = ((50, "words"), (50, "story"), (500, "words"), (5000, "chars"))


class PageTimer:
    """Collects the script thread's CPU time of every page run while installed."""

    def __init__(self):
        self.times: list[float] = []
        self._original = StreamlitPage.run

    def __enter__(self):
        original, times = self._original, self.times

        def timed_run(page):
            started = time.thread_time()
            try:
                original(page)
            finally:
                times.append(time.thread_time() - started)

        StreamlitPage.run = timed_run
        return self

    def __exit__(self, *exc):
        StreamlitPage.run = self._original


def opened(page: str, query: dict[str, str]) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()  # before its first run AppTest finds a page by file name, and /your-model's differs
    app.switch_page(page)
    app.query_params.update(query)
    app.run()
    if app.exception:
        raise SystemExit(f"{page} {query} raised: {app.exception[0].message}")
    return app


def reference_app(folder: Path) -> AppTest:
    script = folder / "reference.py"
    script.write_text(REFERENCE_SCRIPT)
    app = AppTest.from_file(str(script), default_timeout=60)
    app.run()
    return app


def script_seconds(app: AppTest) -> float:
    """CPU seconds of one rerun's script thread (the reference page has no StreamlitPage)."""
    with PageTimer() as timer:
        started = time.thread_time()
        app.run()
    return timer.times[-1] if timer.times else time.thread_time() - started


def payload_bytes(app: AppTest) -> int:
    """What the page's figures send: the Plotly JSON specs."""
    return sum(len(chart.proto.spec) for chart in app.get("plotly_chart"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke test")
    args = parser.parse_args()
    # The word model is loaded outside a page run to build the texts; Streamlit warns about that, harmlessly.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage()
    )
    repeats = 2 if args.quick else 7
    lengths = [length for length in LENGTHS if length[0] == 50] if args.quick else LENGTHS
    # (page file, path shown, query); a query with "text" is run at each length in `lengths`
    cases = [("views/gates.py", "/gates", {"text": "", "t": "3"}), ("views/step.py", "/step", {"text": "", "t": "3"}),
             ("views/tutorial.py", "/tutorial", {}), ("views/home.py", "/", {}),
             ("views/gradients.py", "/gradients", {}), ("views/gradients.py", "/gradients?source=longlag",
              {"source": "longlag", "lag": "60"}), ("views/playground.py", "/playground", {}),
             ("views/train.py", "/train", {}), ("views/compare.py", "/compare", {}),
             ("views/corpus.py", "/corpus", {}), ("views/saturation.py", "/saturation", {}),
             ("views/your_model.py", "/your-model", {})]  # fmt: skip

    print("Server time of a rerun (CPU time of the script thread), median of interleaved runs;")
    print(f"ratio = page / a one-line reference page; budget {BUDGET_SECONDS * 1000:.0f} ms for 50 tokens\n")
    with tempfile.TemporaryDirectory() as folder:
        reference = reference_app(Path(folder))
        for page, path, base_query in cases:
            for tokens, model_name in lengths if "text" in base_query else ((None, None),):
                query = base_query if tokens is None else {**base_query, "text": text_of(tokens, model_name),
                                                           "model": model_name}  # fmt: skip
                app = opened(page, query)
                page_times, reference_times = [], []
                for _ in range(repeats):
                    page_times.append(script_seconds(app))
                    reference_times.append(script_seconds(reference))
                page_ms = 1000 * statistics.median(page_times)
                reference_ms = 1000 * statistics.median(reference_times)
                shown = len(model_store.language_model(model_name).tokens(query["text"])) if tokens else 0
                label = f"{path} ({shown} {model_name})" if tokens else path
                verdict = ""
                if tokens == 50:
                    verdict = "  within budget" if page_ms <= BUDGET_SECONDS * 1000 else "  OVER BUDGET"
                print(f"  {label:<26} {page_ms:7.1f} ms   reference {reference_ms:5.2f} ms   "
                      f"ratio {page_ms / max(reference_ms, 1e-3):6.1f}x   figures {payload_bytes(app) / 1024:7.0f} KiB"
                      f"{verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
