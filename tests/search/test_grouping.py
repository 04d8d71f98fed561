"""Grouping points into products (vector_index.base.group_hits) and its learned fetch size."""

import numpy as np
import pytest

from search.vector_index.base import GROUP_FETCH_MIN, GroupFetchSizer, Hit, group_hits


def _points(products: int, per_product: int, seed: int) -> list[Hit]:
    """Scored points, best first; a product's points score alike (its images look alike)."""
    rng = np.random.default_rng(seed)
    base = rng.random(products)
    hits = [
        Hit(f"{p}-{i}", float(base[p] - 0.001 * i * rng.random()), {"product_id": p})
        for p in range(products)
        for i in range(per_product)
    ]
    return sorted(hits, key=lambda h: (-h.score, h.id))


class _Engine:
    def __init__(self, points: list[Hit]) -> None:
        self.points = points
        self.sizes: list[int] = []

    def fetch(self, n: int) -> list[Hit]:
        self.sizes.append(n)
        return self.points[:n]


def _expected(points: list[Hit], offset: int, limit: int) -> list[int]:
    best: dict[int, float] = {}
    for hit in points:
        best.setdefault(hit.payload["product_id"], hit.score)
    ranked = sorted(best, key=lambda p: (-best[p], p))
    return ranked[offset : offset + limit]


@pytest.mark.parametrize("per_product", [1, 2, 6])
def test_the_first_fetch_follows_the_points_per_product_seen(per_product):
    # Given a collection whose products have `per_product` points each
    engine = _Engine(_points(3000, per_product, seed=per_product))
    sizer = GroupFetchSizer()

    # When a few queries of 100 products have run
    for _ in range(6):
        group_hits(engine.fetch, offset=0, limit=100, sizer=sizer, collection="images")

    # Then a query's first fetch is about what 100 products take, not four points each
    engine.sizes.clear()
    hits = group_hits(engine.fetch, offset=0, limit=100, sizer=sizer, collection="images")
    assert engine.sizes[0] == pytest.approx(max(GROUP_FETCH_MIN, 100 * per_product * 1.25), rel=0.1)
    assert [h.payload["product_id"] for h in hits] == _expected(engine.points, 0, 100)


def test_a_short_first_fetch_grows_and_the_page_is_still_right():
    # Given a sizer that expects one point per product, and products with six each
    engine = _Engine(_points(2000, 6, seed=7))
    sizer = GroupFetchSizer(initial=1)

    # When a page deep in the ranking is asked for
    hits = group_hits(engine.fetch, offset=40, limit=60, sizer=sizer, collection="images")

    # Then the fetch grew until the page was settled, and the page is the brute-force one
    assert len(engine.sizes) > 1
    assert [h.payload["product_id"] for h in hits] == _expected(engine.points, 40, 60)


def test_collections_are_sized_apart():
    sizer = GroupFetchSizer()
    one = _Engine(_points(1000, 1, seed=1))
    for _ in range(5):
        group_hits(one.fetch, offset=0, limit=100, sizer=sizer, collection="products")
    assert sizer.first_fetch("products", 100) < sizer.first_fetch("images", 100)
    assert sizer.first_fetch("images", 100) == 100 * 4 * GroupFetchSizer.MARGIN
