"""What shoppers did after the searches of a ranking experiment, per variant.

The unit is the search (as the storefront's dashboard counts click-through): a search counts
as clicked, carted or bought when at least one such event names its ``search_id``. Click
positions are summed per click, with their squares, so the caller can put an interval on
the mean. One query over the experiment's searches (partial index on ``experiment_id``) and
the events that name them.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from analytics.models import InteractionEvent, SearchEvent


@dataclass(frozen=True)
class VariantCounts:
    variant: str
    searches: int
    clicked: int
    clicks: int
    position_sum: float
    position_squares: float
    positioned_clicks: int
    carted: int
    purchased: int


def experiment_counts(
    *, experiment_id: int, since: datetime, until: datetime | None = None
) -> dict[str, VariantCounts]:
    searches = SearchEvent._meta.db_table
    events = InteractionEvent._meta.db_table
    window = "AND s.created_at < %s" if until is not None else ""
    # Table names come from the models; every value is a parameter.
    sql = f"""
        WITH s AS (
            SELECT s.search_id, s.variant FROM {searches} s
            WHERE s.experiment_id = %s AND s.variant <> '' AND s.created_at >= %s {window}
        ), e AS (
            SELECT e.search_id,
                   MAX(CASE WHEN e.kind = 'click' THEN 1 ELSE 0 END) AS clicked,
                   SUM(CASE WHEN e.kind = 'click' THEN 1 ELSE 0 END) AS clicks,
                   SUM(CASE WHEN e.kind = 'click' THEN e.position ELSE 0 END) AS pos_sum,
                   SUM(CASE WHEN e.kind = 'click' THEN e.position * e.position ELSE 0 END)
                       AS pos_squares,
                   SUM(CASE WHEN e.kind = 'click' AND e.position IS NOT NULL THEN 1 ELSE 0 END)
                       AS positioned,
                   MAX(CASE WHEN e.kind = 'add_to_cart' THEN 1 ELSE 0 END) AS carted,
                   MAX(CASE WHEN e.kind = 'purchase' THEN 1 ELSE 0 END) AS purchased
            FROM {events} e
            WHERE e.search_id IN (SELECT search_id FROM s) AND e.created_at >= %s
            GROUP BY e.search_id
        )
        SELECT s.variant, COUNT(*), COALESCE(SUM(e.clicked), 0), COALESCE(SUM(e.clicks), 0),
               COALESCE(SUM(e.pos_sum), 0), COALESCE(SUM(e.pos_squares), 0),
               COALESCE(SUM(e.positioned), 0), COALESCE(SUM(e.carted), 0),
               COALESCE(SUM(e.purchased), 0)
        FROM s LEFT JOIN e ON e.search_id = s.search_id
        GROUP BY s.variant
    """  # noqa: S608
    params: list = [experiment_id, since, *([until] if until is not None else []), since]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        row[0]: VariantCounts(
            variant=row[0],
            searches=int(row[1]),
            clicked=int(row[2]),
            clicks=int(row[3]),
            position_sum=float(row[4]),
            position_squares=float(row[5]),
            positioned_clicks=int(row[6]),
            carted=int(row[7]),
            purchased=int(row[8]),
        )
        for row in rows
    }
