"""Several app processes behind nginx with sticky sessions, on one machine, each restarted when it dies.

    python -m deploy.cluster --processes 2 --port 8080     # then open http://127.0.0.1:8080

Starts `--processes` copies of `streamlit run app.py` on free loopback ports and nginx in front of
them on `--port`, with the configuration in deploy/nginx.conf.template, until Ctrl-C or SIGTERM. Each
browser gets a cookie on its first request and keeps talking to the same process (its session, uploads
and trained models live there). A `Supervisor` watches every app process: one that exits (killed for
memory, a crash) is started again on the same port, after a delay that doubles while it keeps dying
quickly. Needs nginx (`apt-get install -y nginx`). deploy/README.md says when to use it, and why it
prints a note when the loopback route lacks `quickack 1`.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.app_server import ONE_BLAS_THREAD, free_port, stop, wait_until_healthy

__all__ = [
    "Cluster", "SupervisedApp", "Supervisor", "app_command", "nginx_config", "run_cluster", "stop_on_signals",
    "loopback_acks_at_once", "QUICKACK_COMMAND", "NGINX",
]  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
log = logging.getLogger(__name__)


def nginx_config(listen_port: int, upstream_ports: list[int], prefix: Path) -> str:
    """The template with the listening port, one `server` line per app process and a private prefix."""
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in upstream_ports)
    return (
        TEMPLATE.read_text()
        .replace("{{upstream_servers}}", servers)
        .replace("{{listen_port}}", str(listen_port))
        .replace("{{prefix}}", str(prefix))
    )


# nginx and the app processes talk over 127.0.0.1, where the kernel delays its ACKs (deploy/README.md)
QUICKACK_COMMAND = "ip route change local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 table local quickack 1"


def loopback_acks_at_once(route: str) -> bool:
    """Whether `ip route get 127.0.0.1` says `quickack 1`: the kernel acknowledges that traffic at once."""
    fields = route.split()
    return any(name == "quickack" and value == "1" for name, value in zip(fields, fields[1:], strict=False))


def loopback_route() -> str | None:
    """`ip route get 127.0.0.1`, or None where `ip` is missing or refuses."""
    try:
        done = subprocess.run(["ip", "route", "get", "127.0.0.1"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


# ------------------------------------------------------------------------------- supervision
class Supervisor:
    """Keeps one command running: starts it, and whenever it exits starts it again, until `stop()`.

    A process that dies soon after it started is likely to die again (a bad file, no memory): the
    delay before the next start doubles, from `first_delay` up to `max_delay` seconds, and goes back
    to `first_delay` once a process has run for `steady_seconds`. The command runs in a session of
    its own, so Ctrl-C at the terminal reaches the supervisor, which then stops it.

        with Supervisor(["python", "-m", "http.server"], log_path=Path("server.log")) as kept:
            kept.process.kill()  # gone: another one starts `first_delay` seconds later
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        name: str = "process",
        first_delay: float = 1.0,
        max_delay: float = 30.0,
        steady_seconds: float = 60.0,
        stop_timeout: float = 10.0,
    ):
        if not command:
            raise ValueError("command must name a program to run")
        if not 0 < first_delay <= max_delay:
            raise ValueError(f"need 0 < first_delay <= max_delay, got {first_delay} and {max_delay}")
        self.command = list(command)
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.name = name
        self.first_delay, self.max_delay, self.steady_seconds = first_delay, max_delay, steady_seconds
        self.stop_timeout = stop_timeout
        self.restarts = 0  # how many times the command was started again after it exited
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()  # guards _process against stop() while a new one starts
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def process(self) -> subprocess.Popen | None:
        """The process running now (or the last one, once it has exited)."""
        with self._lock:
            return self._process

    def start(self) -> Supervisor:
        """Start the command and the thread that restarts it; returns self."""
        if self._watcher is not None:
            raise RuntimeError("this supervisor has already been started")
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name=f"supervise {self.name}", daemon=True)
        self._watcher.start()
        return self

    def wait_for_start(self, after: subprocess.Popen | None, timeout: float) -> subprocess.Popen:
        """The first process started after `after`; TimeoutError if none starts within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (current := self.process) is None or current is after:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} was not started again within {timeout} s")
            time.sleep(0.05)
        return current

    def stop(self) -> None:
        """Stop restarting, then end the process: SIGTERM, and SIGKILL after `stop_timeout` seconds."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(self.stop_timeout)
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(self.stop_timeout)

    def __enter__(self) -> Supervisor:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _spawn(self) -> bool:
        """Start a new process unless stopping; whether it started."""
        with self._lock:
            if self._stopping.is_set():
                return False
            self.restarts += self._process is not None
            # Output to a file, not a pipe: a pipe nobody reads fills up and then blocks the process.
            with open(self.log_path, "ab") as output:
                self._process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=output,
                                                 stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
            return True

    def _watch(self) -> None:
        delay = self.first_delay
        while True:
            process = self.process
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            ran = time.monotonic() - started
            delay = self.first_delay if ran >= self.steady_seconds else delay
            log.warning("%s (pid %d) exited with code %s after %.0f s; starting it again in %.1f s",
                        self.name, process.pid, code, ran, delay)  # fmt: skip
            if self._stopping.wait(delay) or not self._spawn():
                return
            delay = min(2 * delay, self.max_delay)


