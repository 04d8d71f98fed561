"""What the vector index stores for the catalogue: point ids, payloads and product texts.

Two kinds of points:
- image points (one per product image): the CLIP vector ``image``, in
  ``<prefix>_images_<model key>``;
- product points (one per product): the product-text vector ``text`` and the keyword vector
  ``keywords``, in ``<prefix>_products_<text model key>``.
Point ids are uuid5 of (image or product id, model key): writing the same thing twice
leaves one point.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from catalog.models import Product, ProductImage
from catalog.selectors import product_attribute_values, product_colors

IMAGE_VECTOR = "image"
TEXT_VECTOR = "text"
KEYWORD_VECTOR = "keywords"

POINT_NAMESPACE = uuid.UUID("6f1c1d6e-31a5-4c53-9f55-0d6a4f3f6a10")
# A product text longer than this is cut before tokenising: the model reads 256 word pieces at
# most, so the rest would be tokenised only to be thrown away.
PRODUCT_TEXT_MAX_CHARS = 2000


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
        # The merchant's typed colour, else the colours derived from the images.
        "color": product_colors(product=product)["values"],
        # Derived attributes (the merchant's value wins) as "name:value" terms: one keyword
        # field with one payload index serves every attribute's filter and facet.
        "attrs": attribute_terms(product),
    }


def attribute_terms(product: Product) -> list[str]:
    return [
        f"{name}:{value}"
        for name, found in product_attribute_values(product=product).items()
        for value in found["values"]
    ]


def image_payload(image: ProductImage, model_key: str) -> dict:
    return {
        **product_payload(image.product),
        "image_id": image.pk,
        "model_revision": model_key,
        # Images are immutable (content-addressed), so their storage names can ride along:
        # results then need no image lookup in the database.
        "file": image.file.name,
        "thumbnail": image.thumbnail.name,
    }


def text_of(product: Product) -> str:
    return product_text(
        title=product.title,
        brand=product.brand,
        category=product.category,
        description=product.description,
        attributes={**product.attributes, "sku": product.sku},
    )


def _clean(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value)).strip()


def _attribute_values(attributes: Mapping[str, Any]) -> list[str]:
    values: list[str] = []
    for key, value in attributes.items():
        if value is True:
            values.append(
                _clean(key).replace("_", " ")
            )  # {"waterproof": true}: the key is the fact
        elif value is None or value is False:
            continue
        elif isinstance(value, (list, tuple, set)):
            values.extend(_clean(item) for item in value if item not in (None, False, ""))
        elif isinstance(value, Mapping):
            values.extend(_attribute_values(value))
        else:
            values.append(_clean(value))
    return [value for value in values if value]


def product_text(
    *,
    title: str,
    brand: str = "",
    category: str = "",
    description: str = "",
    attributes: Mapping[str, Any] | None = None,
) -> str:
    """The text that stands for a product in the text vector and keyword legs.

    Short, telling fields come first and the description last, so that the model's
    truncation cuts the description rather than the brand or the attributes.
    """
    parts = [_clean(title), _clean(brand), _clean(category)]
    values = _attribute_values(attributes or {})
    if values:
        parts.append(", ".join(dict.fromkeys(values)))
    parts.append(_clean(description))
    text = ". ".join(part.rstrip(".") for part in parts if part)
    if len(text) > PRODUCT_TEXT_MAX_CHARS:
        text = text[:PRODUCT_TEXT_MAX_CHARS].rsplit(" ", 1)[0]
    return text
