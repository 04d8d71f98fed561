"""Opt-in OpenTelemetry tracing: with OTEL_EXPORTER_OTLP_ENDPOINT set, every process that
loads Django traces its web requests and Celery tasks and exports the spans over OTLP/HTTP;
unset, nothing is imported and nothing changes.

A request's span carries its request id (config/logs.py) as ``request.id``, the same id as the
JSON log lines and the ``X-Request-ID`` response header, so a trace and its logs find each
other. Tasks a request queues get the trace context in their message headers: a worker's task
span is a child of the request's span.

The standard OTEL_* variables apply (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER, ...). The packages are the `otel` extra,
which the lock files and the image hold.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

REQUEST_ID_ATTRIBUTE = "request.id"
DEFAULT_SERVICE_NAME = "visual-search"


def tracing_enabled() -> bool:
    # The exporter reads the same variable (spans go to its /v1/traces). Not its traces-only
    # twin: deployed empty beside this one, that would blank the exporter's address.
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip())


def start_tracing() -> TracerProvider | None:
    """Trace this process when an OTLP endpoint is set; returns the provider (None: off)."""
    if not tracing_enabled():
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as error:
        raise ImproperlyConfigured(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed "
            f"({error.name}): install the `otel` extra, pip install 'visual-search[otel]'"
        ) from None
    # Batched off the request path; the processor restarts its thread in forked children
    # (gunicorn and Celery prefork workers).
    provider = tracer_provider()
    instrument(provider, processor=BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def tracer_provider() -> TracerProvider:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    # From OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; without a name there, ours rather
    # than the SDK's "unknown_service".
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return TracerProvider(resource=resource)


def instrument(
    provider: TracerProvider, *, processor: Any = None, exporter: SpanExporter | None = None
) -> None:
    """Django (a middleware, first in MIDDLEWARE) and Celery (publish and run) spans, sent
    through `processor` (or straight to `exporter`: the tests' in-memory one)."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    if processor is None and exporter is not None:
        processor = SimpleSpanProcessor(exporter)
    if processor is not None:
        provider.add_span_processor(processor)
    DjangoInstrumentor().instrument(tracer_provider=provider, response_hook=_add_request_id)
    CeleryInstrumentor().instrument(tracer_provider=provider)


def uninstrument() -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    DjangoInstrumentor().uninstrument()
    CeleryInstrumentor().uninstrument()


def _add_request_id(span: Any, request: Any, response: Any) -> None:
    # A response hook, not a request hook: the request id middleware runs inside the tracing
    # one, so only on the way out has it set the id.
    request_id = getattr(request, "request_id", None)
    if request_id and span is not None and span.is_recording():
        span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
