"""The daily rollup: raw events -> DailyQueryStats, one SQL statement per run.

Each run recounts whole UTC days from the day before the last counted instant up to now
(clicks arrive after their search, and a day's counts must not depend on when the rollup ran),
so rerunning it is harmless. Every search counts once for the whole shop (merchant_id null) and
once for each merchant whose products it showed or whose products it was narrowed to; its
interactions count for the shop, and for a merchant only when on that merchant's product.

The SQL is PostgreSQL's (jsonb, FILTER); this statement is the seam a column store would take
over (docs/analytics.md).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from analytics.models import DailyQueryStats, RollupState

logger = logging.getLogger(__name__)

ROLLUP_NAME = "daily"

_ROLLUP_SQL = """
WITH searches AS (
    SELECT search_id, (created_at AT TIME ZONE 'UTC')::date AS day, kind, words,
           result_count, best_score, took_ms, merchant_ids,
           CASE WHEN best_score IS NULL THEN false
                WHEN kind IN ('photo', 'hybrid', 'look', 'similar') THEN best_score < %(low_photo)s
                ELSE best_score < %(low_text)s END AS low
    FROM analytics_searchevent
    WHERE created_at >= %(start)s AND created_at < %(end)s
),
per_merchant AS (
    SELECT e.search_id, coalesce(e.merchant_id, 0) AS merchant_key,
           count(*) FILTER (WHERE e.kind = 'click') AS clicks,
           coalesce(sum(e.position) FILTER (WHERE e.kind = 'click'), 0) AS position_sum,
           count(*) FILTER (WHERE e.kind = 'add_to_cart') AS carts,
           coalesce(sum(e.quantity) FILTER (WHERE e.kind = 'purchase'), 0) AS purchases,
           coalesce(sum(e.quantity * e.price) FILTER (WHERE e.kind = 'purchase'), 0) AS revenue
    FROM analytics_interactionevent e
    WHERE e.created_at >= %(start)s AND e.search_id IS NOT NULL
    GROUP BY e.search_id, coalesce(e.merchant_id, 0)
),
scoped_interactions AS (
    SELECT search_id, merchant_key, clicks, position_sum, carts, purchases, revenue
    FROM per_merchant WHERE merchant_key <> 0
    UNION ALL
    SELECT search_id, -1, sum(clicks), sum(position_sum), sum(carts), sum(purchases), sum(revenue)
    FROM per_merchant GROUP BY search_id
),
scoped_searches AS (
    -- Only the columns counted: narrow rows keep the hash tables in work_mem.
    SELECT s.search_id, s.day, s.kind, s.words, s.result_count, s.best_score, s.took_ms,
           s.low, -1::bigint AS merchant_key
    FROM searches s
    UNION ALL
    SELECT s.search_id, s.day, s.kind, s.words, s.result_count, s.best_score, s.took_ms,
           s.low, m.value::bigint
    FROM searches s CROSS JOIN LATERAL jsonb_array_elements_text(s.merchant_ids) AS m(value)
)
INSERT INTO analytics_dailyquerystats (
    day, merchant_id, kind, words, searches, zero_results, low_score, best_score_sum, scored,
    took_ms_sum, took_ms_max, clicks, clicked_searches, click_position_sum, add_to_carts,
    purchases, purchased_searches, revenue, created_at, updated_at
)
SELECT s.day, nullif(s.merchant_key, -1), s.kind, s.words,
       count(*), count(*) FILTER (WHERE s.result_count = 0), count(*) FILTER (WHERE s.low),
       coalesce(sum(s.best_score), 0), count(s.best_score),
       sum(s.took_ms), max(s.took_ms),
       coalesce(sum(i.clicks), 0), count(*) FILTER (WHERE i.clicks > 0),
       coalesce(sum(i.position_sum), 0), coalesce(sum(i.carts), 0),
       coalesce(sum(i.purchases), 0), count(*) FILTER (WHERE i.purchases > 0),
       coalesce(sum(i.revenue), 0), now(), now()
FROM scoped_searches s
LEFT JOIN scoped_interactions i
       ON i.search_id = s.search_id AND i.merchant_key = s.merchant_key
GROUP BY s.day, s.merchant_key, s.kind, s.words
"""


@dataclass(frozen=True)
class RollupRun:
    first_day: date
    counted_until: datetime
    rows: int
    seconds: float


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def rollup_run(*, now: datetime | None = None, since: date | None = None) -> RollupRun:
    """Recount the days from ``since`` (default: the day before the last run counted up to)
    through ``now``."""
    now = now or timezone.now()
    if since is None:
        state = RollupState.objects.filter(name=ROLLUP_NAME).first()
        oldest = (now - timedelta(days=settings.ANALYTICS_RETENTION_DAYS)).date()
        since = (
            state.counted_until.astimezone(UTC).date() - timedelta(days=1)
            if state is not None
            else oldest
        )
        since = max(since, oldest)
    started = time.perf_counter()
    end = _midnight(now.astimezone(UTC).date() + timedelta(days=1))
    with transaction.atomic():
        DailyQueryStats.objects.filter(day__gte=since).delete()
        with connection.cursor() as cursor:
            # The per-merchant expansion and the GROUP BY are hashed in memory; the default
            # 4 MB spills them to disk (bench/analytics.py). For this transaction only.
            cursor.execute("SET LOCAL work_mem = %s", [settings.ANALYTICS_ROLLUP_WORK_MEM])
            # The planner guesses 100 merchants per search (jsonb_array_elements) and so a
            # cost that triggers JIT compilation: seconds of compiling for a query that runs
            # in less (bench/analytics.py).
            cursor.execute("SET LOCAL jit = off")
            # The same misestimate makes it sort 20x the real rows for a GroupAggregate and a
            # merge join; hashing the real ones is 2x faster at 200k events (bench/analytics.py).
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(
                _ROLLUP_SQL,
                {
                    "start": _midnight(since),
                    "end": min(end, now + timedelta(microseconds=1)),
                    "low_photo": settings.ANALYTICS_LOW_SCORE_PHOTO,
                    "low_text": settings.ANALYTICS_LOW_SCORE_TEXT,
                },
            )
            rows = cursor.rowcount
        RollupState.objects.update_or_create(
            name=ROLLUP_NAME, defaults={"counted_until": now, "finished_at": timezone.now()}
        )
    run = RollupRun(
        first_day=since, counted_until=now, rows=rows, seconds=time.perf_counter() - started
    )
    logger.info("analytics rollup from %s: %d rows in %.2f s", since, run.rows, run.seconds)
    return run
