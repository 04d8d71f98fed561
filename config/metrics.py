"""Prometheus metrics: the shared metric objects, the request middleware and GET /metrics.

Other modules record through the objects defined here, for example::

    from config.metrics import INDEXING_OUTCOMES, SEARCH_STAGE_SECONDS, SEARCHES

    SEARCHES.labels(query_type="photo").inc()
    with SEARCH_STAGE_SECONDS.labels(stage="encode").time():
        ...
    INDEXING_OUTCOMES.labels(outcome="indexed").inc(len(batch))

Several processes serve one deployment (gunicorn workers, Celery pool children). When
PROMETHEUS_MULTIPROC_DIR is set (it must be set before the first import of
prometheus_client), each process writes its samples to files in that directory and a scrape
adds them up; deploy/gunicorn.conf.py wipes the directory at start and marks dead workers.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

NAMESPACE = "visual_search"

# Label values are fixed sets: anything else is a programming error, and an unbounded label
# (a raw path, a query string) would grow the series count without limit.
SEARCH_STAGES = ("decode", "encode", "vector_search", "hydrate", "rerank")
QUERY_TYPES = ("text", "photo", "hybrid", "similar")
INDEXING_RESULTS = ("indexed", "failed", "retried")
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time from the first middleware to the response, by URL route name, method and status.",
    ["route", "method", "status"],
    namespace=NAMESPACE,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SEARCH_STAGE_SECONDS = Histogram(
    "search_stage_duration_seconds",
    "Time spent in one stage of a search: encode, vector_search, hydrate or rerank.",
    ["stage"],
    namespace=NAMESPACE,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SEARCHES = Counter(
    "searches",
    "Searches answered, by query type: text, photo, hybrid or similar.",
    ["query_type"],
    namespace=NAMESPACE,
)
INDEXING_OUTCOMES = Counter(
    "indexing_outcomes",
    "Images through the indexing pipeline, by outcome: indexed, failed or retried.",
    ["outcome"],
    namespace=NAMESPACE,
)
INDEX_FAST_PATH_FAILURES = Counter(
    "index_fast_path_failures",
    "Index work that could not be enqueued after its commit (broker down); the outbox relay "
    "applies it later.",
    namespace=NAMESPACE,
)
MODEL_LOAD_SECONDS = Histogram(
    "model_load_duration_seconds",
    "Time to load a model into a process, by model name (hub id or local path).",
    ["model"],
    namespace=NAMESPACE,
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0),
)

# Encoder precision (search/encoding/precision.py), set when a model loads. Across processes:
# a mode counts when any process runs in it; the cosine shown is the lowest any process measured.
ENCODER_PRECISION_MODE = Gauge(
    "encoder_precision_mode",
    "1 for the precision an encoder tower runs in (fp32, bf16, int8), by tower (clip, text).",
    ["tower", "mode"],
    namespace=NAMESPACE,
    multiprocess_mode="max",
)
ENCODER_PRECISION_COSINE = Gauge(
    "encoder_precision_min_cosine",
    "Lowest cosine between the tower's vectors and fp32's on the calibration batch at load.",
    ["tower"],
    namespace=NAMESPACE,
    multiprocess_mode="min",
)

# Series with a fixed label set exist from the start at zero, so a dashboard or an alert on
# rate() sees the series before the first event instead of "no data".
for _stage in SEARCH_STAGES:
    SEARCH_STAGE_SECONDS.labels(stage=_stage)
for _query_type in QUERY_TYPES:
    SEARCHES.labels(query_type=_query_type)
for _outcome in INDEXING_RESULTS:
    INDEXING_OUTCOMES.labels(outcome=_outcome)


# --- Queue depth, read from the broker at scrape time.

# Celery's Redis transport keeps a queue as a list named after it, plus one list per priority
# step for messages sent with a priority (kombu's default steps 0, 3, 6, 9; separator \x06\x16).
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
_REDIS_TIMEOUT_SECONDS = 0.5


class QueueDepthCollector(Collector):
    """Reports how many tasks wait in the embedding and default queues.

    Read at scrape time so that every web process reports the same, current number, and
    tolerant of the broker being down: the scrape still answers, with broker_up 0.
    """

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}

    def _client(self, url: str) -> Any:
        client = self._clients.get(url)
        if client is None:
            import redis

            client = redis.Redis.from_url(
                url,
                socket_timeout=_REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
            )
            self._clients[url] = client
        return client

    def queues(self) -> list[str]:
        return list(dict.fromkeys([settings.EMBEDDING_QUEUE, "default"]))

    def collect(self) -> Iterable[Metric]:
        url = settings.CELERY_BROKER_URL or ""
        up = GaugeMetricFamily(
            f"{NAMESPACE}_broker_up",
            "1 when the last scrape could read the queue lengths from the Redis broker.",
        )
        depth = GaugeMetricFamily(
            f"{NAMESPACE}_embedding_queue_depth",
            "Tasks waiting in a Celery queue (the embedding queue and the default one).",
            labels=["queue"],
        )
        if not url.startswith(("redis://", "rediss://", "unix://")):
            # Another broker (or eager mode's memory://): no list to read.
            yield up
            return
        try:
            pipe = self._client(url).pipeline(transaction=False)
            for queue in self.queues():
                for suffix in _PRIORITY_SUFFIXES:
                    pipe.llen(queue + suffix)
            lengths = pipe.execute()
        except Exception as exc:  # noqa: BLE001 - a scrape must answer whatever the broker does
            logger.warning("metrics: cannot read queue lengths from the broker: %s", exc)
            self._clients.pop(url, None)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        step = len(_PRIORITY_SUFFIXES)
        for index, queue in enumerate(self.queues()):
            depth.add_metric([queue], sum(lengths[index * step : (index + 1) * step]))
        yield up
        yield depth


QUEUE_DEPTH = QueueDepthCollector()
REGISTRY.register(QUEUE_DEPTH)
# Collectors that read a current figure at scrape time (not per-process samples): the same
# in every process, so they join the multi-process registry as they are.
_SCRAPE_TIME_COLLECTORS: list[Collector] = [QUEUE_DEPTH]


def register_scrape_time_collector(collector: Collector) -> None:
    """Another app's gauge read at scrape time (the search app's outbox depth, say)."""
    if collector not in _SCRAPE_TIME_COLLECTORS:
        _SCRAPE_TIME_COLLECTORS.append(collector)
        REGISTRY.register(collector)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def collection_registry() -> CollectorRegistry:
    """The registry a scrape reads: this process's, or the sum over every process."""
    if not multiprocess_dir():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in _SCRAPE_TIME_COLLECTORS:
        registry.register(collector)
    return registry


