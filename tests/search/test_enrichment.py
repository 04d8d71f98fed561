"""Catalogue enrichment from images: colours from pixels, colour filters and facets in search
(merchant's colour wins), near-duplicate flags and their admin review."""

import json

import pytest
from PIL import Image
from rest_framework.test import APIClient

from catalog import selectors, services
from catalog.models import ProductImage
from catalog.sample_data import SWATCH_COLOURS, create_sample_product, draw_product
from catalog.sample_data import generate_products as sample_products
from search.enrichment.colors import dominant_colours, product_colours
from search.enrichment.palette import load_palette
from search.enrichment.service import enrich_images
from search.index import outbox
from search.index import sync as indexing
from tests.factories import merchant_with_owner, recoloured_copy

PALETTE = load_palette()


def top_colour_accuracy(count: int, *, size: int, seed: int) -> float:
    samples = sample_products(count, seed=seed, colours=SWATCH_COLOURS)
    right = total = 0
    for number, sample in enumerate(samples):
        for backdrop in ("plain", "textured"):
            data = draw_product(sample, size=size, variant=number % 3, backdrop=backdrop)
            right += dominant_colours(data, PALETTE)[0].name == sample.colour
            total += 1
    return right / total


def test_top_colour_is_right_on_plain_and_textured_backdrops():
    # 13 palette names x 14 drawn shapes, each on a plain and a textured backdrop.
    assert top_colour_accuracy(98, size=160, seed=21) >= 0.95


@pytest.mark.parametrize(
    ("colour", "expected"),
    [((200, 30, 40), "red"), ((25, 35, 90), "navy"), ((215, 195, 155), "beige")],
)
def test_a_product_filling_a_textured_frame_is_named_not_its_backdrop(colour, expected):
    image = Image.new("RGB", (120, 120), (214, 214, 216))
    image.paste(colour, (25, 25, 95, 95))
    assert [c.name for c in dominant_colours(image, PALETTE)] == [expected]


def test_zero_shot_attributes_keep_a_clear_value_and_drop_an_unsure_one():
    import numpy as np

    from search.enrichment.attributes import load_vocabularies, score_attributes

    vocabularies = load_vocabularies()
    attributes = vocabularies.for_category("dresses")
    assert {a.name for a in attributes} == {"pattern", "sleeve length", "length"}
    assert "pattern" not in {a.name for a in vocabularies.for_category("chairs")}
    # Orthogonal prompt vectors: an image on one prompt is sure, one between all is not.
    every = [prompt for attribute in attributes for prompt in attribute.prompts]
    prompts = dict(zip(every, np.eye(len(every)), strict=True))
    pattern = next(a for a in attributes if a.name == "pattern")
    striped = prompts[pattern.prompts[pattern.values.index("striped")]]
    unsure = np.mean([prompts[p] for p in pattern.prompts], axis=0)
    clear = score_attributes(striped[None, :], [pattern], prompts)
    assert clear["pattern"]["value"] == "striped" and clear["pattern"]["confidence"] > 0.9
    assert score_attributes((unsure / np.linalg.norm(unsure))[None, :], [pattern], prompts) == {}


def test_product_colours_average_the_images_and_drop_small_shares():
    per_image = [
        [{"name": "red", "share": 0.8, "hex": "#c81e28"}, {"name": "white", "share": 0.2}],
        [{"name": "red", "share": 0.9, "hex": "#c81e28"}, {"name": "black", "share": 0.1}],
    ]
    assert [c["name"] for c in product_colours(per_image, min_share=0.15)] == ["red"]


def test_the_merchants_colour_wins_over_the_derived_one(db):
    merchant, _ = merchant_with_owner(name="Colours")
    product = services.product_create(
        merchant=merchant, sku="C-1", title="Coat", price="10", attributes={"colour": "Burgundy"}
    )
    services.product_set_derived(product_id=product.pk, colors=[{"name": "red", "share": 1}])
    product.refresh_from_db()
    assert selectors.product_colors(product=product)["values"] == ["burgundy"]
    assert selectors.product_colors(product=product)["source"] == "merchant"


# --- Search: colour filter and facet through the index pipeline, on both backends -----------


