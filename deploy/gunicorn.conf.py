"""Gunicorn settings for the web role, every knob from an environment variable.

    gunicorn -c deploy/gunicorn.conf.py config.wsgi

The app is not preloaded: each worker imports Django and loads the CLIP model lazily on its
first search, so a worker that is recycled (max_requests) or killed takes only its own memory
with it, and the master stays small.
"""

import glob
import os


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.strip() else default


bind = [
    address.strip()
    for address in os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").split(",")
    if address.strip()
]
workers = _int(os.environ.get("GUNICORN_WORKERS"), 2)
# Threads > 1 selects the gthread worker: a search waits on Qdrant and PostgreSQL, and the
# model's forward pass releases the GIL, so a few threads per process use the CPU well.
threads = _int(os.environ.get("GUNICORN_THREADS"), 4)
timeout = _int(os.environ.get("GUNICORN_TIMEOUT"), 60)
graceful_timeout = _int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT"), 30)
keepalive = _int(os.environ.get("GUNICORN_KEEPALIVE"), 5)
# Recycle workers now and then so that slow leaks (PyTorch allocator, caches) stay bounded;
# the jitter keeps them from all restarting at once.
max_requests = _int(os.environ.get("GUNICORN_MAX_REQUESTS"), 2000)
max_requests_jitter = _int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER"), 200)
preload_app = False

# A web process answers one query per gunicorn thread: torch's intra-op threads on top of
# those oversubscribe the cores, and on a small host a text search then swings from 20 ms to
# a second (bench/search.md). So web workers run torch on GUNICORN_TORCH_THREADS threads
# (default 1), whatever TORCH_THREADS says for the embedding workers that share the config.
os.environ["TORCH_THREADS"] = str(_int(os.environ.get("GUNICORN_TORCH_THREADS"), 1))

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Path without the query string: shoppers' search words stay out of the logs.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

# Which proxies may set X-Forwarded-Proto and friends for gunicorn itself.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The heartbeat file lives in memory: on a container's overlay filesystem a slow disk can make
# the master think a busy worker hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# No runtime control socket: nothing here uses gunicornc, and the image's filesystem is
# read-only in Kubernetes.
control_socket_disable = True


def post_worker_init(worker) -> None:  # type: ignore[no-untyped-def]
    """Load the search models in the background as a worker starts, so that its first
    searches do not wait for them (GUNICORN_WARM_MODELS=false leaves them to the first
    search). A thread, not the hook itself: a model download must not hold up the worker's
    heartbeat past GUNICORN_TIMEOUT."""
    if os.environ.get("GUNICORN_WARM_MODELS", "true").strip().lower() in (
        "0",
        "false",
        "no",
        "off",
    ):
        return
    import threading

    from search.encoding.warmup import warm_models

    threading.Thread(target=warm_models, name="warm-models", daemon=True).start()


def _multiproc_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def on_starting(server) -> None:  # type: ignore[no-untyped-def]
    """Start each run with an empty metrics directory: files of a previous run's workers
    would otherwise be added to this run's counters."""
    path = _multiproc_dir()
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)


def child_exit(server, worker) -> None:  # type: ignore[no-untyped-def]
    """A worker's gauges die with it; its counters and histograms keep counting."""
    if not _multiproc_dir():
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
