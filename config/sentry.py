"""Opt-in error tracking with Sentry (SENTRY_DSN): web requests and Celery tasks.

Shopper photos are never stored or logged (DESIGN.md), and an error report is a log that
leaves the building, so what Sentry gets is scrubbed before it is sent: no request bodies at
all (a search photo, a merchant upload, a password in the token request), no credentials in
headers, cookies or query strings, and no local variables of stack frames (a frame holding the
photo's bytes or a decoded tensor). ``scrub_event`` is that filter; the SDK's own options say
the same where they can, so either one alone would keep the photo out.
"""

import re
from typing import Any, cast

FILTERED = "[Filtered]"
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-csrftoken",
        "x-api-key",
        "x-webhook-signature",
    }
)
_SENSITIVE_KEY = re.compile(r"pass|secret|token|key|auth|session|csrf|cookie|signature", re.I)


def init_sentry(
    *, dsn: str, environment: str, release: str = "", traces_sample_rate: float = 0.0
) -> bool:
    """Start the SDK when a DSN is set; returns whether it did."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        # The SDK types events as a TypedDict; the scrubber works on any mapping of one.
        before_send=cast(Any, scrub_event),
        before_send_transaction=cast(Any, scrub_event),
    )
    return True


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        _scrub_request(request)
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for breadcrumb in (event.get("breadcrumbs") or {}).get("values") or []:
        data = breadcrumb.get("data")
        if isinstance(data, dict):
            breadcrumb["data"] = _scrub_mapping(data)
    return event


def _scrub_request(request: dict[str, Any]) -> None:
    # Any body: a photo, an upload, a JSON body with a password. Its size stays, for context.
    if request.get("data") not in (None, "", {}):
        request["data"] = FILTERED
    request.pop("cookies", None)
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {
            name: (FILTERED if name.lower() in SENSITIVE_HEADERS else value)
            for name, value in headers.items()
        }
    query = request.get("query_string")
    if isinstance(query, str) and query:
        request["query_string"] = "&".join(_scrub_pair(pair) for pair in query.split("&") if pair)
    env = request.get("env")
    if isinstance(env, dict):
        request["env"] = _scrub_mapping(env)


def _scrub_pair(pair: str) -> str:
    name, _, _ = pair.partition("=")
    return f"{name}={FILTERED}" if _SENSITIVE_KEY.search(name) else pair


def _scrub_mapping(mapping: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (FILTERED if _SENSITIVE_KEY.search(str(key)) else value)
        for key, value in mapping.items()
    }
