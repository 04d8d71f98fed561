"""Colour swatches on the storefront: the colours derived from the product photos (no colour
typed by the merchant) become a facet with swatches; ticking one narrows the results."""

import re

import pytest
from playwright.sync_api import expect

from catalog import selectors
from catalog.models import ProductImage
from catalog.sample_data import SWATCH_COLOURS, SampleProduct, create_sample_product
from catalog.sample_data import generate_products as sample_products
from tests.factories import merchant_with_owner

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def coloured_shop(module_clip):
    """Thin metadata: titles without colour words and no colour attribute, so every colour
    the page shows was derived from the pixels (upload -> index -> enrich -> outbox)."""
    merchant, _ = merchant_with_owner(name="Palette Supply")
    products = []
    for number, sample in enumerate(sample_products(12, seed=12, colours=SWATCH_COLOURS)):
        thin = SampleProduct(
            **{
                **sample.__dict__,
                "title": f"{sample.brand} {sample.category.rstrip('s')} {number}",
                "description": "",
                "attributes": {},
            }
        )
        products.append(
            create_sample_product(
                merchant, thin, image_size=160, backdrop=("plain", "textured")[number % 2]
            )
        )
    assert set(ProductImage.objects.values_list("status", flat=True)) == {"indexed"}
    return products


def test_colour_swatches_narrow_the_results(coloured_shop, page, phone_page, screenshot):
    colours = {}
    for product in coloured_shop:
        product.refresh_from_db()
        colours[product.pk] = selectors.product_colors(product=product)["values"]
    counts: dict[str, int] = {}
    for names in colours.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    wanted = max(counts, key=lambda name: (counts[name], name))

    page.goto("/?q=product")
    facet = page.locator("#facet-color")
    expect(facet).to_be_visible()
    expect(facet.locator(".swatch")).to_have_count(min(len(counts), 8))
    screenshot(page, "colours-desktop-facet")
    facet.locator(f"input[value='{wanted}']").check()
    expect(page).to_have_url(re.compile(f"color={wanted}"))
    expect(page.locator("#grid .card")).to_have_count(counts[wanted])
    shown = {
        int(pid)
        for pid in page.locator("#grid .card").evaluate_all(
            "cs => cs.map(c => c.dataset.productId)"
        )
    }
    assert shown == {pk for pk, names in colours.items() if wanted in names}
    screenshot(page, "colours-desktop-filtered")

    phone_page.goto(f"/?q=product&color={wanted}")
    expect(phone_page.locator("#grid .card")).to_have_count(counts[wanted])
    phone_page.locator("#filters-toggle, [aria-controls='filters']").first.click()
    expect(phone_page.locator("#facet-color .swatch").first).to_be_visible()
    screenshot(phone_page, "colours-phone-filters")
