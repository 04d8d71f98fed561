"""GET /metrics, the request middleware and the queue-depth collector.

These read this process's registry (single-process mode); the multiprocess mode, with real
gunicorn worker processes, is covered by test_gunicorn.py.
"""

from __future__ import annotations

import socket
import urllib.request
import uuid

import pytest
import redis
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from config import metrics

FAMILIES = {
    "visual_search_http_request_duration_seconds",
    "visual_search_search_stage_duration_seconds",
    "visual_search_searches",
    "visual_search_indexing_outcomes",
    "visual_search_model_load_duration_seconds",
    "visual_search_broker_up",
    "visual_search_embedding_queue_depth",
}


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def open_metrics(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = ""
    return settings


@pytest.fixture
def embedding_queue(settings):
    """A queue of our own on the test Redis, so that other tests' tasks do not count."""
    settings.EMBEDDING_QUEUE = f"test-embeddings-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield client, settings.EMBEDDING_QUEUE
    client.delete(*(settings.EMBEDDING_QUEUE + suffix for suffix in metrics._PRIORITY_SUFFIXES))
    client.close()


def test_metrics_are_served_in_the_prometheus_format(client, open_metrics):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert names >= FAMILIES


def test_fixed_label_sets_are_exported_before_the_first_event(client, open_metrics):
    samples = _samples(client.get("/metrics").content.decode())

    for stage in ("encode", "vector_search", "hydrate", "rerank"):
        assert ("visual_search_search_stage_duration_seconds_count", (("stage", stage),)) in samples
    for query_type in ("text", "photo", "hybrid", "similar"):
        assert ("visual_search_searches_total", (("query_type", query_type),)) in samples
    for outcome in ("indexed", "failed", "retried"):
        assert ("visual_search_indexing_outcomes_total", (("outcome", outcome),)) in samples


def test_openmetrics_is_served_when_asked_for(client, open_metrics):
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.decode().rstrip().endswith("# EOF")


def test_metrics_are_not_found_when_disabled(client, settings):
    settings.METRICS_ENABLED = False

    response = client.get("/metrics")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_token_is_required_when_one_is_set(client, settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = "s3cret-token"

    missing = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    basic = client.get("/metrics", HTTP_AUTHORIZATION="Basic czNjcmV0LXRva2Vu")
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")

    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 403
    assert basic.status_code == 403
    assert right.status_code == 200
    assert "visual_search_searches_total" in right.content.decode()


def test_only_get_is_allowed(client, open_metrics):
    assert client.post("/metrics").status_code == 405


def test_recorded_events_show_up_in_a_scrape(client, open_metrics):
    before = _samples(client.get("/metrics").content.decode())
    key = ("visual_search_searches_total", (("query_type", "hybrid"),))

    metrics.SEARCHES.labels(query_type="hybrid").inc()
    metrics.MODEL_LOAD_SECONDS.labels(model="test/model").observe(2.0)
    after = _samples(client.get("/metrics").content.decode())

    assert after[key] == before[key] + 1
    assert (
        after[("visual_search_model_load_duration_seconds_count", (("model", "test/model"),))] >= 1
    )


@pytest.fixture
def timed(settings):
    middleware = "config.metrics.PrometheusMiddleware"
    settings.MIDDLEWARE = [middleware, *(m for m in settings.MIDDLEWARE if m != middleware)]


def _latency_count(route: str, method: str, status: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "visual_search_http_request_duration_seconds_count",
            {"route": route, "method": method, "status": status},
        )
        or 0.0
    )


def test_middleware_labels_requests_by_route_name(client, timed):
    before = _latency_count("healthz", "GET", "200")

    client.get("/healthz")
    client.get("/healthz")

    assert _latency_count("healthz", "GET", "200") == before + 2


def test_middleware_puts_unknown_paths_and_methods_in_one_series_each(client, timed):
    unmatched = _latency_count("unmatched", "GET", "404")
    odd_method = _latency_count("healthz", "other", "200")

    client.get(f"/no-such-page-{uuid.uuid4().hex}/")
    client.get(f"/no-such-page-{uuid.uuid4().hex}/")
    client.generic("BREW", "/healthz")

    assert _latency_count("unmatched", "GET", "404") == unmatched + 2
    assert _latency_count("healthz", "other", "200") == odd_method + 1


def test_queue_depth_is_read_from_redis_at_scrape_time(client, open_metrics, embedding_queue):
    redis_client, queue = embedding_queue
    redis_client.rpush(queue, "a", "b", "c")
    redis_client.rpush(queue + "\x06\x163", "priority-3")  # kombu's list for priority 3

    samples = _samples(client.get("/metrics").content.decode())

    assert samples[("visual_search_broker_up", ())] == 1
    assert samples[("visual_search_embedding_queue_depth", (("queue", queue),))] == 4
    assert ("visual_search_embedding_queue_depth", (("queue", "default"),)) in samples


def test_a_scrape_answers_when_redis_is_down(client, open_metrics, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_free_port()}/0"

    response = client.get("/metrics")

    assert response.status_code == 200
    samples = _samples(response.content.decode())
    assert samples[("visual_search_broker_up", ())] == 0
    assert not [key for key in samples if key[0] == "visual_search_embedding_queue_depth"]


def test_worker_metrics_endpoint_serves_the_worker_counters():
    metrics.INDEXING_OUTCOMES.labels(outcome="indexed").inc(3)
    server, thread = metrics.start_worker_metrics_server(_free_port(), addr="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
            text = response.read().decode()
    finally:
        server.shutdown()
        thread.join(timeout=5)

    assert _samples(text)[("visual_search_indexing_outcomes_total", (("outcome", "indexed"),))] >= 3


def test_the_middleware_times_every_request_in_the_real_settings():
    from django.conf import settings

    # First, so that the time spent in the other middleware counts too.
    assert settings.MIDDLEWARE[0] == "config.metrics.PrometheusMiddleware"


def test_a_celery_worker_opens_its_metrics_port_at_start(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_WORKER_PORT = _free_port()
    try:
        metrics._on_worker_init()  # connect_celery_metrics() hooks it to worker_init
        url = f"http://127.0.0.1:{settings.METRICS_WORKER_PORT}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
            assert response.status == 200
            assert "visual_search_indexing_outcomes_total" in response.read().decode()
    finally:
        if metrics._worker_server is not None:
            server, thread = metrics._worker_server
            server.shutdown()
            thread.join(timeout=5)
            metrics._worker_server = None


def test_a_celery_worker_without_a_metrics_port_opens_none(settings):
    settings.METRICS_WORKER_PORT = 0

    metrics._on_worker_init()

    assert metrics._worker_server is None


def test_a_finished_pool_process_is_marked_dead(monkeypatch, tmp_path):
    # Live gauges of a dead process must stop counting; prometheus_client keeps them in
    # files named after the pid.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")
    (tmp_path / "counter_4242.db").write_bytes(b"")

    metrics._on_worker_process_shutdown(pid=4242, exitcode=0)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["counter_4242.db"]
