"""The merchant side, in a real browser: the Django admin, scoped to the merchant's own
catalogue, with the "Add images" field, the inline indexing status and the re-index action;
then the storefront in the same (logged-in) browser, where the search API checks CSRF."""

import re

import pytest
from playwright.sync_api import expect

from catalog import services
from catalog.models import ProductImage
from catalog.sample_data import SampleProduct, draw_product

# django_db: the tests read rows the module fixtures committed (and it makes pytest-django
# create the test database); each test's own transaction is rolled back, the module's rows
# are flushed by module_env.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PASSWORD = "harbour-pass-9431"
expect.set_options(timeout=20_000)

JACKET = SampleProduct(
    sku="HB-JKT-0001",
    title="Harbour storm jacket",
    description="A waterproof storm jacket for wet days.",
    brand="Harbour",
    category="jackets",
    colour="navy",
    material="cotton",
    price="129.00",
    in_stock=True,
)


@pytest.fixture(scope="module")
def merchants(module_clip):
    owner = services.user_create(username="harbour-owner", password=PASSWORD)
    harbour = services.merchant_create(name="Harbour Outfitters", owner=owner)
    rival = services.merchant_create(
        name="Rival Goods", owner=services.user_create(username="rival", password=None)
    )
    jacket = services.product_create(
        merchant=harbour,
        sku=JACKET.sku,
        title=JACKET.title,
        description=JACKET.description,
        brand=JACKET.brand,
        category=JACKET.category,
        price=JACKET.price,
    )
    services.product_create(
        merchant=rival, sku="RV-MUG-0001", title="Rival enamel mug", price="12.00", category="mugs"
    )
    return {"owner": owner, "jacket": jacket}


def status_cells(page):
    return page.locator(".inline-related td.field-status")


def test_a_merchant_uploads_an_image_sees_it_indexed_and_finds_it_on_the_storefront(
    merchants, page, screenshot
):
    jacket = merchants["jacket"]

    # Given the merchant logs into the admin
    page.goto("/admin/login/?next=/admin/catalog/product/")
    page.get_by_label("Username").fill("harbour-owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Then they see their own products only
    expect(page.get_by_role("link", name=JACKET.title)).to_be_visible()
    expect(page.get_by_text("Rival enamel mug")).to_have_count(0)

    # When they add an image through the product form's "Add images" field
    page.get_by_role("link", name=JACKET.title).click()
    page.get_by_label("Add images").set_input_files(
        files=[
            {
                "name": "storm-jacket.jpg",
                "mimeType": "image/jpeg",
                "buffer": draw_product(JACKET, size=320),
            }
        ]
    )
    page.get_by_role("button", name="Save and continue editing").click()

    # Then the admin confirms, and after a reload the inline row says the image is indexed
    expect(page.locator(".messagelist")).to_contain_text("1 image(s) added; indexing has started.")
    page.reload()
    expect(status_cells(page)).to_have_count(1)
    expect(status_cells(page).first).to_have_text("Indexed")
    expect(page.locator(".inline-related td.field-failure_reason").first).to_have_text("-")
    expect(page.locator(".inline-related td.field-preview img")).to_have_count(1)
    image = ProductImage.objects.get(product=jacket)
    assert image.status == ProductImage.Status.INDEXED
    screenshot(page, "admin-product-indexed", full_page=True)

    # When they try a file that is not an image, the admin says which file was refused and why
    page.get_by_label("Add images").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"sizes: S M L"}]
    )
    page.get_by_role("button", name="Save and continue editing").click()
    # (the admin capitalises the first letter of every message)
    expect(page.locator(".messagelist .error")).to_contain_text(
        re.compile(r"notes\.txt: The file is not a JPEG, PNG or WebP", re.I)
    )
    expect(status_cells(page)).to_have_count(1)
    assert ProductImage.objects.filter(product=jacket).count() == 1

    # When they re-index the product from the list, it is queued and indexed again
    page.goto("/admin/catalog/product/")
    page.get_by_role("row", name=re.compile(JACKET.title)).get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(label="Re-index the images of the selected products")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("1 image(s) queued for indexing.")
    page.get_by_role("link", name=JACKET.title).click()
    expect(status_cells(page).first).to_have_text("Indexed")

    # And on the storefront, in the same logged-in browser, the search (a POST that DRF's
    # session authentication checks for CSRF) finds the new product with its picture
    page.goto("/")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/search/")) as answer:
        page.get_by_label("Search products").fill("storm jacket")
        page.keyboard.press("Enter")
    assert answer.value.status == 200, answer.value.text()
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    assert answer.value.request.headers["x-csrftoken"] == token
    first = page.locator("#grid .card").first
    expect(first.locator(".card-title")).to_have_text(JACKET.title)
    expect(first.locator("img")).to_have_attribute("src", re.compile(r"^/media/.+-thumb\.webp$"))
    assert page.js_errors == []
