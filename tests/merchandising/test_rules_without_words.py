"""Searches without words (a photo, more like this): the rules for any query and for a category
filter the search has apply; the rules for a query do not (engine.py)."""

import io
import json

import pytest
from rest_framework.test import APIClient

from catalog.models import Product
from catalog.sample_data import draw_product, generate_products
from merchandising.models import Rule
from tests.search.conftest import indexed_catalogue  # noqa: F401 - a fixture (images indexed)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generous_throttles")]


def photo_search(**fields):
    file = io.BytesIO(draw_product(generate_products(28, seed=11)[5], size=96))
    file.name = "photo.jpg"
    payload = {"image": file, "limit": "10"}
    payload.update({key: json.dumps(value) for key, value in fields.items()})
    response = APIClient().post("/api/v1/search/", payload, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def ids(body):
    return [row["product_id"] for row in body["results"]]


def rule(**fields):
    return Rule.objects.create(name=fields.pop("name", "a rule"), **fields)


def test_a_photo_search_takes_hides_and_pins_for_any_query_not_those_for_a_query(
    indexed_catalogue,  # noqa: F811 - the fixture imported above
):
    before = photo_search()
    first, last = before["results"][0]["product_id"], ids(before)[-1]
    recalled = Product.objects.get(pk=first)
    campaign = Product.objects.exclude(pk__in=ids(before)).order_by("pk").first()
    rule(kind="hide", match="any", product=recalled, name="recall")
    rule(kind="pin", match="any", product=campaign, position=2, name="campaign")
    rule(
        kind="pin",
        match="exact",
        query="leather boot",
        product=Product.objects.get(pk=last),
        position=1,
        name="for a query",
    )

    after = photo_search()

    assert recalled.pk not in ids(after)
    assert ids(after)[1] == campaign.pk
    assert ids(after)[0] != last
    assert [r["name"] for r in after["rules"]] == ["recall", "campaign"]
    assert after["legs"] == ["image"]


def test_a_photo_search_filtered_to_a_category_takes_that_categorys_pin(
    indexed_catalogue,  # noqa: F811
):
    category = indexed_catalogue[5].category
    in_category = Product.objects.filter(category=category).order_by("-pk")
    before = photo_search(filters={"category": [category]})
    pinned = next(p for p in in_category if p.pk != ids(before)[0])
    rule(kind="pin", filter_category=category, product=pinned, position=1, name="category pin")

    filtered = photo_search(filters={"category": [category]})
    unfiltered = photo_search()

    assert ids(filtered)[0] == pinned.pk
    assert [r["kind"] for r in filtered["rules"]] == ["pin"]
    assert unfiltered["rules"] == []


def test_a_boost_for_any_query_reorders_a_photo_search_and_more_like_this(
    indexed_catalogue,  # noqa: F811
):
    before = photo_search()
    low = Product.objects.get(pk=ids(before)[-1])
    rule(kind="boost", match="any", attribute="brand", value=low.brand, weight=100)
    similar_url = f"/api/v1/products/{indexed_catalogue[3].pk}/similar/?limit=10"
    nearest = Product.objects.get(pk=ids(APIClient().get(similar_url).json())[0])
    rule(kind="hide", match="any", product=nearest, name="recall")

    after = photo_search()
    similar = APIClient().get(similar_url).json()

    assert ids(after).index(low.pk) < ids(before).index(low.pk)
    assert "boost" in [r["kind"] for r in after["rules"]]
    assert nearest.pk not in ids(similar)
    assert "hide" in [r["kind"] for r in similar["rules"]]


def test_a_photo_search_without_wordless_rules_is_the_one_leg_page_as_before(
    indexed_catalogue,  # noqa: F811
):
    before = photo_search()
    rule(kind="pin", match="exact", query="leather boot", product=indexed_catalogue[0], position=1)

    after = photo_search()

    assert after["rules"] == []
    # Still the image leg's own page: its scores are the cosine similarities, not fused ranks.
    assert [row["score"] for row in after["results"]] == [row["score"] for row in before["results"]]
    assert ids(after) == ids(before)
