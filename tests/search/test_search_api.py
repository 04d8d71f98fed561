"""POST /api/v1/search/ and GET /api/v1/products/{id}/similar/ over the real index path."""

import io
import json
import os
import struct
import zlib

import pytest
from rest_framework.test import APIClient

from catalog import services
from catalog.models import Product
from catalog.sample_data import draw_product, generate_products
from tests.factories import jpeg_bytes

pytestmark = pytest.mark.django_db


def search(client=None, **body):
    return (client or APIClient()).post("/api/v1/search/", body, format="json")


def photo_search(data: bytes, name="photo.jpg", client=None, **fields):
    file = io.BytesIO(data)
    file.name = name
    payload = {"image": file}
    for key, value in fields.items():
        payload[key] = json.dumps(value) if isinstance(value, dict) else value
    return (client or APIClient()).post("/api/v1/search/", payload, format="multipart")


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size (a decompression bomb's signature)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", len(idat))
        + b"IDAT"
        + idat
        + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
        + struct.pack(">I", 0)
        + b"IEND"
        + struct.pack(">I", zlib.crc32(b"IEND"))
    )


# --- Bad input: each a 400 whose detail names the field -----------------------------------------

JSON_CASES = [
    ("no text and no image", {}, "text"),
    ("blank text", {"text": "   "}, "text"),
    ("text over 500 characters", {"text": "x" * 501}, "text"),
    ("limit 0", {"text": "shoe", "limit": 0}, "limit"),
    ("limit 10,000", {"text": "shoe", "limit": 10_000}, "limit"),
    ("negative offset", {"text": "shoe", "offset": -1}, "offset"),
    ("text_weight without a photo", {"text": "shoe", "text_weight": 0.3}, "text_weight"),
    ("unknown filter", {"text": "shoe", "filters": {"colour": "red"}}, "colour"),
    (
        "price_min above price_max",
        {"text": "shoe", "filters": {"price_min": 50, "price_max": 10}},
        "price_min",
    ),
    ("filters not an object", {"text": "shoe", "filters": "cheap"}, "filters"),
    ("unknown leg", {"text": "shoe", "weights": {"vibes": 1}}, "vibes"),
    ("min_score out of range", {"text": "shoe", "min_score": 3}, "min_score"),
]


@pytest.mark.parametrize(("case", "body", "field"), JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_bad_json_input_is_a_400_naming_the_field(case, body, field):
    response = search(**body)
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]


def test_malformed_json_is_a_400():
    response = APIClient().post(
        "/api/v1/search/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


PHOTO_CASES = [
    (
        "text_weight 1.5",
        jpeg_bytes(),
        "photo.jpg",
        {"text": "red", "text_weight": "1.5"},
        "text_weight",
    ),
    ("an image bomb", png_claiming(30000, 30000), "bomb.png", {}, "image"),
    ("a non-image file", b"%PDF-1.7\n%%EOF\n", "photo.jpg", {}, "image"),
    ("malformed filters JSON", jpeg_bytes(), "photo.jpg", {"filters": "{nope"}, "filters"),
]


@pytest.mark.parametrize(
    ("case", "data", "name", "fields", "field"), PHOTO_CASES, ids=[c[0] for c in PHOTO_CASES]
)
def test_bad_photo_input_is_a_400_naming_the_field(case, data, name, fields, field):
    response = photo_search(data, name=name, **fields)
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]


def test_photo_over_the_byte_cap_is_a_400(settings):
    from PIL import Image

    noisy = io.BytesIO()
    Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(
        noisy, format="JPEG", quality=95
    )
    settings.MAX_UPLOAD_BYTES = 5_000
    assert len(noisy.getvalue()) > 5_000
    response = photo_search(noisy.getvalue())
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("image:")
    assert "limit" in detail


# --- Behaviour over an indexed catalogue -------------------------------------------------------------


