"""Celery tasks: thin entry points. They take ids, re-read rows, and call search/ services."""

import logging
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from catalog import services as catalog_services
from config.metrics import INDEXING_OUTCOMES
from search.encoding.base import ModelUnavailable
from search.index import sync as indexing
from search.index.chunks import iter_chunks
from search.vector_index.base import VectorStoreUnavailable

logger = logging.getLogger(__name__)

# Worth another try: storage hiccups (OSError covers boto's connection errors through
# django-storages, and local I/O) and a vector store that did not answer.
TRANSIENT_ERRORS = (OSError, ConnectionError, TimeoutError, VectorStoreUnavailable)


# Payload updates and deletes: quick, idempotent, retried until the vector store answers.
INDEX_SYNC_TASK = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


class EmbedImagesTask(Task):
    def on_retry(self, exc, task_id, args, kwargs, einfo):
        INDEXING_OUTCOMES.labels(outcome="retried").inc(len(kwargs.get("image_ids") or ()))

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """Out of retries (or a bug): the merchant sees why on each image."""
        image_ids = kwargs.get("image_ids") or (args[0] if args else [])
        if isinstance(exc, ModelUnavailable):
            return  # not the image's fault: it stays pending and the sweep tries again
        reason = f"Indexing failed after retries: {type(exc).__name__}: {exc}"[:500]
        INDEXING_OUTCOMES.labels(outcome="failed").inc(len(image_ids))
        for image_id in image_ids:
            catalog_services.product_image_mark_failed(image_id=image_id, reason=reason)


@shared_task(
    base=EmbedImagesTask,
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.EMBED_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EMBED_TASK_TIME_LIMIT,
)
def embed_images(self, image_ids: list[int]) -> dict:
    try:
        report = indexing.index_images(image_ids)
    except ModelUnavailable as exc:
        logger.warning("image model unavailable, %d image(s) stay pending: %s", len(image_ids), exc)
        return {"pending": list(image_ids)}
    INDEXING_OUTCOMES.labels(outcome="indexed").inc(len(report.indexed) + len(report.reused))
    INDEXING_OUTCOMES.labels(outcome="failed").inc(len(report.failed))
    for image_id in report.missing:
        logger.info("image %s no longer exists; dropped", image_id)
    return {
        "indexed": report.indexed,
        "reused": report.reused,
        "failed": sorted(report.failed),
        "missing": report.missing,
    }


@shared_task(
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=120,
    max_retries=6,
    acks_late=True,
    reject_on_worker_lost=True,
)
def embed_product_text(product_ids: list[int]) -> int:
    return indexing.index_products(product_ids)


@shared_task(**INDEX_SYNC_TASK)
def sync_product(product_id: int) -> None:
    indexing.sync_product_payload(product_id=product_id)


@shared_task(**INDEX_SYNC_TASK)
def delete_product(product_id: int) -> None:
    indexing.delete_product_points(product_id=product_id)


@shared_task(**INDEX_SYNC_TASK)
def delete_image(image_id: int) -> None:
    indexing.delete_image_points(image_id=image_id)


@shared_task
def sweep_unindexed() -> int:
    """Beat: re-enqueue images left pending too long or built with an older model revision."""
    pending_before = timezone.now() - timedelta(seconds=settings.SWEEP_PENDING_AFTER_SECONDS)
    try:
        image_ids = indexing.images_needing_index(pending_before=pending_before)
    except ModelUnavailable as exc:
        logger.warning("sweep skipped: %s", exc)
        return 0
    for chunk in iter_chunks(image_ids, settings.EMBED_BATCH_SIZE):
        embed_images.delay(image_ids=chunk)
    if image_ids:
        logger.info("sweep re-enqueued %d image(s)", len(image_ids))
    return len(image_ids)
