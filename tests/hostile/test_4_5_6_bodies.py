"""Findings 4, 5 and 6: deeply nested JSON and NUL characters were 500s; Django's own
refusals (a body too large, too many fields or files, a disallowed host) answered HTML; and
every file part of a search was kept in memory, whatever its name."""

import json

import pytest
from django.test import override_settings

from tests.hostile.conftest import assert_json_error, upload

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000


def raw_json(client, path: str, body: str, method: str = "post"):
    return getattr(client, method)(path, data=body, content_type="application/json")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/search/", '{"text": ' + DEEP + "}"),
        ("/api/v1/search/", '{"text": "coat", "filters": ' + '{"a": ' * 3000 + "1" + "}" * 3001),
        ("/api/v1/auth/token/", '{"username": ' + DEEP + ', "password": "x"}'),
        (
            "/api/v1/merchant/products/",
            '{"sku": "A", "title": "B", "price": "1", "attributes": ' + DEEP + "}",
        ),
    ],
    ids=["search", "search-filters", "token", "merchant"],
)
def test_json_nested_five_thousand_deep_is_a_400(merchant_client, path, body):
    response = raw_json(merchant_client, path, body)
    body = assert_json_error(response, 400)
    assert "nested deeper than 20 levels" in body["detail"]


def test_json_just_past_the_documented_depth_is_refused(merchant_client):
    nested: dict = {"leaf": 1}
    for _ in range(20):
        nested = {"deeper": nested}
    response = merchant_client.post(
        "/api/v1/merchant/products/",
        {"sku": "DEPTH-1", "title": "Deep", "price": "1.00", "attributes": nested},
        format="json",
    )
    assert "nested deeper than 20 levels" in assert_json_error(response, 400)["detail"]


def test_a_nul_character_inside_attributes_is_a_400_naming_where(merchant_client):
    response = merchant_client.post(
        "/api/v1/merchant/products/",
        {"sku": "NUL-1", "title": "Mug", "price": "9.00", "attributes": {"colour": "red\x00"}},
        format="json",
    )
    body = assert_json_error(response, 400)
    assert "attributes: colour: Control characters" in body["detail"]


@pytest.mark.parametrize("field", ["title", "brand", "sku", "description"])
def test_a_nul_character_in_any_text_field_is_a_400_naming_it(merchant_client, product, field):
    response = merchant_client.patch(
        f"/api/v1/merchant/products/{product.pk}/", {field: "bad\x00value"}, format="json"
    )
    assert assert_json_error(response, 400)["detail"].startswith(f"{field}:")


def test_a_json_body_past_its_limit_is_a_413_in_json(client):
    body = json.dumps({"text": "x" * (25 * 1024 * 1024)})
    response = raw_json(client, "/api/v1/search/", body)
    assert "larger than" in assert_json_error(response, 413)["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_form_body_past_djangos_limit_is_json(client):
    response = client.post(
        "/api/v1/auth/token/", {"username": "x" * 4096, "password": "y"}, format="multipart"
    )
    assert "larger than" in assert_json_error(response, 413)["detail"]


def test_too_many_form_fields_is_a_400_in_json(client):
    fields = {f"field{i}": "x" for i in range(300)}
    response = client.post("/api/v1/search/", {"text": "coat", **fields}, format="multipart")
    assert "more form fields" in assert_json_error(response, 400)["detail"]


def test_too_many_files_is_a_400_in_json(client):
    # The token endpoint takes forms with Django's default upload handling: its file count cap.
    files = {f"file{i}": upload(f"{i}.bin", b"x") for i in range(30)}
    response = client.post(
        "/api/v1/auth/token/", {"username": "a", "password": "b", **files}, format="multipart"
    )
    assert "more files" in assert_json_error(response, 400)["detail"]


@override_settings(ALLOWED_HOSTS=["shop.example.com"])
def test_a_disallowed_host_on_an_api_path_is_a_400_in_json(client):
    response = client.get("/api/v1/products/1/similar/", HTTP_HOST="evil.example.net")
    assert "host" in assert_json_error(response, 400)["detail"]


@override_settings(ALLOWED_HOSTS=["shop.example.com"])
def test_a_disallowed_host_on_a_page_stays_a_page(client):
    response = client.get("/", HTTP_HOST="evil.example.net")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_a_csrf_failure_on_an_api_path_is_json(rf):
    from config.api import csrf_failure

    response = csrf_failure(rf.post("/api/v1/search/"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert "CSRF" in json.loads(response.content)["detail"]


def test_search_refuses_file_parts_it_does_not_take_before_reading_them(client):
    # given a search with a text and file parts under other names
    parts = {f"junk{i}": upload(f"junk{i}.bin", b"\0" * 1024) for i in range(3)}
    response = client.post("/api/v1/search/", {"text": "jacket", **parts}, format="multipart")
    # then it is refused, naming the first unexpected part
    body = assert_json_error(response, 400)
    assert body["detail"].startswith("junk0: Unexpected file part")


def test_search_takes_one_image_part_only(client):
    response = client.post(
        "/api/v1/search/",
        {"image": [upload("a.jpg", b"x"), upload("b.jpg", b"y")]},
        format="multipart",
    )
    assert "once" in assert_json_error(response, 400)["detail"]


def test_a_merchant_upload_refuses_other_file_parts(merchant_client, product):
    response = merchant_client.post(
        f"/api/v1/merchant/products/{product.pk}/images/",
        {"extra": upload("x.bin", b"x")},
        format="multipart",
    )
    assert assert_json_error(response, 400)["detail"].startswith("extra: Unexpected file part")
