"""Catalogue indexing news -> webhook deliveries, recorded in the same transaction."""

from django.dispatch import receiver

from catalog import selectors as catalog_selectors
from catalog import signals as catalog_signals
from catalog.models import Product, ProductImage
from webhooks import services
from webhooks.models import Event


def _image_data(image: ProductImage) -> dict:
    return {
        "image_id": image.pk,
        "product_id": image.product_id,
        "sku": image.product.sku,
        "merchant": image.product.merchant.slug,
        "status": image.status,
        "sha256": image.sha256,
        "model_revision": image.model_revision,
        "failure_reason": image.failure_reason,
        "indexed_at": image.indexed_at.isoformat() if image.indexed_at else None,
    }


def _product_data(product: Product) -> dict:
    return {
        "product_id": product.pk,
        "sku": product.sku,
        "merchant": product.merchant.slug,
        "is_active": product.is_active,
        "updated_at": product.updated_at.isoformat(),
    }


def _publish_images(event: str, image_ids: list[int]) -> None:
    if not services.any_endpoint_active():
        return
    images = catalog_selectors.product_images_for_indexing(image_ids=image_ids)
    services.event_publish(
        event=event,
        items=[(image.product.merchant_id, _image_data(image)) for image in images],
    )


@receiver(catalog_signals.images_indexed)
def _images_indexed(sender, image_ids: list[int], **kwargs) -> None:
    _publish_images(Event.IMAGE_INDEXED, image_ids)


@receiver(catalog_signals.image_failed)
def _image_failed(sender, image_id: int, **kwargs) -> None:
    _publish_images(Event.IMAGE_FAILED, [image_id])


@receiver(catalog_signals.products_indexed)
def _products_indexed(sender, product_ids: list[int], **kwargs) -> None:
    if not services.any_endpoint_active():
        return
    products = catalog_selectors.products_for_indexing(product_ids=product_ids)
    services.event_publish(
        event=Event.PRODUCT_INDEXED,
        items=[(product.merchant_id, _product_data(product)) for product in products],
    )
