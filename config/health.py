"""Liveness and readiness probes. Readiness checks every dependency a request may need."""

import logging
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)

# Other apps add their checks at start-up (search adds the vector store, workers add Redis),
# so config does not import them.
READINESS_CHECKS: dict[str, Callable[[], None]] = {}


def register_readiness_check(name: str, check: Callable[[], None]) -> None:
    READINESS_CHECKS[name] = check


# Facts a probe's reader wants beside ok/unavailable (search adds the encoders' precision).
READINESS_DETAILS: dict[str, Callable[[], Any]] = {}


def register_readiness_detail(name: str, detail: Callable[[], Any]) -> None:
    READINESS_DETAILS[name] = detail


def _details() -> dict[str, Any]:
    details: dict[str, Any] = {}
    for name, detail in READINESS_DETAILS.items():
        try:
            details[name] = detail()
        except Exception as exc:  # noqa: BLE001 - a detail never fails the probe
            logger.warning("readiness detail %s failed: %s", name, exc)
    return details


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


register_readiness_check("database", _check_database)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    failures: dict[str, str] = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - a probe reports every failure, whatever its kind
            logger.warning("readiness check %s failed: %s", name, exc)
            failures[name] = f"{type(exc).__name__}: {exc}"[:300]
    if failures:
        return JsonResponse(
            {"status": "unavailable", "failures": failures, "details": _details()}, status=503
        )
    return JsonResponse({"status": "ok", "checks": sorted(READINESS_CHECKS), "details": _details()})
