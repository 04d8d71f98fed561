"""Finding 7: form and multipart bodies escaped the schema's rules that JSON is held to, and
control characters were stored in text fields."""

import pytest

from catalog.models import Product
from tests.hostile.conftest import assert_json_error

pytestmark = pytest.mark.django_db


def test_an_empty_currency_in_a_form_is_refused_as_in_json(merchant_client):
    response = merchant_client.post(
        "/api/v1/merchant/products/",
        {"sku": "FORM-1", "title": "Scarf", "price": "10.00", "currency": ""},
        format="multipart",
    )
    assert assert_json_error(response, 400)["detail"].startswith("currency:")
    assert not Product.objects.filter(sku="FORM-1").exists()


def test_a_form_encoded_create_without_currency_still_gets_the_default(merchant_client):
    response = merchant_client.post(
        "/api/v1/merchant/products/",
        "sku=FORM-2&title=Scarf&price=10.00",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == "USD"
    assert response.json()["in_stock"] is True  # as in JSON: an absent boolean is its default


def test_an_empty_sku_in_a_multipart_patch_is_refused_not_ignored(merchant_client, product):
    response = merchant_client.patch(
        f"/api/v1/merchant/products/{product.pk}/", {"sku": ""}, format="multipart"
    )
    assert assert_json_error(response, 400)["detail"].startswith("sku:")


@pytest.mark.parametrize("fmt", ["json", "multipart"])
@pytest.mark.parametrize(("field", "value"), [("brand", "Acme\x04"), ("title", "Coat\x0f")])
def test_control_characters_are_refused_in_text_fields(merchant_client, product, fmt, field, value):
    response = merchant_client.patch(
        f"/api/v1/merchant/products/{product.pk}/", {field: value}, format=fmt
    )
    assert "Control characters" in assert_json_error(response, 400)["detail"]
    product.refresh_from_db()
    assert "\x04" not in product.brand and "\x0f" not in product.title


def test_tabs_and_line_breaks_are_text(merchant_client, product):
    response = merchant_client.patch(
        f"/api/v1/merchant/products/{product.pk}/",
        {"description": "Warm.\r\n\tMachine washable."},
        format="json",
    )
    assert response.status_code == 200


def test_control_characters_are_refused_in_search_text(client):
    response = client.post("/api/v1/search/", {"text": "coat\x04"}, format="json")
    assert assert_json_error(response, 400)["detail"].startswith("text:")


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_search_text_longer_than_the_schema_allows_is_refused_even_when_padded(client, fmt):
    # DRF trims before it counts; the schema's maxLength counts the value as sent.
    padded = "\r" + "0" * 500
    response = client.post("/api/v1/search/", {"text": padded}, format=fmt)
    assert assert_json_error(response, 400)["detail"].startswith("text:")


def test_search_text_at_the_limit_is_accepted(client):
    response = client.post("/api/v1/search/", {"text": "a" * 500}, format="json")
    assert response.status_code == 200, response.content
