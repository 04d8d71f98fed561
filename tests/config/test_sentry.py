"""Opt-in Sentry: what it would send is scrubbed of shopper photos, request bodies and
credentials. No network: the SDK's transport is replaced by one that keeps the events."""

import io

import pytest
import sentry_sdk
from django.test import Client
from PIL import Image
from rest_framework.authtoken.models import Token
from sentry_sdk.transport import Transport

from config.sentry import FILTERED, init_sentry, scrub_event
from tests.factories import merchant_with_owner


class KeptEvents(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []

    def capture_envelope(self, envelope) -> None:
        event = envelope.get_event()
        if event is not None:
            self.events.append(event)


@pytest.fixture
def sentry():
    assert init_sentry(dsn="http://public@127.0.0.1:9/1", environment="test")
    kept = KeptEvents()
    sentry_sdk.get_client().transport = kept
    yield kept
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: off again


def photo_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.django_db
def test_an_error_during_a_photo_search_reaches_sentry_without_the_photo_or_token(
    sentry, monkeypatch
):
    # Given a search that fails after reading the shopper's photo
    def broken(content):
        raise RuntimeError("fingerprint broke")

    monkeypatch.setattr("search.api.search.image_fingerprint", broken)
    photo = photo_bytes()
    _, user = merchant_with_owner(name="Sentry Shop")
    token = Token.objects.create(user=user).key
    # When a signed-in app searches by photo with its token and a cookie
    response = Client(raise_request_exception=False).post(
        "/api/v1/search/?token=abc123&limit=5",
        {"image": io.BytesIO(photo), "text": "green"},
        HTTP_AUTHORIZATION=f"Token {token}",
        HTTP_COOKIE="sessionid=cookie-value",
    )
    # Then the error reached Sentry, scrubbed
    assert response.status_code == 500
    assert len(sentry.events) == 1
    event = sentry.events[0]
    sent = repr(event)
    assert "fingerprint broke" in sent
    assert token not in sent
    assert "cookie-value" not in sent
    assert "abc123" not in sent
    assert photo[:64].hex() not in sent and repr(photo[:32])[2:-1] not in sent
    assert all("vars" not in frame for frame in _frames(event))


def _frames(event: dict) -> list[dict]:
    return [
        frame
        for exception in event["exception"]["values"]
        for frame in (exception.get("stacktrace") or {}).get("frames", [])
    ]


def test_the_scrubber_drops_bodies_credentials_and_frame_variables():
    event = {
        "request": {
            "url": "https://shop.example/api/v1/search/",
            "method": "POST",
            "data": {"image": "<binary 48 KB>", "text": "red dress"},
            "query_string": "limit=5&api_key=k1&access_token=t1",
            "cookies": {"sessionid": "s1", "csrftoken": "c1"},
            "headers": {
                "Authorization": "Token t2",
                "Cookie": "sessionid=s1",
                "Content-Type": "multipart/form-data; boundary=x",
                "X-Request-ID": "req-1",
            },
            "env": {"REMOTE_ADDR": "10.0.0.1", "HTTP_AUTHORIZATION": "Token t3"},
        },
        "exception": {
            "values": [
                {"stacktrace": {"frames": [{"function": "f", "vars": {"content": "b'\\xff'"}}]}}
            ]
        },
        "breadcrumbs": {"values": [{"data": {"password": "p1", "url": "/x"}}]},
    }

    scrubbed = scrub_event(event, {})

    request = scrubbed["request"]
    assert request["data"] == FILTERED
    assert "cookies" not in request
    assert request["headers"]["Authorization"] == FILTERED
    assert request["headers"]["Cookie"] == FILTERED
    assert request["headers"]["X-Request-ID"] == "req-1"
    assert request["query_string"] == f"limit=5&api_key={FILTERED}&access_token={FILTERED}"
    assert request["env"]["HTTP_AUTHORIZATION"] == FILTERED
    assert "vars" not in scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert scrubbed["breadcrumbs"]["values"][0]["data"] == {"password": FILTERED, "url": "/x"}


def test_without_a_dsn_sentry_stays_off():
    assert init_sentry(dsn="", environment="test") is False
