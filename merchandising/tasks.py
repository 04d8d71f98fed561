"""Beat's merchandising work: refit the click model (only with MERCHANDISING_CLICK_MODEL on)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from analytics import partitions
from merchandising.services import click_model_fit

logger = logging.getLogger(__name__)


@shared_task(name="merchandising.tasks.fit_click_model", soft_time_limit=1800, time_limit=1900)
def fit_click_model() -> dict:
    if not settings.MERCHANDISING_CLICK_MODEL:
        logger.info("the click model is off (MERCHANDISING_CLICK_MODEL); not fitted")
        return {}
    if not settings.ANALYTICS_ENABLED or not partitions.is_partitioned():
        logger.info("no search analytics to learn from (ANALYTICS_ENABLED, PostgreSQL); skipped")
        return {}
    run = click_model_fit(
        days=settings.MERCHANDISING_CLICK_MODEL_DAYS,
        positions=settings.MERCHANDISING_CLICK_MODEL_POSITIONS,
        min_impressions=settings.MERCHANDISING_CLICK_MODEL_MIN_IMPRESSIONS,
    )
    return {"run": run.pk, "searches": run.searches, "boosts": run.boosts}
