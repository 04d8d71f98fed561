"""The fast path of index work: after a catalogue change commits, enqueue its work at once.

The work itself was recorded in the change's transaction (search/index/outbox.py); if this
enqueue fails (the broker is down), the merchant's write still succeeded and the relay
applies the work once it can. So a failure here is logged and counted, never raised.
"""

import logging
import time
from functools import partial

from django.db import transaction
from django.dispatch import receiver

from catalog import signals
from catalog.services import INDEXED_PRODUCT_FIELDS, TEXT_PRODUCT_FIELDS
from config.metrics import INDEX_FAST_PATH_FAILURES
from search.index.chunks import iter_chunks
from search.index.outbox import Kind, batch_size
from search.relevance import runs as finetune_runs
from webhooks import signals as webhook_signals
from workers import tasks

logger = logging.getLogger(__name__)


class FastPathBreaker:
    """After an enqueue failed, skip the fast path for a while.

    A publish to a Redis that refuses connections takes ~6 s here (redis-py retries the
    connect with back-off), and a merchant's request would pay it on every write of an
    outage. One request pays it; the writes after it skip the broker for ``PAUSE_SECONDS``
    and leave their work to the relay.
    """

    PAUSE_SECONDS = 15.0

    def __init__(self) -> None:
        self.paused_until = 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self.paused_until

    def tripped(self) -> None:
        self.paused_until = time.monotonic() + self.PAUSE_SECONDS

    def reset(self) -> None:
        self.paused_until = 0.0


FAST_PATH = FastPathBreaker()


def _enqueue(kind: str, entity_ids: list[int]) -> None:
    if not FAST_PATH.allows():
        INDEX_FAST_PATH_FAILURES.inc()
        logger.info("broker recently down: %s index work %s left to the relay", kind, entity_ids)
        return
    try:
        # No publish retries: a request must not wait for a broker that is down.
        tasks.apply_index_changes.apply_async(
            kwargs={"kind": kind, "entity_ids": entity_ids}, retry=False
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure: the outbox has the work
        FAST_PATH.tripped()
        INDEX_FAST_PATH_FAILURES.inc()
        logger.warning(
            "could not enqueue %s index work %s (%s); the relay will apply it",
            kind,
            entity_ids,
            exc,
        )


def _after_commit(kind: str, entity_ids: list[int]) -> None:
    for chunk in iter_chunks(entity_ids, batch_size(kind)):
        transaction.on_commit(partial(_enqueue, kind, chunk))


@receiver(signals.image_added)
@receiver(signals.image_deleted)
def _image_changed(sender, image_id: int, product_id: int, **kwargs) -> None:
    _after_commit(Kind.IMAGE, [image_id])


@receiver(signals.image_deleted)
def _image_deleted(sender, image_id: int, product_id: int, **kwargs) -> None:
    transaction.on_commit(partial(_enqueue_colour_refresh, product_id))


def _enqueue_colour_refresh(product_id: int) -> None:
    if not FAST_PATH.allows():
        return  # the broker is down; the colours are refreshed at the product's next image
    try:
        tasks.refresh_product_colors.apply_async(kwargs={"product_id": product_id}, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure: colours are derived data
        FAST_PATH.tripped()
        logger.warning("could not enqueue the colour refresh of product %s: %s", product_id, exc)


@receiver(signals.images_reindex_requested)
def _images_reindex_requested(sender, image_ids: list[int], **kwargs) -> None:
    _after_commit(Kind.IMAGE, image_ids)


@receiver(signals.product_changed)
def _product_changed(sender, product_id: int, changed_fields: frozenset, **kwargs) -> None:
    if changed_fields & (TEXT_PRODUCT_FIELDS | INDEXED_PRODUCT_FIELDS):
        _after_commit(Kind.PRODUCT, [product_id])


@receiver(signals.product_deleted)
def _product_deleted(sender, product_id: int, **kwargs) -> None:
    _after_commit(Kind.PRODUCT, [product_id])


@receiver(signals.image_fetch_requested)
def _image_fetch_requested(sender, fetch_id: int, **kwargs) -> None:
    transaction.on_commit(partial(tasks.fetch_product_image.delay, fetch_id))


@receiver(webhook_signals.deliveries_created)
def _webhook_deliveries_created(sender, delivery_ids: list[int], **kwargs) -> None:
    for delivery_id in delivery_ids:
        transaction.on_commit(partial(tasks.deliver_webhook.delay, delivery_id))


@receiver(finetune_runs.finetune_run_requested)
def _enqueue_finetune_run(sender, run_id: int, queue: str, **kwargs) -> None:
    # No publish retries: the operator who started it hears at once that the broker is down.
    tasks.finetune_clip_run.apply_async(kwargs={"run_id": run_id}, queue=queue, retry=False)