def test_text_search_answers_with_results_facets_and_timings(indexed_catalogue):
    response = search(text="leather jacket", limit=5)
    assert response.status_code == 200
    body = response.json()
    assert body["query_type"] == "text"
    assert len(body["results"]) == 5
    assert body["total"] == len(indexed_catalogue)
    assert set(body["stages"]) >= {"encode", "vector_search", "hydrate"}
    assert "decode" not in body["stages"]  # no photo to decode
    assert sum(body["facets"]["category"].values()) == len(indexed_catalogue)
    first = body["results"][0]
    assert {
        "product_id",
        "title",
        "price",
        "currency",
        "brand",
        "category",
        "merchant",
        "image_url",
        "thumbnail_url",
        "score",
    } <= set(first)
    assert first["thumbnail_url"].endswith(".webp")
    assert len({row["product_id"] for row in body["results"]}) == 5


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        ({"category": "jackets"}, lambda p: p.category == "jackets"),
        ({"category": ["mugs", "lamps"]}, lambda p: p.category in ("mugs", "lamps")),
        ({"price_min": 50, "price_max": 200}, lambda p: 50 <= p.price <= 200),
        ({"in_stock": True}, lambda p: p.in_stock),
        ({"merchant": "harbour"}, lambda p: p.merchant.slug == "harbour"),
    ],
)
def test_filters_narrow_results(indexed_catalogue, filters, check):
    response = search(text="something nice", limit=100, filters=filters)
    assert response.status_code == 200
    body = response.json()
    expected = [p for p in Product.objects.select_related("merchant") if check(p)]
    assert body["total"] == len(expected)
    assert {row["product_id"] for row in body["results"]} == {p.pk for p in expected}


def test_facets_are_disjunctive_each_counted_under_the_other_filters(indexed_catalogue):
    # Given a search filtered to one category and one merchant
    products = list(Product.objects.select_related("merchant"))
    category = products[0].category
    merchant = products[0].merchant.slug
    body = search(
        text="something", limit=1, filters={"category": [category], "merchant": merchant}
    ).json()

    def counts(of, keep):
        tally: dict[str, int] = {}
        for product in products:
            if keep(product):
                tally[of(product)] = tally.get(of(product), 0) + 1
        return tally

    # Then the category facet counts every category of that merchant (ticking another one
    # adds products), while the brand facet is narrowed by both filters
    assert body["total"] == sum(
        1 for p in products if p.category == category and p.merchant.slug == merchant
    )
    assert body["facets"]["category"] == counts(
        lambda p: p.category, lambda p: p.merchant.slug == merchant
    )
    assert len(body["facets"]["category"]) > 1
    assert body["facets"]["brand"] == counts(
        lambda p: p.brand,
        lambda p: p.brand and p.category == category and p.merchant.slug == merchant,
    )


