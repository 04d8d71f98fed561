"""Enrich catalogue images: colours, a perceptual hash and near-duplicate links, written
through the catalogue's services (the product's derived colours then reach the index
through the outbox, like any product change)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import transaction

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from catalog.models import Product, ProductImage
from search.encoding.base import ModelUnavailable
from search.enrichment.attributes import PROMPTS, Attribute, best_values
from search.enrichment.colors import dominant_colours, product_colours
from search.enrichment.duplicates import (
    confirm_twin,
    image_vectors,
    perceptual_hash,
    twin_candidates,
)
from search.enrichment.palette import get_palette
from search.enrichment.vocabularies import get_vocabularies
from search.index.generations import images_alias, live_image_encoder_if_any, resolve
from search.models import ImageEmbedding
from search.vector_index import get_vector_index
from search.vector_index.base import VectorIndex

logger = logging.getLogger(__name__)


@dataclass
class EnrichReport:
    enriched: list[int] = field(default_factory=list)
    duplicates: dict[int, int] = field(default_factory=dict)  # image id -> its twin
    # image id -> its twin in another merchant's catalogue (for shop staff)
    duplicates_elsewhere: dict[int, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    products: set[int] = field(default_factory=set)


def enrich_images(image_ids: Sequence[int], *, index: VectorIndex | None = None) -> EnrichReport:
    """Derive and store colours and hashes of these (indexed) images, flag near-duplicates of
    older images of the same merchant (and of other merchants, for shop staff), and refresh
    their products' colours."""
    report = EnrichReport()
    images = catalog_selectors.product_images_for_enrichment(image_ids=image_ids)
    if not images:
        return report
    palette = get_palette()
    hashes: dict[int, str] = {}
    colours: dict[int, list[dict]] = {}
    for image in images:
        try:
            data = catalog_selectors.image_file_reader(name=str(image.file.name))()
            colours[image.pk] = [c.as_dict() for c in dominant_colours(data, palette)]
            hashes[image.pk] = perceptual_hash(data)
        except (OSError, ValueError) as exc:  # storage refused, or the bytes do not decode
            report.failed[image.pk] = f"{type(exc).__name__}: {exc}"
            logger.warning("enrichment of image %s failed: %s", image.pk, exc)
    twins = _find_twins([i for i in images if i.pk in hashes], hashes, index or get_vector_index())
    enriched = [image for image in images if image.pk in hashes]
    products = sorted({image.product_id for image in enriched})
    attributes: dict[int, dict[str, dict]] = {}
    if settings.ENRICHMENT_ATTRIBUTES_ENABLED and products:
        try:
            attributes = product_attributes(product_ids=products, index=index)
        except ModelUnavailable as exc:
            logger.info("zero-shot attributes skipped, CLIP unavailable: %s", exc)
    # The images' results and their products' derived values in one commit: an image counts
    # as enriched only once its product's change (and the index work it records) is there too.
    with transaction.atomic():
        for image in enriched:
            twin = twins.own.get(image.pk)
            elsewhere = twins.elsewhere.get(image.pk)
            catalog_services.product_image_record_enrichment(
                image_id=image.pk,
                colors=colours[image.pk],
                perceptual_hash=hashes[image.pk],
                duplicate_of_id=twin[0] if twin else None,
                duplicate_similarity=twin[1] if twin else None,
                duplicate_elsewhere_id=elsewhere[0] if elsewhere else None,
                duplicate_elsewhere_similarity=elsewhere[1] if elsewhere else None,
            )
            report.enriched.append(image.pk)
            report.products.add(image.product_id)
            if twin:
                report.duplicates[image.pk] = twin[0]
            if elsewhere:
                report.duplicates_elsewhere[image.pk] = elsewhere[0]
        # One write per product for colours and attributes together: one change for the index.
        for product_id in products:
            refresh_product_colors(product_id=product_id, attributes=attributes.get(product_id))
    return report


def product_attributes(
    *, product_ids: Sequence[int], index: VectorIndex | None = None
) -> dict[int, dict[str, dict]]:
    """Score the products' category vocabularies against their stored image vectors (the
    live model's): per product, each attribute's best value when it reaches its threshold."""
    out: dict[int, dict[str, dict]] = {}
    for product, attributes, best in product_best_values(product_ids=product_ids, index=index):
        # Every attribute scored is named, a value below its threshold as null: the merchant's
        # own value for it then still becomes a filter.
        out[product.pk] = {
            a.name: (
                {"value": best[a.name][0], "confidence": round(best[a.name][1], 3)}
                if best[a.name][1] >= a.threshold
                else {"value": None, "confidence": None}
            )
            for a in attributes
        }
    return out