def stop_on_signals() -> threading.Event:
    """An event set when this process gets SIGTERM or SIGINT (Ctrl-C), instead of being ended at once,
    so that whoever waits on it can stop its children and nginx cleanly. Call from the main thread."""
    stopped = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopped.set())
    return stopped


# ------------------------------------------------------------------------------------ cluster
def app_command(port: int) -> list[str]:
    """`streamlit run app.py` on 127.0.0.1:`port`, as the Dockerfile runs it (settings from .streamlit/)."""
    return [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
            "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none"]  # fmt: skip


@dataclass
class SupervisedApp:
    url: str
    supervisor: Supervisor  # `supervisor.process` is the process serving `url` now

    def log_tail(self, characters: int = 2000) -> str:
        return self.supervisor.log_path.read_text(errors="replace")[-characters:]


@dataclass
class Cluster:
    url: str  # nginx
    apps: list[SupervisedApp]
    access_log: Path  # nginx's: one line a request, ending with the app process that answered it


@contextmanager
def run_cluster(processes: int = 2, port: int | None = None, timeout: float = 90) -> Iterator[Cluster]:
    """Start the app processes, each under a `Supervisor`, and nginx; yield once nginx answers the
    app's health check. Everything stops when the block ends."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"nginx not found at {NGINX}: apt-get install -y nginx")
    port = port or free_port()
    with ExitStack() as stack:
        prefix = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        apps = []
        for index in range(processes):
            app_port = free_port()
            supervisor = Supervisor(app_command(app_port), log_path=prefix / f"app-{index}.log", env=ONE_BLAS_THREAD,
                                    cwd=ROOT, name=f"app process {index} (port {app_port})")  # fmt: skip
            stack.enter_context(supervisor)
            apps.append(SupervisedApp(f"http://127.0.0.1:{app_port}", supervisor))
        for app in apps:
            wait_until_healthy(app.url, app.supervisor.process, app.supervisor.name, app.log_tail, timeout)
        config = prefix / "nginx.conf"
        config.write_text(nginx_config(port, [int(app.url.rsplit(":", 1)[1]) for app in apps], prefix))
        nginx_log = stack.enter_context(open(prefix / "nginx.out", "wb"))
        nginx = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(config)], stdout=nginx_log, stderr=subprocess.STDOUT
        )
        stack.callback(stop, nginx)
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, nginx, "nginx", lambda: (prefix / "nginx.out").read_text()[-2000:], timeout)
        yield Cluster(url, apps, prefix / "access.log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stopped = stop_on_signals()
    route = loopback_route()
    if route is not None and not loopback_acks_at_once(route):
        print("Note: loopback delays its ACKs, so about one page update in ten waits 40 ms between an app "
              f"process and nginx (deploy/README.md). As root:\n  {QUICKACK_COMMAND}\n")  # fmt: skip
    with run_cluster(args.processes, args.port) as cluster:
        print(f"{len(cluster.apps)} app processes behind nginx at {cluster.url}; Ctrl-C or SIGTERM to stop")
        while not stopped.wait(1):
            pass
    print("Stopped: nginx and every app process have exited.")


if __name__ == "__main__":
    main()
