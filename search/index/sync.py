"""Keeps the vector index in step with the catalogue.

Two kinds of points:
- image points (one per product image): the CLIP vector, in `<prefix>_images_<model key>`;
- product points (one per product): the product-text vector and the keyword vector, in
  `<prefix>_products_<text model key>`.
Search reads through the aliases `<prefix>_images` and `<prefix>_products`, so a rebuild
with another model happens beside the live collection and is switched in one step.
Point ids are uuid5 of (image or product id, model key): writing the same thing twice
leaves one point.
"""

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.core.files.storage import default_storage
from django.db import transaction

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from catalog.models import Product
from search import generations
from search.encoders import ClipEncoder, UnreadableImage, get_clip_encoder
from search.generations import (
    IMAGE_VECTOR,
    KEYWORD_VECTOR,
    TEXT_VECTOR,
    images_alias,
    products_alias,
)
from search.keywords import keyword_document_vector
from search.models import ImageEmbedding, ProductTextEmbedding
from search.text_encoder import TextEncoder, get_text_encoder, product_text
from search.vector_index import get_vector_index
from search.vector_index.base import PointData, VectorIndex

logger = logging.getLogger(__name__)

POINT_NAMESPACE = uuid.UUID("6f1c1d6e-31a5-4c53-9f55-0d6a4f3f6a10")


def image_point_id(image_id: int, model_key: str) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"image:{image_id}:{model_key}"))


def product_point_id(product_id: int, model_key: str) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, f"product:{product_id}:{model_key}"))


def product_payload(product: Product) -> dict:
    """The filterable fields, shared by a product's image points and its product point."""
    return {
        "product_id": product.pk,
        "merchant_id": product.merchant_id,
        "merchant": product.merchant.slug,
        "category": product.category,
        "brand": product.brand,
        "price": float(product.price),
        "currency": product.currency,
        "in_stock": product.in_stock,
        "active": product.is_active,
    }


def text_of(product: Product) -> str:
    return product_text(
        title=product.title,
        brand=product.brand,
        category=product.category,
        description=product.description,
        attributes={**product.attributes, "sku": product.sku},
    )


# --- Images --------------------------------------------------------------------------------------


@dataclass
class IndexReport:
    indexed: list[int] = field(default_factory=list)
    reused: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    missing: list[int] = field(default_factory=list)


def _read_file(name: str) -> Callable[[], bytes]:
    def load() -> bytes:
        with default_storage.open(name, "rb") as handle:
            return handle.read()

    return load


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
            to_encode.append((image.pk, _read_file(str(image.file.name))))

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
            payload={
                **product_payload(images[image_id].product),
                "image_id": image_id,
                "model_revision": encoder.model_key,
                # Images are immutable (content-addressed), so their storage names can ride
                # along: results then need no image lookup in the database.
                "file": images[image_id].file.name,
                "thumbnail": images[image_id].thumbnail.name,
            },
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
    if collection is None:
        target, encoder = generations.live_products(index)
    else:
        target, encoder = collection, encoder or get_text_encoder()
    products = list(Product.objects.filter(pk__in=list(product_ids)).select_related("merchant"))
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
    return len(points)


def sync_product_payload(*, product_id: int) -> None:
    """Push a product's filterable fields to all its points, without re-embedding."""
    product = Product.objects.select_related("merchant").filter(pk=product_id).first()
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


def iter_chunks(items: Iterable[int], size: int) -> Iterable[list[int]]:
    chunk: list[int] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
