"""Opt-in OpenTelemetry tracing (config/tracing.py): off without an OTLP endpoint; with one,
a request's span carries the request id and reaches the collector over OTLP/HTTP."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from config import tracing
from tests.loopback import Answer, LoopbackServer

OTEL_MIDDLEWARE = (
    "opentelemetry.instrumentation.django.middleware.otel_middleware._DjangoMiddleware"
)


@pytest.fixture
def provider(settings):
    """Django and Celery instrumented for this test only, spans kept in memory."""
    provider = tracing.tracer_provider()
    provider.kept = InMemorySpanExporter()
    tracing.instrument(provider, exporter=provider.kept)
    yield provider
    tracing.uninstrument()


@pytest.fixture
def spans(provider):
    return provider.kept


def _server_spans(exporter):
    return [span for span in exporter.get_finished_spans() if span.kind == SpanKind.SERVER]


@pytest.mark.parametrize("sent", ["checkout-7f3a", None], ids=["from the header", "generated"])
def test_a_request_span_carries_the_request_id(spans, sent):
    # Given tracing on; when a request comes in, with or without X-Request-ID
    headers = {"HTTP_X_REQUEST_ID": sent} if sent else {}
    response = Client().get("/healthz", **headers)
    # Then its one server span carries the id the response (and the logs) carry
    [span] = _server_spans(spans)
    assert span.attributes[tracing.REQUEST_ID_ATTRIBUTE] == response["X-Request-ID"]
    assert response["X-Request-ID"] == (sent or response["X-Request-ID"])


def test_without_an_endpoint_nothing_is_traced(monkeypatch, settings):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    # When the process starts without an OTLP endpoint, Then no middleware is added
    assert tracing.start_tracing() is None
    assert OTEL_MIDDLEWARE not in django_settings.MIDDLEWARE


def test_an_endpoint_turns_tracing_on_and_spans_reach_the_collector(monkeypatch, settings):
    # Given a collector on loopback and its address in the standard variable
    with LoopbackServer() as collector:
        collector.answer("/v1/traces", Answer(status=200))
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url(""))
        monkeypatch.setenv("OTEL_SERVICE_NAME", "shop-web")
        provider = tracing.start_tracing()
        try:
            # When a request is served and the batch is flushed
            response = Client().get("/healthz", HTTP_X_REQUEST_ID="checkout-7f3a")
            assert provider.force_flush(timeout_millis=10_000)
        finally:
            tracing.uninstrument()
            provider.shutdown()
    # Then the collector got the span, with the service name and the request id
    [export] = [r for r in collector.received if r.path == "/v1/traces"]
    request = ExportTraceServiceRequest.FromString(export.body)
    [resource_spans] = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "shop-web"
    attributes = [
        {a.key: a.value.string_value for a in span.attributes}
        for scope in resource_spans.scope_spans
        for span in scope.spans
    ]
    assert [a.get(tracing.REQUEST_ID_ATTRIBUTE) for a in attributes] == [response["X-Request-ID"]]


@pytest.mark.django_db
def test_a_task_queued_inside_a_traced_request_is_its_child(provider):
    from workers.tasks import sweep_unindexed

    # Given a request's span; when it queues a task (inline here, as in make demo)
    with provider.get_tracer("test").start_as_current_span("request") as request_span:
        sweep_unindexed.delay()
    # Then the task's run is a span of the same trace, under the request's
    [run] = [span for span in provider.kept.get_finished_spans() if span.kind == SpanKind.CONSUMER]
    assert run.name == "run/workers.tasks.sweep_unindexed"
    assert run.parent.span_id == request_span.get_span_context().span_id
