"""Celery tasks: thin entry points. They take ids, re-read rows, and call search/ services."""

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from catalog.remote import FetchUnavailable
from search.encoding.base import ModelUnavailable
from search.enrichment import service as enrichment
from search.index import outbox
from search.index import sync as indexing
from search.index.chunks import iter_chunks
from search.relevance import runs as finetune_runs
from search.vector_index.base import VectorStoreUnavailable
from webhooks import selectors as webhook_selectors
from webhooks import services as webhook_services

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
        # Run inline (eager), the caller is the upload itself: nothing else can arrive meanwhile.
        wait = 0.0 if self.request.is_eager else outbox.batch_wait(kind)
        for chunk in iter_chunks(entity_ids, size):
            # A full batch: the change's own rows first, then other due work of its kind, and
            # what arrives within the batch wait (uploads come one by one).
            applied += outbox.process(kind, entity_ids=chunk, limit=size, fill=True, wait=wait)
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
    bind=True,
    max_retries=settings.IMAGE_FETCH_MAX_RETRIES,
    acks_late=True,
    reject_on_worker_lost=True,
    # The download has its own deadline (IMAGE_FETCH_TIMEOUT_SECONDS); intake and thumbnail after it.
    soft_time_limit=settings.IMAGE_FETCH_TIMEOUT_SECONDS + 60,
    time_limit=settings.IMAGE_FETCH_TIMEOUT_SECONDS + 90,
)
def fetch_product_image(self, fetch_id: int) -> str:
    """Download an image a merchant gave by URL and take it in. A server that is down or busy
    is tried again with growing waits; past the retries the fetch is marked failed."""
    try:
        fetch = catalog_services.product_image_fetch_run(fetch_id=fetch_id)
    except FetchUnavailable as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(countdown=backoff_seconds(self.request.retries), exc=exc) from exc
        fetch = catalog_services.product_image_fetch_fail(fetch_id=fetch_id, reason=exc.detail)
    if fetch is None:
        logger.info("image fetch %s is gone; nothing to do", fetch_id)
        return "missing"
    if fetch.status == fetch.Status.FAILED:
        logger.info("image fetch %s failed: %s", fetch_id, fetch.failure_reason)
    return str(fetch.status)


def backoff_seconds(retries: int, *, base: float = 30.0, cap: float = 3600.0) -> float:
    """Exponential back-off: base, 2 x base, 4 x base ... capped."""
    return float(min(cap, base * (2**retries)))


@shared_task(bind=True, max_retries=settings.WEBHOOK_MAX_RETRIES, acks_late=True)
def deliver_webhook(self, delivery_id: int) -> str:
    """POST one signed webhook delivery; a receiver that does not answer 2xx is tried again
    after 30 s, 60 s, 120 s ... (WEBHOOK_RETRY_BASE_SECONDS), then the delivery is failed."""
    try:
        delivery = webhook_services.delivery_attempt(delivery_id=delivery_id)
    except webhook_services.DeliveryFailed as exc:
        if self.request.retries < self.max_retries:
            delay = backoff_seconds(self.request.retries, base=settings.WEBHOOK_RETRY_BASE_SECONDS)
            logger.info("webhook delivery %s: %s; again in %.0f s", delivery_id, exc, delay)
            raise self.retry(countdown=delay, exc=exc) from exc
        webhook_services.delivery_give_up(delivery_id=delivery_id, reason=str(exc))
        return "failed"
    return "missing" if delivery is None else str(delivery.status)


@shared_task
def sweep_feed_work() -> dict:
    """Beat: image fetches and webhook deliveries whose task was lost (the broker was down when
    they were queued, a worker died) are queued again. A delivery sent twice carries the same
    X-Webhook-Id, for the receiver to drop the repeat."""
    now = timezone.now()
    fetch_ids = catalog_selectors.product_image_fetch_ids_stale(
        pending_before=now - timedelta(seconds=settings.SWEEP_PENDING_AFTER_SECONDS)
    )
    # Past the longest back-off between two attempts (an hour), with room to spare.
    delivery_ids = webhook_selectors.delivery_ids_stale(pending_before=now - timedelta(hours=2))
    for fetch_id in fetch_ids:
        fetch_product_image.delay(fetch_id)
    for delivery_id in delivery_ids:
        deliver_webhook.delay(delivery_id)
    if fetch_ids or delivery_ids:
        logger.info(
            "sweep queued %d image fetch(es), %d webhook delivery(ies) again",
            len(fetch_ids),
            len(delivery_ids),
        )
    return {"fetches": len(fetch_ids), "deliveries": len(delivery_ids)}


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


@shared_task(
    # Acked when it starts, unlike the index work: the broker would hand an hours-long run to
    # a second worker once its visibility timeout passed. A run whose worker died is started
    # again by hand and resumes from its last finished epoch.
    acks_late=False,
    reject_on_worker_lost=False,
    soft_time_limit=settings.FINETUNE_TIME_LIMIT,
    time_limit=settings.FINETUNE_TIME_LIMIT + 300,
)
def finetune_clip_run(run_id: int) -> str:
    """A `finetune_clip` run on the worker of its queue (FINETUNE_QUEUE: the GPU host)."""
    run = finetune_runs.finetune_run_execute(run_id=run_id)
    if run is None:
        return "missing"
    logger.info("fine-tuning run %s: %s", run_id, finetune_runs.finetune_run_describe(run))
    return str(run.status)
