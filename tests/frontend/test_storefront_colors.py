"""Colour swatches on the storefront: the colours derived from the product photos (no colour
typed by the merchant) become a facet with swatches; ticking one narrows the results. And
the merchant's review page of near-duplicate uploads in the admin."""

import re

import pytest
from playwright.sync_api import expect

from catalog import selectors, services
from catalog.drafting import DraftedCopy
from catalog.models import Product, ProductImage
from catalog.sample_data import SWATCH_COLOURS, SampleProduct, create_sample_product
from catalog.sample_data import generate_products as sample_products
from tests.factories import UserFactory, merchant_with_owner, recoloured_copy

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def coloured_shop(module_clip):
    """Thin metadata: titles without colour words and no colour attribute, so every colour
    the page shows was derived from the pixels (upload -> index -> enrich -> outbox)."""
    merchant, owner = merchant_with_owner(name="Palette Supply")
    products = []
    for number, sample in enumerate(sample_products(12, seed=12, colours=SWATCH_COLOURS)):
        thin = SampleProduct(
            **{
                **sample.__dict__,
                "title": f"{sample.brand} {sample.category.rstrip('s')} {number}",
                "description": "",
                # A pattern the merchant typed: a filter beside the derived attributes.
                "attributes": {"pattern": "striped"} if number % 4 == 0 else {},
            }
        )
        products.append(
            create_sample_product(
                merchant, thin, image_size=160, backdrop=("plain", "textured")[number % 2]
            )
        )
    # The same photo again under another SKU, re-encoded smaller: a near-duplicate to review.
    copy = services.product_create(
        merchant=merchant, sku="COPY-0", title="Copy", price="9.00", category="jackets"
    )
    services.product_image_create(product=copy, data=recoloured_copy(first_photo(products[0])))
    # Another shop lists the second photo as its own: a group for shop staff only.
    reseller, _ = merchant_with_owner(name="Corner Reseller")
    taken = services.product_create(
        merchant=reseller, sku="R-1", title="Reseller item", price="8.00", category="jackets"
    )
    services.product_image_create(product=taken, data=recoloured_copy(first_photo(products[1])))
    # A draft from the vision-language model, waiting for the merchant on the product page.
    services.product_draft_record(
        product=products[2],
        copy=DraftedCopy(
            title="Red canvas sneaker",
            description="A low red sneaker with a white sole.",
            attributes={"colour": "red", "style": "low-top"},
            model="test-vlm",
        ),
    )
    # Shop staff (the live server sees only what the module's fixture committed).
    UserFactory(username="operator", is_staff=True, is_superuser=True)
    assert set(ProductImage.objects.values_list("status", flat=True)) == {"indexed"}
    return products, owner


def first_photo(product) -> bytes:
    image = product.images.get()
    with image.file.open("rb") as handle:
        return handle.read()


def test_colour_swatches_narrow_the_results(coloured_shop, page, phone_page, screenshot):
    colours = {}
    for product in Product.objects.all():
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
    striped = page.locator("fieldset[data-attribute='pattern'] input[value='pattern:striped']")
    expect(striped).to_be_attached()
    # Products without a brand are no option (nothing a shopper could tick by name).
    expect(page.locator("#facet-brand .option")).not_to_have_count(0)
    expect(page.locator("#facet-brand input[value='']")).to_have_count(0)
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


def test_the_merchant_reviews_near_duplicates_in_the_admin(
    coloured_shop, page, phone_page, screenshot
):
    products, owner = coloured_shop
    copy_image = ProductImage.objects.get(product__sku="COPY-0")
    assert copy_image.duplicate_of_id == products[0].images.get().pk

    page.goto("/admin/login/?next=/admin/catalog/productimage/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Review near-duplicates").click()
    group = page.locator(".dup-group")
    expect(group).to_have_count(1)
    expect(group.locator("img")).to_have_count(2)
    screenshot(page, "admin-near-duplicates-desktop")
    phone_page.context.add_cookies(page.context.cookies())
    phone_page.goto("/admin/catalog/productimage/near-duplicates/")
    expect(phone_page.locator(".dup-group img")).to_have_count(2)
    screenshot(phone_page, "admin-near-duplicates-phone", full_page=True)

    expect(page.get_by_text("Corner Reseller")).to_have_count(0)  # another shop's business

    group.get_by_role("button", name="Keep both").click()
    expect(page.get_by_text("No near-duplicates to review.")).to_be_visible()


def test_shop_staff_review_photos_shared_between_merchants(
    coloured_shop, page, phone_page, screenshot
):
    products, _ = coloured_shop
    page.goto("/admin/login/?next=/admin/catalog/productimage/near-duplicates/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    across = page.locator(".dup-group-across")
    expect(across).to_have_count(1)
    expect(across.get_by_text("Corner Reseller")).to_be_visible()
    expect(across.get_by_text(products[1].merchant.name)).to_be_visible()
    screenshot(page, "admin-near-duplicates-across-desktop", full_page=True)
    phone_page.context.add_cookies(page.context.cookies())
    phone_page.goto("/admin/catalog/productimage/near-duplicates/#across")
    expect(phone_page.locator(".dup-group-across img")).to_have_count(2)
    screenshot(phone_page, "admin-near-duplicates-across-phone", full_page=True)

    across.get_by_role("button", name="Not a copy").click()
    expect(page.get_by_text("No photos shared between merchants.")).to_be_visible()


def test_the_merchant_accepts_part_of_an_ai_draft_on_the_product_page(
    coloured_shop, page, phone_page, screenshot
):
    products, owner = coloured_shop
    product = products[2]
    page.goto(f"/admin/login/?next=/admin/catalog/product/{product.pk}/change/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    draft = page.locator(".ai-draft")
    expect(draft).to_contain_text("Red canvas sneaker")
    draft.scroll_into_view_if_needed()
    screenshot(page, "admin-ai-draft-desktop")
    phone_page.context.add_cookies(page.context.cookies())
    phone_page.goto(f"/admin/catalog/product/{product.pk}/change/")
    phone_page.locator(".ai-draft").scroll_into_view_if_needed()
    screenshot(phone_page, "admin-ai-draft-phone")

    draft.get_by_label("description").uncheck()
    draft.get_by_role("button", name="Accept").click()

    expect(page.get_by_text("accepted: title")).to_be_visible()
    expect(page.locator("#id_title")).to_have_value("Red canvas sneaker")
    expect(page.locator(".ai-draft")).to_have_count(0)
    product.refresh_from_db()
    assert product.description != "A low red sneaker with a white sole."