# --- Request latency.


def _route_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        # No URL matched (a 404, or a middleware answered first): one series for all of them.
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class PrometheusMiddleware:
    """Times every request, labelled by the resolved route name rather than the raw path.

    Goes first in MIDDLEWARE so that the time spent in the other middleware counts too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in HTTP_METHODS else "other"
        REQUEST_SECONDS.labels(
            route=_route_name(request), method=method, status=str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response


# --- GET /metrics.


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        return JsonResponse({"detail": "Not found."}, status=404)
    token = settings.METRICS_TOKEN
    if not token and settings.PRODUCTION:
        # The project.E001 check stops such a deployment at migrate; this holds if it ran anyway.
        return JsonResponse(
            {"detail": "Metrics need METRICS_TOKEN in production; none is set."}, status=403
        )
    if token:
        header = request.headers.get("Authorization", "")
        if not header:
            response = JsonResponse(
                {"detail": "Authentication credentials were not provided."}, status=401
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        if not hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
            return JsonResponse({"detail": "Invalid metrics token."}, status=403)
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(collection_registry()), content_type=content_type)


# --- Celery workers: their own small HTTP endpoint, since they serve no Django views.


def start_worker_metrics_server(port: int, addr: str = "0.0.0.0") -> tuple[Any, Any]:  # noqa: S104
    """Serve this worker's metrics (summed over its pool processes) on addr:port; returns the
    server and its daemon thread."""
    from prometheus_client import start_http_server

    server, thread = start_http_server(port, addr=addr, registry=collection_registry())
    logger.info("worker metrics on %s:%s", addr, port)
    return server, thread


_worker_server: tuple[Any, Any] | None = None


def _on_worker_init(**kwargs: object) -> None:
    """In the worker's main process, before the pool forks: one endpoint per worker."""
    global _worker_server
    port = getattr(settings, "METRICS_WORKER_PORT", 0)
    if port and settings.METRICS_ENABLED and _worker_server is None:
        _worker_server = start_worker_metrics_server(port)


def _on_worker_process_shutdown(pid: int | None = None, **kwargs: object) -> None:
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid or os.getpid())


def connect_celery_metrics() -> None:
    """Hook the worker metrics endpoint and the multiprocess clean-up into Celery's signals."""
    from celery import signals

    signals.worker_init.connect(_on_worker_init, weak=False)
    signals.worker_process_shutdown.connect(_on_worker_process_shutdown, weak=False)
