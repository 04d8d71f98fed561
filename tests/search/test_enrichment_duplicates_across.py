"""The same photo in two merchants' catalogues: flagged for shop staff (superusers, or those
given the permission), never shown to merchant staff, who see only their own groups."""

import pytest
from django.contrib.auth.models import Permission

from catalog import selectors, services
from catalog.models import ProductImage
from catalog.sample_data import SWATCH_COLOURS, create_sample_product, draw_product
from catalog.sample_data import generate_products as sample_products
from search.enrichment.service import enrich_images
from search.index import sync as indexing
from tests.factories import UserFactory, merchant_with_owner, recoloured_copy

PAGE = "/admin/catalog/productimage/near-duplicates/"


@pytest.fixture
def two_shops(db, clip_settings):
    """Shop A's original; shop B's copy of it (and its own copy of its own photo)."""
    shop_a, owner_a = merchant_with_owner(name="Shop A")
    shop_b, owner_b = merchant_with_owner(name="Shop B")
    first, second = sample_products(2, seed=9, colours=SWATCH_COLOURS)
    original = create_sample_product(shop_a, first, image_size=160).images.get()
    taken = services.product_create(merchant=shop_b, sku="B-1", title="Taken", price="5")
    services.product_image_create(
        product=taken, data=recoloured_copy(draw_product(first, size=160))
    )
    own = create_sample_product(shop_b, second, image_size=160).images.get()
    own_copy_product = services.product_create(merchant=shop_b, sku="B-3", title="Again", price="5")
    services.product_image_create(
        product=own_copy_product, data=recoloured_copy(draw_product(second, size=160))
    )
    image_ids = list(ProductImage.objects.order_by("id").values_list("id", flat=True))
    indexing.index_images(image_ids)
    report = enrich_images(image_ids)
    return {
        "report": report,
        "original": original,
        "taken": taken.images.get(),
        "own": own,
        "own_copy": own_copy_product.images.get(),
        "owner_a": owner_a,
        "owner_b": owner_b,
    }


def test_a_copy_of_another_merchants_photo_is_flagged_apart_from_own_duplicates(two_shops):
    report, original, taken = two_shops["report"], two_shops["original"], two_shops["taken"]

    assert report.duplicates_elsewhere == {taken.pk: original.pk}
    assert report.duplicates == {two_shops["own_copy"].pk: two_shops["own"].pk}
    taken.refresh_from_db()
    assert (taken.duplicate_of_id, taken.duplicate_elsewhere_id) == (None, original.pk)


def test_shop_staff_see_the_groups_across_merchants_and_clear_one(two_shops, client):
    original, taken = two_shops["original"], two_shops["taken"]
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    html = client.get(PAGE).content.decode()

    assert "Across merchants" in html and "Shop A" in html and "Shop B" in html
    assert f"/admin/catalog/productimage/{original.pk}/change/" in html
    assert f'name="dismiss_across" value="{taken.pk}"' in html
    client.post(PAGE, {"dismiss_across": taken.pk})
    assert selectors.near_duplicate_groups_across_merchants() == []
    taken.refresh_from_db()
    assert taken.duplicate_elsewhere_dismissed
    # A later enrichment leaves the reviewed flag cleared.
    assert enrich_images([taken.pk]).duplicates_elsewhere == {}


def test_staff_given_the_permission_see_them_too(two_shops, client):
    operator = UserFactory(is_staff=True)
    operator.user_permissions.add(
        Permission.objects.get(codename="review_duplicates_across_merchants")
    )
    client.force_login(operator)

    html = client.get(PAGE).content.decode()

    assert f'value="{two_shops["taken"].pk}"' in html and "Across merchants" in html


@pytest.mark.parametrize("owner", ["owner_a", "owner_b"])
def test_merchant_staff_see_only_their_own_groups(two_shops, client, owner):
    original, taken = two_shops["original"], two_shops["taken"]
    client.force_login(two_shops[owner])

    html = client.get(PAGE).content.decode()
    refused = client.post(PAGE, {"dismiss_across": taken.pk})

    assert "Across merchants" not in html and "dismiss_across" not in html
    assert f"/admin/catalog/productimage/{original.pk}/change/" not in html
    assert f"/admin/catalog/productimage/{taken.pk}/change/" not in html
    own_copy = f"/admin/catalog/productimage/{two_shops['own_copy'].pk}/change/"
    assert (own_copy in html) == (owner == "owner_b")
    assert refused.status_code == 403
    assert not two_shops[owner].has_perm("catalog.review_duplicates_across_merchants")
