"""Merchant API for whole catalogues: idempotent uploads, list filters, bulk upsert by SKU."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import signals
from catalog.models import Product, ProductImage
from tests.catalog.test_merchant_api import client_for, upload
from tests.factories import ProductFactory, jpeg_bytes, merchant_with_owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return merchant_with_owner(name="Feed Shop")


@pytest.fixture
def product_changes():
    """Every product change the catalogue announces (what the outbox of index work records)."""
    seen: list[tuple[int, frozenset]] = []

    def listen(sender, product_id, changed_fields, **kwargs):
        seen.append((product_id, changed_fields))

    signals.product_changed.connect(listen)
    yield seen
    signals.product_changed.disconnect(listen)


def bulk(client, body: str, content_type: str):
    return client.generic(
        "POST", "/api/v1/merchant/products/bulk/", body.encode(), content_type=content_type
    )


# --- Filters --------------------------------------------------------------------------------------


def test_image_lists_filter_by_status_and_updated_since(shop):
    # Given images in different states, one changed long ago
    merchant, user = shop
    client = client_for(user)
    product = ProductFactory(merchant=merchant)
    ids = [
        upload(client, product.pk, jpeg_bytes(colour=(i * 60, 10, 10))).json()["id"]
        for i in range(3)
    ]
    ProductImage.objects.filter(pk=ids[0]).update(status="failed", failure_reason="bad")
    ProductImage.objects.filter(pk=ids[1]).update(
        status="indexed", updated_at=timezone.now() - timedelta(days=3)
    )
    ProductImage.objects.filter(pk=ids[2]).update(status="indexed")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    # When the merchant lists by status, and by last change
    failed = client.get(f"/api/v1/merchant/products/{product.pk}/images/", {"status": "failed"})
    recent = client.get(
        f"/api/v1/merchant/products/{product.pk}/images/",
        {"status": "indexed", "updated_since": since},
    )
    everywhere = client.get("/api/v1/merchant/images/", {"status": "failed"})
    # Then each list holds exactly the matching images
    assert [image["id"] for image in failed.json()] == [ids[0]]
    assert [image["id"] for image in recent.json()] == [ids[2]]
    assert everywhere.json()["count"] == 1
    assert everywhere.json()["results"][0]["sku"] == product.sku


def test_product_list_filters_by_updated_since_and_image_status(shop):
    merchant, user = shop
    client = client_for(user)
    old, fresh = ProductFactory(merchant=merchant), ProductFactory(merchant=merchant)
    Product.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=5))
    upload(client, fresh.pk, jpeg_bytes())
    since = (timezone.now() - timedelta(days=1)).isoformat()

    changed = client.get("/api/v1/merchant/products/", {"updated_since": since}).json()
    pending = client.get("/api/v1/merchant/products/", {"image_status": "pending"}).json()

    assert [row["id"] for row in changed["results"]] == [fresh.pk]
    assert [row["id"] for row in pending["results"]] == [fresh.pk]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/merchant/images/", {"status": "done"}, "status"),
        ("/api/v1/merchant/images/", {"updated_since": "yesterday"}, "updated_since"),
        ("/api/v1/merchant/images/", {"updated_since": ""}, "updated_since"),
        ("/api/v1/merchant/products/", {"updated_since": "2026-13-45"}, "updated_since"),
        ("/api/v1/merchant/products/", {"image_status": "lost"}, "image_status"),
        ("/api/v1/merchant/images/", {"status": ""}, "status"),
        ("/api/v1/merchant/products/", {"image_status": ""}, "image_status"),
    ],
)
def test_bad_filter_values_are_a_400_naming_the_field(shop, path, params, field):
    _, user = shop
    response = client_for(user).get(path, params)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}:")


# --- Bulk upsert ----------------------------------------------------------------------------------

JSON_LINES = "\n".join(
    json.dumps(row)
    for row in [
        {"sku": "TEE-1", "title": "Red tee", "price": "19.90", "category": "tops"},
        {"sku": "TEE-2", "title": "Blue tee", "price": 21, "attributes": {"colour": "blue"}},
        {"sku": "TEE-3", "title": "No price"},
        {"sku": "TEE-4", "title": "Negative", "price": "-1"},
        {"sku": "TEE-1", "title": "Red tee again", "price": "1"},
    ]
)


def test_bulk_json_lines_report_each_row_and_keep_the_good_ones(shop, product_changes):
    # Given a file with good rows, bad rows and a repeated SKU
    merchant, user = shop
    # When it is sent
    response = bulk(client_for(user), JSON_LINES + "\nnot json\n[1, 2]", "application/x-ndjson")
    # Then the good rows are created and every bad one says why, by line and field
    body = response.json()
    assert response.status_code == 200
    assert (body["created"], body["failed"]) == (2, 5)
    outcome = {row["line"]: (row["status"], row["detail"]) for row in body["results"]}
    assert outcome[1][0] == outcome[2][0] == "created"
    assert outcome[3][1].startswith("price:")
    assert outcome[4][1].startswith("price:")
    assert "already on line 1" in outcome[5][1]
    assert "not valid JSON" in outcome[6][1]
    assert "JSON object" in outcome[7][1]
    assert sorted(Product.objects.filter(merchant=merchant).values_list("sku", flat=True)) == [
        "TEE-1",
        "TEE-2",
    ]
    # ... and the catalogue announced both (the outbox of index work records them)
    assert len(product_changes) == 2


def test_the_same_bulk_file_twice_changes_nothing(shop, product_changes):
    merchant, user = shop
    client = client_for(user)
    csv_body = (
        "sku,title,price,brand,in_stock,attributes\n"
        'MUG-1,White mug,9.50,Acme,true,"{""size"": ""L""}"\n'
        "MUG-2,Black mug,10,Acme,false,\n"
    )
    first = bulk(client, csv_body, "text/csv").json()
    stamps = dict(Product.objects.values_list("sku", "updated_at"))
    announced = len(product_changes)

    second = bulk(client, csv_body, "text/csv").json()

    assert (first["created"], first["failed"]) == (2, 0)
    assert (second["unchanged"], second["created"], second["updated"]) == (2, 0, 0)
    assert dict(Product.objects.values_list("sku", "updated_at")) == stamps
    assert len(product_changes) == announced
    assert Product.objects.get(sku="MUG-1").attributes == {"size": "L"}
    assert Product.objects.get(sku="MUG-2").in_stock is False


def test_bulk_updates_only_the_given_fields_of_an_existing_sku(shop, product_changes):
    merchant, user = shop
    product = ProductFactory(merchant=merchant, sku="BAG-9", title="Tote", brand="Acme")
    response = bulk(
        client_for(user), json.dumps({"sku": "BAG-9", "price": "15.00"}), "application/x-ndjson"
    )
    product.refresh_from_db()
    assert response.json()["results"][0]["status"] == "updated"
    assert (product.title, product.brand, str(product.price)) == ("Tote", "Acme", "15.00")
    assert product_changes == [(product.pk, frozenset({"price"}))]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("sku,title,prise\nA,B,1\n", "text/csv", "Unknown column(s): prise"),
        ("", "text/csv", "empty"),
        (",\n", "text/csv", "twice"),
        ("\n\n", "application/x-ndjson", "no rows"),
        ('{"sku": "A"}\n' * 4, "application/x-ndjson", "At most 3 rows"),
    ],
)
def test_bulk_file_level_refusals_name_the_body(shop, settings, body, content_type, message):
    settings.BULK_UPSERT_MAX_ROWS = 3
    _, user = shop
    response = bulk(client_for(user), body, content_type)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("body:")
    assert message in response.json()["detail"]
    assert not Product.objects.exists()


def test_bulk_writes_only_into_the_callers_merchant(shop):
    # Given another merchant with the same SKU
    other, _ = merchant_with_owner(name="Other Shop")
    theirs = ProductFactory(merchant=other, sku="SAME-1", title="Theirs")
    merchant, user = shop
    # When the caller upserts that SKU
    bulk(
        client_for(user),
        json.dumps({"sku": "SAME-1", "title": "Mine", "price": 3}),
        "application/x-ndjson",
    )
    # Then the caller gets its own product and the other merchant's is untouched
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"
    assert Product.objects.get(merchant=merchant, sku="SAME-1").title == "Mine"
