"""The search fixtures (a small indexed catalogue, generous throttles) and event helpers."""

import uuid

import pytest
from rest_framework.test import APIClient

from catalog.models import ProductImage
from catalog.sample_data import create_sample_product, generate_products
from search.index import sync as indexing
from tests.factories import merchant_with_owner
from tests.search.conftest import generous_throttles  # noqa: F401


@pytest.fixture
def catalogue(db, clip_settings):
    """Eight products of two merchants, indexed through the real services (tiny CLIP)."""
    merchant_a, _ = merchant_with_owner(name="Harbour")
    merchant_b, _ = merchant_with_owner(name="Maple")
    products = [
        create_sample_product(merchant_a if n % 2 else merchant_b, sample, images=1, image_size=64)
        for n, sample in enumerate(generate_products(8, seed=11))
    ]
    indexing.index_products([p.pk for p in products])
    indexing.index_images(list(ProductImage.objects.order_by("id").values_list("id", flat=True)))
    return products


@pytest.fixture
def events_unthrottled(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "analytics_events": "100000/min",
        },
    }


def event(kind: str, product_id: int, search_id: str | None = None, **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "product_id": product_id,
        "search_id": search_id,
        "visitor_id": "visitor-0001",
        **fields,
    }


def post_events(*events: dict, client: APIClient | None = None):
    return (client or APIClient()).post("/api/v1/events/", {"events": list(events)}, format="json")
