"""The API's ranking, paging and one-result-per-product grouping against a brute-force numpy
ranking over the same vectors (exact search mode), with and without filters."""

import io
import itertools
import json

import numpy as np
import pytest
from rest_framework.test import APIClient

from catalog import services
from catalog.intake import decode_query_image
from catalog.models import ProductImage
from search.index import generations
from search.index import sync as indexing
from search.models import ImageEmbedding
from tests.factories import jpeg_bytes, merchant_with_owner, png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("generous_throttles")]

CATEGORIES = ("shoes", "bags", "hats")
BRANDS = ("Acme", "Zen", "Nova")


@pytest.fixture
def vector_catalogue(clip_settings, settings):
    """Products with 1-4 images whose vectors are random (clustered), written through the
    real indexing path from stored embeddings; some products inactive."""
    settings.SEARCH_EXACT = True
    rng = np.random.default_rng(3)
    _, encoder = generations.live_images()
    centres = rng.normal(size=(6, encoder.dim))
    shops = [merchant_with_owner(name=name)[0] for name in ("North", "South")]
    rows = []  # (product, image vectors)
    colour = 0
    for number in range(48):
        product = services.product_create(
            merchant=shops[number % 2],
            sku=f"P-{number:03d}",
            title=f"Product {number}",
            price=f"{rng.uniform(5, 300):.2f}",
            category=CATEGORIES[number % 3],
            brand=BRANDS[int(rng.integers(3))],
            in_stock=bool(rng.random() < 0.7),
            is_active=bool(rng.random() < 0.9),
        )
        own = centres[rng.integers(len(centres))] + rng.normal(scale=0.6, size=encoder.dim)
        vectors = []
        for _ in range(int(rng.integers(1, 5))):
            colour += 1
            image = services.product_image_create(
                product=product,
                data=png_bytes(colour=(colour % 256, colour // 256, 90, 255), size=(8, 8)),
            )
            vector = own + rng.normal(scale=0.4, size=encoder.dim)
            vector = (vector / np.linalg.norm(vector)).astype(np.float32)
            ImageEmbedding.objects.create(
                image=image,
                model_key=encoder.model_key,
                sha256=image.sha256,
                vector=ImageEmbedding.to_bytes(vector),
            )
            vectors.append(vector)
        rows.append((product, np.stack(vectors)))
    report = indexing.index_images(list(ProductImage.objects.values_list("id", flat=True)))
    assert report.indexed == []  # every vector came from PostgreSQL, none from the model
    return rows, encoder


def brute_force(rows, query: np.ndarray, keep) -> list[tuple[int, float]]:
    ranked = [
        (product.pk, float(np.max(vectors @ query)))
        for product, vectors in rows
        if product.is_active and keep(product)
    ]
    return sorted(ranked, key=lambda pair: (-pair[1], pair[0]))


FILTERS = [
    ({}, lambda p: True),
    ({"category": ["bags"]}, lambda p: p.category == "bags"),
    (
        {"category": ["bags", "hats"], "in_stock": True},
        lambda p: p.category in ("bags", "hats") and p.in_stock,
    ),
    ({"brand": ["Zen"]}, lambda p: p.brand == "Zen"),
    ({"price_min": 50, "price_max": 200}, lambda p: 50 <= float(p.price) <= 200),
    ({"merchant": "north"}, lambda p: p.merchant.slug == "north"),
]


def pages(fetch, limit: int, count: int) -> list[tuple[int, float]]:
    found = []
    for offset in range(0, count, limit):
        body = fetch(limit, offset)
        found += [(row["product_id"], row["score"]) for row in body["results"]]
    return found


def check(found, expected):
    assert [pid for pid, _ in found] == [pid for pid, _ in expected]
    np.testing.assert_allclose([s for _, s in found], [s for _, s in expected], atol=1e-4)


@pytest.mark.parametrize(("filters", "keep"), FILTERS)
def test_photo_ranking_paging_and_grouping_match_brute_force(vector_catalogue, filters, keep):
    rows, encoder = vector_catalogue
    client = APIClient()
    for seed in range(4):
        photo = jpeg_bytes(colour=(40 * seed, 200 - 30 * seed, 17 * seed), size=(48, 40))
        query = encoder.encode_images([decode_query_image(photo)])[0]
        expected = brute_force(rows, query, keep)

        def fetch(limit, offset, photo=photo):
            file = io.BytesIO(photo)
            file.name = "q.jpg"
            response = client.post(
                "/api/v1/search/",
                {
                    "image": file,
                    "limit": str(limit),
                    "offset": str(offset),
                    "filters": json.dumps(filters),
                },
                format="multipart",
            )
            assert response.status_code == 200, response.content
            return response.json()

        found = pages(fetch, limit=7, count=len(expected) + 7)
        check(found, expected)
        assert len({pid for pid, _ in found}) == len(found)  # one result per product


@pytest.mark.parametrize(("filters", "keep"), FILTERS[:3])
def test_text_ranking_on_the_image_leg_matches_brute_force(vector_catalogue, filters, keep):
    rows, encoder = vector_catalogue
    client = APIClient()
    for text in ("red shoe", "small leather bag", "a hat"):
        expected = brute_force(rows, encoder.encode_texts([text])[0], keep)

        def fetch(limit, offset, text=text):
            body = {
                "text": text,
                "limit": limit,
                "offset": offset,
                "filters": filters,
                "weights": {"image": 1, "text": 0, "keywords": 0},
            }
            response = client.post("/api/v1/search/", body, format="json")
            assert response.status_code == 200, response.content
            return response.json()

        check(pages(fetch, limit=10, count=len(expected) + 10), expected)


def test_similar_matches_brute_force_on_the_mean_of_the_products_vectors(vector_catalogue):
    rows, _ = vector_catalogue
    source, vectors = next((p, v) for p, v in rows if p.is_active and len(v) > 1)
    mean = vectors.mean(axis=0)
    query = (mean / np.linalg.norm(mean)).astype(np.float32)
    expected = brute_force(rows, query, lambda p: p.pk != source.pk)
    client = APIClient()

    def fetch(limit, offset):
        return client.get(
            f"/api/v1/products/{source.pk}/similar/?limit={limit}&offset={offset}"
        ).json()

    check(pages(fetch, limit=9, count=len(expected) + 9), expected)


def test_min_score_cuts_the_list_where_brute_force_does(vector_catalogue):
    rows, encoder = vector_catalogue
    photo = jpeg_bytes(colour=(10, 120, 200), size=(48, 40))
    expected = brute_force(
        rows, encoder.encode_images([decode_query_image(photo)])[0], lambda p: True
    )
    cut = len(expected) // 3
    threshold = (expected[cut][1] + expected[cut + 1][1]) / 2  # between two scores, not on one
    file = io.BytesIO(photo)
    file.name = "q.jpg"
    body = (
        APIClient()
        .post(
            "/api/v1/search/",
            {"image": file, "limit": "100", "min_score": str(threshold)},
            format="multipart",
        )
        .json()
    )
    assert [row["product_id"] for row in body["results"]] == [
        pid for pid, score in expected if score >= threshold
    ]


@pytest.mark.parametrize("mode", ["bf16", "int8"])
def test_bf16_and_int8_queries_retrieve_fp32s_top_10(vector_catalogue, clip_settings, mode):
    """Vectors of another precision live in the fp32 model's space: a catalogue indexed in
    fp32 is searched with bf16 or int8 queries through the same collection."""
    from search.encoding.registry import get_clip_encoder, reset_encoders

    rows, fp32 = vector_catalogue
    photos = [
        jpeg_bytes(colour=(40 * seed, 200 - 30 * seed, 17 * seed), size=(48, 40))
        for seed in range(3)
    ]
    texts = ("red shoe", "small leather bag")
    expected_photos = [fp32.encode_images([decode_query_image(p)])[0] for p in photos]
    expected_texts = list(fp32.encode_texts(texts))

    # given the server's CLIP switched to another precision
    clip_settings.CLIP_PRECISION = mode
    reset_encoders()
    other = get_clip_encoder()
    other.load()
    assert other.precision is not None and other.precision.mode == mode
    assert other.model_key == fp32.model_key

    # when the same photos and words are searched
    client = APIClient()
    found = []
    for photo in photos:
        file = io.BytesIO(photo)
        file.name = "q.jpg"
        response = client.post(
            "/api/v1/search/", {"image": file, "limit": "10"}, format="multipart"
        )
        found.append([row["product_id"] for row in response.json()["results"]])
    for text in texts:
        body = {"text": text, "limit": 10, "weights": {"image": 1, "text": 0, "keywords": 0}}
        response = client.post("/api/v1/search/", body, format="json")
        found.append([row["product_id"] for row in response.json()["results"]])

    # then the query vectors agree with fp32's, and the results are fp32's top 10: the same
    # products in the same order, except where fp32's own scores are closer than the query
    # moved (|score' - score| <= |q' - q| for unit vectors), where a tie may break either way
    queries = [other.encode_images([decode_query_image(p)])[0] for p in photos]
    queries += list(other.encode_texts(texts))
    expected = [*expected_photos, *expected_texts]
    assert min(float(a @ b) for a, b in zip(queries, expected, strict=True)) >= 0.99
    for ids, query, reference in zip(found, queries, expected, strict=True):
        ranked = brute_force(rows, reference, lambda p: True)
        score = dict(ranked)
        slack = 2 * float(np.linalg.norm(query - reference)) + 1e-4
        assert len(ids) == 10
        assert all(score[a] >= score[b] - slack for a, b in itertools.pairwise(ids))
        surely_in = [pid for pid, s in ranked[:10] if s > ranked[10][1] + slack]
        assert set(surely_in) <= set(ids)
        assert all(score[pid] >= ranked[9][1] - slack for pid in ids)
        assert len(surely_in) >= 5  # the check has teeth: most of the ten are no tie


@pytest.mark.slow
def test_text_queries_on_onnx_runtime_retrieve_eagers_top_10(
    vector_catalogue, clip_settings, onnx_cache
):
    """The text tower on ONNX Runtime (TEXT_RUNTIME) searches the catalogue that the torch
    model indexed: the same top 10 as eager fp32 queries. (int8 on ONNX Runtime moves the
    tiny model's queries too far for a sharp top-10 check here; its cosine check at load is
    tests/search/test_onnx_runtime.py's.)"""
    from search.encoding.registry import get_clip_encoder, reset_encoders

    rows, fp32 = vector_catalogue
    texts = ("red shoe", "small leather bag", "a hat")
    expected = list(fp32.encode_texts(texts))

    # given the server's CLIP text tower on ONNX Runtime
    clip_settings.TEXT_RUNTIME = "onnx"
    clip_settings.ONNX_CACHE_DIR = onnx_cache
    reset_encoders()
    other = get_clip_encoder()
    other.load()
    assert other.text_precision is not None and other.text_precision.runtime == "onnxruntime"

    # when the same words are searched
    client = APIClient()
    found = []
    for text in texts:
        body = {"text": text, "limit": 10, "weights": {"image": 1, "text": 0, "keywords": 0}}
        response = client.post("/api/v1/search/", body, format="json")
        found.append([row["product_id"] for row in response.json()["results"]])

    # then the results are eager fp32's top 10, ties within the query's move either way
    queries = list(other.encode_texts(texts))
    assert min(float(a @ b) for a, b in zip(queries, expected, strict=True)) >= 0.99
    for ids, query, reference in zip(found, queries, expected, strict=True):
        ranked = brute_force(rows, reference, lambda p: True)
        score = dict(ranked)
        slack = 2 * float(np.linalg.norm(query - reference)) + 1e-4
        assert len(ids) == 10
        assert all(score[a] >= score[b] - slack for a, b in itertools.pairwise(ids))
        surely_in = [pid for pid, s in ranked[:10] if s > ranked[10][1] + slack]
        assert set(surely_in) <= set(ids)
        assert len(surely_in) >= 5
