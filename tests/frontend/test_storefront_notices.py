"""The storefront passes on what the API notices: here, a server whose CLIP model is missing,
so text search runs on the product-text and keyword legs alone and says so."""

import pytest
from django.test.utils import override_settings
from playwright.sync_api import expect

from catalog import services
from catalog.sample_data import generate_products
from search.encoding.registry import reset_encoders
from tests.factories import merchant_with_owner

# django_db: the tests read rows the module fixtures committed (and it makes pytest-django
# create the test database); each test's own transaction is rolled back, the module's rows
# are flushed by module_env.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def text_only_shop(module_env):
    """Products without images, on a server where CLIP cannot load."""
    with override_settings(CLIP_MODEL=str(module_env / "no-such-model"), CLIP_MODEL_REVISION=""):
        reset_encoders()
        merchant, _ = merchant_with_owner(name="Harbour Outfitters")
        samples = generate_products(6, seed=3)
        for sample in samples:
            services.product_create(
                merchant=merchant,
                sku=sample.sku,
                title=sample.title,
                brand=sample.brand,
                category=sample.category,
                price=sample.price,
                description=sample.description,
            )
        yield samples
        reset_encoders()


def test_notices_from_the_api_are_shown_above_the_results(text_only_shop, page):
    # When the shopper searches by words
    with page.expect_response(lambda r: r.url.endswith("/api/v1/search/")) as answer:
        page.goto(f"/?q={text_only_shop[0].brand}")

    # Then results come, and the API's notice says why pictures played no part
    notice = answer.value.json()["notices"][0]
    assert notice.startswith("Image search is off")
    expect(page.locator("#notices .notice")).to_have_text(notice)
    expect(page.locator("#grid .card")).to_have_count(len(text_only_shop))
    # products without a picture get a placeholder that still names them
    placeholder = page.locator("#grid .card").first.locator(".no-image")
    expect(placeholder).to_have_text("No image")
    expect(placeholder).to_have_attribute(
        "aria-label", page.locator("#grid .card .card-title").first.inner_text()
    )
    assert page.js_errors == []
