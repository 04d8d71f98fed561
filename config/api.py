"""API-wide error shape: every error is JSON with a `detail` string, never an HTML page.

That holds for Django's own refusals too (a disallowed Host, a body over the limits, too many
fields, a CSRF failure): on API paths they answer JSON with the same shape.
"""

import logging
from typing import Any

from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "A service this request needs is not answering; try again shortly."
    default_code = "service_unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class RequestRefused(exceptions.APIException):
    """One of Django's own refusals of a request (SuspiciousOperation), in the API's shape."""

    status_code = 400
    default_code = "bad_request"


def _from_django(exc: SuspiciousOperation) -> RequestRefused:
    refused = RequestRefused(_django_refusal(exc))
    if isinstance(exc, RequestDataTooBig):
        refused.status_code = 413
    return refused


def _django_refusal(exc: Exception) -> str:
    """Django's exception messages are for logs (setting names); say it for a client."""
    if isinstance(exc, RequestDataTooBig):
        return "The request body is larger than this server accepts."
    if isinstance(exc, TooManyFieldsSent):
        return "The request has more form fields than this server accepts."
    if isinstance(exc, TooManyFilesSent):
        return "The request has more files than this server accepts."
    if isinstance(exc, DisallowedHost):
        return "This host name is not served here."
    return "The request was refused as malformed."


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """Turn DRF's nested error dict into 'field: message' lines a person can read."""
    if isinstance(detail, dict):
        lines: list[str] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            # A list's first item is key 0: falsy, but a name all the same.
            lines += _flatten(value, f"{prefix}{name}." if name != "" else prefix)
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in _flatten(item, prefix)]
    field = prefix.rstrip(".")
    return [f"{field}: {detail}" if field else str(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, SuspiciousOperation):
        exc = _from_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    if isinstance(exc, exceptions.ValidationError):
        lines = _flatten(exc.detail)
        response.data = {"detail": "; ".join(lines), "errors": exc.detail}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    else:
        response.data = {"detail": "; ".join(_flatten(response.data))}
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """JSON for API clients, Django's page for people."""
    if _wants_json(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse({"detail": _django_refusal(exception)}, status=413)
        return JsonResponse({"detail": _django_refusal(exception)}, status=400)
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"detail": "You do not have permission to perform this action."}, status=403
        )
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side; it has been logged."}, status=500
        )
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a browser session posting to the API without its CSRF token."""
    if _wants_json(request):
        return JsonResponse(
            {"detail": f"CSRF check failed: {reason} Send the X-CSRFToken header."}, status=403
        )
    return django_csrf_failure(request, reason)