@pytest.fixture
def coloured_catalogue(db, clip_settings, vector_backend, settings, tmp_path):
    settings.SEARCH_EXACT = True
    # The tiny random CLIP is sure of nothing: a vocabulary with threshold 0 keeps each
    # product's best value, so the derived path is exercised (calibration is the file's job).
    vocabulary = tmp_path / "attributes.json"
    vocabulary.write_text(
        json.dumps(
            {
                "default": {"pattern": {"values": ["plain", "striped", "floral"], "threshold": 0}},
                "categories": {"lamps": {"pattern": None}},
            }
        )
    )
    settings.ENRICHMENT_ATTRIBUTES_FILE = str(vocabulary)
    merchant, _ = merchant_with_owner(name="Palette")
    samples = sample_products(20, seed=4, colours=SWATCH_COLOURS)
    products = []
    for number, sample in enumerate(samples):
        # Thin metadata: no colour typed, except a few where the merchant's word must win.
        typed = {"color": "Teal"} if number % 7 == 3 else {}
        if number % 5 == 1:
            typed["pattern"] = "Striped"  # the merchant's word wins over the derived pattern
        sample = type(sample)(**{**sample.__dict__, "attributes": typed})
        products.append(
            create_sample_product(
                merchant,
                sample,
                image_size=128,
                backdrop="textured" if number % 2 else "plain",
            )
        )
    indexing.index_products([p.pk for p in products])
    image_ids = list(ProductImage.objects.order_by("id").values_list("id", flat=True))
    indexing.index_images(image_ids)
    report = enrich_images(image_ids)
    assert len(report.enriched) == len(image_ids)
    # The derived colours reach the payloads through the outbox, as any product change does.
    outbox.relay(seconds=60)
    return products


def effective(product) -> list[str]:
    product.refresh_from_db()
    return selectors.product_colors(product=product)["values"]


