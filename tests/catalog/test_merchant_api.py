"""Merchant API: token auth, products CRUD, image upload, and strict merchant scoping."""

import io

import pytest
from django.core.files.storage import default_storage
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Product, ProductImage
from tests.factories import ProductFactory, jpeg_bytes, merchant_with_owner, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_a():
    merchant, user = merchant_with_owner(name="Shop A")
    return merchant, user


@pytest.fixture
def shop_b():
    merchant, user = merchant_with_owner(name="Shop B")
    return merchant, user


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def upload(client, product_id, data: bytes, name="photo.jpg"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(
        f"/api/v1/merchant/products/{product_id}/images/", {"image": file}, format="multipart"
    )


def stored_files() -> list[str]:
    found = []

    def walk(path):
        dirs, files = default_storage.listdir(path)
        found.extend(f"{path}/{name}" if path else name for name in files)
        for d in dirs:
            walk(f"{path}/{d}" if path else d)

    try:
        walk("")
    except FileNotFoundError:
        return []
    return found


def test_token_endpoint_exchanges_password_for_token(shop_a):
    # Given a merchant owner with a password
    _, user = shop_a
    # When they ask for a token
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": user.username, "password": "pw-for-tests-1"},
        format="json",
    )
    # Then they get the same token the API accepts
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=user).key


def test_wrong_password_is_refused_with_detail(shop_a):
    _, user = shop_a
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["detail"]


