"""A classroom at once: N real sessions on /gates over Streamlit's own websocket protocol.

    python -m benchmarks.load_test                       # 50 sessions for 60 s (the target)
    python -m benchmarks.load_test --sessions 10 --seconds 20

Starts the app with `streamlit run app.py` on loopback, with one BLAS thread as the Dockerfile runs
it. Each session connects as a browser does (`/_stcore/stream`), opens /gates with a sentence of its
own, then every few seconds types a new one (a widget change, as when a student edits the text box).
The latency of a rerun is the time from sending the change to the server's "script finished". First one
session alone does the same, as the reference measured in the same run; then all N together, joining
over the first five seconds (as a class opening the link the teacher just shared). The report:
- the class joining: the first page's latency, and the changes made while others were still joining;
- the class at work, once all N are in: p50 and p95 against the single-session latency (the target);
- errors (exception boxes, failed or missing runs, lost connections, another session's text on a
  page) and the server's memory over time.

Target on a 2-core machine: 50 sessions, no errors, p95 at most 3x the single-session latency once the
class is in, memory that levels off. Each session's sentences carry a word of its own (unknown to the model, so the page
names it in a notice): a session that ever sees another session's word fails the isolation check.

The client sessions acknowledge what they read at once (TCP_QUICKACK after every read), as a browser's
kernel does across a network. On loopback the segment size is 64 KB, and a receiver delays its ACK
(40 ms) until a full segment has come; a rerun is about 75 small websocket frames, and after a few idle
seconds part of them waits for the client's ACK before it leaves the server. So on loopback some
reruns would wait 40 ms for the client's kernel although the server has run the page and handed over its
last message on time, a wait no browser on another machine has (there a segment is 1.4 KB and every
second one is acknowledged at once). `--loopback-acks` keeps the kernel's delayed ACKs, to see that
stall; benchmarks/README.md has the figures of both.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection

from benchmarks.app_server import ONE_BLAS_THREAD, AppServer, serve_app

__all__ = ["SessionResult", "LoadReport", "AppSession", "PromptAckConnection", "run_sessions", "run_in_own_loop", "main"]

TEXT_LABEL = "Text the model reads"
SENTENCES = (
    "{name} is a nice person. Dan, on the other hand, is evil. {marker} said so.",
    "{name} knows swimming. He told me over the phone that {marker} had served the navy.",
    "{name} single-handedly fought the enemy. For his contributions, brave {marker}.",
    "Mary is a nice person. {name}, on the other hand, is evil and {marker} knows it.",
)
NAMES = ("Bob", "Dan", "Tom", "Sam", "Jack", "Alice", "Mary", "Emma", "Kate", "Anna")
SUCCESS = (
    ForwardMsg.DESCRIPTOR.fields_by_name["script_finished"].enum_type.values_by_name["FINISHED_SUCCESSFULLY"].number
)


def marker_of(session: int) -> str:
    """A word no other session uses and the model does not know: 'zq7qz' for session 7."""
    return f"zq{session}qz"


def sentence(session: int, number: int) -> str:
    template = SENTENCES[number % len(SENTENCES)]
    return template.format(name=NAMES[(session + number) % len(NAMES)], marker=marker_of(session))


# Linux only; elsewhere the sessions read with the kernel's own ACK policy
TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class PromptAckConnection(ClientConnection):
    """A websocket client whose kernel acknowledges every read at once, as across a network (the
    module's docstring says why a load test on loopback needs it)."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        stream = self.transport.get_extra_info("socket")
        if TCP_QUICKACK is not None and stream is not None and stream.family in (socket.AF_INET, socket.AF_INET6):
            # Linux clears the flag again by itself: set it after every read, and it sends the ACK now
            stream.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 1)


