"""The web role for real: gunicorn with deploy/gunicorn.conf.py, two worker processes.

Started both directly and through deploy/entrypoint.sh, on a free loopback port, with the
Prometheus multiprocess mode on, so a scrape must add up what both workers counted.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.manifests import ENTRYPOINT, ROOT

BIN = Path(sys.executable).parent
START_TIMEOUT = 90
REQUESTS = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str, str]:
    # A new connection each time, so that the kernel spreads requests over both workers.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        connection.close()


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log: Path, metrics_dir: Path):
        self.process, self.port, self.log, self.metrics_dir = process, port, log, metrics_dir

    def output(self) -> str:
        return self.log.read_text()[-4000:]


@pytest.fixture(scope="module", params=["gunicorn", "entrypoint"])
def server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"web-{request.param}")
    metrics_dir = tmp / "prometheus"
    metrics_dir.mkdir()
    # A file left by a previous run's worker: the server must clear it at start, or a scrape
    # would add it in (and here, being garbage, fail).
    (metrics_dir / "counter_999999.db").write_bytes(b"left over from an earlier run")
    port = _free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "DJANGO_ENV": "development",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_ENABLED": "true",
        "METRICS_TOKEN": "",
        "MIGRATE_ON_START": "false",
        "HF_HUB_OFFLINE": "1",
    }
    if request.param == "gunicorn":
        command = [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "config.wsgi"]
    else:
        command = [str(ENTRYPOINT), "web"]
    log = tmp / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    running = Server(process, port, log, metrics_dir)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, f"the server exited:\n{running.output()}"
            assert time.monotonic() < deadline, (
                f"no answer after {START_TIMEOUT}s:\n{running.output()}"
            )
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _worker_pids(server: Server) -> set[int]:
    found = set()
    for line in server.output().splitlines():
        if "Booting worker with pid:" in line:
            found.add(int(line.rsplit(":", 1)[1]))
    return found


def test_two_workers_serve_the_health_check(server):
    status, content_type, body = _get(server.port, "/healthz")

    assert status == 200
    assert content_type == "application/json"
    assert body == '{"status": "ok"}'
    assert len(_worker_pids(server)) == 2


def test_stale_metric_files_are_cleared_at_start(server):
    assert not (server.metrics_dir / "counter_999999.db").exists()


def test_metrics_are_served_with_the_platform_families(server):
    status, content_type, body = _get(server.port, "/metrics")

    assert status == 200
    assert content_type.startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(body)}
    assert {
        "visual_search_searches",
        "visual_search_search_stage_duration_seconds",
        "visual_search_indexing_outcomes",
        "visual_search_broker_up",
    } <= names


def test_a_scrape_adds_up_the_requests_of_both_workers(server):
    # Needs config.metrics.PrometheusMiddleware in settings.MIDDLEWARE.
    def healthz_count() -> float:
        body = _get(server.port, "/metrics")[2]
        return sum(
            sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
            if sample.name == "visual_search_http_request_duration_seconds_count"
            and sample.labels == {"route": "healthz", "method": "GET", "status": "200"}
        )

    before = healthz_count()
    for _ in range(REQUESTS):
        assert _get(server.port, "/healthz")[0] == 200

    assert healthz_count() == before + REQUESTS


def test_the_server_stops_on_sigterm(server):
    server.process.send_signal(signal.SIGTERM)

    assert server.process.wait(timeout=30) == 0
    with pytest.raises(OSError):
        _get(server.port, "/healthz")


def test_web_workers_run_torch_on_the_gunicorn_thread_count(monkeypatch):
    import runpy

    # Given the shared config's TORCH_THREADS=0 (torch's choice, for the embedding workers)
    monkeypatch.setenv("TORCH_THREADS", "0")
    monkeypatch.delenv("GUNICORN_TORCH_THREADS", raising=False)

    # When gunicorn reads its config, web workers get one torch thread per search
    runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert os.environ["TORCH_THREADS"] == "1"

    # And GUNICORN_TORCH_THREADS sets another count
    monkeypatch.setenv("GUNICORN_TORCH_THREADS", "3")
    runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert os.environ["TORCH_THREADS"] == "3"
