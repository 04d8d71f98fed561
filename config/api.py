"""API-wide error shape: every error is JSON with a `detail` string, never an HTML page."""

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ServiceUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "A service this request needs is not answering; try again shortly."
    default_code = "service_unavailable"


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """Turn DRF's nested error dict into 'field: message' lines a person can read."""
    if isinstance(detail, dict):
        lines: list[str] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            lines += _flatten(value, f"{prefix}{name}." if name else prefix)
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
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        lines = _flatten(exc.detail)
        response.data = {"detail": "; ".join(lines), "errors": exc.detail}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    else:
        response.data = {"detail": "; ".join(_flatten(response.data))}
    return response


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def handler404(request, exception=None):
    """JSON for API clients, Django's page for people."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def handler500(request):
    from django.http import JsonResponse
    from django.views.defaults import server_error

    if _wants_json(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side; it has been logged."}, status=500
        )
    return server_error(request)
