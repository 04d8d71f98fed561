import pytest

from catalog.sample_data import create_sample_product, generate_products
from merchandising import cache, facts
from search.index import sync as indexing
from tests.factories import merchant_with_owner
from tests.search.conftest import generous_throttles  # noqa: F401 - a fixture


@pytest.fixture(autouse=True)
def _fresh_rules(settings):
    # Every search checks the rules' version: a test's save applies to its next search.
    settings.MERCHANDISING_RULES_REFRESH_MS = 0
    cache.clear()
    facts.clear()
    yield
    cache.clear()
    facts.clear()


@pytest.fixture
def shop(db, clip_settings):
    """28 products of two merchants (Harbour: odd numbers, Maple: even), indexed for the word
    legs only: rules act on the fused ranking, whichever legs made it, and images would only
    make the fixture slower."""
    harbour, _ = merchant_with_owner(name="Harbour")
    maple, _ = merchant_with_owner(name="Maple")
    products = [
        create_sample_product(harbour if number % 2 else maple, sample, images=0)
        for number, sample in enumerate(generate_products(28, seed=11))
    ]
    indexing.index_products([p.pk for p in products])
    return products
