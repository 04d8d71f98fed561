"""Finding 1: a spoofed X-Forwarded-For switched the search throttles off."""

import pytest

from tests.hostile.conftest import assert_json_error, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_throttles(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "search_text_anon": "3/min",
            "search_photo_anon": "2/min",
        },
    }


def text_search(client, forwarded_for: str):
    # An empty query is refused (400) after the throttle has counted it: no model needed.
    return client.post("/api/v1/search/", {}, format="json", HTTP_X_FORWARDED_FOR=forwarded_for)


def photo_search(client, forwarded_for: str):
    return client.post(
        "/api/v1/search/",
        {"image": upload("photo.jpg", b"not really a photo")},
        format="multipart",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


@pytest.mark.parametrize("search", [text_search, photo_search], ids=["text", "photo"])
def test_rotating_forwarded_for_does_not_escape_the_throttle_without_proxies(
    client, tight_throttles, search
):
    # given no proxy in front (TRUSTED_PROXY_COUNT=0, the default)
    # when one client sends a new X-Forwarded-For with every request
    answers = [search(client, f"203.0.113.{i}, 10.0.0.1").status_code for i in range(6)]
    # then the socket's address is counted, and the limit holds
    assert answers[-1] == 429
    assert answers.count(429) >= 3


def test_behind_one_proxy_the_address_it_saw_is_the_client(client, tight_throttles, settings):
    # given one trusted proxy, which appends the address it received the connection from
    settings.TRUSTED_PROXY_COUNT = 1
    # when a client puts made-up addresses before the one the proxy appends
    answers = [text_search(client, f"203.0.113.{i}, 198.51.100.7").status_code for i in range(5)]
    # then it is throttled as 198.51.100.7, whatever it wrote itself
    assert answers[:3] == [400, 400, 400]
    response = text_search(client, "198.51.100.7")
    body = assert_json_error(response, 429)
    assert int(response["Retry-After"]) > 0
    assert body["detail"]
    # and another client behind the same proxy has its own allowance
    assert text_search(client, "192.0.2.55").status_code == 400
