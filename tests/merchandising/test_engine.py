"""The rules engine on a given fused ranking (no vector index): conditions, time windows, the
switch, category pins, and each boost attribute."""

from datetime import timedelta

import pytest
from django.utils import timezone

from merchandising import engine
from merchandising.models import Rule
from search.query.types import ResultItem, SearchQuery
from search.vector_index.base import SearchFilter
from tests.factories import ProductFactory, merchant_with_owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def products():
    merchant, _ = merchant_with_owner(name="Harbour")
    return [
        ProductFactory(merchant=merchant, brand="Acme", category="mugs", price="10.00"),
        ProductFactory(merchant=merchant, brand="Fjord", category="lamps", price="300.00"),
        ProductFactory(merchant=merchant, brand="Velo", category="mugs", price="50.00"),
        ProductFactory(merchant=merchant, brand="Velo", category="jackets", price="90.00"),
    ]


def ranked(products):
    return [
        ResultItem(product_id=p.pk, score=1.0 / (11 + n), image_id=None, legs={}, leg_scores={})
        for n, p in enumerate(products)
    ]


def order(text, products, **filters):
    query = SearchQuery(text=text, filter=SearchFilter(**filters))
    items, _ = engine.rank(query, ranked(products))
    return [item.product_id for item in items]


def pin_last_first(products, **fields):
    return Rule.objects.create(name="pin", kind="pin", product=products[-1], position=1, **fields)


def test_a_words_pin_matches_any_order_and_plurals_not_other_words(products):
    pin_last_first(products, query="leather boot", match="words")

    assert order("Boots LEATHER", products)[0] == products[-1].pk
    assert order("leather boot black", products)[0] == products[0].pk


def test_a_category_pin_needs_the_category_filter(products):
    pin_last_first(products, match="any", filter_category="jackets")

    assert order("anything", products, categories=("jackets",))[0] == products[-1].pk
    assert order("anything", products)[0] == products[0].pk


def test_a_pin_outside_the_filters_is_not_added(products):
    pin_last_first(products, query="mug")

    assert order("mug", products[:2], categories=("mugs",)) == [p.pk for p in products[:2]]
    assert order("mug", products[:2])[0] == products[-1].pk  # added when the filters allow


@pytest.mark.parametrize(
    ("starts", "ends", "applies"),
    [
        (None, None, True),
        (-2, -1, False),  # over
        (1, 2, False),  # not yet
        (-1, 1, True),
        (None, -1, False),
        (-1, None, True),
    ],
)
def test_time_windows(products, starts, ends, applies):
    now = timezone.now()
    pin_last_first(
        products,
        query="mug",
        starts_at=now + timedelta(hours=starts) if starts is not None else None,
        ends_at=now + timedelta(hours=ends) if ends is not None else None,
    )

    assert (order("mug", products)[0] == products[-1].pk) is applies


def test_a_disabled_rule_does_nothing(products):
    pin_last_first(products, query="mug", enabled=False)

    assert order("mug", products)[0] == products[0].pk


@pytest.mark.parametrize(
    ("fields", "first"),
    [
        ({"attribute": "brand", "value": "FJORD"}, 1),
        ({"attribute": "category", "value": "jackets"}, 3),
        ({"attribute": "merchant", "value": "harbour"}, 0),  # all of them: order kept
        ({"attribute": "price", "price_min": "60", "price_max": "100"}, 3),
    ],
)
def test_boost_attributes(products, fields, first):
    Rule.objects.create(name="b", kind="boost", match="any", weight=5, **fields)

    assert order("x", products)[0] == products[first].pk


def test_bury_moves_matching_products_below_the_rest(products):
    Rule.objects.create(
        name="b", kind="bury", match="any", attribute="brand", value="acme", weight=5
    )

    assert order("x", products)[-1] == products[0].pk


def test_hide_and_pin_report_themselves(products):
    hide = Rule.objects.create(name="recall", kind="hide", query="mug", product=products[0])
    pin = pin_last_first(products, query="mug")

    items, applied = engine.rank(SearchQuery(text="mug"), ranked(products))

    assert products[0].pk not in [item.product_id for item in items]
    assert [rule.id for rule in applied] == [str(hide.pk), str(pin.pk)]
    assert engine.rank(SearchQuery(text="mugs"), ranked(products))[1] == []
