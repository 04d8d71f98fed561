"""AI-written drafts of a product's copy, against the loopback chat server: a good answer is
returned (and not applied), a slow one is a 504, a malformed one a 502, no model a 503."""

import json

import pytest
from rest_framework.test import APIClient

from catalog import services
from catalog.sample_data import SWATCH_COLOURS, draw_product
from catalog.sample_data import generate_products as sample_products
from search.rerankers import cascade
from tests.factories import merchant_with_owner
from tests.search.chat_server import Answer, ChatServer, Delay, always

pytestmark = pytest.mark.django_db

GOOD = {
    "title": "Red leather jacket",
    "description": "A red jacket with a centre zip and long sleeves.",
    "attributes": {"colour": "red", "material": "leather", "sleeves": 2},
}


@pytest.fixture
def shop(settings, monkeypatch):
    monkeypatch.setattr(cascade, "_instances", {})
    merchant, owner = merchant_with_owner(name="Drafts")
    sample = sample_products(1, seed=3, colours=SWATCH_COLOURS)[0]
    product = services.product_create(
        merchant=merchant, sku="D-1", title="Item 1", price="10", category="jackets"
    )
    services.product_image_create(product=product, data=draw_product(sample, size=128))
    client = APIClient()
    client.force_authenticate(owner)
    return product, client


@pytest.fixture
def chat(settings):
    with ChatServer(always(Answer(json.dumps(GOOD)))) as server:
        settings.RERANK_API_BASE = server.base_url
        settings.RERANK_MODEL = "test-vlm"
        yield server


def draft_url(product) -> str:
    return f"/api/v1/merchant/products/{product.pk}/draft/"


def test_a_good_answer_is_a_draft_for_the_merchant_not_a_change(shop, chat):
    product, client = shop
    response = client.post(draft_url(product))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "title": GOOD["title"],
        "description": GOOD["description"],
        "attributes": {"colour": "red", "material": "leather", "sleeves": "2"},
        "model": "test-vlm",
    }
    (request,) = chat.requests
    assert len(request.images) == 1 and "jackets" in request.text
    product.refresh_from_db()
    assert (product.title, product.description) == ("Item 1", "")


@pytest.mark.parametrize(
    ("action", "status", "words"),
    [
        (Delay(3.0, Answer(json.dumps(GOOD))), 504, "in time"),
        (Answer("Sure! Here is a lovely jacket."), 502, "JSON"),
        (Answer(json.dumps({"description": "no title"})), 502, "title"),
    ],
    ids=["slow", "malformed", "no-title"],
)
def test_a_slow_or_malformed_answer_is_a_clear_error(shop, chat, settings, action, status, words):
    settings.ENRICHMENT_DRAFT_TIMEOUT_MS = 500
    chat.behaviour = always(action)
    product, client = shop
    response = client.post(draft_url(product))
    assert response.status_code == status
    assert words in response.json()["detail"]


def test_without_a_model_the_answer_names_the_settings(shop, settings):
    settings.RERANK_API_BASE = ""
    settings.RERANK_LOCAL_MODEL = ""
    product, client = shop
    response = client.post(draft_url(product))
    assert response.status_code == 503
    assert "RERANK_API_BASE" in response.json()["detail"]


def test_another_merchants_product_is_a_404(shop, chat):
    product, _ = shop
    client = APIClient()
    client.force_authenticate(merchant_with_owner(name="Else")[1])
    assert client.post(draft_url(product)).status_code == 404
