"""What rules read of products (brand, category, merchant, stock, price, tags), cached per
process: a search with boosts or pins reads dictionaries, not the database.

The cache is emptied when the catalogue's version moves (any product added, removed or
edited; ``catalog.selectors.catalogue_version``), checked at most every
``MERCHANDISING_RULES_REFRESH_MS``, so a price or stock edit reaches the rules as soon as a
rule edit does. Products not yet seen are read in one query. bench/rules.py measured the
database read per search at several milliseconds, the cached path at microseconds.
"""

import threading
import time
from collections.abc import Sequence

from django.conf import settings

from catalog import selectors as catalog_selectors
from merchandising import selectors
from merchandising.selectors import RankFacts
from search.vector_index.base import SearchFilter

_MAX_PRODUCTS = 200_000  # a bound on memory: past it the cache starts again
_lock = threading.Lock()
_state: dict = {"facts": {}, "version": None, "checked": float("-inf")}


def facts_for(product_ids: Sequence[int]) -> dict[int, RankFacts]:
    _check_version()
    known: dict[int, RankFacts] = _state["facts"]
    missing = [pk for pk in product_ids if pk not in known]
    if missing:
        fresh = selectors.rank_facts(product_ids=missing)
        with _lock:
            if len(known) + len(fresh) > _MAX_PRODUCTS:
                known.clear()
            known.update(fresh)
    return {pk: known[pk] for pk in product_ids if pk in known}


def passing(product_ids: Sequence[int], search_filter: SearchFilter) -> set[int]:
    """The active products among the ids that a search's filters let through."""
    categories = {c.lower() for c in search_filter.categories}
    brands = {b.lower() for b in search_filter.brands}
    allowed = set()
    for pk, product in facts_for(product_ids).items():
        if not product.is_active or pk in search_filter.exclude_product_ids:
            continue
        if search_filter.product_ids and pk not in search_filter.product_ids:
            continue
        if categories and product.category not in categories:
            continue
        if brands and product.brand not in brands:
            continue
        if search_filter.merchant and product.merchant_slug != search_filter.merchant:
            continue
        if search_filter.price_min is not None and product.price < search_filter.price_min:
            continue
        if search_filter.price_max is not None and product.price > search_filter.price_max:
            continue
        if search_filter.in_stock is not None and product.in_stock != search_filter.in_stock:
            continue
        allowed.add(pk)
    return allowed


def _check_version() -> None:
    if (time.monotonic() - _state["checked"]) * 1000 < settings.MERCHANDISING_RULES_REFRESH_MS:
        return
    with _lock:
        version = catalog_selectors.catalogue_version()
        if version != _state["version"]:
            _state["facts"] = {}
            _state["version"] = version
        _state["checked"] = time.monotonic()


def clear() -> None:
    with _lock:
        _state.update(facts={}, version=None, checked=float("-inf"))
