"""Reads of the catalogue. Selectors own select_related/prefetch_related."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet

from catalog.models import Merchant, Product, ProductImage


def merchants_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Merchant]:
    if not user.is_authenticated:
        return Merchant.objects.none()
    if getattr(user, "is_superuser", False):
        return Merchant.objects.all()
    return Merchant.objects.filter(memberships__user_id=user.pk)


def product_list_for_user(
    *, user: AbstractBaseUser | AnonymousUser, search: str = "", merchant_slug: str = ""
) -> QuerySet[Product]:
    """The products a merchant's staff may see and edit: those of their merchants only."""
    products = Product.objects.filter(merchant__in=merchants_for_user(user=user))
    if merchant_slug:
        products = products.filter(merchant__slug=merchant_slug)
    if search:
        products = products.filter(Q(title__icontains=search) | Q(sku__iexact=search))
    return products.select_related("merchant").annotate(image_count=Count("images"))


def product_get_for_user(
    *, user: AbstractBaseUser | AnonymousUser, product_id: int
) -> Product | None:
    return product_list_for_user(user=user).filter(pk=product_id).first()


def product_image_list(*, product: Product) -> QuerySet[ProductImage]:
    return product.images.all()


def product_image_get(*, product: Product, image_id: int) -> ProductImage | None:
    return product.images.filter(pk=image_id).first()


def products_for_results(*, product_ids: Sequence[int]) -> dict[int, Product]:
    """Hydrate a page of search results: one query, with the merchant joined."""
    products = Product.objects.filter(pk__in=list(product_ids), is_active=True).select_related(
        "merchant"
    )
    return {product.pk: product for product in products}


def images_by_ids(*, image_ids: Iterable[int]) -> dict[int, ProductImage]:
    return {image.pk: image for image in ProductImage.objects.filter(pk__in=list(image_ids))}


def product_with_images(*, product_id: int) -> Product | None:
    return (
        Product.objects.select_related("merchant")
        .prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
        )
        .filter(pk=product_id)
        .first()
    )


def product_images_for_indexing(*, image_ids: Sequence[int]) -> list[ProductImage]:
    return list(
        ProductImage.objects.filter(pk__in=list(image_ids)).select_related("product__merchant")
    )


def product_image_ids_needing_index(
    *, current_revision: str, pending_before: datetime, limit: int = 10_000
) -> list[int]:
    """Images left pending too long, or indexed with another model revision."""
    stale = Q(status=ProductImage.Status.PENDING, updated_at__lt=pending_before) | Q(
        status=ProductImage.Status.INDEXED
    ) & ~Q(model_revision=current_revision)
    return list(
        ProductImage.objects.filter(stale).order_by("id").values_list("id", flat=True)[:limit]
    )


def product_image_ids_for_reindex(
    *, merchant_slug: str = "", after_id: int = 0
) -> QuerySet[ProductImage]:
    images = ProductImage.objects.filter(pk__gt=after_id).order_by("id")
    if merchant_slug:
        images = images.filter(product__merchant__slug=merchant_slug)
    return images


def product_ids_for_reindex(*, merchant_slug: str = "") -> QuerySet[Product]:
    products = Product.objects.order_by("id")
    if merchant_slug:
        products = products.filter(merchant__slug=merchant_slug)
    return products


def image_status_counts() -> dict[str, int]:
    rows = ProductImage.objects.values("status").annotate(n=Count("id")).order_by()
    counts = {status: 0 for status in ProductImage.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
