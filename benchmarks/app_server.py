"""Start the app as a user would (`streamlit run app.py`) on a free loopback port, for the browser tests,
the load test and the benchmarks.

    >>> with serve_app() as server:
    ...     print(server.url, server.rss_bytes())
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["AppServer", "serve_app", "free_port", "wait_until_healthy", "stop"]

ROOT = Path(__file__).resolve().parent.parent


def wait_until_healthy(url: str, process: subprocess.Popen, name: str, log_tail, timeout: float) -> None:
    """Poll `url`/_stcore/health until it answers ok; RuntimeError (with `log_tail()`) if `process`
    exits first or the timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode}: {log_tail()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer {url}/_stcore/health within {timeout:.0f} s") from None
            time.sleep(0.3)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# One BLAS thread per app process, as the Dockerfile runs it: the app's matrices are small, and
# OpenBLAS's extra thread spins on another core after every product (a core busy under the load test),
# a core that other processes, or the load test's own client, need.
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    log_path: Path  # the server's stdout and stderr

    def rss_bytes(self) -> int:
        """The server process's resident memory (Linux /proc), 0 when it cannot be read."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far, user and system (Linux /proc), 0 when unknown."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
        except (OSError, ValueError, IndexError):
            return 0.0

    def log_tail(self, characters: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:]


@contextmanager
def serve_app(
    extra_args: Sequence[str] = (), timeout: float = 90, script: str | Path = "app.py",
    env: Mapping[str, str] | None = None,
) -> Iterator[AppServer]:
    """Run `streamlit run <script>` (the app by default) until the block ends; yield once
    /_stcore/health answers ok. `env` adds to this process's environment.

    The server's output goes to a file, not a pipe: a pipe nobody reads fills up after 64 KiB of log
    and then blocks the server.
    """
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "streamlit.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
                 "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats",
                 "false", "--server.fileWatcherType", "none", *extra_args],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **(env or {})},
            )  # fmt: skip
        server = AppServer(f"http://127.0.0.1:{port}", process, log_path)
        try:
            wait_until_healthy(server.url, process, "streamlit", server.log_tail, timeout)
            yield server
        finally:
            stop(process)
