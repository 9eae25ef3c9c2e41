"""The deployment: the Dockerfile ships what the app imports; several app processes behind nginx keep
each browser on its own process (sticky sessions) while spreading browsers over all of them; nginx
holds the app's limits and sends security headers; a supervisor starts again an app process that dies."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import websockets

from benchmarks import load_test
from deploy.cluster import NGINX, QUICKACK_COMMAND, Supervisor, loopback_acks_at_once, nginx_config, run_cluster
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
}
needs_nginx = pytest.mark.skipif(
    not Path(NGINX).exists() and os.environ.get("CI") != "true",
    reason="nginx is not installed (apt-get install -y nginx); .ci/run installs it",
)


def test_the_dockerfile_copies_everything_the_app_imports_and_checks_its_health():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = {source.rstrip("/") for source in re.findall(r"^COPY (\S+)", dockerfile, flags=re.MULTILINE)}
    for source in copied:
        assert (ROOT / source).exists(), source
    imported = set()
    for path in [ROOT / "app.py", *(ROOT / "views").glob("*.py"), *(ROOT / "ui").glob("*.py")]:
        imported |= set(re.findall(r"^\s*(?:from|import) (\w+)", path.read_text(), flags=re.MULTILINE))
    own_packages = {name for name in imported if (ROOT / name).is_dir()}
    assert own_packages <= copied, own_packages - copied
    assert {"views", "assets", "app.py", ".streamlit"} <= copied
    assert "download.pytorch.org/whl/cpu" in dockerfile  # never the multi-GB CUDA build
    assert re.search(r"HEALTHCHECK .*\n?.*_stcore/health", dockerfile)
    assert '"streamlit", "run", "app.py"' in dockerfile and "--server.address=0.0.0.0" in dockerfile


def test_the_cluster_tells_whether_loopback_acknowledges_at_once():
    """`ip route get 127.0.0.1` as Linux prints it without and with `quickack 1` on the route."""
    assert not loopback_acks_at_once("local 127.0.0.1 dev lo src 127.0.0.1 uid 0 \n    cache <local> \n")
    assert loopback_acks_at_once("local 127.0.0.1 dev lo src 127.0.0.1 uid 0 \n    cache <local> quickack 1 \n")
    assert not loopback_acks_at_once("local 127.0.0.1 dev lo src 127.0.0.1 uid 0 \n    cache <local> quickack 0 \n")
    assert not loopback_acks_at_once("")
    # the note's command changes the route that 127.0.0.1 takes (the host route, not 127.0.0.0/8)
    assert QUICKACK_COMMAND.startswith("ip route change local 127.0.0.1 ") and QUICKACK_COMMAND.endswith(" quickack 1")


def test_the_nginx_configuration_is_filled_in_completely(tmp_path):
    config = nginx_config(8080, [9001, 9002, 9003], tmp_path)
    assert "{{" not in config and "}}" not in config
    assert config.count("server 127.0.0.1:900") == 3 and "listen 127.0.0.1:8080" in config
    assert "hash $sticky_key consistent" in config and "Upgrade $http_upgrade" in config


def test_nginx_holds_the_apps_limits_sends_security_headers_and_names_no_upstream(tmp_path):
    config = nginx_config(8080, [9001, 9002], tmp_path)
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    body = re.search(r"^\s*client_max_body_size (\d+)m;", config, flags=re.MULTILINE)
    # The app's upload limit (MiB) plus the 1 MiB of multipart framing Streamlit allows on top of it
    assert body and int(body.group(1)) == settings["server"]["maxUploadSize"] + 1
    # a request line the app's HTTP parser (h11) takes, 16 KiB, passes nginx too
    assert re.search(r"^\s*large_client_header_buffers \d+ 16k;", config, flags=re.MULTILINE)
    for name, value in SECURITY_HEADERS.items():
        assert re.search(rf'^\s*add_header {name} "{re.escape(value)}" always;', config, flags=re.MULTILINE), name
    assert "x-upstream" not in config.lower() and "server_tokens off;" in config
    # the upstream address goes to the access log only
    assert "$upstream_addr" in config and re.search(r"^\s*access_log \S+ upstream;", config, flags=re.MULTILINE)


@needs_nginx
def test_nginx_accepts_the_configuration(tmp_path):
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config(8080, [9001, 9002], tmp_path))
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def fetch(cluster, path: str, cookie: str | None = None) -> tuple[str, str | None]:
    """(the app process that answered, as nginx's access log names it; the sticky cookie nginx set).
    Every response carries the security headers and never the upstream's address."""
    marker = uuid.uuid4().hex
    url = f"{cluster.url}{path}{'&' if '?' in path else '?'}probe={marker}"
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get_all(name) == [value], (name, answer.headers.get_all(name))
        assert not any("upstream" in name.lower() for name in answer.headers)
        set_cookie = answer.headers.get("Set-Cookie", "")
        match = re.search(r"lstm_backend=([^;]+)", set_cookie)

    def upstream() -> str | None:  # nginx writes the line as the request ends, maybe after the answer arrived
        lines = [line for line in cluster.access_log.read_text().splitlines() if f"probe={marker}" in line]
        return lines[0].rsplit(" ", 1)[1] if lines else None

    return wait_until(upstream, timeout=10, message=f"no access log line for {path}"), match.group(1) if match else None


async def gates_through(url: str, cookie: str, session: int) -> list[str]:
    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    headers = {"Cookie": cookie}
    async with websockets.connect(
        stream, subprotocols=["streamlit"], additional_headers=headers, max_size=None
    ) as socket:
        app = load_test.AppSession(socket)
        outcome = await app.rerun(f"text={quote(load_test.sentence(session, 0))}", "gates")
        assert outcome.finished and outcome.error is None, outcome.error
        outcome = await app.rerun(text=load_test.sentence(session, 1))
        assert outcome.finished and outcome.error is None, outcome.error
        return outcome.texts


@needs_nginx
def test_two_processes_behind_nginx_keep_each_browser_on_one_and_use_both():
    with run_cluster(processes=2) as cluster:
        upstreams = {app.url.removeprefix("http://") for app in cluster.apps}
        first_upstream, cookie = fetch(cluster, "/")
        assert cookie, "nginx set no sticky cookie"
        for path in ("/", "/gates", "/_stcore/health", "/step?t=3"):
            assert fetch(cluster, path, f"lstm_backend={cookie}")[0] == first_upstream  # sticky
        seen = {fetch(cluster, "/")[0] for _ in range(24)}  # 24 new browsers
        assert seen == upstreams, seen  # both processes serve someone
        texts = load_test.run_in_own_loop(gates_through(cluster.url, f"lstm_backend={cookie}", session=7))
        assert load_test.check_isolation(7, texts, sessions=8) is None


# ------------------------------------------------------------------------------- supervision
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def gone(pid: int) -> bool:
    """Whether no process `pid` is left (a zombie not yet reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_the_supervisor_starts_a_killed_process_again_and_stops_it(tmp_path):
    with Supervisor(SLEEPER, log_path=tmp_path / "log", first_delay=0.1, name="sleeper") as supervisor:
        first = supervisor.process
        first.kill()  # as the kernel's out-of-memory killer would
        second = supervisor.wait_for_start(after=first, timeout=10)
        assert second.pid != first.pid and second.poll() is None and supervisor.restarts == 1
        second.terminate()  # any way of dying counts
        third = supervisor.wait_for_start(after=second, timeout=10)
        assert third.poll() is None and supervisor.restarts == 2
    assert third.poll() is not None  # stopped with the supervisor, and not started again
    assert supervisor.process is third and supervisor.restarts == 2


def test_the_supervisor_waits_longer_each_time_a_process_dies_at_once(tmp_path):
    crashing = [sys.executable, "-c", "import sys; sys.exit(3)"]
    with Supervisor(crashing, log_path=tmp_path / "log", first_delay=0.1, max_delay=0.8, name="crashing") as supervisor:
        wait_until(lambda: supervisor.restarts >= 4, timeout=30)  # after delays of 0.1, 0.2, 0.4 and 0.8 s
        counted = supervisor.restarts
        time.sleep(2.0)
        assert supervisor.restarts - counted <= 3  # now one start every 0.8 s at most, not one every 0.1 s


def test_the_launcher_stops_its_processes_cleanly_on_sigterm(tmp_path):
    """What `python -m deploy.cluster` does on SIGTERM, with a sleeping child for the app."""
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from deploy.cluster import Supervisor, stop_on_signals

        stopped = stop_on_signals()
        with Supervisor({SLEEPER!r}, log_path=Path({str(tmp_path / "child.log")!r})) as supervisor:
            print(supervisor.process.pid, flush=True)
            while not stopped.wait(1):
                pass
        print("stopped", flush=True)
    """)
    launcher = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        child = int(launcher.stdout.readline())
        assert not gone(child)
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(20) == 0
        assert launcher.stdout.read().strip() == "stopped"
        wait_until(lambda: gone(child), timeout=10, message="the child outlived the launcher")
    finally:
        if launcher.poll() is None:
            launcher.kill()
