"""The deployment: the Dockerfile ships what the app imports, and several app processes behind nginx
keep each browser on its own process (sticky sessions) while spreading browsers over all of them."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
import websockets

from benchmarks import load_test
from deploy.cluster import NGINX, QUICKACK_COMMAND, loopback_acks_at_once, nginx_config, run_cluster

ROOT = Path(__file__).resolve().parent.parent
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


@needs_nginx
def test_nginx_accepts_the_configuration(tmp_path):
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config(8080, [9001, 9002], tmp_path))
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def fetch(url: str, cookie: str | None = None) -> tuple[str, str | None]:
    """(the upstream that answered, the sticky cookie nginx set)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
        set_cookie = answer.headers.get("Set-Cookie", "")
        match = re.search(r"lstm_backend=([^;]+)", set_cookie)
        return answer.headers["X-Upstream"], match.group(1) if match else None


async def gates_through(url: str, cookie: str, session: int) -> list[str]:
    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    headers = {"Cookie": cookie}
    async with websockets.connect(stream, subprotocols=["streamlit"], additional_headers=headers, max_size=None) as socket:
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
        first_upstream, cookie = fetch(cluster.url + "/")
        assert cookie, "nginx set no sticky cookie"
        for path in ("/", "/gates", "/_stcore/health", "/step?t=3"):
            assert fetch(cluster.url + path, f"lstm_backend={cookie}")[0] == first_upstream  # sticky
        seen = {fetch(cluster.url + "/")[0] for _ in range(24)}  # 24 new browsers
        assert seen == upstreams, seen  # both processes serve someone
        texts = load_test.run_in_own_loop(gates_through(cluster.url, f"lstm_backend={cookie}", session=7))
        assert load_test.check_isolation(7, texts, sessions=8) is None
