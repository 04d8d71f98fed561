"""Turn a page of ranked product ids into results a shopper can see."""

from collections.abc import Sequence
from typing import Any

from django.core.files.storage import default_storage

from catalog import selectors as catalog_selectors
from search.query.types import ResultItem


def hydrate(items: Sequence[ResultItem]) -> list[ResultItem]:
    """Attach products, image and thumbnail URLs, in one database query."""
    if not items:
        return []
    products = catalog_selectors.products_for_results(
        product_ids=[item.product_id for item in items]
    )
    hydrated = []
    for item in items:
        # Annotated by the selector with its first image (first_image_id, _file, _thumb).
        product: Any = products.get(item.product_id)
        if product is None:
            continue  # deleted or deactivated since it was indexed
        item.product = product
        file_name, thumb_name = item.image_file, item.thumbnail_file
        if not file_name:
            item.image_id = product.first_image_id
            file_name, thumb_name = product.first_image_file, product.first_image_thumb
        if file_name:
            item.image_url = default_storage.url(file_name)
            item.thumbnail_url = default_storage.url(thumb_name or file_name)
        hydrated.append(item)
    return hydrated
