"""A small sample catalogue indexed through the real path: services -> signals -> eager
Celery tasks -> tiny CLIP + bundled MiniLM -> embedded vector index."""

import pytest

from catalog.models import ProductImage
from catalog.sample_data import create_sample_product, generate_products
from search.index import sync as indexing
from tests.factories import merchant_with_owner


@pytest.fixture
def indexed_catalogue(db, clip_settings):
    """Built with the catalogue services, then indexed in bulk by the indexing services (the
    worker hop itself is covered in tests/workers)."""
    merchant_a, _ = merchant_with_owner(name="Harbour")
    merchant_b, _ = merchant_with_owner(name="Maple")
    products = []
    for number, sample in enumerate(generate_products(28, seed=11)):
        merchant = merchant_a if number % 2 else merchant_b
        product = create_sample_product(
            merchant, sample, images=2 if number % 3 == 0 else 1, image_size=96
        )
        products.append(product)
    indexing.index_products([p.pk for p in products])
    indexing.index_images(list(ProductImage.objects.order_by("id").values_list("id", flat=True)))
    return products


@pytest.fixture
def generous_throttles(settings):
    """For tests that send many searches: throttling has tests of its own."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            scope: "100000/min" for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        },
    }
