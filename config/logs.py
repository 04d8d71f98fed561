"""Log lines that tie together: a request id on every line a request causes, in the web process
and in the Celery tasks it enqueued, and one JSON object per line when LOG_FORMAT=json.

The id comes from the caller's X-Request-ID (a load balancer's or a mobile app's, when it is a
sane token) or is made here; the response carries it back. It travels to tasks in a message
header (``request_id``) set at publish time and is put back in the task's context before it
runs, so a worker's lines carry the id of the request that caused them.
"""

import logging
import re
import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # settings import this module: keep Django's request machinery out of it
    from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
# Letters, digits and a few separators, as load balancers and tracing headers use; anything
# else (spaces, newlines, quotes, 200 characters) could forge or break log lines: replaced.
_ACCEPTED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def accepted_request_id(value: str | None) -> str:
    """The caller's id when it is a sane token, else a new one."""
    if value and _ACCEPTED.match(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: "HttpRequest") -> "HttpResponse":
        request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
        # Also on the request: Django logs a 4xx/5xx response after the middleware returned.
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record (``-`` outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request = getattr(record, "request", None)
            record.request_id = request_id_var.get() or getattr(request, "request_id", None) or "-"
        return True


JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        JSON_FIELDS,
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    )


def logging_config(*, log_format: str, level: str, quiet_task_trace: bool) -> dict[str, Any]:
    """Django's LOGGING: one console handler, plain text or JSON lines, with the request id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": json_formatter},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "plain",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Tasks run inline (make demo): a "Task ... succeeded" line per upload is noise there.
            **({"celery.app.trace": {"level": "WARNING"}} if quiet_task_trace else {}),
        },
    }


# --- Celery: the id goes with the task message and comes back in the worker ---------------------


def connect_celery() -> None:
    from celery import signals

    signals.before_task_publish.connect(_add_header, weak=False)
    signals.task_prerun.connect(_enter_task, weak=False)
    signals.task_postrun.connect(_leave_task, weak=False)


def _add_header(headers: dict | None = None, **kwargs: Any) -> None:
    request_id = request_id_var.get()
    if headers is not None and request_id and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


_TASK_TOKENS: dict[str, Any] = {}


def _enter_task(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    request = getattr(task, "request", None)
    # A worker merges message headers into the request; apply() (eager) keeps them apart.
    request_id = getattr(request, TASK_HEADER, None) or (
        (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    )
    if request_id and task_id:
        _TASK_TOKENS[task_id] = request_id_var.set(accepted_request_id(str(request_id)))


def _leave_task(task_id: str | None = None, **kwargs: Any) -> None:
    token = _TASK_TOKENS.pop(task_id or "", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (a thread pool); just clear it
            request_id_var.set(None)