def test_inactive_products_never_appear(indexed_catalogue, django_capture_on_commit_callbacks):
    hidden = indexed_catalogue[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.product_update(product=hidden, data={"is_active": False})
    for body in (
        search(text=hidden.title, limit=100).json(),
        photo_search(draw_product(generate_products(28, seed=11)[0], size=96), limit="100").json(),
    ):
        assert hidden.pk not in {row["product_id"] for row in body["results"]}


def test_similar_excludes_the_product_and_pages(indexed_catalogue):
    source = indexed_catalogue[3]
    first = APIClient().get(f"/api/v1/products/{source.pk}/similar/?limit=5").json()
    second = APIClient().get(f"/api/v1/products/{source.pk}/similar/?limit=5&offset=5").json()
    ids = [row["product_id"] for row in first["results"] + second["results"]]
    assert first["query_type"] == "similar"
    assert source.pk not in ids
    assert len(ids) == len(set(ids)) == 10


def test_similar_of_an_unknown_product_is_404(db):
    response = APIClient().get("/api/v1/products/999999/similar/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_similar_with_an_unknown_parameter_is_400(indexed_catalogue):
    response = APIClient().get(f"/api/v1/products/{indexed_catalogue[0].pk}/similar/?colour=red")
    assert response.status_code == 400
    assert "colour" in response.json()["detail"]


def test_photo_and_hybrid_searches(indexed_catalogue):
    photo = draw_product(generate_products(28, seed=11)[5], size=96)
    by_photo = photo_search(photo, limit="5").json()
    hybrid = photo_search(photo, text="leather", text_weight="0.7", limit="5").json()
    assert by_photo["query_type"] == "photo"
    assert by_photo["legs"] == ["image"]
    assert len(by_photo["results"]) == 5
    assert hybrid["query_type"] == "hybrid"
    assert set(hybrid["legs"]) == {"image", "text", "keywords"}
    # the photo's decoding is timed as a stage of its own, first, and counted in took_ms; the
    # words of a hybrid query are understood (identifiers, typos) and expanded by the
    # merchandising synonyms before anything is encoded
    stages = ["decode", "encode", "vector_search", "hydrate"]
    assert list(by_photo["stages"])[:4] == stages
    assert list(hybrid["stages"])[:6] == ["decode", "understand", "rules", *stages[1:]]
    for body in (by_photo, hybrid):
        assert body["took_ms"] == pytest.approx(sum(body["stages"].values()), abs=0.02)


def test_a_photo_search_leaves_no_file_behind(indexed_catalogue, settings, tmp_path, monkeypatch):
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # Django would spill anything bigger to disk
    media_before = sorted(p.name for p in (tmp_path / "media").rglob("*"))
    response = photo_search(jpeg_bytes(size=(256, 256)))
    assert response.status_code == 200
    assert sorted(p.name for p in (tmp_path / "media").rglob("*")) == media_before
    assert list(spool.iterdir()) == []


def test_results_page_is_hydrated_in_one_query(indexed_catalogue, django_assert_num_queries):
    client = APIClient()
    search(client, text="warm up caches")  # alias and model lookups are cached per process
    with django_assert_num_queries(1):
        response = search(client, text="blue backpack", limit=10)
    assert len(response.json()["results"]) == 10


def test_text_embeddings_are_cached(indexed_catalogue):
    from search.query.service import _text_cache

    search(text="green kettle")
    misses = _text_cache.misses
    search(text="green kettle", offset=5)
    assert _text_cache.misses == misses
    assert _text_cache.hits >= 2  # the CLIP and the product-text vectors


def test_negative_text_moves_results_away(indexed_catalogue):
    text_only = {"image": 0, "text": 1, "keywords": 0}
    leather = {p.pk for p in indexed_catalogue if p.attributes["material"] == "leather"}

    def mean_leather_rank(body):
        ranks = [rank for rank, row in enumerate(body["results"]) if row["product_id"] in leather]
        return sum(ranks) / len(ranks)

    plain = search(text="leather bag", limit=28, weights=text_only).json()
    negated = search(
        **{"text": "leather bag", "not": "leather", "limit": 28, "weights": text_only}
    ).json()
    assert mean_leather_rank(negated) > mean_leather_rank(plain)


def test_vector_store_down_is_a_503(indexed_catalogue, settings):
    from search.vector_index import reset_vector_index

    settings.VECTOR_BACKEND = "qdrant"
    settings.QDRANT_URL = "http://127.0.0.1:9"
    settings.QDRANT_TIMEOUT = 1
    reset_vector_index()
    response = search(text="jacket")
    assert response.status_code == 503
    assert "search index" in response.json()["detail"]


def test_photo_searches_have_a_stricter_throttle(indexed_catalogue, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **rates,
            "search_photo_anon": "2/min",
            "search_text_anon": "50/min",
        },
    }
    from rest_framework.settings import api_settings

    api_settings.reload()
    statuses = [photo_search(jpeg_bytes()).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert search(text="still fine").status_code == 200
    assert "detail" in photo_search(jpeg_bytes()).json()


def test_cors_allows_configured_origins(indexed_catalogue, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    response = APIClient().options(
        "/api/v1/search/",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response["access-control-allow-origin"] == "https://app.example"
    other = APIClient().options(
        "/api/v1/search/",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "access-control-allow-origin" not in other


def test_text_search_without_clip_weights_uses_the_text_legs(indexed_catalogue, settings):
    """Offline demo: no CLIP weights at all; words still find products, and the answer says why."""
    from search.encoding.registry import reset_encoders
    from search.index import generations
    from search.models import IndexGeneration

    IndexGeneration.objects.filter(kind="images").update(model_name="/nonexistent/clip")
    settings.CLIP_MODEL = "/nonexistent/clip"
    reset_encoders()
    generations.reset()
    os.environ["HF_HUB_OFFLINE"] = "1"
    response = search(text="red jacket", limit=5)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["legs"] == ["keywords", "text"]
    assert body["results"]
    assert any("CLIP" in notice for notice in body["notices"])
    photo = photo_search(jpeg_bytes())
    assert photo.status_code == 503
    assert "CLIP_MODEL" in photo.json()["detail"]
