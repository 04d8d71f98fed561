"""Clicked query -> product pairs from the search events: training data for `finetune_clip`.

A pair is the words of a text search and a product a shopper clicked in its results. What a
shop's shoppers type and then click is the closest thing to a labelled query a shop has (titles
are how merchants write, not how shoppers search), so `finetune_clip --pairs` trains on these
beside the catalogue's image-title pairs.

Counted: searches made in the window (and the clicks on them, which come after), of the kinds
asked for: ``text`` by default. A hybrid search's click answers the photo as much as the words,
so it is included only when asked. A pair needs ``min_clicks`` clicks from ``min_visitors``
different visitors (one shopper clicking the same result ten times, or a bot, is one opinion).

The weight is the number of clicks, or, with ``position_bias`` (eta) above 0, the clicks
weighted by the inverse of how likely a result at that position is to be looked at, the usual
position-bias model (Joachims et al., "Unbiased learning-to-rank with biased feedback", 2017):
propensity(position) = (1 / position) ** eta, so a click at position 5 counts 5 ** eta. The
position is clipped at ``PROPENSITY_CLIP``: past it a single click would outweigh everything
(the variance problem of inverse propensity weighting) and the estimate of how little such a
result is seen is poor anyway.

PostgreSQL only, as the events are (ANALYTICS_ENABLED): one aggregate query over the partitions
of the window.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from django.db import connection

from analytics.models import SearchEvent
from catalog.selectors import products_for_results

PROPENSITY_CLIP = 20
CSV_HEADER = ("query", "merchant", "sku", "product_id", "clicks", "visitors", "weight")
DEFAULT_KINDS = (SearchEvent.Kind.TEXT.value,)

_PAIRS_SQL = """
SELECT s.words, c.product_id,
       count(*) AS clicks,
       count(DISTINCT nullif(c.visitor_id, '')) AS visitors,
       sum(power(least(greatest(coalesce(c.position, 1), 1), %(clip)s)::float8, %(eta)s))
           AS weight
FROM analytics_interactionevent c
JOIN analytics_searchevent s ON s.search_id = c.search_id
WHERE c.kind = 'click'
  AND c.created_at >= %(start)s
  AND s.created_at >= %(start)s AND s.created_at < %(end)s
  AND s.kind = ANY(%(kinds)s)
  AND s.words <> ''
GROUP BY s.words, c.product_id
HAVING count(*) >= %(min_clicks)s
   AND count(DISTINCT nullif(c.visitor_id, '')) >= %(min_visitors)s
"""


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


class ClickPairsError(ValueError):
    pass


@dataclass(frozen=True)
class ClickPair:
    query: str
    merchant: str
    sku: str
    product_id: int
    clicks: int
    visitors: int
    weight: float


@dataclass(frozen=True)
class ClickPairExport:
    pairs: list[ClickPair]
    gone: int  # pairs whose product was deleted or deactivated since


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def click_pairs_collect(
    *,
    since: date | None = None,
    until: date | None = None,
    kinds: Sequence[str] = DEFAULT_KINDS,
    min_clicks: int = 2,
    min_visitors: int = 1,
    position_bias: float = 0.0,
    merchant_slug: str = "",
) -> ClickPairExport:
    """The pairs of searches made from ``since`` through ``until`` (UTC days, inclusive), most
    weighty first; only active products (of ``merchant_slug`` when given)."""
    if connection.vendor != "postgresql":
        raise ClickPairsError("search events are recorded in PostgreSQL only (ANALYTICS_ENABLED)")
    unknown = set(kinds) - set(SearchEvent.Kind.values)
    if not kinds or unknown:
        raise ClickPairsError(f"search kinds must be among {', '.join(SearchEvent.Kind.values)}")
    if min_clicks < 1 or min_visitors < 0:
        raise ClickPairsError("min_clicks must be at least 1 and min_visitors at least 0")
    if position_bias < 0:
        raise ClickPairsError("position_bias (eta) must be 0 (off) or more")
    start = _midnight(since) if since else datetime(2000, 1, 1, tzinfo=UTC)
    end = _midnight(until + timedelta(days=1)) if until else datetime(9999, 1, 1, tzinfo=UTC)
    if end <= start:
        raise ClickPairsError("the window ends before it starts")
    with connection.cursor() as cursor:
        cursor.execute(
            _PAIRS_SQL,
            {
                "start": start,
                "end": end,
                "kinds": list(kinds),
                "min_clicks": min_clicks,
                "min_visitors": min_visitors,
                "eta": float(position_bias),
                "clip": PROPENSITY_CLIP,
            },
        )
        rows = cursor.fetchall()
    products = products_for_results(product_ids=sorted({row[1] for row in rows}))
    pairs, gone = [], 0
    for words, product_id, clicks, visitors, weight in rows:
        product = products.get(product_id)
        if product is None:
            gone += 1
            continue
        if merchant_slug and product.merchant.slug != merchant_slug:
            continue
        pairs.append(
            ClickPair(
                query=words,
                merchant=product.merchant.slug,
                sku=product.sku,
                product_id=product_id,
                clicks=clicks,
                visitors=visitors,
                weight=round(float(weight), 4),
            )
        )
    pairs.sort(key=lambda p: (-p.weight, p.query, p.merchant, p.sku))
    return ClickPairExport(pairs=pairs, gone=gone)


def click_pairs_write(pairs: Iterable[ClickPair], out: Writable) -> int:
    """The CSV `finetune_clip --pairs` reads (search/relevance/pairs.py); returns the rows."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    written = 0
    for pair in pairs:
        writer.writerow(
            [
                pair.query,
                pair.merchant,
                pair.sku,
                pair.product_id,
                pair.clicks,
                pair.visitors,
                pair.weight,
            ]
        )
        written += 1
    return written
