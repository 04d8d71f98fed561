"""Keeps the vector index in step with the catalogue: embed and upsert, sync payloads, delete.

Search reads through the aliases `<prefix>_images` and `<prefix>_products`, so a rebuild
with another model happens beside the live collection and is switched in one step
(search/index/generations.py); what a point holds is in search/index/documents.py.
"""

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from search.encoding.clip import ClipEncoder, UnreadableImage
from search.encoding.keywords import keyword_document_vector
from search.encoding.registry import get_clip_encoder, get_text_encoder
from search.encoding.text import TextEncoder
from search.index import generations
from search.index.documents import (
    IMAGE_VECTOR,
    KEYWORD_VECTOR,
    TEXT_VECTOR,
    image_payload,
    image_point_id,
    product_payload,
    product_point_id,
    text_of,
)
from search.index.generations import images_alias, products_alias
from search.models import ImageEmbedding, ProductTextEmbedding
from search.vector_index import get_vector_index
from search.vector_index.base import PointData, VectorIndex

logger = logging.getLogger(__name__)


# --- Images --------------------------------------------------------------------------------------


@dataclass
class IndexReport:
    indexed: list[int] = field(default_factory=list)
    reused: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    missing: list[int] = field(default_factory=list)


def index_images(
    image_ids: Sequence[int],
    *,
    collection: str | None = None,
    encoder: ClipEncoder | None = None,
    index: VectorIndex | None = None,
    force: bool = False,
) -> IndexReport:
    """Embed images (reusing stored embeddings of the same bytes and model) and upsert their points.

    Storage and vector-store errors propagate (the caller retries); an image that cannot be
    decoded is marked failed with a reason the merchant can read.
    """
    index = index or get_vector_index()
    live = collection is None
    if collection is None:
        target, encoder = generations.live_images(index)
    else:
        target, encoder = collection, encoder or get_clip_encoder()
    report = IndexReport()
    images = {
        image.pk: image
        for image in catalog_selectors.product_images_for_indexing(image_ids=image_ids)
    }
    report.missing = [image_id for image_id in image_ids if image_id not in images]
    if not images:
        return report

    stored = {
        row.image_id: row
        for row in ImageEmbedding.objects.filter(
            image_id__in=list(images), model_key=encoder.model_key
        )
    }
    vectors: dict[int, np.ndarray] = {}
    to_encode = []
    for image in images.values():
        row = stored.get(image.pk)
        if row is not None and row.sha256 == image.sha256 and not force:
            vectors[image.pk] = row.as_array()
            report.reused.append(image.pk)
        else:
            to_encode.append(
                (image.pk, catalog_selectors.image_file_reader(name=str(image.file.name)))
            )

    for image_id, result in encoder.encode_image_stream(to_encode) if to_encode else ():
        if isinstance(result, UnreadableImage):
            report.failed[image_id] = "The stored image file could not be decoded; upload it again."
            continue
        vectors[image_id] = result
        report.indexed.append(image_id)

    points = [
        PointData(
            id=image_point_id(image_id, encoder.model_key),
            vectors={IMAGE_VECTOR: vector},
            payload=image_payload(images[image_id], encoder.model_key),
        )
        for image_id, vector in vectors.items()
    ]
    if points:
        index.upsert(target, points)
    with transaction.atomic():
        for image_id in report.indexed:
            ImageEmbedding.objects.update_or_create(
                image_id=image_id,
                model_key=encoder.model_key,
                defaults={
                    "vector": ImageEmbedding.to_bytes(vectors[image_id]),
                    "sha256": images[image_id].sha256,
                },
            )
        if live:
            catalog_services.product_images_mark_indexed(
                image_ids=list(vectors), model_revision=encoder.model_key
            )
        for image_id, reason in report.failed.items():
            catalog_services.product_image_mark_failed(image_id=image_id, reason=reason)
    return report


def delete_image_points(*, image_id: int) -> None:
    index = get_vector_index()
    for collection in _collections_of(index, images_alias()):
        index.delete_points(
            collection, ids=[image_point_id(image_id, _model_key_of(collection, images_alias()))]
        )


# --- Products ------------------------------------------------------------------------------------


def index_products(
    product_ids: Sequence[int],
    *,
    collection: str | None = None,
    encoder: TextEncoder | None = None,
    index: VectorIndex | None = None,
) -> int:
    """Upsert product points (text vector + keyword vector), re-embedding only changed text."""
    index = index or get_vector_index()
    live = collection is None
    if collection is None:
        target, encoder = generations.live_products(index)
    else:
        target, encoder = collection, encoder or get_text_encoder()
    products = catalog_selectors.products_for_indexing(product_ids=product_ids)
    if not products:
        return 0
    texts = {product.pk: text_of(product) for product in products}
    shas = {pk: hashlib.sha256(text.encode()).hexdigest() for pk, text in texts.items()}
    stored = {
        row.product_id: row
        for row in ProductTextEmbedding.objects.filter(
            product_id__in=list(texts), model_key=encoder.model_key
        )
    }
    vectors = {pk: row.as_array() for pk, row in stored.items() if row.text_sha256 == shas[pk]}
    stale = [pk for pk in texts if pk not in vectors]
    if stale:
        fresh = encoder.encode([texts[pk] for pk in stale])
        with transaction.atomic():
            for pk, vector in zip(stale, fresh, strict=True):
                vectors[pk] = vector
                ProductTextEmbedding.objects.update_or_create(
                    product_id=pk,
                    model_key=encoder.model_key,
                    defaults={
                        "vector": ProductTextEmbedding.to_bytes(vector),
                        "text_sha256": shas[pk],
                    },
                )
    points = [
        PointData(
            id=product_point_id(product.pk, encoder.model_key),
            vectors={
                TEXT_VECTOR: vectors[product.pk],
                KEYWORD_VECTOR: keyword_document_vector(texts[product.pk]),
            },
            payload={**product_payload(product), "text_model": encoder.model_key},
        )
        for product in products
    ]
    index.upsert(target, points)
    if live:
        catalog_services.products_mark_indexed(product_ids=[product.pk for product in products])
    return len(points)


def sync_product_payload(*, product_id: int) -> None:
    """Push a product's filterable fields to all its points, without re-embedding."""
    product = catalog_selectors.product_for_indexing(product_id=product_id)
    if product is None:
        return
    index = get_vector_index()
    payload = product_payload(product)
    for alias in (images_alias(), products_alias()):
        for collection in _collections_of(index, alias):
            index.set_payload(collection, payload, product_id=product_id)


def delete_product_points(*, product_id: int) -> None:
    index = get_vector_index()
    for alias in (images_alias(), products_alias()):
        for collection in _collections_of(index, alias):
            index.delete_points(collection, product_id=product_id)


def _collections_of(index: VectorIndex, alias: str) -> list[str]:
    """The live collection behind an alias and any rebuild in progress beside it."""
    prefix = f"{alias}_"
    names = [name for name in index.list_collections() if name.startswith(prefix)]
    live = index.resolve_alias(alias)
    if live and live not in names:
        names.append(live)
    return names


def _model_key_of(collection: str, alias: str) -> str:
    return collection[len(alias) + 1 :]


def images_needing_index(*, pending_before) -> list[int]:
    _, encoder = generations.live_image_encoder_if_any()
    return catalog_selectors.product_image_ids_needing_index(
        current_revision=encoder.model_key, pending_before=pending_before
    )
