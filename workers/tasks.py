"""Celery tasks: thin entry points. They take ids, re-read rows, and call search/ services."""

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from search.encoding.base import ModelUnavailable
from search.enrichment import service as enrichment
from search.index import outbox
from search.index import sync as indexing
from search.index.chunks import iter_chunks
from search.vector_index.base import VectorStoreUnavailable

logger = logging.getLogger(__name__)


class OnceInAWhile:
    """A log line said once per key and period, and counted meanwhile."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._next: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> None:
        now = time.monotonic()
        if now < self._next.get(key, 0.0):
            self._skipped[key] = self._skipped.get(key, 0) + 1
            return
        skipped = self._skipped.pop(key, 0)
        suffix = f" ({skipped} more like it since the last time)" if skipped else ""
        logger.warning(message + suffix, *args)
        self._next[key] = now + self.seconds


_MODEL_WAIT_LOG = OnceInAWhile(300.0)

# Worth another try: storage hiccups (OSError covers boto's connection errors through
# django-storages, and local I/O) and a vector store that did not answer.
TRANSIENT_ERRORS = (OSError, ConnectionError, TimeoutError, VectorStoreUnavailable)


@shared_task(
    bind=True,
    max_retries=4,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.EMBED_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EMBED_TASK_TIME_LIMIT,
)
def apply_index_changes(self, kind: str, entity_ids: list[int]) -> int:
    """The fast path: apply the index work one catalogue change recorded, right after its
    commit. A transient failure (storage, vector store) is retried here a few times, when the
    outbox makes the work due again; past that, and for anything else, the relay takes over."""
    applied = 0
    try:
        size = outbox.batch_size(kind)
        for chunk in iter_chunks(entity_ids, size):
            # A full batch: the change's own rows first, then other due work of its kind.
            applied += outbox.process(kind, entity_ids=chunk, limit=size, fill=True)
        if kind == outbox.Kind.IMAGE and settings.ENRICHMENT_ENABLED:
            # Colours and near-duplicates need the image's vector: after its index work.
            enrich_images.delay(image_ids=list(entity_ids))
    except outbox.RetryLater as exc:
        if isinstance(exc.__cause__, TRANSIENT_ERRORS) and self.request.retries < self.max_retries:
            raise self.retry(countdown=exc.delay, exc=exc) from exc
        if isinstance(exc.__cause__, ModelUnavailable):
            # The same cause for every upload while the model is missing (make demo offline):
            # say it once in a while, not once per image.
            _MODEL_WAIT_LOG.warning(
                str(exc.__cause__),
                "index work waits for the model, the relay retries it: %s",
                exc.__cause__,
            )
        else:
            logger.warning("%s; the relay takes it from here (%r)", exc, exc.__cause__)
    return applied


@shared_task(
    soft_time_limit=settings.EMBED_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EMBED_TASK_TIME_LIMIT,
)
def relay_index_changes() -> dict:
    """Beat: apply the outbox's due work that the fast path missed (broker down, worker
    killed, vector store or storage unavailable, model not loaded)."""
    report = outbox.relay(seconds=settings.INDEX_RELAY_BUDGET_SECONDS)
    if any(report.applied.values()) or report.failed:
        logger.info("relay applied %s, %d batch(es) failed", report.applied, report.failed)
    return {"applied": report.applied, "failed": report.failed}


@shared_task
def sweep_unindexed() -> int:
    """Beat: images left pending too long or built with an older model revision go (back)
    into the outbox; the fast path and the relay index them."""
    pending_before = timezone.now() - timedelta(seconds=settings.SWEEP_PENDING_AFTER_SECONDS)
    try:
        image_ids = indexing.images_needing_index(pending_before=pending_before)
    except ModelUnavailable as exc:
        logger.warning("sweep skipped: %s", exc)
        return 0
    with transaction.atomic():
        outbox.record(outbox.Kind.IMAGE, image_ids)
    for chunk in iter_chunks(image_ids, settings.EMBED_BATCH_SIZE):
        apply_index_changes.delay(kind=outbox.Kind.IMAGE, entity_ids=chunk)
    if image_ids:
        logger.info("sweep queued %d image(s)", len(image_ids))
    return len(image_ids)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.EMBED_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EMBED_TASK_TIME_LIMIT,
)
def enrich_images(image_ids: list[int]) -> int:
    """Colours, perceptual hash and near-duplicate flag of freshly indexed images. Images not
    indexed (yet) are skipped; the enrichment sweep takes whatever this missed."""
    report = enrichment.enrich_images(image_ids)
    return len(report.enriched)


@shared_task
def refresh_product_colors(product_id: int) -> bool:
    """A product lost an image: its colours are those of the images it has left."""
    return enrichment.refresh_product_colors(product_id=product_id)


@shared_task(
    soft_time_limit=settings.EMBED_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.EMBED_TASK_TIME_LIMIT,
)
def sweep_unenriched() -> int:
    """Beat: indexed images that no enrichment reached (a lost task, a restart)."""
    if not settings.ENRICHMENT_ENABLED:
        return 0
    done = 0
    for image_ids in enrichment.pending_batches(limit=settings.EMBED_BATCH_SIZE, max_batches=20):
        done += len(enrichment.enrich_images(image_ids).enriched)
    return done
