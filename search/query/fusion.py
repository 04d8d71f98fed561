"""Weighted reciprocal rank fusion of the legs' ranked lists.

score = sum over legs of w_leg / (SEARCH_RRF_K + rank); ties broken by product id, so pages
are stable. docs/relevance.md says how the weights and k were chosen.
"""

from collections.abc import Callable, Mapping

from django.conf import settings

from search.query.types import ResultItem
from search.vector_index.base import Hit


def default_leg_weights() -> dict[str, float]:
    return {
        "image": settings.SEARCH_WEIGHT_IMAGE,
        "text": settings.SEARCH_WEIGHT_TEXT,
        "keywords": settings.SEARCH_WEIGHT_KEYWORDS,
    }


def by_score(hits: list[Hit]) -> list[Hit]:
    """Best first, ties by product id (as grouped queries order them), for stable fusion."""
    return sorted(hits, key=lambda hit: (-hit.score, int(hit.payload["product_id"])))


def item_from_hit(hit: Hit, leg: str, rank: int) -> ResultItem:
    return ResultItem(
        product_id=int(hit.payload["product_id"]),
        score=float(hit.score),
        image_id=hit.payload.get("image_id"),
        legs={leg: rank},
        leg_scores={leg: float(hit.score)},
        image_file=hit.payload.get("file"),
        thumbnail_file=hit.payload.get("thumbnail"),
    )


def fuse(
    leg_hits: dict[str, list[Hit]],
    weights: dict[str, float],
    boost: Callable[[Mapping], float] | None = None,
    rrf_k: int | None = None,
) -> list[ResultItem]:
    """Weighted reciprocal rank fusion; ties broken by product id for stable pages.

    ``boost``, given a hit's payload, returns what to add to that product's score once (the
    query's recognised category or brand); hits without the payload fields it reads count
    nothing. ``rrf_k`` replaces SEARCH_RRF_K for this query (an experiment's variant)."""
    items: dict[int, ResultItem] = {}
    boosted: set[int] = set()
    rrf_k = settings.SEARCH_RRF_K if rrf_k is None else rrf_k
    for leg, hits in leg_hits.items():
        weight = weights.get(leg, 0.0)
        for rank, hit in enumerate(hits, start=1):
            product_id = int(hit.payload["product_id"])
            item = items.get(product_id)
            if item is None:
                item = items[product_id] = ResultItem(
                    product_id=product_id, score=0.0, image_id=None, legs={}, leg_scores={}
                )
            item.score += weight / (rrf_k + rank)
            if boost is not None and product_id not in boosted and "category" in hit.payload:
                item.score += boost(hit.payload)
                boosted.add(product_id)
            item.legs[leg] = rank
            item.leg_scores[leg] = float(hit.score)
            if leg == "image":
                item.image_id = hit.payload.get("image_id")
                item.image_file = hit.payload.get("file")
                item.thumbnail_file = hit.payload.get("thumbnail")
    ranked = sorted(items.values(), key=lambda item: (-item.score, item.product_id))
    for item in ranked:
        item.score = round(item.score, 6)
    return ranked