def test_colour_filter_returns_exactly_the_matching_products(coloured_catalogue):
    colours = {p.pk: effective(p) for p in coloured_catalogue}
    wanted = next(
        name for name in ("red", "blue", "black") if any(name in c for c in colours.values())
    )
    client = APIClient()
    for colour_filter in ([wanted], ["teal"], [wanted, "teal"]):
        expected = {pk for pk, names in colours.items() if set(names) & set(colour_filter)}
        response = client.post(
            "/api/v1/search/",
            {"text": "product", "filters": {"color": colour_filter}, "limit": 50},
            format="json",
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert {r["product_id"] for r in body["results"]} <= expected
        assert body["total"] == len(expected)
    facet = client.post("/api/v1/search/", {"text": "product", "limit": 1}, format="json").json()
    counts: dict[str, int] = {}
    for names in colours.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    assert facet["facets"]["color"] == dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    # The merchant corrects a derived colour: the filter follows, through the outbox.
    corrected = coloured_catalogue[0]
    services.product_colors_confirm(product=corrected, colors=["Purple"])
    outbox.relay(seconds=60)
    response = client.post(
        "/api/v1/search/", {"text": "product", "filters": {"color": "purple"}}, format="json"
    )
    assert corrected.pk in {r["product_id"] for r in response.json()["results"]}

    # Zero-shot attributes: the filter returns exactly the products whose value (the merchant's,
    # else the derived one) matches, and the facet counts them.
    for product in coloured_catalogue:
        product.refresh_from_db()
    values = {
        p.pk: selectors.product_attribute_values(product=p).get("pattern", {}).get("values", [])
        for p in coloured_catalogue
    }
    derived = sorted({v for names in values.values() for v in names} - {"striped"})
    assert derived, "the tiny CLIP derived no pattern at all: the derived path went untested"
    for chosen in (["striped"], derived[:1], ["striped", derived[0]]):
        expected = {pk for pk, names in values.items() if set(names) & set(chosen)}
        body = client.post(
            "/api/v1/search/",
            {"text": "product", "filters": {"attributes": {"pattern": chosen}}, "limit": 50},
            format="json",
        ).json()
        assert {r["product_id"] for r in body["results"]} <= expected
        assert body["total"] == len(expected)
    facets = client.post("/api/v1/search/", {"text": "product", "limit": 1}, format="json").json()
    pattern_counts: dict[str, int] = {}
    for names in values.values():
        for name in names:
            pattern_counts[name] = pattern_counts.get(name, 0) + 1
    assert facets["facets"]["attributes"].get("pattern", {}) == pattern_counts

    # Diversity re-orders the page, never changes which products match.
    plain, diverse = (
        client.post(
            "/api/v1/search/",
            {"text": "product", "limit": 50, "diversity": diversity},
            format="json",
        ).json()["results"]
        for diversity in (0, 0.7)
    )
    assert sorted(r["product_id"] for r in diverse) == sorted(r["product_id"] for r in plain)


def test_an_unknown_filter_value_type_is_a_400_naming_the_field(db):
    response = APIClient().post(
        "/api/v1/search/", {"text": "x", "filters": {"color": [{"a": 1}]}}, format="json"
    )
    assert response.status_code == 400
    assert "color" in response.json()["detail"] or "color" in str(response.json())


# --- Near-duplicates ----------------------------------------------------------------------------


def test_a_near_duplicate_upload_is_flagged_with_its_twin_and_listed_for_review(
    db, clip_settings, client
):
    merchant, owner = merchant_with_owner(name="Dupes")
    first, second, other = sample_products(3, seed=9, colours=SWATCH_COLOURS)
    original = create_sample_product(merchant, first, image_size=160)
    copy = services.product_create(merchant=merchant, sku="COPY-1", title="Copy", price="5")
    services.product_image_create(product=copy, data=recoloured_copy(draw_product(first, size=160)))
    distinct = create_sample_product(merchant, other, image_size=160)
    image_ids = list(ProductImage.objects.order_by("id").values_list("id", flat=True))
    indexing.index_images(image_ids)

    report = enrich_images(image_ids)

    original_image = original.images.get()
    copy_image = copy.images.get()
    assert report.duplicates == {copy_image.pk: original_image.pk}
    copy_image.refresh_from_db()
    assert copy_image.duplicate_of_id == original_image.pk
    assert distinct.images.get().duplicate_of_id is None
    groups = selectors.near_duplicate_groups()
    assert [(o.pk, [d.pk for d in dupes]) for o, dupes in groups] == [
        (original_image.pk, [copy_image.pk])
    ]
    api = APIClient()
    api.force_authenticate(owner)
    shown = api.get(f"/api/v1/merchant/products/{copy.pk}/images/").json()[0]
    assert (shown["duplicate_of"], shown["duplicate_dismissed"]) == (original_image.pk, False)
    assert shown["colors"] and shown["colors"][0]["name"] == first.colour
    client.force_login(owner)
    page = client.get("/admin/catalog/productimage/near-duplicates/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/admin/catalog/productimage/{copy_image.pk}/change/" in html
    assert f"/admin/catalog/productimage/{original_image.pk}/change/" in html

    dismissed = client.post(
        "/admin/catalog/productimage/near-duplicates/", {"dismiss": copy_image.pk}
    )
    assert dismissed.status_code == 302
    assert selectors.near_duplicate_groups() == []


# --- Diversity (MMR) ----------------------------------------------------------------------------


def test_mmr_moves_a_near_identical_image_below_a_different_one():
    import numpy as np

    from search.query.diversity import mmr
    from search.query.types import ResultItem

    same = np.array([1.0, 0.0], dtype=np.float32)
    other = np.array([0.0, 1.0], dtype=np.float32)
    items = [
        ResultItem(product_id=p, score=s, image_id=p, legs={}, leg_scores={})
        for p, s in ((1, 0.9), (2, 0.89), (3, 0.5))
    ]
    vectors = {1: same, 2: same, 3: other}
    assert [i.product_id for i in mmr(items, vectors, diversity=0.0, k=3)] == [1, 2, 3]
    assert [i.product_id for i in mmr(items, vectors, diversity=0.5, k=3)] == [1, 3, 2]


@pytest.mark.parametrize("value", [-0.1, 1.5, "lots"])
def test_diversity_outside_0_to_1_is_a_400_naming_the_field(db, value):
    response = APIClient().post("/api/v1/search/", {"text": "x", "diversity": value}, format="json")
    assert response.status_code == 400
    assert "diversity" in response.content.decode()


# --- Merchant API: see, confirm and correct the derived colours -----------------------------


def test_merchant_sees_confirms_and_corrects_derived_colours(db):
    from rest_framework.authtoken.models import Token

    merchant, owner = merchant_with_owner(name="Own")
    product = services.product_create(merchant=merchant, sku="A-1", title="Bag", price="20")
    services.product_set_derived(
        product_id=product.pk, colors=[{"name": "green", "share": 0.7, "hex": "#289646"}]
    )
    stranger = merchant_with_owner(name="Other")[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    url = f"/api/v1/merchant/products/{product.pk}/colors/"

    shown = client.get(f"/api/v1/merchant/products/{product.pk}/").json()["colors"]
    assert shown == {
        "values": ["green"],
        "source": "derived",
        "derived": [{"name": "green", "share": 0.7, "hex": "#289646"}],
    }
    confirmed = client.post(url, {}, format="json").json()
    assert (confirmed["values"], confirmed["source"]) == (["green"], "merchant")
    corrected = client.post(url, {"colors": ["Olive"]}, format="json").json()
    assert (corrected["values"], corrected["source"]) == (["olive"], "merchant")
    assert client.post(url, {"colors": []}, format="json").status_code == 400
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=stranger).key}")
    assert client.get(url).status_code == 404


# --- Backfill -----------------------------------------------------------------------------------


def test_the_backfill_enriches_in_batches_and_a_second_run_finds_nothing_left(db, clip_settings):
    from io import StringIO

    from django.core.management import call_command

    merchant, _ = merchant_with_owner(name="Backfill")
    for sample in sample_products(3, seed=5, colours=SWATCH_COLOURS):
        create_sample_product(merchant, sample, image_size=96)
    image_ids = list(ProductImage.objects.order_by("id").values_list("id", flat=True))
    indexing.index_images(image_ids)
    first, again = StringIO(), StringIO()

    call_command("enrich_catalog", "--batch-size", "2", "--no-progress", stdout=first)
    call_command("enrich_catalog", "--no-progress", stdout=again)

    assert first.getvalue().startswith(f"enriched {len(image_ids)} image(s)")
    assert again.getvalue().startswith("enriched 0 image(s)")
    assert not ProductImage.objects.filter(enriched_at__isnull=True).exists()
