"""Several app processes behind nginx with sticky sessions, on one machine.

    python -m deploy.cluster --processes 2 --port 8080     # then open http://127.0.0.1:8080

Starts `--processes` copies of `streamlit run app.py` on free loopback ports and nginx in front of
them on `--port`, with the configuration in deploy/nginx.conf.template, until Ctrl-C. Each browser
gets a cookie on its first request and keeps talking to the same process (its session, uploads and
trained models live there). Needs nginx (`apt-get install -y nginx`). deploy/README.md says when to
use it, and why it prints a note when the loopback route lacks `quickack 1`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.app_server import ONE_BLAS_THREAD, AppServer, free_port, serve_app, stop, wait_until_healthy

__all__ = ["Cluster", "nginx_config", "run_cluster", "loopback_acks_at_once", "QUICKACK_COMMAND", "NGINX"]

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


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


@dataclass
class Cluster:
    url: str  # nginx
    apps: list[AppServer]


@contextmanager
def run_cluster(processes: int = 2, port: int | None = None, timeout: float = 90) -> Iterator[Cluster]:
    """Start the app processes and nginx; yield once nginx answers the app's health check."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"nginx not found at {NGINX}: apt-get install -y nginx")
    port = port or free_port()
    with ExitStack() as stack:
        apps = [stack.enter_context(serve_app(env=ONE_BLAS_THREAD)) for _ in range(processes)]
        prefix = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        config = prefix / "nginx.conf"
        config.write_text(nginx_config(port, [int(app.url.rsplit(":", 1)[1]) for app in apps], prefix))
        log = open(prefix / "nginx.out", "wb")  # noqa: SIM115 - closed by the stack
        stack.callback(log.close)
        nginx = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
        stack.callback(stop, nginx)
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, nginx, "nginx", lambda: (prefix / "nginx.out").read_text()[-2000:], timeout)
        yield Cluster(url, apps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    route = loopback_route()
    if route is not None and not loopback_acks_at_once(route):
        print("Note: loopback delays its ACKs, so about one page update in ten waits 40 ms between an app "
              f"process and nginx (deploy/README.md). As root:\n  {QUICKACK_COMMAND}\n")  # fmt: skip
    with run_cluster(args.processes, args.port) as cluster:
        print(f"{len(cluster.apps)} app processes behind nginx at {cluster.url}; Ctrl-C to stop")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
