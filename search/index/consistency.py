"""Differences between PostgreSQL (the truth) and the vector index, and their repair."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog import selectors as catalog_selectors
from catalog.models import ProductImage
from search.index import generations, outbox
from search.index import sync as indexing
from search.index.chunks import iter_chunks
from search.index.documents import product_payload
from search.vector_index import get_vector_index


@dataclass
class IndexStatus:
    image_counts: dict[str, int]
    image_collection: str | None
    product_collection: str | None
    image_points: int = 0
    product_points: int = 0
    missing_images: list[int] = field(default_factory=list)  # indexed in PostgreSQL, no point
    orphan_image_points: list[str] = field(default_factory=list)  # point, no image row
    stale_images: list[int] = field(default_factory=list)  # built by another model
    missing_products: list[int] = field(default_factory=list)
    orphan_product_points: list[str] = field(default_factory=list)
    # products whose points (product point or image points) carry other filterable values
    # (price, stock, category, ...) than the product row
    stale_payloads: list[int] = field(default_factory=list)
    outbox: outbox.OutboxStatus | None = None

    @property
    def differences(self) -> int:
        return (
            len(self.missing_images)
            + len(self.orphan_image_points)
            + len(self.missing_products)
            + len(self.orphan_product_points)
            + len(self.stale_payloads)
        )

    @property
    def consistent(self) -> bool:
        return self.differences == 0


def index_status() -> IndexStatus:
    index = get_vector_index()
    image_collection = generations.resolve(generations.images_alias(), index, fresh=True)
    product_collection = generations.resolve(generations.products_alias(), index, fresh=True)
    status = IndexStatus(
        image_counts=catalog_selectors.image_status_counts(),
        image_collection=image_collection,
        product_collection=product_collection,
        outbox=outbox.status(),
    )
    expected: dict[Any, dict] = {
        product.pk: product_payload(product)
        for product in catalog_selectors.products_for_indexing(
            product_ids=catalog_selectors.product_ids_all()
        )
    }
    stale: set[int] = set()
    if image_collection:
        _, encoder = generations.live_images(index)
        points = {}
        for point_id, payload in index.scroll(image_collection):
            points[payload.get("image_id")] = point_id
            if _differs(payload, expected.get(payload.get("product_id"))):
                stale.add(payload["product_id"])
        status.image_points = len(points)
        rows = catalog_selectors.product_image_statuses()
        status.missing_images = sorted(
            image_id
            for image_id, state in rows.items()
            if state == ProductImage.Status.INDEXED and image_id not in points
        )
        status.orphan_image_points = sorted(
            point_id for image_id, point_id in points.items() if image_id not in rows
        )
        status.stale_images = catalog_selectors.product_image_ids_indexed_by_other_model(
            model_revision=encoder.model_key
        )
    if product_collection:
        points = {}
        for point_id, payload in index.scroll(product_collection):
            points[payload.get("product_id")] = point_id
            if _differs(payload, expected.get(payload.get("product_id"))):
                stale.add(payload["product_id"])
        status.product_points = len(points)
        product_ids = set(expected)
        status.missing_products = sorted(product_ids - set(points))
        status.orphan_product_points = sorted(
            point_id for product_id, point_id in points.items() if product_id not in product_ids
        )
    status.stale_payloads = sorted(stale)
    return status


def describe(status: IndexStatus) -> list[str]:
    """The figures, one line each, as `manage.py index_status` prints them and the admin's
    index status page shows them."""
    lines = [
        "images by status: "
        + ", ".join(f"{name} {count}" for name, count in status.image_counts.items()),
        f"live image collection: {status.image_collection or '(none yet)'} "
        f"with {status.image_points} point(s)",
        f"live product collection: {status.product_collection or '(none yet)'} "
        f"with {status.product_points} point(s)",
        "images indexed in PostgreSQL but missing from the vector index: "
        f"{len(status.missing_images)}",
        f"image points without an image: {len(status.orphan_image_points)}",
        f"images built with an older model: {len(status.stale_images)}",
        f"products missing from the vector index: {len(status.missing_products)}",
        f"product points without a product: {len(status.orphan_product_points)}",
        "products whose points carry other values (price, stock, ...): "
        f"{len(status.stale_payloads)}",
    ]
    if status.outbox is not None:
        lines.append(
            f"index work outstanding (outbox): {status.outbox.depth}, oldest "
            f"{status.outbox.oldest_age_seconds:.1f} s, failing {status.outbox.failing}"
        )
    return lines


def conclusion(status: IndexStatus) -> str:
    if status.consistent:
        return "PostgreSQL and the vector index agree."
    return "Differences found: run `manage.py reconcile` to repair them."


def _differs(payload: dict, wanted: dict | None) -> bool:
    """A point of an existing product whose filterable fields are not the product's."""
    return wanted is not None and any(payload.get(key) != value for key, value in wanted.items())


def reconcile(*, batch_size: int = 32) -> dict[str, int]:
    """Make the vector index match PostgreSQL: index what is missing or stale, drop orphans."""
    status = index_status()
    index = get_vector_index()
    repaired = {
        "images_indexed": 0,
        "image_points_deleted": 0,
        "products_indexed": 0,
        "product_points_deleted": 0,
        "payloads_synced": 0,
    }
    if status.orphan_image_points and status.image_collection:
        index.delete_points(status.image_collection, ids=status.orphan_image_points)
        repaired["image_points_deleted"] = len(status.orphan_image_points)
    if status.orphan_product_points and status.product_collection:
        index.delete_points(status.product_collection, ids=status.orphan_product_points)
        repaired["product_points_deleted"] = len(status.orphan_product_points)
    pending = catalog_selectors.product_image_ids_with_status(status=ProductImage.Status.PENDING)
    for chunk in iter_chunks(
        sorted(set(status.missing_images + status.stale_images + pending)), batch_size
    ):
        report = indexing.index_images(chunk)
        repaired["images_indexed"] += len(report.indexed) + len(report.reused)
    for chunk in iter_chunks(status.missing_products, 256):
        repaired["products_indexed"] += indexing.index_products(chunk)
    for product_id in status.stale_payloads:
        indexing.sync_product_payload(product_id=product_id)
    repaired["payloads_synced"] = len(status.stale_payloads)
    return repaired
