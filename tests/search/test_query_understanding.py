"""Query understanding through the search API: exact identifiers first, typo tolerance with a
vocabulary from the live catalogue, and category, brand and colour words as soft boosts."""

import pytest
from rest_framework.test import APIClient

from catalog import services
from catalog.models import Product
from search.index import sync as indexing
from search.query.understanding import understand
from search.query.vocabulary import wait_for_rebuilds
from search.vector_index.base import SearchFilter
from tests.factories import merchant_with_owner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generous_throttles")]


def search(**body):
    response = APIClient().post("/api/v1/search/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def top(body, n=1):
    return [row["title"] for row in body["results"][:n]]


@pytest.mark.parametrize(
    "typed", ["AC-BOO-0018", "ac-boo-0018", "acboo0018", "AC BOO 0018", "Ac_Boo.0018"]
)
def test_an_exact_sku_comes_first_whatever_its_case_and_separators(indexed_catalogue, typed):
    body = search(text=typed)

    first = body["results"][0]
    assert first["title"] == "Slim brown leather boot"
    assert first["match"] == "identifier"
    assert all(row["match"] is None for row in body["results"][1:])
    assert body["corrected"] is None


@pytest.mark.parametrize(
    ("field", "typed"),
    [("gtin", "4006381333931"), ("gtin", "4006-3813-3393-1"), ("mpn", "xt 500/b")],
)
def test_gtin_and_mpn_are_identifiers_too(indexed_catalogue, field, typed):
    lamp = Product.objects.get(sku="VE-LAM-0026")
    services.product_update(product=lamp, data={"gtin": "4006381333931", "mpn": "XT-500B"})

    first = search(text=typed)["results"][0]

    assert (first["product_id"], first["match"]) == (lamp.pk, "identifier")


def test_an_identifier_outside_the_filters_is_not_forced_in(indexed_catalogue):
    body = search(text="AC-BOO-0018", filters={"category": ["lamps"]})

    assert {row["category"] for row in body["results"]} == {"lamps"}
    assert all(row["match"] is None for row in body["results"])


def test_the_start_of_an_identifier_ranks_its_products_high(indexed_catalogue):
    body = search(text="VE-LAM-00")

    assert top(body) == ["Yellow brass lamp"]
    assert body["results"][0]["match"] is None
    assert "identifier" in body["legs"]


def test_misspelt_words_are_corrected_against_the_catalogue(indexed_catalogue):
    body = search(text="brown lether boott")
    as_meant = search(text="brown leather boot")

    assert body["corrected"] == "brown leather boot"
    assert top(body, 3) == top(as_meant, 3)
    assert "keywords" in body["results"][0]["legs"]


def test_typo_tolerance_can_be_switched_off(indexed_catalogue):
    body = search(text="brown lether boott", typo_tolerance=False)

    assert body["corrected"] is None


def test_known_words_and_stop_words_are_left_alone(indexed_catalogue):
    body = search(text="a red jacket in cotton")

    assert body["corrected"] is None
    assert body["recognised"] == {"category": ["jackets"], "brand": [], "colour": ["red"]}


def test_the_vocabulary_follows_the_catalogue(indexed_catalogue, settings):
    settings.SEARCH_VOCABULARY_TTL = 0
    settings.SEARCH_VOCABULARY_BACKGROUND = False  # the test's rows are in its transaction
    assert search(text="parkka")["corrected"] is None  # no such word in the shop yet

    parka = services.product_create(
        merchant=indexed_catalogue[0].merchant,
        sku="NEW-PARKA-1",
        title="Quilted parka",
        price="120.00",
        category="jackets",
    )
    indexing.index_products([parka.pk])
    body = search(text="parkka")

    assert body["corrected"] == "parka"
    assert top(body) == ["Quilted parka"]


def test_the_vocabulary_is_the_merchants_own_when_the_search_is_narrowed_to_it(
    indexed_catalogue, settings
):
    settings.SEARCH_VOCABULARY_TTL = 0
    settings.SEARCH_VOCABULARY_BACKGROUND = False
    harbour, maple = (p.merchant for p in indexed_catalogue[:2])
    services.product_create(
        merchant=harbour, sku="ONLY-H-1", title="Quilted parka", price="99", category="jackets"
    )

    narrowed_to_other = search(text="parkka", filters={"merchant": maple.slug})
    narrowed_to_owner = search(text="parkka", filters={"merchant": harbour.slug})

    assert narrowed_to_other["corrected"] is None
    assert narrowed_to_owner["corrected"] == "parka"


def test_category_and_colour_words_are_recognised(indexed_catalogue):
    body = search(text="lamp in mustard")

    assert body["recognised"] == {"category": ["lamps"], "brand": [], "colour": ["yellow"]}
    assert top(body) == ["Yellow brass lamp"]


def test_recognised_words_boost_but_do_not_filter(indexed_catalogue):
    body = search(text="black lamps", limit=28)

    assert body["recognised"]["category"] == ["lamps"]
    assert body["results"][0]["category"] == "lamps"
    # The black chair is no lamp, but a shopper asking for black things still sees it.
    assert "Black leather chair" in top(body, 28)


def test_brand_names_are_recognised(indexed_catalogue):
    body = search(text="Velo sneakers")

    assert body["recognised"]["brand"] == ["Velo"]
    assert body["recognised"]["category"] == ["sneakers"]
    assert top(body) == ["Red mesh sneaker"]


def test_understanding_off_searches_the_words_as_typed(indexed_catalogue, settings):
    settings.SEARCH_QUERY_UNDERSTANDING = False

    body = search(text="brown lether boott")

    assert body["corrected"] is None
    assert body["recognised"] == {"category": [], "brand": [], "colour": []}


def test_words_that_name_a_category_only_there_are_learnt_from_the_catalogue(db):
    merchant, _ = merchant_with_owner(name="Harbour")
    for number in range(3):
        services.product_create(
            merchant=merchant,
            sku=f"BP-{number}",
            title=f"Trail pack {number}",
            description="A roomy rucksack with a padded back.",
            price="50",
            category="backpacks",
        )
    services.product_create(
        merchant=merchant,
        sku="JK-1",
        title="Rain jacket",
        description="Padded shoulders.",
        price="90",
        category="jackets",
    )

    assert understand("canvas rucksack", SearchFilter()).categories == ("backpacks",)
    # "padded" is used by both categories: it names neither.
    assert understand("padded", SearchFilter()).categories == ()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gtin": "12ab"}, "gtin"),
        ({"gtin": "1" * 21}, "gtin"),
        ({"mpn": "x" * 65}, "mpn"),
    ],
)
def test_merchant_api_checks_identifiers(db, body, field):
    _, owner = merchant_with_owner(name="Harbour")
    client = APIClient()
    client.force_authenticate(owner)
    response = client.post(
        "/api/v1/merchant/products/",
        {"sku": "A-1", "title": "Mug", "price": "9.00", **body},
        format="json",
    )

    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_merchant_api_stores_identifiers(db):
    _, owner = merchant_with_owner(name="Harbour")
    client = APIClient()
    client.force_authenticate(owner)
    response = client.post(
        "/api/v1/merchant/products/",
        {"sku": "A-1", "title": "Mug", "price": "9.00", "gtin": "0 12345 67890 5", "mpn": "M-9"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert (response.json()["gtin"], response.json()["mpn"]) == ("0 12345 67890 5", "M-9")


@pytest.mark.django_db(transaction=True)
def test_a_changed_catalogue_is_relearnt_in_the_background(settings):
    # Given a vocabulary in use, and a catalogue that then gains a word
    settings.SEARCH_VOCABULARY_TTL = 0
    merchant, _ = merchant_with_owner(name="Harbour")
    services.product_create(merchant=merchant, sku="J-1", title="Rain jacket", price="90")
    assert understand("parkka", SearchFilter()).corrected is None
    services.product_create(merchant=merchant, sku="P-1", title="Quilted parka", price="120")

    # When a search notices the change, it is served at once with what it had
    assert understand("parkka", SearchFilter()).corrected is None

    # Then, once the rebuild is done, the new word is known
    wait_for_rebuilds()
    assert understand("parkka", SearchFilter()).corrected == "parka"
