"""Cold start: from `streamlit run` to the server's health check, and to the first /gates page drawn
(the model loaded, the first sentence traced), against a one-line app started the same way.

    python -m benchmarks.cold_start            # three starts of each, interleaved
    python -m benchmarks.cold_start --runs 1

It also starts the app with the first page on `story` (the story-world model of 341 words, the
default before `words` read real English), interleaved with the rest: the default model's cold start
against that one's, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import websockets

from benchmarks.app_server import serve_app
from benchmarks.load_test import AppSession, run_in_own_loop

__all__ = ["cold_start", "main"]

REFERENCE_SCRIPT = 'import streamlit as st\n\nst.write("one line of text")\n'
SENTENCE = "Bob is a nice person. Dan, on the other hand, is evil."


async def _first_page(url: str, page_name: str, model: str | None = None) -> float:
    started = time.perf_counter()
    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    query = f"text={quote(SENTENCE)}" + (f"&model={model}" if model else "")
    async with websockets.connect(stream, subprotocols=["streamlit"], max_size=None, open_timeout=60) as socket:
        outcome = await AppSession(socket).rerun(query, page_name)
    if not outcome.finished or outcome.error:
        raise RuntimeError(f"the first page did not draw: {outcome.error}")
    return time.perf_counter() - started


def cold_start(script: str | Path = "app.py", page_name: str = "gates", model: str | None = None) -> tuple[float, float]:
    """(seconds until /_stcore/health answers, seconds more until the first page has run, on `model`
    when given, else the page's default)."""
    started = time.perf_counter()
    with serve_app(script=script) as server:
        healthy = time.perf_counter() - started
        first_page = run_in_own_loop(_first_page(server.url, page_name, model))
    return healthy, first_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    app_runs, reference_runs, story_runs = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        reference = Path(folder) / "reference.py"
        reference.write_text(REFERENCE_SCRIPT)
        for _ in range(max(1, args.runs)):
            app_runs.append(cold_start())
            reference_runs.append(cold_start(reference, ""))
            story_runs.append(cold_start(model="story"))
    print("Cold start, median of interleaved starts (a one-line app started the same way is the reference):")
    for index, what in enumerate(("server answers its health check", "first page drawn after that")):
        app_seconds = statistics.median(run[index] for run in app_runs)
        reference_seconds = statistics.median(run[index] for run in reference_runs)
        print(f"  {what:<34} app {app_seconds:6.2f} s   reference {reference_seconds:6.2f} s   "
              f"ratio {app_seconds / reference_seconds:5.1f}x")  # fmt: skip
    app_total = statistics.median(sum(run) for run in app_runs)
    story_total = statistics.median(sum(run) for run in story_runs)
    print(f"  {'start to first /gates, words':<34} app {app_total:6.2f} s   on story  {story_total:6.2f} s   "
          f"ratio {app_total / story_total:5.1f}x (target: at most 2x)")  # fmt: skip


if __name__ == "__main__":
    main()