def test_anonymous_cannot_use_merchant_api():
    response = APIClient().get("/api/v1/merchant/products/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_product_crud_round_trip(shop_a):
    merchant, user = shop_a
    client = client_for(user)
    created = client.post(
        "/api/v1/merchant/products/",
        {
            "sku": "JKT-1",
            "title": "Red leather jacket",
            "price": "199.00",
            "brand": "Acme",
            "category": "jackets",
            "attributes": {"colour": "red"},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    product_id = created.json()["id"]
    assert created.json()["merchant"] == merchant.slug

    listed = client.get("/api/v1/merchant/products/").json()
    assert [row["id"] for row in listed["results"]] == [product_id]

    patched = client.patch(
        f"/api/v1/merchant/products/{product_id}/",
        {"price": "149.50", "in_stock": False},
        format="json",
    )
    assert patched.status_code == 200
    assert patched.json()["price"] == "149.50"
    assert patched.json()["in_stock"] is False

    assert client.delete(f"/api/v1/merchant/products/{product_id}/").status_code == 204
    assert not Product.objects.filter(pk=product_id).exists()


def test_duplicate_sku_is_refused(shop_a):
    merchant, user = shop_a
    ProductFactory(merchant=merchant, sku="DUP-1")
    response = client_for(user).post(
        "/api/v1/merchant/products/", {"sku": "DUP-1", "title": "x", "price": "1"}, format="json"
    )
    assert response.status_code == 400
    assert "sku" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/merchant/products/{pid}/", None),
        ("patch", "/api/v1/merchant/products/{pid}/", {"title": "stolen"}),
        ("delete", "/api/v1/merchant/products/{pid}/", None),
        ("get", "/api/v1/merchant/products/{pid}/images/", None),
        ("get", "/api/v1/merchant/products/{pid}/images/{iid}/", None),
        ("delete", "/api/v1/merchant/products/{pid}/images/{iid}/", None),
    ],
)
def test_other_merchants_objects_answer_404(shop_a, shop_b, method, path, body):
    # Given merchant B's product with an image
    merchant_b, user_b = shop_b
    product = ProductFactory(merchant=merchant_b, title="B's product")
    image_id = upload(client_for(user_b), product.pk, jpeg_bytes()).json()["id"]
    # When merchant A's token touches it
    _, user_a = shop_a
    response = getattr(client_for(user_a), method)(
        path.format(pid=product.pk, iid=image_id), body, format="json"
    )
    # Then it does not exist for A, and nothing changed
    assert response.status_code == 404
    product.refresh_from_db()
    assert product.title == "B's product"
    assert ProductImage.objects.filter(pk=image_id).exists()


def test_other_merchants_image_upload_answers_404_and_stores_nothing(shop_a, shop_b):
    merchant_b, _ = shop_b
    product = ProductFactory(merchant=merchant_b)
    _, user_a = shop_a
    response = upload(client_for(user_a), product.pk, jpeg_bytes())
    assert response.status_code == 404
    assert ProductImage.objects.count() == 0
    assert stored_files() == []


def test_list_shows_only_own_products(shop_a, shop_b, django_assert_num_queries):
    merchant_a, user_a = shop_a
    merchant_b, _ = shop_b
    own = ProductFactory.create_batch(3, merchant=merchant_a)
    ProductFactory.create_batch(2, merchant=merchant_b)
    client = client_for(user_a)
    # One query for the session token, one count, one page (with the merchant joined).
    with django_assert_num_queries(3):
        response = client.get("/api/v1/merchant/products/")
    assert sorted(row["id"] for row in response.json()["results"]) == sorted(p.pk for p in own)


def test_upload_image_stores_normalised_file_and_lists_status(shop_a):
    merchant, user = shop_a
    product = ProductFactory(merchant=merchant)
    client = client_for(user)
    response = upload(client, product.pk, png_bytes(), name="whatever.jpg")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["content_type"] == "image/png"
    assert (body["width"], body["height"]) == (48, 64)
    image = ProductImage.objects.get(pk=body["id"])
    assert default_storage.exists(image.file.name)
    assert default_storage.exists(image.thumbnail.name)
    listed = client.get(f"/api/v1/merchant/products/{product.pk}/images/").json()
    assert [row["id"] for row in listed] == [image.pk]


def test_same_image_twice_answers_the_existing_image(shop_a):
    # A retried upload is not a failure (issue 19): 200 with the image already there.
    merchant, user = shop_a
    product = ProductFactory(merchant=merchant)
    client = client_for(user)
    first = upload(client, product.pk, jpeg_bytes())
    assert first.status_code == 201
    files_before = stored_files()
    response = upload(client, product.pk, jpeg_bytes())
    assert response.status_code == 200
    assert response.json()["id"] == first.json()["id"]
    assert ProductImage.objects.count() == 1
    assert stored_files() == files_before


BAD_UPLOADS = [
    ("text renamed .jpg", b"just some words, not a picture\n" * 5, "notes.jpg"),
    ("html saved as .png", b"<!DOCTYPE html><html><body>hi</body></html>", "page.png"),
    ("pdf", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "doc.jpg"),
    (
        "svg",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
        "x.png",
    ),
    ("zero bytes", b"", "empty.jpg"),
    ("truncated jpeg", jpeg_bytes(size=(400, 300))[:300], "cut.jpg"),
]


@pytest.mark.parametrize(("case", "data", "name"), BAD_UPLOADS, ids=[c[0] for c in BAD_UPLOADS])
def test_bad_uploads_are_refused_and_leave_nothing(shop_a, case, data, name):
    merchant, user = shop_a
    product = ProductFactory(merchant=merchant)
    response = upload(client_for(user), product.pk, data, name=name)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("image: ")
    assert len(detail) > 20
    assert ProductImage.objects.count() == 0
    assert stored_files() == []


def test_upload_over_byte_cap_is_refused(shop_a, settings):
    settings.MAX_UPLOAD_BYTES = 2000
    merchant, user = shop_a
    product = ProductFactory(merchant=merchant)
    response = upload(client_for(user), product.pk, jpeg_bytes(size=(300, 300), quality=100))
    assert response.status_code == 400
    assert "limit" in response.json()["detail"]
    assert ProductImage.objects.count() == 0


def test_missing_image_field_is_named(shop_a):
    merchant, user = shop_a
    product = ProductFactory(merchant=merchant)
    response = client_for(user).post(
        f"/api/v1/merchant/products/{product.pk}/images/", {}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("image:")
