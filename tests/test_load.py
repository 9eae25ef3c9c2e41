"""The load test's machinery on a real server: sessions over the websocket never see each other's text,
and its checks catch what they are for. The load figures themselves come from `python -m
benchmarks.load_test`, not from a test."""

from __future__ import annotations

import socket

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from benchmarks import load_test
from benchmarks.app_server import serve_app


def test_the_isolation_check_catches_another_sessions_text_and_a_missing_own_text():
    own, other = load_test.sentence(3, 0), load_test.sentence(4, 1)
    assert load_test.check_isolation(3, [own], sessions=5) is None
    assert "saw session 4" in load_test.check_isolation(3, [own, other], sessions=5)
    assert "not on its page" in load_test.check_isolation(3, ["Bob is nice."], sessions=5)


def test_memory_levels_off_or_not():
    flat = [(second, 100 + (second < 4) * second) for second in range(20)]
    growing = [(second, 100 + 10 * second) for second in range(20)]
    slowing = [(second, 100 + round(400 * (1 - 0.8**second))) for second in range(20)]  # a cache filling up
    assert load_test.levels_off(flat) and load_test.levels_off(slowing)
    assert not load_test.levels_off(growing)


def test_concurrent_sessions_each_see_only_their_own_text():
    async def inside_a_running_loop():  # as under Playwright's sync API, which keeps an event loop running
        with serve_app() as server:
            return load_test.run_sessions(server, sessions=4, seconds=8, interval=1.0, ramp=1.0)

    report = load_test.run_in_own_loop(inside_a_running_loop())
    assert not report.errors, report.errors
    assert (
        len(report.latencies) + len(report.joining_latencies) >= 4 * 3
    )  # every session changed its text several times
    assert len(report.latencies) >= 4 * 2 and len(report.first_pages) == 4
    assert report.memory and all(rss > 0 for _, rss in report.memory)


def test_the_report_splits_the_class_joining_from_the_class_at_work():
    early = load_test.SessionResult(
        0, latencies=[0.01, 0.02, 0.03], started=[1.0, 2.0, 3.0], first_page=0.05, joined=0.5
    )
    late = load_test.SessionResult(1, latencies=[0.04, 0.05], started=[2.5, 3.5], first_page=0.2, joined=2.2)
    report = load_test.class_report(2, [early, late], memory=[], started=0.0)
    assert sorted(report.joining_latencies) == [0.01, 0.02]  # sent before the last session had its page
    assert sorted(report.latencies) == [0.03, 0.04, 0.05]
    assert report.first_pages == [0.05, 0.2] and report.joining_seconds == 2.2
    never_joined = load_test.SessionResult(2, errors=["session 2: connection failed"])
    report = load_test.class_report(3, [early, late, never_joined], memory=[], started=0.0)
    assert report.latencies == [] and len(report.joining_latencies) == 5  # the class never was all in
    assert report.errors == ["session 2: connection failed"]


@pytest.mark.skipif(load_test.TCP_QUICKACK is None, reason="TCP_QUICKACK is Linux's")
def test_load_test_sessions_acknowledge_every_read_at_once():
    """After a request and its burst of frames, a plain client's kernel is in delayed-ACK mode (0);
    the load test's sessions acknowledge at once (1), as a browser's kernel does across a network."""

    async def burst(websocket):
        async for _ in websocket:
            for _ in range(20):
                await websocket.send(b"x" * 2000)

    async def quickack_flags(connection_class) -> list[int]:
        async with serve(burst, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}", create_connection=connection_class) as websocket:
                flags = []
                for _ in range(4):
                    await websocket.send(b"go")
                    for _ in range(20):
                        await websocket.recv()
                    stream = websocket.transport.get_extra_info("socket")
                    flags.append(stream.getsockopt(socket.IPPROTO_TCP, load_test.TCP_QUICKACK))
                return flags

    assert load_test.run_in_own_loop(quickack_flags(load_test.PromptAckConnection)) == [1, 1, 1, 1]
    assert load_test.run_in_own_loop(quickack_flags(None))[-1] == 0
