"""Beat's analytics work: partitions ahead and retention, and the daily rollup."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from analytics import partitions
from analytics.models import EventReceipt
from analytics.rollups import rollup_run

logger = logging.getLogger(__name__)

PARTITION_DAYS_AHEAD = 7


def _enabled() -> bool:
    if not settings.ANALYTICS_ENABLED or not partitions.is_partitioned():
        logger.info("search analytics is off (ANALYTICS_ENABLED, PostgreSQL only); skipped")
        return False
    return True


@shared_task(name="analytics.tasks.maintain_partitions", soft_time_limit=300, time_limit=360)
def maintain_partitions() -> dict:
    """Create the coming days' partitions; drop (delete) what is past retention."""
    if not _enabled():
        return {}
    today = timezone.now().date()
    created = partitions.partitions_ensure(start=today, days=PARTITION_DAYS_AHEAD + 1)
    cutoff = today - timedelta(days=settings.ANALYTICS_RETENTION_DAYS)
    dropped = partitions.partitions_drop_before(cutoff)
    receipts, _ = EventReceipt.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=settings.ANALYTICS_RETENTION_DAYS)
    ).delete()
    return {"created": created, "dropped": dropped, "receipts_deleted": receipts}


@shared_task(name="analytics.tasks.rollup_daily", soft_time_limit=1800, time_limit=1900)
def rollup_daily() -> dict:
    if not _enabled():
        return {}
    run = rollup_run()
    return {"first_day": run.first_day.isoformat(), "rows": run.rows, "seconds": run.seconds}
