"""Each rule kind changes the searches it matches, as the engine documents, and leaves other
searches alone; time windows and merchant scope decide which rules run."""

import pytest
from rest_framework.test import APIClient

from catalog import services as catalog_services
from catalog.models import Merchant, Product
from merchandising.models import Rule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generous_throttles")]


def search(**body):
    response = APIClient().post("/api/v1/search/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def ids(body):
    return [row["product_id"] for row in body["results"]]


def product(sku):
    return Product.objects.get(sku=sku)


def rule(**fields):
    return Rule.objects.create(name=fields.pop("name", "a rule"), **fields)


def test_a_two_way_synonym_lets_either_word_find_the_other(shop):
    before = search(text="zorblax")
    rule(kind="synonym", synonym_type="two_way", terms="zorblax, lamp", name="shop slang")

    after = search(text="zorblax")

    assert {row["category"] for row in after["results"][:2]} == {"lamps"}
    assert {row["category"] for row in before["results"][:2]} != {"lamps"}
    assert [r["kind"] for r in after["rules"]] == ["synonym"]


def test_a_one_way_synonym_works_in_its_direction_only(shop):
    kettle_first = search(text="zorblax")
    rule(kind="synonym", synonym_type="one_way", terms="zorblax", synonyms="kettle")
    plain_kettle = search(text="kettle")

    assert {row["category"] for row in search(text="zorblax")["results"][:2]} == {"kettles"}
    assert plain_kettle["rules"] == []
    assert kettle_first["rules"] == []


def test_a_pin_puts_the_product_at_its_position_for_its_query_only(shop):
    mug = product("VE-MUG-0011")
    unrelated_before = ids(search(text="linen dress"))
    rule(kind="pin", query="Leather  Boot", match="exact", product=mug, position=2, name="mug")

    body = search(text="leather boot")

    assert body["results"][1]["product_id"] == mug.pk
    assert body["results"][1]["rules"] == [str(Rule.objects.get().pk)]
    assert [r["kind"] for r in body["rules"]] == ["pin"]
    assert ids(search(text="linen dress")) == unrelated_before
    assert mug.pk not in ids(search(text="boot"))[:2]  # exact match: another query is left


def test_hide_removes_the_product_from_matching_queries_only(shop):
    boot = product("AC-BOO-0018")
    assert boot.pk in ids(search(text="brown leather boot"))
    rule(kind="hide", query="brown leather boot", product=boot, name="recall")

    body = search(text="brown leather boot", limit=50)

    assert boot.pk not in ids(body)
    assert body["rules"][0]["name"] == "recall"
    assert boot.pk in ids(search(text="leather boot", limit=50))


def test_a_boost_by_tag_moves_the_tagged_product_up_and_a_price_boost_others(shop):
    tagged = product("FJ-T-S-0021")
    catalog_services.product_update(product=tagged, data={"attributes": {"tags": ["New-Season"]}})
    before = ids(search(text="linen", limit=50))
    rule(kind="boost", match="any", attribute="tag", value="new-season", weight=20)

    after = search(text="linen", limit=50)

    assert before[0] != tagged.pk
    assert ids(after)[0] == tagged.pk
    assert after["results"][0]["rules"] == [str(Rule.objects.get().pk)]
    assert search(text="linen", filters={"category": ["dresses"]}, limit=50)["rules"] == []


def test_bury_by_stock_and_merchant_moves_those_products_down(shop):
    before = search(text="leather", limit=50)
    rule(kind="bury", match="any", attribute="in_stock", weight=30)

    after = search(text="leather", limit=50)

    stock = [row["in_stock"] for row in after["results"]]
    assert stock == sorted(stock)  # every in-stock product after every out-of-stock one
    assert [row["in_stock"] for row in before["results"]] != stock


def test_a_merchants_promotions_apply_on_its_own_storefront_and_demotions_everywhere(
    shop,
):
    harbour = Merchant.objects.get(slug="harbour")
    own = Product.objects.filter(merchant=harbour, category="kettles").first()
    assert own is not None
    rule(kind="pin", merchant=harbour, query="leather boot", product=own, position=1)
    rule(kind="bury", merchant=harbour, match="any", attribute="in_stock", weight=50)

    everywhere = search(text="leather boot", limit=50)
    storefront = search(text="leather boot", filters={"merchant": "harbour"}, limit=50)

    assert ids(everywhere)[0] != own.pk
    assert ids(storefront)[0] == own.pk
    # The bury moves Harbour's own in-stock products only, below every Maple product.
    rows = everywhere["results"]
    buried = [n for n, r in enumerate(rows) if r["merchant"] == "harbour" and r["in_stock"]]
    maple = [n for n, r in enumerate(rows) if r["merchant"] == "maple"]
    assert buried and maple and min(buried) > max(maple)