@dataclass
class SessionResult:
    session: int
    latencies: list[float] = field(default_factory=list)  # seconds per rerun after a change
    started: list[float] = field(default_factory=list)  # when each of those changes was sent (monotonic)
    first_page: float | None = None  # seconds to open /gates
    joined: float | None = None  # when the first page was there (monotonic)
    errors: list[str] = field(default_factory=list)


@dataclass
class RunOutcome:
    finished: bool
    texts: list[str]  # every string the page showed (markdown, captions, notices, widget labels)
    error: str | None


class AppSession:
    """One browser tab's websocket conversation with the server, reduced to what a load test needs."""

    def __init__(self, websocket):
        self.websocket = websocket
        self.page_script_hash = ""
        self.text_widget_id: str | None = None

    async def rerun(self, query_string: str = "", page_name: str = "", text: str | None = None) -> RunOutcome:
        message = BackMsg()
        rerun = message.rerun_script
        rerun.query_string = query_string
        rerun.page_name = page_name
        rerun.page_script_hash = self.page_script_hash
        if text is not None and self.text_widget_id is not None:
            state = rerun.widget_states.widgets.add()
            state.id = self.text_widget_id
            state.string_value = text
        await self.websocket.send(message.SerializeToString())
        return await self._until_finished()

    async def _until_finished(self) -> RunOutcome:
        texts, error = [], None
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(await self.websocket.recv())
            kind = forward.WhichOneof("type")
            if kind == "navigation":  # the page this run shows: later reruns stay on it
                self.page_script_hash = forward.navigation.page_script_hash
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                element_kind = element.WhichOneof("type")
                if element_kind == "exception":
                    error = f"exception on the page: {element.exception.type}: {element.exception.message[:200]}"
                elif element_kind == "markdown":
                    texts.append(element.markdown.body)
                elif element_kind == "alert":
                    texts.append(element.alert.body)
                elif element_kind == "text_area":
                    texts.append(element.text_area.value)
                    if element.text_area.label == TEXT_LABEL:
                        self.text_widget_id = element.text_area.id
            elif kind == "script_finished":
                status = forward.script_finished
                if status != SUCCESS and error is None:
                    error = f"the run ended with status {status}"
                return RunOutcome(status == SUCCESS, texts, error)


def check_isolation(session: int, texts: list[str], sessions: int) -> str | None:
    shown = "\n".join(texts)
    if marker_of(session) not in shown:
        return f"session {session}: its own text is not on its page"
    for other in range(sessions):
        if other != session and marker_of(other) in shown.replace(marker_of(session), ""):
            return f"session {session} saw session {other}'s text"
    return None


async def drive_session(url: str, session: int, sessions: int, seconds: float, interval: float,
                        start_delay: float, prompt_acks: bool = True) -> SessionResult:  # fmt: skip
    """Open /gates with this session's sentence, then change the text every `interval` (jittered) s."""
    result = SessionResult(session)
    rng = random.Random(session)
    await asyncio.sleep(start_delay)
    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    try:
        connection = PromptAckConnection if prompt_acks else None
        async with websockets.connect(stream, subprotocols=["streamlit"], max_size=None, open_timeout=60,
                                      create_connection=connection) as websocket:  # fmt: skip
            app = AppSession(websocket)
            first, opened = sentence(session, 0), time.perf_counter()
            outcome = await asyncio.wait_for(app.rerun(f"text={quote(first)}", "gates"), 120)
            result.first_page, result.joined = time.perf_counter() - opened, time.monotonic()
            record(result, outcome, session, sessions)
            if app.text_widget_id is None:
                result.errors.append(f"session {session}: no text box on /gates")
                return result
            deadline = time.monotonic() + seconds
            number = 1
            while time.monotonic() + interval < deadline:
                await asyncio.sleep(interval * rng.uniform(0.6, 1.4))
                result.started.append(time.monotonic())
                started = time.perf_counter()
                outcome = await asyncio.wait_for(app.rerun(text=sentence(session, number)), 120)
                result.latencies.append(time.perf_counter() - started)
                record(result, outcome, session, sessions)
                number += 1
    except (OSError, TimeoutError, websockets.WebSocketException) as error:
        result.errors.append(f"session {session}: connection failed: {type(error).__name__}: {error}")
    return result


