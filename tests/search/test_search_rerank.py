"""Re-ranking through the search API, against a chat-completions server on loopback."""

import io
import time

import pytest
from PIL import Image
from rest_framework.test import APIClient

from catalog import services
from catalog.models import ProductImage
from search.index import sync as indexing
from tests.factories import merchant_with_owner
from tests.search.chat_server import (
    PALETTE,
    Answer,
    ChatServer,
    Delay,
    Drop,
    Status,
    always,
    score_by_colour,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generous_throttles")]


def solid_png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), PALETTE[colour]).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def colour_shop(clip_settings):
    merchant, _ = merchant_with_owner(name="Colours")
    products = {}
    for colour in ("red", "green", "blue", "yellow", "black", "white"):
        product = services.product_create(
            merchant=merchant, sku=colour, title=f"{colour} thing", price="10"
        )
        services.product_image_create(product=product, data=solid_png(colour))
        products[product.pk] = colour
    indexing.index_images(list(ProductImage.objects.values_list("id", flat=True)))
    return products


@pytest.fixture
def chat():
    with ChatServer() as server:
        yield server


@pytest.fixture
def rerank_settings(settings, chat):
    settings.RERANK_ENABLED = True
    settings.RERANK_API_BASE = chat.base_url
    settings.RERANK_MODEL = "test-vlm"
    settings.RERANK_TIMEOUT_MS = 800
    return settings


def search(rerank: bool):
    body = {
        "text": "a thing",
        "limit": 6,
        "rerank": rerank,
        "weights": {"image": 1, "text": 0, "keywords": 0},
    }
    response = APIClient().post("/api/v1/search/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def colours(body, products):
    return [products[row["product_id"]] for row in body["results"]]


def test_good_answers_reorder_the_top_results(colour_shop, rerank_settings, chat):
    chat.behaviour = score_by_colour(
        {"blue": 10, "yellow": 8, "red": 1, "green": 1, "black": 0, "white": 0}
    )
    body = search(rerank=True)
    assert body["reranked"] is True
    assert body["rerank_model"] == "test-vlm"
    assert colours(body, colour_shop)[:2] == ["blue", "yellow"]
    assert all(row["reranked_by"] == "test-vlm" for row in body["results"])
    assert "rerank" in body["stages"]


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (always(Answer("no json here, sorry")), "invalid reply"),
        (always(Status(500)), "HTTP 500"),
        (always(Drop()), "connection"),
        (always(Delay(5, Answer('{"score": 9}'))), "timeout"),
    ],
    ids=["malformed", "http-500", "dropped", "too-slow"],
)
def test_failures_keep_the_vector_order_and_say_why(
    colour_shop, rerank_settings, chat, behaviour, reason
):
    vector_order = colours(search(rerank=False), colour_shop)
    chat.behaviour = behaviour
    started = time.monotonic()
    body = search(rerank=True)
    elapsed = time.monotonic() - started
    assert body["reranked"] is False
    assert reason in body["rerank_reason"]
    assert colours(body, colour_shop) == vector_order
    assert all(row["reranked_by"] is None for row in body["results"])
    assert elapsed < 5  # the slow endpoint did not hold the search for its 5 s


def test_rerank_switched_off_in_settings_says_so(colour_shop, settings):
    settings.RERANK_ENABLED = False
    body = search(rerank=True)
    assert body["reranked"] is False
    assert "RERANK_ENABLED" in body["rerank_reason"]
