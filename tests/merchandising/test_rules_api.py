"""Staff API for rules: token auth, CRUD, 400s naming the field, strict merchant scoping."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog import services as catalog_services
from merchandising.models import Rule
from tests.factories import ProductFactory, merchant_with_owner

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def two_shops():
    harbour, harbour_user = merchant_with_owner(name="Harbour")
    maple, maple_user = merchant_with_owner(name="Maple")
    return {
        "harbour": (harbour, harbour_user, ProductFactory(merchant=harbour)),
        "maple": (maple, maple_user, ProductFactory(merchant=maple)),
    }


def test_merchant_staff_create_read_update_and_delete_their_rules(two_shops):
    _, user, product = two_shops["harbour"]
    client = client_for(user)

    created = client.post(
        "/api/v1/merchandising/rules/",
        {"name": "summer", "kind": "pin", "query": "summer", "product": product.pk, "position": 1},
        format="json",
    )
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert created.json()["merchant"] == "harbour"  # their only merchant, by default

    patched = client.patch(
        f"/api/v1/merchandising/rules/{rule_id}/", {"position": 3, "enabled": False}, format="json"
    )
    assert (patched.status_code, patched.json()["position"], patched.json()["enabled"]) == (
        200,
        3,
        False,
    )
    assert client.get("/api/v1/merchandising/rules/").json()["count"] == 1
    assert client.delete(f"/api/v1/merchandising/rules/{rule_id}/").status_code == 204
    assert not Rule.objects.exists()


def test_another_merchants_rule_is_not_found_and_their_products_not_targetable(two_shops):
    maple, maple_user, maple_product = two_shops["maple"]
    _, harbour_user, _ = two_shops["harbour"]
    theirs = Rule.objects.create(
        name="theirs", kind="hide", query="x", product=maple_product, merchant=maple
    )
    client = client_for(harbour_user)

    assert client.get(f"/api/v1/merchandising/rules/{theirs.pk}/").status_code == 404
    assert (
        client.patch(
            f"/api/v1/merchandising/rules/{theirs.pk}/", {"enabled": False}, format="json"
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/merchandising/rules/{theirs.pk}/").status_code == 404
    assert client.get("/api/v1/merchandising/rules/").json()["count"] == 0
    refused = client.post(
        "/api/v1/merchandising/rules/",
        {"name": "x", "kind": "hide", "query": "x", "product": maple_product.pk},
        format="json",
    )
    assert refused.status_code == 400
    assert "product" in refused.json()["errors"]
    as_them = client.post(
        "/api/v1/merchandising/rules/",
        {
            "name": "x",
            "kind": "boost",
            "match": "any",
            "attribute": "in_stock",
            "merchant": "maple",
        },
        format="json",
    )
    assert (as_them.status_code, list(as_them.json()["errors"])) == (400, ["merchant"])
    Rule.objects.get(pk=theirs.pk)  # untouched


def test_shop_wide_rules_need_shop_staff(two_shops):
    _, harbour_user, _ = two_shops["harbour"]
    body = {"name": "x", "kind": "boost", "match": "any", "attribute": "in_stock", "merchant": None}

    refused = client_for(harbour_user).post("/api/v1/merchandising/rules/", body, format="json")
    admin = catalog_services.user_create(username="boss", password=None)
    admin.is_superuser = True
    admin.save()
    accepted = client_for(admin).post("/api/v1/merchandising/rules/", body, format="json")

    assert (refused.status_code, list(refused.json()["errors"])) == (400, ["merchant"])
    assert (accepted.status_code, accepted.json()["merchant"]) == (201, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "pin", "query": "x", "position": 1}, "product"),
        ({"kind": "pin", "query": "x", "product": "PRODUCT"}, "position"),
        ({"kind": "synonym", "terms": "sofa"}, "terms"),
        ({"kind": "synonym", "synonym_type": "one_way", "terms": "sofa"}, "synonyms"),
        ({"kind": "boost", "match": "any"}, "attribute"),
        ({"kind": "boost", "match": "any", "attribute": "brand"}, "value"),
        (
            {
                "kind": "bury",
                "match": "any",
                "attribute": "price",
                "price_min": "9",
                "price_max": "1",
            },
            "price_min",
        ),
        ({"kind": "boost", "match": "any", "attribute": "in_stock", "weight": 0}, "weight"),
        ({"kind": "hide", "product": "PRODUCT"}, "query"),
        (
            {
                "kind": "boost",
                "match": "any",
                "attribute": "in_stock",
                "starts_at": "2030-01-02T00:00:00Z",
                "ends_at": "2030-01-01T00:00:00Z",
            },
            "ends_at",
        ),
        ({"kind": "teleport"}, "kind"),
        ({"kind": "pin", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(two_shops, body, field):
    _, user, product = two_shops["harbour"]
    body = {"name": "bad", **{k: product.pk if v == "PRODUCT" else v for k, v in body.items()}}

    response = client_for(user).post("/api/v1/merchandising/rules/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert field in response.json()["detail"]
    assert not Rule.objects.exists()


def test_the_rules_api_needs_a_login():
    assert APIClient().get("/api/v1/merchandising/rules/").status_code in (401, 403)