def record(result: SessionResult, outcome: RunOutcome, session: int, sessions: int) -> None:
    if outcome.error:
        result.errors.append(f"session {session}: {outcome.error}")
    elif (problem := check_isolation(session, outcome.texts, sessions)) is not None:
        result.errors.append(problem)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (1..99), nan for no values."""
    if len(values) < 2:
        return (values or [float("nan")])[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


@dataclass
class LoadReport:
    sessions: int
    latencies: list[float]  # reruns started once every session had its first page: the class at work
    errors: list[str]
    memory: list[tuple[float, int]]  # (seconds since start, server RSS bytes)
    first_pages: list[float] = field(default_factory=list)  # seconds to open /gates, one per session
    joining_latencies: list[float] = field(default_factory=list)  # reruns started while others were joining
    joining_seconds: float = 0.0  # from the first session's start until the last one had its page

    def percentile(self, q: float) -> float:
        return percentile(self.latencies, q)


async def _run(server: AppServer, sessions: int, seconds: float, interval: float, ramp: float,
               prompt_acks: bool) -> LoadReport:  # fmt: skip
    memory: list[tuple[float, int]] = []
    started = time.monotonic()
    done = asyncio.Event()

    async def sample_memory():
        while not done.is_set():
            memory.append((time.monotonic() - started, server.rss_bytes()))
            try:
                await asyncio.wait_for(done.wait(), 1.0)
            except TimeoutError:
                pass

    sampler = asyncio.create_task(sample_memory())
    results = await asyncio.gather(
        *(
            drive_session(server.url, s, sessions, seconds, interval, ramp * s / max(sessions, 1), prompt_acks)
            for s in range(sessions)
        )
    )
    done.set()
    await sampler
    return class_report(sessions, results, memory, started)


def class_report(sessions: int, results: list[SessionResult], memory: list[tuple[float, int]],
                 started: float) -> LoadReport:  # fmt: skip
    """Split the reruns at the moment the last session had its first page: before it, the class was
    still joining (first visits are the heaviest runs); after it, all `sessions` were at work."""
    joins = [result.joined for result in results if result.joined is not None]
    everyone_in = max(joins) if len(joins) == len(results) else float("inf")
    at_work, joining = [], []
    for result in results:
        for latency, sent in zip(result.latencies, result.started, strict=True):
            (at_work if sent >= everyone_in else joining).append(latency)
    return LoadReport(
        sessions,
        at_work,
        [error for result in results for error in result.errors],
        memory,
        first_pages=[result.first_page for result in results if result.first_page is not None],
        joining_latencies=joining,
        joining_seconds=(max(joins) - started) if joins else float("nan"),
    )


def run_sessions(
    server: AppServer, sessions: int, seconds: float, interval: float = 4.0, ramp: float = 5.0, prompt_acks: bool = True
) -> LoadReport:
    """Drive `sessions` concurrent sessions against a running app for about `seconds`; `prompt_acks`
    as the module's docstring says."""
    return run_in_own_loop(_run(server, sessions, seconds, interval, ramp, prompt_acks))


