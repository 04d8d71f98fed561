"""The vector index contract, run against both backends (embedded qdrant-edge and the
qdrant-client path in local mode), checked against brute-force numpy rankings."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections import Counter

import numpy as np
import pytest

from search.encoding.keywords import keyword_document_vector, keyword_query_vector
from search.vector_index import (
    NO_FILTER,
    CollectionNotFound,
    PointData,
    SearchFilter,
    VectorStoreUnavailable,
    get_vector_index,
    reset_vector_index,
)
from search.vector_index import embedded as edge_module
from search.vector_index import qdrant as qdrant_module
from search.vector_index.embedded import EdgeVectorIndex
from search.vector_index.qdrant import QdrantVectorIndex, write_consistency_factor
from tests.fixtures.vectors import IMAGE_DIM, Catalogue, image_point_id, make_catalogue

CAT = make_catalogue()
IMAGES = "images_clip_test"


@pytest.fixture
def index(vector_backend):
    vector_backend.ensure_collection(IMAGES, dense={"image": IMAGE_DIM})
    vector_backend.upsert(IMAGES, CAT.points)
    return vector_backend


# --- brute force -------------------------------------------------------------------------


def _matches(payload: dict, f: SearchFilter) -> bool:
    return (
        payload["active"]
        and (not f.categories or payload["category"] in f.categories)
        and (not f.brands or payload["brand"] in f.brands)
        and (f.merchant is None or payload["merchant"] == f.merchant)
        and (f.price_min is None or payload["price"] >= f.price_min)
        and (f.price_max is None or payload["price"] <= f.price_max)
        and (f.in_stock is None or payload["in_stock"] == f.in_stock)
        and (not f.product_ids or payload["product_id"] in f.product_ids)
        and payload["product_id"] not in f.exclude_product_ids
    )


def _mask(cat: Catalogue, f: SearchFilter) -> np.ndarray:
    return np.array([_matches(p, f) for p in cat.payloads])


def _ranked_products(cat: Catalogue, query: np.ndarray, f: SearchFilter) -> list[tuple]:
    """(product_id, best point id, score) of matching products, best first, ties by id."""
    scores = cat.vectors @ (query / np.linalg.norm(query))
    best: dict[int, tuple[float, str]] = {}
    for i in np.flatnonzero(_mask(cat, f)):
        pid, key = int(cat.product_ids[i]), (-float(scores[i]), cat.ids[i])
        if pid not in best or key < best[pid]:
            best[pid] = key
    ranked = sorted(best.items(), key=lambda item: (item[1][0], item[0]))
    return [(pid, point_id, -neg) for pid, (neg, point_id) in ranked]


def _query_vector(seed: int) -> np.ndarray:
    """Near the data: a stored image plus noise."""
    rng = np.random.default_rng(seed)
    return CAT.vectors[rng.integers(len(CAT.ids))] + rng.normal(scale=0.2, size=IMAGE_DIM)


# --- collections -------------------------------------------------------------------------


def test_ensure_collection_is_idempotent(vector_backend):
    # Given a collection with a payload already in it
    vector_backend.ensure_collection(IMAGES, dense={"image": IMAGE_DIM})
    vector_backend.upsert(IMAGES, CAT.points[:5])

    # When it is ensured again with the same shape
    vector_backend.ensure_collection(IMAGES, dense={"image": IMAGE_DIM})

    # Then it is still the one collection, data kept
    assert vector_backend.list_collections() == [IMAGES]
    assert vector_backend.collection_exists(IMAGES)
    assert vector_backend.count(IMAGES, NO_FILTER) == sum(
        p.payload["active"] for p in CAT.points[:5]
    )


def test_ensure_collection_with_another_shape_is_refused(vector_backend):
    # Given a collection of 32-d image vectors
    vector_backend.ensure_collection(IMAGES, dense={"image": IMAGE_DIM})

    # When / then: asking for 64-d vectors under the same name fails
    with pytest.raises(ValueError):
        vector_backend.ensure_collection(IMAGES, dense={"image": 64})


def test_delete_collection_removes_it(index):
    # When
    index.delete_collection(IMAGES)

    # Then
    assert not index.collection_exists(IMAGES)
    assert index.list_collections() == []
    with pytest.raises(CollectionNotFound):
        index.count(IMAGES, NO_FILTER)


def test_upsert_then_count_counts_active_points(index):
    # Then: every active image point is counted, inactive ones are not
    assert index.count(IMAGES, NO_FILTER) == int(CAT.active.sum())


def test_upsert_again_replaces_the_point(index):
    # Given a point's new vector
    new_vector = -CAT.vectors[0]

    # When it is upserted under the same id
    index.upsert(IMAGES, [PointData(CAT.ids[0], {"image": new_vector}, CAT.payloads[0])])

    # Then the store holds the new vector, and no extra point
    [(_, _, vectors)] = index.retrieve(IMAGES, [CAT.ids[0]], with_vectors=True)
    assert np.allclose(vectors["image"], new_vector, atol=1e-5)
    assert index.count(IMAGES, NO_FILTER) == int(CAT.active.sum())


# --- queries -----------------------------------------------------------------------------


def test_query_returns_nearest_first(index):
    # Given an active stored image
    i = int(np.flatnonzero(CAT.active)[3])

    # When its own vector is the query
    hits = index.query(
        IMAGES,
        vector_name="image",
        vector=CAT.vectors[i],
        filter=NO_FILTER,
        limit=10,
        group_by_product=False,
    )

    # Then it comes first with a cosine of 1, and scores only go down
    assert hits[0].id == CAT.ids[i]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].payload == CAT.payloads[i]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


FILTER_CASES = {
    "one category": SearchFilter(categories=("shoes",)),
    "two categories": SearchFilter(categories=("shoes", "hats")),
    "brand": SearchFilter(brands=("zen",)),
    "two brands": SearchFilter(brands=("zen", "nova")),
    "merchant": SearchFilter(merchant="north-shop"),
    "price from": SearchFilter(price_min=250.0),
    "price up to": SearchFilter(price_max=100.0),
    "price range": SearchFilter(price_min=50.0, price_max=150.5),
    "in stock": SearchFilter(in_stock=True),
    "out of stock": SearchFilter(in_stock=False),
    "only products": SearchFilter(product_ids=(3, 17, 42, 99)),
    "excluded products": SearchFilter(exclude_product_ids=tuple(range(1, 60))),
    "everything at once": SearchFilter(
        categories=("bags", "jackets", "hats"),
        brands=("acme", "nova"),
        merchant="south-shop",
        price_min=20.0,
        price_max=450.0,
        in_stock=True,
        exclude_product_ids=(5, 7),
    ),
    "nothing matches": SearchFilter(categories=("no-such-category",)),
}


@pytest.mark.parametrize("search_filter", FILTER_CASES.values(), ids=FILTER_CASES.keys())
def test_filter_narrows_to_matching_active_points(index, search_filter):
    # Given the points that match the filter by brute force
    expected = {CAT.ids[i] for i in np.flatnonzero(_mask(CAT, search_filter))}

    # When everything is asked for, exhaustively, point by point
    hits = index.query(
        IMAGES,
        vector_name="image",
        vector=_query_vector(1),
        filter=search_filter,
        limit=len(CAT.ids),
        group_by_product=False,
        exact=True,
    )

    # Then exactly the matching active points come back, and count agrees
    assert {h.id for h in hits} == expected
    assert index.count(IMAGES, search_filter) == len(expected)


def test_inactive_images_never_come_back(index):
    # Given an inactive image
    inactive = int(np.flatnonzero(~CAT.active)[0])

    # When its own vector is the query, without a filter, grouped or not
    point_hits = index.query(
        IMAGES,
        vector_name="image",
        vector=CAT.vectors[inactive],
        filter=NO_FILTER,
        limit=len(CAT.ids),
        group_by_product=False,
    )
    product_hits = index.query(
        IMAGES,
        vector_name="image",
        vector=CAT.vectors[inactive],
        filter=SearchFilter(),
        limit=len(CAT.ids),
    )

    # Then no inactive point or product is in the answers
    assert all(h.payload["active"] for h in point_hits + product_hits)
    assert CAT.ids[inactive] not in {h.id for h in point_hits}
    assert len(point_hits) == int(CAT.active.sum())


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "search_filter",
    [NO_FILTER, SearchFilter(categories=("shoes", "bags")), SearchFilter(in_stock=True)],
    ids=["no filter", "categories", "in stock"],
)
def test_grouped_query_matches_brute_force(index, seed, search_filter):
    # Given a query near the data and the brute-force ranking of products
    query = _query_vector(seed)
    expected = _ranked_products(CAT, query, search_filter)[:25]

    # When products are asked for, exhaustively
    hits = index.query(
        IMAGES,
        vector_name="image",
        vector=query,
        filter=search_filter,
        limit=25,
        exact=True,
    )

    # Then one hit per product, its best image, in the same order
    assert [h.payload["product_id"] for h in hits] == [pid for pid, _, _ in expected]
    assert [h.id for h in hits] == [point_id for _, point_id, _ in expected]
    assert np.allclose([h.score for h in hits], [s for _, _, s in expected], atol=1e-5)


@pytest.mark.parametrize("group_by_product", [True, False], ids=["grouped", "ungrouped"])
def test_a_query_can_return_only_some_payload_fields(index, group_by_product):
    # Given the full answer to a query
    query = _query_vector(4)
    options = dict(
        vector_name="image",
        vector=query,
        filter=NO_FILTER,
        limit=12,
        exact=True,
        group_by_product=group_by_product,
    )
    full = index.query(IMAGES, **options)

    # When only the category is asked for
    trimmed = index.query(IMAGES, **options, payload_fields=["category"])

    # Then the same points come back in the same order, with the category and the product id
    # (which grouping and fusion need) and nothing else
    assert [h.id for h in trimmed] == [h.id for h in full]
    assert all(set(h.payload) == {"product_id", "category"} for h in trimmed)
    assert [h.payload for h in trimmed] == [
        {"product_id": h.payload["product_id"], "category": h.payload["category"]} for h in full
    ]


@pytest.mark.parametrize("page_size", [1, 7, 10])
def test_pages_of_products_follow_the_brute_force_ranking(index, page_size):
    # Given the brute-force ranking of the first 40 products
    query = _query_vector(4)
    expected = [pid for pid, _, _ in _ranked_products(CAT, query, NO_FILTER)[:40]]

    # When the 40 are fetched page by page
    seen: list[int] = []
    for offset in range(0, 40, page_size):
        page = index.query(
            IMAGES,
            vector_name="image",
            vector=query,
            filter=NO_FILTER,
            limit=min(page_size, 40 - offset),
            offset=offset,
            exact=True,
        )
        seen += [h.payload["product_id"] for h in page]

    # Then the pages join up into the ranking: no product twice, none skipped
    assert seen == expected


def test_a_page_past_the_end_is_empty(index):
    # Given fewer matching products than the offset
    search_filter = SearchFilter(product_ids=(3, 17))

    # When / then
    assert (
        index.query(
            IMAGES,
            vector_name="image",
            vector=_query_vector(5),
            filter=search_filter,
            limit=10,
            offset=5,
        )
        == []
    )


@pytest.mark.parametrize("twins", [3, 150])
def test_tied_products_are_ordered_by_product_id(vector_backend, twins):
    # Given products whose images are identical (the same score for any query), written in
    # the reverse of product order; 150 of them are more than the first fetch of points
    vector_backend.ensure_collection(IMAGES, dense={"image": IMAGE_DIM})
    twin = CAT.vectors[0]
    base = {**CAT.payloads[0], "active": True}
    product_ids = list(range(1000 + twins, 1000, -1))
    points = [
        PointData(image_point_id(9000 + pid), {"image": twin}, {**base, "product_id": pid})
        for pid in product_ids
    ]
    vector_backend.upsert(IMAGES, points + CAT.points[1:])

    def page(offset, limit):
        hits = vector_backend.query(
            IMAGES,
            vector_name="image",
            vector=twin,
            filter=NO_FILTER,
            limit=limit,
            offset=offset,
        )
        return [h.payload["product_id"] for h in hits]

    # When / then: ties break by product id, and pages of one agree with the page of three
    assert page(0, 3) == [1001, 1002, 1003]
    assert page(0, 1) + page(1, 1) + page(2, 1) == [1001, 1002, 1003]


def test_score_threshold_drops_weaker_hits(index):
    # Given a query and a threshold between the scores of its results
    query = _query_vector(6)
    ranking = _ranked_products(CAT, query, NO_FILTER)
    threshold = (ranking[9][2] + ranking[10][2]) / 2

    # When
    hits = index.query(
        IMAGES,
        vector_name="image",
        vector=query,
        filter=NO_FILTER,
        limit=50,
        exact=True,
        score_threshold=threshold,
    )

    # Then only the ten products above it come back
    assert [h.payload["product_id"] for h in hits] == [pid for pid, _, _ in ranking[:10]]


# --- writes ------------------------------------------------------------------------------


def test_set_payload_changes_what_filters_find(index):
    # Given an active product in stock or not, in some category
    product_id = next(
        p["product_id"] for p in CAT.payloads if p["active"] and p["category"] != "hats"
    )
    in_hats = SearchFilter(categories=("hats",), product_ids=(product_id,))
    images = int((CAT.product_ids == product_id).sum())
    assert index.count(IMAGES, in_hats) == 0

    # When it moves to "hats"
    index.set_payload(IMAGES, {"category": "hats", "price": 1.0}, product_id=product_id)

    # Then all its images are found under hats, at the new price, and other fields are kept
    assert index.count(IMAGES, in_hats) == images
    assert index.count(IMAGES, SearchFilter(price_max=1.0)) == images
    [(_, payload, _)] = index.retrieve(IMAGES, [CAT.ids[list(CAT.product_ids).index(product_id)]])
    assert payload["brand"] == CAT.payloads[list(CAT.product_ids).index(product_id)]["brand"]

    # And when it is deactivated, it is gone from queries
    index.set_payload(IMAGES, {"active": False}, product_id=product_id)
    hits = index.query(
        IMAGES,
        vector_name="image",
        vector=CAT.vectors[list(CAT.product_ids).index(product_id)],
        filter=NO_FILTER,
        limit=100,
    )
    assert product_id not in {h.payload["product_id"] for h in hits}


def _product_with_images(n_min: int) -> int:
    counts = Counter(int(p) for p, a in zip(CAT.product_ids, CAT.active, strict=True) if a)
    return next(pid for pid, n in sorted(counts.items()) if n >= n_min)


@pytest.mark.parametrize("how", ["ids", "product"])
def test_delete_points(index, how):
    # Given a product with several images
    product_id = _product_with_images(3)
    its_ids = [i for i, p in zip(CAT.ids, CAT.product_ids, strict=True) if p == product_id]
    before = index.count(IMAGES, NO_FILTER)

    # When its points are deleted by id, or all at once by product
    if how == "ids":
        index.delete_points(IMAGES, ids=its_ids[:2])
        gone = its_ids[:2]
    else:
        index.delete_points(IMAGES, product_id=product_id)
        gone = its_ids

    # Then exactly those points are gone
    assert index.retrieve(IMAGES, its_ids) == [
        (i, CAT.payloads[CAT.ids.index(i)], None) for i in its_ids if i not in gone
    ]
    assert index.count(IMAGES, NO_FILTER) == before - len(gone)


def test_delete_points_needs_a_selection(index):
    with pytest.raises(ValueError):
        index.delete_points(IMAGES)
    assert index.count(IMAGES, NO_FILTER) == int(CAT.active.sum())


# --- aliases -----------------------------------------------------------------------------


def test_alias_switches_to_the_new_collection_in_one_step(vector_backend):
    # Given two builds of the collection with different content, the alias on the old one
    old, new = "images_model_a", "images_model_b"
    for name, points in ((old, CAT.points[:50]), (new, CAT.points[50:])):
        vector_backend.ensure_collection(name, dense={"image": IMAGE_DIM})
        vector_backend.upsert(name, points)
    vector_backend.set_alias("images_live", old)
    probe = int(np.flatnonzero(CAT.active[50:])[0]) + 50

    def first_hit():
        return vector_backend.query(
            "images_live",
            vector_name="image",
            vector=CAT.vectors[probe],
            filter=NO_FILTER,
            limit=1,
            group_by_product=False,
        )[0].id

    assert first_hit() != CAT.ids[probe]

    # When the alias is switched
    vector_backend.set_alias("images_live", new)

    # Then reads through it go to the new collection at once
    assert vector_backend.resolve_alias("images_live") == new
    assert first_hit() == CAT.ids[probe]
    assert vector_backend.count("images_live", NO_FILTER) == int(CAT.active[50:].sum())


def test_alias_rules(vector_backend):
    # Given one collection
    vector_backend.ensure_collection(IMAGES, dense={"image": IMAGE_DIM})

    # Then an alias must point at a collection, and may not take a collection's name
    assert vector_backend.resolve_alias("nothing") is None
    with pytest.raises(CollectionNotFound):
        vector_backend.set_alias("images_live", "no_such_collection")
    with pytest.raises(ValueError):
        vector_backend.set_alias(IMAGES, IMAGES)

    # And a collection may not take an alias's name
    vector_backend.set_alias("images_live", IMAGES)
    with pytest.raises(ValueError):
        vector_backend.ensure_collection("images_live", dense={"image": IMAGE_DIM})

    # And deleting the collection drops its alias
    vector_backend.delete_collection(IMAGES)
    assert vector_backend.resolve_alias("images_live") is None
    with pytest.raises(CollectionNotFound):
        vector_backend.count("images_live", NO_FILTER)


def test_data_and_aliases_survive_a_restart(index):
    # Given an alias and some writes
    index.set_alias("images_live", IMAGES)
    index.delete_points(IMAGES, product_id=_product_with_images(2))
    expected = index.count(IMAGES, NO_FILTER)

    # When the process-wide index is closed and opened again
    reset_vector_index()
    reopened = get_vector_index()

    # Then everything is still there
    assert reopened.resolve_alias("images_live") == IMAGES
    assert reopened.count("images_live", NO_FILTER) == expected


# --- facets, retrieve, scroll ------------------------------------------------------------


@pytest.mark.parametrize("key", ["category", "brand", "merchant"])
@pytest.mark.parametrize(
    "search_filter",
    [NO_FILTER, SearchFilter(in_stock=True, price_max=300.0)],
    ids=["no filter", "in stock under 300"],
)
def test_facets_count_matching_points_per_value(index, key, search_filter):
    # Given the brute-force counts
    expected = Counter(p[key] for p in CAT.payloads if _matches(p, search_filter))

    # When / then
    assert index.facets(IMAGES, key, search_filter) == dict(expected)


def test_retrieve_returns_stored_payloads_and_vectors(index):
    # Given three stored ids and one unknown, in a chosen order
    wanted = [CAT.ids[7], str(uuid.uuid4()), CAT.ids[2], CAT.ids[30]]

    # When
    found = index.retrieve(IMAGES, wanted, with_vectors=True)

    # Then the known ones come back in that order, with their vectors
    assert [point_id for point_id, _, _ in found] == [CAT.ids[7], CAT.ids[2], CAT.ids[30]]
    for point_id, payload, vectors in found:
        i = CAT.ids.index(point_id)
        assert payload == CAT.payloads[i]
        assert np.allclose(vectors["image"], CAT.vectors[i], atol=1e-6)


def test_scroll_returns_every_point_with_its_payload(index, monkeypatch):
    # Given one product deleted, and small pages so that the scroll takes many
    monkeypatch.setattr(edge_module, "SCROLL_PAGE", 7)
    monkeypatch.setattr(qdrant_module, "SCROLL_PAGE", 7)
    gone = _product_with_images(2)
    index.delete_points(IMAGES, product_id=gone)

    # When every point is scrolled
    rows = list(index.scroll(IMAGES))

    # Then all points are there once, inactive ones included, the deleted product's not
    expected = {i: p for i, p in zip(CAT.ids, CAT.payloads, strict=True) if p["product_id"] != gone}
    assert len(rows) == len(expected)
    assert dict(rows) == expected


def test_scroll_product_vectors_returns_every_image_of_the_product(index):
    # Given a product with several images
    product_id = _product_with_images(3)
    expected = sorted((CAT.ids[i], i) for i in np.flatnonzero(CAT.product_ids == product_id))

    # When
    rows = index.scroll_product_vectors(IMAGES, product_id, "image")

    # Then
    assert [point_id for point_id, _, _ in rows] == [point_id for point_id, _ in expected]
    for (_, vector, payload), (_, i) in zip(rows, expected, strict=True):
        assert np.allclose(vector, CAT.vectors[i], atol=1e-6)
        assert payload["product_id"] == product_id


# --- keyword leg -------------------------------------------------------------------------

PRODUCT_TEXTS = {
    1: "Red rain jacket, waterproof, by Nova. SKU-10442",
    2: "Blue rain jacket by Nova. SKU-10443",
    3: "Desk lamp model 10442, brushed steel, by Acme. SKU-20001",
    4: "Leather boots by Zen. AB-1234-X",
    5: "Leather boots by Zen. AB-1234-Y",
    6: "Wool scarf by Acme. SKU-30007",
    7: "Running shoes by Zen, light and fast. SKU-30008",
    8: "Canvas tote bag by Nova. SKU-30009",
}
PRODUCTS = "products_text_test"


@pytest.fixture
def products(vector_backend):
    rng = np.random.default_rng(3)
    vector_backend.ensure_collection(PRODUCTS, dense={"text": 16}, sparse=("keywords",))
    vector_backend.upsert(
        PRODUCTS,
        [
            PointData(
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"product:{pid}")),
                {"text": rng.normal(size=16), "keywords": keyword_document_vector(text)},
                {"product_id": pid, "active": True, "category": "any", "text_model": "t"},
            )
            for pid, text in PRODUCT_TEXTS.items()
        ],
    )
    return vector_backend


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("SKU-10442", 1),
        ("sku-10442", 1),
        ("SKU10442", 1),
        ("AB-1234-X", 4),
        ("AB-1234-Y", 5),
        ("ab1234x", 4),
        ("10442 lamp", 3),
        ("running shoe", 7),
        ("tote bags", 8),
    ],
)
def test_keyword_query_ranks_the_exact_product_first(products, query, first):
    # When
    hits = products.query(
        PRODUCTS,
        vector_name="keywords",
        vector=keyword_query_vector(query),
        filter=NO_FILTER,
        limit=5,
    )

    # Then
    assert hits[0].payload["product_id"] == first
    assert all(h.score < hits[0].score for h in hits[1:])


@pytest.mark.parametrize(
    ("query", "expected"),
    [("Jackets", {1, 2}), ("boot", {4, 5}), ("nova", {1, 2, 8}), ("the and of", set())],
)
def test_keyword_query_finds_the_products_that_contain_the_terms(products, query, expected):
    # When
    hits = products.query(
        PRODUCTS,
        vector_name="keywords",
        vector=keyword_query_vector(query),
        filter=NO_FILTER,
        limit=10,
    )

    # Then stemming and case folding match, and texts without the terms do not come back
    assert {h.payload["product_id"] for h in hits} == expected


def test_retrieve_returns_the_sparse_vector(products):
    # Given a stored product text
    point_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "product:4"))
    expected = keyword_document_vector(PRODUCT_TEXTS[4])

    # When
    [(_, _, vectors)] = products.retrieve(PRODUCTS, [point_id], with_vectors=True)

    # Then
    stored = vectors["keywords"]
    assert sorted(stored.indices) == sorted(expected.indices)
    assert np.allclose(
        [dict(zip(stored.indices, stored.values, strict=True))[i] for i in expected.indices],
        expected.values,
        atol=1e-5,
    )


# --- robustness --------------------------------------------------------------------------


def test_missing_collection_and_bad_ids_are_errors(vector_backend):
    with pytest.raises(CollectionNotFound):
        vector_backend.query(
            "nope", vector_name="image", vector=CAT.vectors[0], filter=NO_FILTER, limit=5
        )
    vector_backend.ensure_collection(IMAGES, dense={"image": IMAGE_DIM})
    with pytest.raises(ValueError):
        vector_backend.upsert(IMAGES, [PointData("not-a-uuid", {"image": CAT.vectors[0]}, {})])
    with pytest.raises(ValueError):
        vector_backend.ensure_collection("../escape", dense={"image": IMAGE_DIM})


def test_concurrent_reads_and_writes(index):
    # Given threads that query while others update payloads
    errors: list[BaseException] = []
    product_ids = sorted({int(p) for p in CAT.product_ids})[:20]

    def reader(seed):
        try:
            for k in range(15):
                hits = index.query(
                    IMAGES,
                    vector_name="image",
                    vector=_query_vector(seed * 100 + k),
                    filter=SearchFilter(in_stock=True),
                    limit=10,
                )
                assert all(h.payload["in_stock"] for h in hits)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def writer():
        try:
            for pid in product_ids:
                index.set_payload(IMAGES, {"in_stock": False}, product_id=pid)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(3)]
    threads.append(threading.Thread(target=writer))

    # When
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then nothing failed and every write landed
    assert errors == []
    assert index.count(IMAGES, SearchFilter(in_stock=True, product_ids=tuple(product_ids))) == 0


# --- backend specifics -------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "call",
    [
        lambda ix: ix.list_collections(),
        lambda ix: ix.ensure_collection(IMAGES, dense={"image": IMAGE_DIM}),
        lambda ix: ix.query(
            IMAGES, vector_name="image", vector=CAT.vectors[0], filter=NO_FILTER, limit=3
        ),
        lambda ix: ix.upsert(IMAGES, CAT.points[:2]),
        lambda ix: ix.count(IMAGES, NO_FILTER),
    ],
    ids=["list", "ensure", "query", "upsert", "count"],
)
def test_unreachable_qdrant_raises_vector_store_unavailable(settings, call):
    # Given the server backend pointed at a port nobody listens on
    reset_vector_index()
    settings.VECTOR_BACKEND = "qdrant"
    settings.QDRANT_URL = f"http://127.0.0.1:{_closed_port()}"
    settings.QDRANT_TIMEOUT = 2
    index = get_vector_index()
    assert isinstance(index, QdrantVectorIndex)

    # When / then
    try:
        with pytest.raises(VectorStoreUnavailable):
            call(index)
    finally:
        reset_vector_index()


@pytest.mark.parametrize(
    ("setting", "replicas", "expected"),
    [("majority", 3, 2), ("majority", 1, 1), ("all", 3, 3), ("one", 3, 1), ("2", 3, 2)],
)
def test_write_consistency_setting(setting, replicas, expected):
    assert write_consistency_factor(setting, replicas) == expected


def test_write_consistency_above_the_replicas_is_refused():
    with pytest.raises(ValueError):
        write_consistency_factor("4", 3)


def test_embedded_store_belongs_to_one_process(vector_dir):
    # Given an embedded index with an open collection
    owner = EdgeVectorIndex(vector_dir / "vectors")
    owner.ensure_collection(IMAGES, dense={"image": IMAGE_DIM})
    owner.upsert(IMAGES, CAT.points[:3])
    intruder = EdgeVectorIndex(vector_dir / "vectors")
    try:
        # When / then: a second owner of the same files is refused, not corrupted
        with pytest.raises(VectorStoreUnavailable):
            intruder.count(IMAGES, NO_FILTER)
    finally:
        intruder.close()
        owner.close()


def test_embedded_hnsw_after_optimize_agrees_with_exact_search(vector_dir):
    # Given an embedded index that builds HNSW for any segment, loaded and optimized
    index = EdgeVectorIndex(vector_dir / "vectors", indexing_threshold_kb=1)
    try:
        index.ensure_collection(IMAGES, dense={"image": IMAGE_DIM})
        index.upsert(IMAGES, CAT.points)
        index.optimize(IMAGES)

        for seed in range(5):
            query = _query_vector(10 + seed)
            expected = [pid for pid, _, _ in _ranked_products(CAT, query, NO_FILTER)[:10]]

            # When the graph is searched
            hits = index.query(
                IMAGES, vector_name="image", vector=query, filter=NO_FILTER, limit=10
            )

            # Then at this size it finds the exact top ten
            assert [h.payload["product_id"] for h in hits] == expected
    finally:
        index.close()


def _eventually(predicate, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_embedded_background_optimizer_indexes_after_writes_pause(vector_dir):
    # Given an index that optimizes after 100 writes and 0.2 s of quiet
    index = EdgeVectorIndex(
        vector_dir / "vectors",
        indexing_threshold_kb=1,
        optimize_after_writes=100,
        optimize_quiet_seconds=0.2,
    )
    try:
        index.ensure_collection(IMAGES, dense={"image": IMAGE_DIM})

        # When enough points are written and writes pause
        index.upsert(IMAGES, CAT.points)
        shard = index._collection(IMAGES).shard

        # Then the collection gets its HNSW index without anyone asking
        assert _eventually(lambda: shard.info().indexed_vectors_count == len(CAT.points))
    finally:
        index.close()
