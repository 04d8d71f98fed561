"""Turn catalogue changes into tasks, enqueued only once the transaction has committed."""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from catalog import signals
from catalog.services import INDEXED_PRODUCT_FIELDS, TEXT_PRODUCT_FIELDS
from search.index.chunks import iter_chunks
from workers import tasks


def _after_commit(task, **kwargs) -> None:
    transaction.on_commit(partial(task.delay, **kwargs))


@receiver(signals.image_added)
def _image_added(sender, image_id: int, product_id: int, **kwargs) -> None:
    _after_commit(tasks.embed_images, image_ids=[image_id])


@receiver(signals.images_reindex_requested)
def _images_reindex_requested(sender, image_ids: list[int], **kwargs) -> None:
    for chunk in iter_chunks(image_ids, settings.EMBED_BATCH_SIZE):
        _after_commit(tasks.embed_images, image_ids=chunk)


@receiver(signals.image_deleted)
def _image_deleted(sender, image_id: int, product_id: int, **kwargs) -> None:
    _after_commit(tasks.delete_image, image_id=image_id)


@receiver(signals.product_changed)
def _product_changed(sender, product_id: int, changed_fields: frozenset, **kwargs) -> None:
    if changed_fields & TEXT_PRODUCT_FIELDS:
        # Re-embedding the text also rewrites the product point's payload.
        _after_commit(tasks.embed_product_text, product_ids=[product_id])
    if changed_fields & INDEXED_PRODUCT_FIELDS:
        _after_commit(tasks.sync_product, product_id=product_id)


@receiver(signals.product_deleted)
def _product_deleted(sender, product_id: int, **kwargs) -> None:
    _after_commit(tasks.delete_product, product_id=product_id)
