"""Daily range partitions of the raw event tables (PostgreSQL native partitioning).

One partition a UTC day, created ahead by beat (and on demand when an insert finds none);
retention drops whole partitions, which is instant and leaves no bloat. On other databases
(the SQLite demo) the tables are plain and retention deletes rows.
"""

import logging
import re
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection

logger = logging.getLogger(__name__)

PARTITIONED_TABLES = ("analytics_searchevent", "analytics_interactionevent")
_SUFFIX = re.compile(r"_p(\d{8})$")


def is_partitioned() -> bool:
    return connection.vendor == "postgresql"


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def partitions_ensure(*, start: date, days: int) -> list[str]:
    """Create the partitions of ``days`` days from ``start`` that do not exist yet."""
    if not is_partitioned():
        return []
    created = []
    with connection.cursor() as cursor:
        for offset in range(days):
            day = start + timedelta(days=offset)
            for table in PARTITIONED_TABLES:
                name = partition_name(table, day)
                cursor.execute("SELECT to_regclass(%s)", [name])
                if cursor.fetchone()[0] is not None:
                    continue
                # Names come from the fixed table list and a date: nothing a client chose.
                cursor.execute(
                    f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table}" '
                    "FOR VALUES FROM (%s) TO (%s)",
                    [_midnight(day), _midnight(day + timedelta(days=1))],
                )
                created.append(name)
    if created:
        logger.info("analytics partitions created: %s", ", ".join(created))
    return created


def partitions_list(table: str) -> list[tuple[date, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = []
    for name in names:
        match = _SUFFIX.search(name)
        if match:
            found.append((datetime.strptime(match.group(1), "%Y%m%d").date(), name))
    return sorted(found)


def partitions_drop_before(day: date) -> list[str]:
    """Delete every raw event from before ``day`` (UTC): whole partitions in PostgreSQL."""
    if not is_partitioned():
        from analytics.models import InteractionEvent, SearchEvent

        for model in (SearchEvent, InteractionEvent):
            model.objects.filter(created_at__lt=_midnight(day)).delete()
        return []
    dropped = []
    with connection.cursor() as cursor:
        for table in PARTITIONED_TABLES:
            for partition_day, name in partitions_list(table):
                if partition_day < day:
                    cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
                    dropped.append(name)
    if dropped:
        logger.info("analytics partitions dropped: %s", ", ".join(dropped))
    return dropped


# The DDL Django cannot write: partitioned parents whose keys include the partition column.
CREATE_PARTITIONED_SQL = """
CREATE TABLE analytics_searchevent (
    search_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    kind varchar(8) NOT NULL,
    words varchar(500) NOT NULL,
    filters jsonb NOT NULL,
    product_ids jsonb NOT NULL,
    scores jsonb NOT NULL,
    merchant_ids jsonb NOT NULL,
    result_count integer NOT NULL CHECK (result_count >= 0),
    best_score double precision NULL,
    took_ms double precision NOT NULL,
    model varchar(200) NOT NULL,
    visitor_id varchar(64) NOT NULL,
    query_vector bytea NULL,
    photo_hash varchar(16) NOT NULL,
    PRIMARY KEY (search_id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX analytics_searchevent_created_at ON analytics_searchevent (created_at);
CREATE TABLE analytics_interactionevent (
    event_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    kind varchar(12) NOT NULL,
    search_id uuid NULL,
    product_id bigint NOT NULL,
    merchant_id bigint NULL,
    position integer NULL CHECK (position >= 0),
    quantity integer NOT NULL CHECK (quantity >= 0),
    price numeric(12, 2) NULL,
    visitor_id varchar(64) NOT NULL,
    PRIMARY KEY (event_id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX analytics_interactionevent_created_at ON analytics_interactionevent (created_at);
CREATE INDEX analytics_interactionevent_search_id ON analytics_interactionevent (search_id);
"""

DROP_PARTITIONED_SQL = (
    "DROP TABLE IF EXISTS analytics_interactionevent; DROP TABLE IF EXISTS analytics_searchevent;"
)
