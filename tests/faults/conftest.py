"""Real processes for fault injection: a private Redis, Celery workers (with beat) started with
subprocess, the Qdrant backend in local mode for the workers, PostgreSQL as in production.

The test process plays the web server (merchant writes through the API, tasks enqueued to the
private Redis after commit) and never opens the vector store while a worker runs: qdrant-client's
local mode belongs to one process at a time, so the index is checked after the workers stop.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Q

from catalog.models import ProductImage
from config.celery import app as celery_app
from search.models import IndexChange

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 4
RELAY_SECONDS = 1


def use_broker(url: str, *, eager: bool) -> None:
    """Point this process's Celery app at a broker, dropping pooled connections to the last."""
    from kombu import pools

    from workers.receivers import FAST_PATH

    celery_app.conf.task_always_eager = eager
    celery_app.conf.broker_url = url
    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()
    FAST_PATH.reset()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own, on a free loopback port, that tests stop and start."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class Workers:
    """Celery workers (embedding and default queues, beat embedded) as separate processes."""

    env: dict[str, str]
    log_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, **overrides: str) -> subprocess.Popen:
        number = len(self.processes)
        log_path = self.log_dir / f"worker-{number}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-B",
                    "--schedule",
                    str(self.log_dir / f"beat-{number}"),
                    "-Q",
                    f"default,{self.env['EMBEDDING_QUEUE']}",
                    "--pool",
                    "solo",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"fault{number}@%h",
                ],
                cwd=ROOT,
                env={**self.env, **overrides},
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: `-B` forks a beat process, which a kill must take too.
                start_new_session=True,
            )
        self.processes.append(process)
        self.logs.append(log_path)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL to the worker and its beat: no clean-up, claims left behind."""
        self._signal(process, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, process: subprocess.Popen) -> None:
        self._signal(process, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._signal(process, signal.SIGKILL)
            process.wait()
        self._signal(process, signal.SIGKILL)  # whatever of its group is left (beat)

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)

    @staticmethod
    def _signal(process: subprocess.Popen, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, number)

    def tail(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-chars:]}" for path in self.logs)


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fault_env(clip_settings, settings, tmp_path, redis_server):
    """Settings for this process (the web side) and the workers: one database, one Redis,
    one vector store (local mode, owned by the worker), short leases and back-offs."""
    original_broker = settings.CELERY_BROKER_URL
    settings.VECTOR_BACKEND = "qdrant"
    settings.QDRANT_URL = ""
    settings.QDRANT_PATH = str(tmp_path / "qdrant")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_server.url
    use_broker(redis_server.url, eager=False)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_server.url,
        "CELERY_BROKER_URL": redis_server.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMBEDDING_QUEUE": settings.EMBEDDING_QUEUE,
        "VECTOR_BACKEND": "qdrant",
        "QDRANT_PATH": settings.QDRANT_PATH,
        "QDRANT_URL": "",
        "CLIP_MODEL": settings.CLIP_MODEL,
        "CLIP_MODEL_REVISION": "",
        "CLIP_PRECISION": settings.CLIP_PRECISION,  # the test process's (fp32)
        "TEXT_PRECISION": settings.TEXT_PRECISION,
        "EMBED_BATCH_SIZE": "4",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "HF_HUB_OFFLINE": "1",
        "LOG_LEVEL": "INFO",
        "INDEX_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "INDEX_RELAY_INTERVAL_SECONDS": str(RELAY_SECONDS),
        "INDEX_OUTBOX_MAX_BACKOFF_SECONDS": "2",
        "METRICS_ENABLED": "false",
        # Colours and near-duplicates follow an image's index work as a separate task that
        # writes the product again; the scenarios here are about the index work itself, and
        # "converged" (outbox empty, nothing pending) would not wait for that second write.
        "ENRICHMENT_ENABLED": "false",
    }
    yield env
    use_broker(original_broker, eager=True)


@pytest.fixture
def workers(fault_env, tmp_path):
    pool = Workers(env=fault_env, log_dir=tmp_path)
    yield pool
    pool.stop_all()
    print(pool.tail())


def outstanding() -> int:
    """Index work not yet applied: outbox rows and images still pending."""
    return (
        IndexChange.objects.count()
        + ProductImage.objects.filter(Q(status=ProductImage.Status.PENDING)).count()
    )


def wait_until_converged(workers: Workers, timeout: float = 120.0) -> float:
    """Seconds until the outbox is empty and no image is pending."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if outstanding() == 0:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(
        f"not converged in {timeout:.0f} s: {list(IndexChange.objects.values_list('kind', 'entity_id', 'attempts', 'last_error'))}\n"
        + workers.tail()
    )
