"""Admin pages for operators: index generations (live, building, old) and the index status
with the figures `manage.py index_status` prints."""

import io
import re

import pytest
from django.core.management import call_command
from django.utils.html import escape

from catalog import services
from catalog.models import ProductImage
from search.index import generations
from search.index import sync as indexing
from search.models import IndexGeneration
from search.vector_index import get_vector_index
from tests.factories import ProductFactory, jpeg_bytes, merchant_with_owner


@pytest.fixture
def small_index(db, clip_settings):
    """Two products with an image each, indexed by the indexing services."""
    merchant, _ = merchant_with_owner(name="Ops Shop")
    products = [ProductFactory(merchant=merchant) for _ in range(2)]
    for number, product in enumerate(products):
        services.product_image_create(
            product=product, data=jpeg_bytes(colour=(number * 90, 20, 20))
        )
    indexing.index_products([product.pk for product in products])
    indexing.index_images(list(ProductImage.objects.values_list("id", flat=True)))
    return products


@pytest.mark.django_db
def test_generations_page_shows_live_building_and_old(small_index, admin_client):
    # Given the live collections, one being built, and one left over from an older model
    live = generations.resolve(generations.images_alias(), get_vector_index(), fresh=True)
    for name, completed in (("vs_images_next", None), ("vs_images_retired", "2026-01-01T00:00Z")):
        IndexGeneration.objects.create(
            kind=IndexGeneration.Kind.IMAGES,
            collection=name,
            model_name="openai/clip-other",
            model_key=name,
            dim=512,
            completed_at=completed,
        )
    # When an operator opens the generations page
    page = admin_client.get("/admin/search/indexgeneration/").content.decode()
    # Then each generation shows its state, model and size
    rows = {
        generation.collection: page.split(f">{generation.collection}<", 1)[1].split("</tr>")[0]
        for generation in IndexGeneration.objects.all()
    }
    assert ">live<" in rows[live]
    assert f">{ProductImage.objects.count()}<" in rows[live]
    assert ">building<" in rows["vs_images_next"]
    assert ">old<" in rows["vs_images_retired"]
    assert "openai/clip-other" in rows["vs_images_retired"]


@pytest.mark.django_db
def test_status_page_shows_the_index_status_figures(small_index, admin_client):
    out = io.StringIO()
    call_command("index_status", stdout=out, no_color=True)
    page = admin_client.get("/admin/search/indexgeneration/status/").content.decode()
    # (the outbox's oldest age moves on between the two readings)
    lines = [_steady(line) for line in out.getvalue().splitlines() if line]
    assert len(lines) >= 9
    for line in lines:
        assert escape(line) in _steady(page)


def _steady(text: str) -> str:
    return re.sub(r"oldest [0-9.]+ s", "oldest ... s", text)


def test_staff_without_rights_cannot_see_the_pages(client, django_user_model, db):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/search/indexgeneration/").status_code == 403
    assert client.get("/admin/search/indexgeneration/status/").status_code == 403