def product_best_values(
    *, product_ids: Sequence[int], index: VectorIndex | None = None
) -> Iterator[tuple[Product, list[Attribute], dict[str, tuple[str, float]]]]:
    """Per product with stored vectors of the live model and a vocabulary for its category:
    its attributes and each one's best value with its confidence, thresholds not applied."""
    collection, encoder = live_image_encoder_if_any(index or get_vector_index())
    if collection is None:
        return
    model_key = collection[len(images_alias()) + 1 :]
    vocabularies = get_vocabularies()
    for product in catalog_selectors.products_for_indexing(product_ids=product_ids):
        attributes = vocabularies.for_category(product.category)
        if not attributes:
            continue
        rows = ImageEmbedding.objects.filter(image__product_id=product.pk, model_key=model_key)
        vectors = [row.as_array() for row in rows]
        if not vectors:
            continue
        prompts = PROMPTS.vectors(encoder, [p for a in attributes for p in a.prompts])
        yield product, attributes, best_values(np.stack(vectors), attributes, prompts)


def refresh_product_colors(*, product_id: int, attributes: dict[str, dict] | None = None) -> bool:
    """Aggregate the product's image colours into its derived colours, and store its derived
    attributes when given (True when anything changed)."""
    per_image = catalog_selectors.product_image_colors_of(product_id=product_id)
    colors = product_colours(per_image, min_share=settings.ENRICHMENT_COLOR_MIN_SHARE)
    return catalog_services.product_set_derived(
        product_id=product_id, colors=colors, attributes=attributes
    )


@dataclass(frozen=True)
class Twins:
    """image id -> (older twin's root image id, cosine): of the same merchant, and of others."""

    own: dict[int, tuple[int, float]]
    elsewhere: dict[int, tuple[int, float]]


def _find_twins(images: list[ProductImage], hashes: dict[int, str], index: VectorIndex) -> Twins:
    twins = Twins(own={}, elsewhere={})
    collection = resolve(images_alias(), index)
    if collection is None or not images:
        return twins
    vectors = image_vectors(index, collection, [image.pk for image in images])
    passes = [(False, twins.own)]
    if settings.ENRICHMENT_DUPLICATES_ACROSS_MERCHANTS:
        passes.append((True, twins.elsewhere))
    for image in images:
        vector = vectors.get(image.pk)
        if vector is None:
            continue
        for across, found in passes:
            if image.duplicate_elsewhere_dismissed if across else image.duplicate_dismissed:
                continue  # reviewed: not a duplicate
            twin = _twin_of(image, vector, hashes, index, collection, across_merchants=across)
            if twin is not None:
                found[image.pk] = twin
    return twins


def _twin_of(
    image: ProductImage,
    vector: np.ndarray,
    hashes: dict[int, str],
    index: VectorIndex,
    collection: str,
    *,
    across_merchants: bool,
) -> tuple[int, float] | None:
    # Only an older image can be the original: the newer copy is the one to review.
    candidates = [
        (other, score)
        for other, score in twin_candidates(
            index,
            collection,
            image_id=image.pk,
            vector=vector,
            merchant=image.product.merchant.slug,
            min_similarity=settings.ENRICHMENT_DUPLICATE_MIN_SIMILARITY,
            across_merchants=across_merchants,
        )
        if other < image.pk
    ]
    if not candidates:
        return None
    others = catalog_selectors.product_images_by_id(image_ids=[c[0] for c in candidates])
    with_hashes = [
        (other, score, hashes.get(other) or _hash_of(others.get(other)))
        for other, score in candidates
    ]
    twin = confirm_twin(
        hashes[image.pk],
        with_hashes,
        max_hash_distance=settings.ENRICHMENT_DUPLICATE_MAX_HASH_BITS,
    )
    if twin is None:
        return None
    other = others.get(twin.image_id)
    root = (
        (other.duplicate_elsewhere_id if across_merchants else other.duplicate_of_id)
        if other
        else None
    )
    return (root or twin.image_id, round(twin.similarity, 4))


def _hash_of(image: ProductImage | None) -> str:
    """A candidate's stored hash, or computed now when it was not enriched yet."""
    if image is None:
        return ""
    if image.perceptual_hash:
        return image.perceptual_hash
    try:
        return perceptual_hash(catalog_selectors.image_file_reader(name=str(image.file.name))())
    except (OSError, ValueError):
        return ""


def pending_batches(
    *, limit: int, redo: bool = False, after_id: int = 0, max_batches: int | None = None
):
    """Batches of image ids to enrich, in id order from ``after_id``: the not-yet-enriched
    ones (all indexed ones with ``redo``). Each batch is read when the previous one is done,
    so a stopped run resumes where it was (a redo resumes with ``after_id``)."""
    batches = 0
    while max_batches is None or batches < max_batches:
        image_ids = catalog_selectors.product_image_ids_needing_enrichment(
            after_id=after_id, limit=limit, redo=redo
        )
        if not image_ids:
            return
        yield image_ids
        after_id = image_ids[-1]
        batches += 1
