"""Totals and facet counts (category, brand, colour, price bands) of the products a filter
matches.

They depend on the filters only, not on the words or the photo, so they are cached for a few
seconds per filter set: shoppers paging or refining a query reuse them.
"""

import time
from dataclasses import replace

from search.vector_index import get_vector_index
from search.vector_index.base import SearchFilter, VectorIndex

PRICE_BANDS: tuple[tuple[float, float | None], ...] = (
    (0, 25),
    (25, 50),
    (50, 100),
    (100, 250),
    (250, 500),
    (500, None),
)

FACETS_TTL_SECONDS = 10.0
_facets_cache: dict[tuple[str, SearchFilter], tuple[float, int, dict]] = {}


def totals_and_facets(collection: str | None, search_filter: SearchFilter) -> tuple[int, dict]:
    """Totals and facets depend on the filters only, not on the words or the photo: shoppers
    paging or refining a query reuse them for a few seconds (bench/search.md: 13-18 ms each)."""
    if collection is None:
        return 0, {"category": {}, "brand": {}, "color": {}, "attributes": {}, "price": []}
    key = (collection, search_filter)
    cached = _facets_cache.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < FACETS_TTL_SECONDS:
        return cached[1], cached[2]
    total, facets = _count_totals_and_facets(collection, search_filter)
    if len(_facets_cache) > 1024:
        _facets_cache.clear()
    _facets_cache[key] = (now, total, facets)
    return total, facets


def _count_totals_and_facets(collection: str, search_filter: SearchFilter) -> tuple[int, dict]:
    """Counts of the products that match the filters, from the product points.

    Facets are disjunctive: values ticked within one facet are alternatives ("red or blue"),
    so a facet is counted under every filter except its own. With "red" ticked, "blue (7)"
    then says what ticking blue as well adds, and the other colours stay on offer; counted
    under its own filter, the facet would shrink to the ticked values and the products that
    have them too. One more count per facet that has a selection.
    """
    index = get_vector_index()
    f = search_filter
    total = index.count(collection, f)
    facets = {
        "category": index.facets(collection, "category", replace(f, categories=())),
        "brand": index.facets(collection, "brand", replace(f, brands=())),
        "color": index.facets(collection, "color", replace(f, colors=())),
        "attributes": _attribute_facets(index, collection, f),
        "price": price_bands(index, collection, f),
    }
    return total, facets


def _attribute_facets(
    index: VectorIndex, collection: str, search_filter: SearchFilter
) -> dict[str, dict[str, int]]:
    """Each attribute counted under the other attributes' selections, not its own."""
    grouped = attribute_facets(index.facets(collection, "attrs", search_filter, 200))
    for name, _values in search_filter.attributes:
        others = tuple(item for item in search_filter.attributes if item[0] != name)
        unticked = replace(search_filter, attributes=others)
        counts = attribute_facets(index.facets(collection, "attrs", unticked, 200)).get(name)
        if counts:
            grouped[name] = counts
    return grouped


def attribute_facets(terms: dict[str, int]) -> dict[str, dict[str, int]]:
    """``{"pattern:striped": 3}`` as ``{"pattern": {"striped": 3}}``."""
    grouped: dict[str, dict[str, int]] = {}
    for term, count in terms.items():
        name, _, value = term.partition(":")
        if value:
            grouped.setdefault(name, {})[value] = count
    return grouped


def price_bands(index: VectorIndex, collection: str, search_filter: SearchFilter) -> list[dict]:
    bands = []
    for low, high in PRICE_BANDS:
        lo = max(low, search_filter.price_min) if search_filter.price_min is not None else low
        hi = high
        if search_filter.price_max is not None:
            hi = search_filter.price_max if high is None else min(high, search_filter.price_max)
        if hi is not None and lo > hi:
            count = 0
        else:
            band_filter = replace(search_filter, price_min=lo, price_max=hi)
            count = index.count(collection, band_filter)
            if high is not None and count and hi == high:
                # Bands are half-open [low, high): take out the products priced exactly `high`.
                edge = replace(search_filter, price_min=high, price_max=high)
                count -= index.count(collection, edge)
        bands.append({"min": low, "max": high, "count": count})
    return bands


def clear_facets_cache() -> None:
    _facets_cache.clear()