def run_in_own_loop(coroutine):
    """`asyncio.run` in a thread of its own: the caller may be inside a running event loop already
    (Playwright's sync API keeps one in the test process)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def memory_line(memory: list[tuple[float, int]], points: int = 8) -> str:
    if not memory:
        return "not measured"
    step = max(1, len(memory) // points)
    return "  ".join(f"{seconds:.0f}s {rss / 2**20:.0f}" for seconds, rss in memory[::step]) + " MiB"


def levels_off(memory: list[tuple[float, int]]) -> bool:
    """Memory levels off when it grows in the last quarter of the run at under a quarter of the rate
    of the first quarter (when sessions arrive and the caches fill)."""
    if len(memory) < 8:
        return True
    quarter = len(memory) // 4

    def rate(points: list[tuple[float, int]]) -> float:
        (start_seconds, start_rss), (end_seconds, end_rss) = points[0], points[-1]
        return (end_rss - start_rss) / max(end_seconds - start_seconds, 1e-9)

    return rate(memory[-quarter:]) <= max(0.25 * rate(memory[:quarter]), 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each session keeps changing its text")
    parser.add_argument("--interval", type=float, default=4.0, help="seconds between a session's changes (jittered)")
    parser.add_argument("--loopback-acks", action="store_true",
                        help="keep the client kernel's delayed ACKs (40 ms stalls on loopback; see above)")
    args = parser.parse_args()
    if not 1 <= args.sessions <= 500 or not 5 <= args.seconds <= 3600:
        parser.error("--sessions must be 1..500 and --seconds 5..3600")
    with serve_app(env=ONE_BLAS_THREAD) as server:  # as the Dockerfile and deploy/cluster.py run it
        print(f"App started at {server.url}; memory {server.rss_bytes() / 2**20:.0f} MiB")
        prompt_acks = not args.loopback_acks
        acks = "acknowledged at once, as across a network" if prompt_acks else "the kernel's delayed ACKs on loopback"
        print(f"Client sessions: reads {acks}")
        single = run_sessions(server, 1, min(args.seconds, 30), interval=1.0, ramp=0, prompt_acks=prompt_acks)
        reference = statistics.median(single.latencies)
        print(f"\nOne session alone: {len(single.latencies)} reruns, median {1000 * reference:.0f} ms, "
              f"p95 {1000 * single.percentile(95):.0f} ms")  # fmt: skip
        cpu_before = server.cpu_seconds()
        load = run_sessions(server, args.sessions, args.seconds, args.interval, prompt_acks=prompt_acks)
        reruns = len(load.latencies) + len(load.joining_latencies)
        cpu_per_rerun = (server.cpu_seconds() - cpu_before) / max(reruns, 1)
        print(f"\n{args.sessions} sessions for {args.seconds:.0f} s, a change every ~{args.interval:.0f} s each: "
              f"{reruns} reruns; server CPU {1000 * cpu_per_rerun:.0f} ms per rerun "
              f"(every thread, first visits included)")  # fmt: skip
        joining = load.joining_latencies
        print(f"  The class joining ({len(load.first_pages)} first pages in {load.joining_seconds:.1f} s): first page "
              f"p50 {1000 * percentile(load.first_pages, 50):.0f} ms, p95 {1000 * percentile(load.first_pages, 95):.0f} ms; "
              f"{len(joining)} changes meanwhile, p95 {1000 * percentile(joining, 95):.0f} ms "
              f"({percentile(joining, 95) / reference:.1f}x)")  # fmt: skip
        p50, p95 = load.percentile(50), load.percentile(95)
        print(f"  The class at work ({len(load.latencies)} reruns once all {args.sessions} were in):")
        print(f"    p50 {1000 * p50:6.0f} ms   {p50 / reference:5.1f}x the single session")
        print(f"    p95 {1000 * p95:6.0f} ms   {p95 / reference:5.1f}x the single session   (target ≤ 3x)")
        print(f"  errors: {len(load.errors) + len(single.errors)}")
        for error in (single.errors + load.errors)[:10]:
            print(f"    {error}")
        print(f"  server memory: {memory_line(load.memory)}")
        print(f"  memory levels off: {'yes' if levels_off(load.memory) else 'NO'}")
        verdict = not load.errors and not single.errors and p95 <= 3 * reference and levels_off(load.memory)
        print(f"\n{'target met' if verdict else 'TARGET NOT MET'}")


if __name__ == "__main__":
    main()
