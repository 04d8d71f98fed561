"""LOG_FORMAT=json: one JSON object per line, each with the request id, in the web process and
in the Celery tasks a request caused (a real worker consuming from Redis)."""

import io
import json
import logging.config

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.test import Client

from config.celery import app as celery_app
from config.logs import logging_config
from tests.catalog.test_merchant_api import client_for
from tests.factories import ProductFactory, merchant_with_owner
from tests.loopback import Answer, LoopbackServer


@pytest.fixture
def json_logs(settings):
    """The project's LOGGING with LOG_FORMAT=json, its console handler writing into a buffer;
    the JSON lines written so far."""
    original = settings.LOGGING
    settings.LOGGING = logging_config(log_format="json", level="INFO", quiet_task_trace=True)
    logging.config.dictConfig(settings.LOGGING)
    buffer = io.StringIO()
    console = next(
        handler
        for handler in logging.getLogger().handlers
        if type(handler) is logging.StreamHandler
    )
    console.setStream(buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line]

    yield lines
    logging.config.dictConfig(original)


@pytest.mark.django_db
def test_web_log_lines_are_json_with_the_callers_request_id(json_logs):
    # Given a caller that sends its own request id
    # When its request is refused (Django logs the 401)
    response = Client().get("/api/v1/merchant/products/", HTTP_X_REQUEST_ID="mobile-42.7")
    # Then the response carries the id back, and the log line is JSON with it
    assert response.status_code == 401
    assert response["X-Request-ID"] == "mobile-42.7"
    line = next(line for line in json_logs() if line["logger"] == "django.request")
    assert line["request_id"] == "mobile-42.7"
    assert line["level"] == "WARNING"
    assert "Unauthorized" in line["message"]


@pytest.mark.parametrize(
    "sent", [None, "", "two words", "line\nbreak", "x" * 200, '"quoted"', "-leading-dash"]
)
@pytest.mark.django_db
def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(sent):
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    response = Client().get("/healthz", **headers)
    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 32


@pytest.fixture
def worker(settings):
    """A real worker thread on the default queue (the image-fetch task's)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = django_settings.CELERY_BROKER_URL
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()
    with start_worker(
        celery_app,
        pool="threads",
        concurrency=1,
        perform_ping_check=False,
        queues=["default"],
        shutdown_timeout=30,
    ) as running:
        yield running
    celery_app.conf.task_always_eager = True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_task_log_lines_carry_the_request_id_of_the_request_that_queued_them(
    worker, json_logs, settings
):
    # (the worker first: it sets up logging as it starts, and json_logs then takes it over)
    # Given a merchant whose image URL answers 404, and a worker
    settings.IMAGE_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    merchant, user = merchant_with_owner(name="Log Shop")
    product = ProductFactory(merchant=merchant)
    with LoopbackServer() as server:
        server.answer("/gone.jpg", Answer(status=404))
        # When a request with an id asks for the image by URL
        response = client_for(user).post(
            f"/api/v1/merchant/products/{product.pk}/image-fetches/",
            {"url": server.url("/gone.jpg")},
            format="json",
            HTTP_X_REQUEST_ID="feed-sync-7",
        )
        assert response.status_code == 202
        # Then the worker's line about that fetch is JSON with the same id
        wait_for_line = _wait(
            lambda: [
                line
                for line in json_logs()
                if line["logger"] == "workers.tasks" and "failed" in line["message"]
            ]
        )
    assert wait_for_line[0]["request_id"] == "feed-sync-7"


def _wait(condition, timeout=30.0):
    import time

    deadline = time.monotonic() + timeout
    seen: list = []
    while time.monotonic() < deadline:
        seen = condition()
        if seen:
            return seen
        time.sleep(0.1)
    raise AssertionError("no such log line in time")
