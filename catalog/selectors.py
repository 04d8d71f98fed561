"""Reads of the catalogue. Selectors own select_related/prefetch_related."""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.storage import default_storage
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

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
    """Hydrate a page of search results in one query: the active products among the ids, with
    the merchant joined and their first image's id, file and thumbnail annotated
    (``first_image_id``, ``first_image_file``, ``first_image_thumb``) for results whose hit
    carries no image."""
    first_image = ProductImage.objects.filter(product=OuterRef("pk")).order_by("position", "id")
    products = (
        Product.objects.filter(pk__in=list(product_ids), is_active=True)
        .select_related("merchant")
        .annotate(
            first_image_id=Subquery(first_image.values("id")[:1]),
            first_image_file=Subquery(first_image.values("file")[:1]),
            first_image_thumb=Subquery(first_image.values("thumbnail")[:1]),
        )
    )
    return {product.pk: product for product in products}


def image_file_reader(*, name: str) -> Callable[[], bytes]:
    """A function that reads a stored image file's bytes when called (storage errors propagate:
    they are the caller's to retry)."""

    def read() -> bytes:
        with default_storage.open(name, "rb") as handle:
            return handle.read()

    return read


def product_for_indexing(*, product_id: int) -> Product | None:
    return Product.objects.select_related("merchant").filter(pk=product_id).first()


def products_for_indexing(*, product_ids: Iterable[int]) -> list[Product]:
    return list(Product.objects.filter(pk__in=list(product_ids)).select_related("merchant"))


def product_ids_all() -> set[int]:
    return set(Product.objects.values_list("id", flat=True))


def product_image_statuses() -> dict[int, str]:
    """Every image's id and indexing status (consistency checks)."""
    return dict(ProductImage.objects.values_list("id", "status"))


def product_image_ids_with_status(*, status: str) -> list[int]:
    return list(
        ProductImage.objects.filter(status=status).order_by("id").values_list("id", flat=True)
    )


def product_image_ids_indexed_by_other_model(*, model_revision: str) -> list[int]:
    return list(
        ProductImage.objects.filter(status=ProductImage.Status.INDEXED)
        .exclude(model_revision=model_revision)
        .order_by("id")
        .values_list("id", flat=True)
    )


def product_ids_existing(*, product_ids: Iterable[int]) -> set[int]:
    return set(Product.objects.filter(pk__in=list(product_ids)).values_list("id", flat=True))


def product_image_ids_existing(*, image_ids: Iterable[int]) -> set[int]:
    return set(ProductImage.objects.filter(pk__in=list(image_ids)).values_list("id", flat=True))


def product_is_active(*, product_id: int) -> bool:
    return Product.objects.filter(pk=product_id, is_active=True).exists()


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
