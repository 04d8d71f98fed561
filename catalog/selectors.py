"""Reads of the catalogue. Selectors own select_related/prefetch_related."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.storage import default_storage
from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Length

from catalog.models import Merchant, Product, ProductDraft, ProductImage, ProductImageFetch


def merchants_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Merchant]:
    if not user.is_authenticated:
        return Merchant.objects.none()
    if getattr(user, "is_superuser", False):
        return Merchant.objects.all()
    return Merchant.objects.filter(memberships__user_id=user.pk)


def product_list_for_user(
    *,
    user: AbstractBaseUser | AnonymousUser,
    search: str = "",
    merchant_slug: str = "",
    updated_since: datetime | None = None,
    image_status: str = "",
) -> QuerySet[Product]:
    """The products a merchant's staff may see and edit: those of their merchants only;
    optionally those changed since a moment, or with at least one image in a status."""
    products = Product.objects.filter(merchant__in=merchants_for_user(user=user))
    if merchant_slug:
        products = products.filter(merchant__slug=merchant_slug)
    if search:
        products = products.filter(Q(title__icontains=search) | Q(sku__iexact=search))
    if updated_since is not None:
        products = products.filter(updated_at__gte=updated_since)
    if image_status:
        products = products.filter(
            pk__in=ProductImage.objects.filter(status=image_status).values("product_id")
        )
    return products.select_related("merchant").annotate(image_count=Count("images"))


def product_get_for_user(
    *, user: AbstractBaseUser | AnonymousUser, product_id: int
) -> Product | None:
    return product_list_for_user(user=user).filter(pk=product_id).first()


def product_image_list(
    *, product: Product, status: str = "", updated_since: datetime | None = None
) -> QuerySet[ProductImage]:
    return _filtered_images(product.images.all(), status=status, updated_since=updated_since)


def product_image_list_for_user(
    *,
    user: AbstractBaseUser | AnonymousUser,
    merchant_slug: str = "",
    status: str = "",
    updated_since: datetime | None = None,
) -> QuerySet[ProductImage]:
    """The images of all the caller's products (which failed? what changed since?), the
    product joined for its SKU."""
    images = ProductImage.objects.filter(product__merchant__in=merchants_for_user(user=user))
    if merchant_slug:
        images = images.filter(product__merchant__slug=merchant_slug)
    images = _filtered_images(images, status=status, updated_since=updated_since)
    return images.select_related("product").order_by("-updated_at", "-id")


def _filtered_images(
    images: QuerySet[ProductImage], *, status: str, updated_since: datetime | None
) -> QuerySet[ProductImage]:
    if status:
        images = images.filter(status=status)
    if updated_since is not None:
        images = images.filter(updated_at__gte=updated_since)
    return images


def product_get_by_sku(*, merchant: Merchant, sku: str) -> Product | None:
    return Product.objects.filter(merchant=merchant, sku=sku).first()


def product_image_fetch_get(*, product: Product, fetch_id: int) -> ProductImageFetch | None:
    return product.image_fetches.select_related("image").filter(pk=fetch_id).first()


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


def product_images_for_evaluation(*, merchant_slug: str = "") -> list[ProductImage]:
    """The images of active products with their product, in a stable order: the gallery and
    the held-out queries of a visual evaluation or a fine-tuning run."""
    images = ProductImage.objects.filter(product__is_active=True).select_related(
        "product__merchant"
    )
    if merchant_slug:
        images = images.filter(product__merchant__slug=merchant_slug)
    return list(images.order_by("product_id", "position", "id"))


def image_status_counts() -> dict[str, int]:
    rows = ProductImage.objects.values("status").annotate(n=Count("id")).order_by()
    counts = {status: 0 for status in ProductImage.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


# --- What search's query understanding reads -------------------------------------------------


def _searchable_products(
    *,
    merchant_slug: str | None = None,
    categories: Sequence[str] = (),
    brands: Sequence[str] = (),
    price_min: float | None = None,
    price_max: float | None = None,
    in_stock: bool | None = None,
    exclude_ids: Sequence[int] = (),
) -> QuerySet[Product]:
    products = Product.objects.filter(is_active=True)
    if merchant_slug:
        products = products.filter(merchant__slug=merchant_slug)
    if categories:
        products = products.filter(category__in=list(categories))
    if brands:
        products = products.filter(brand__in=list(brands))
    if price_min is not None:
        products = products.filter(price__gte=price_min)
    if price_max is not None:
        products = products.filter(price__lte=price_max)
    if in_stock is not None:
        products = products.filter(in_stock=in_stock)
    if exclude_ids:
        products = products.exclude(pk__in=list(exclude_ids))
    return products


def product_ids_by_identifier(
    *, key: str, prefix_limit: int = 0, **narrowing: Any
) -> tuple[list[int], list[int]]:
    """Active products whose SKU, GTIN or MPN equals ``key`` (an ``identifier_key``), and up to
    ``prefix_limit`` more whose identifier starts with it when none equals it (shortest
    identifier first), among
    those the narrowing keeps (``merchant_slug``, ``categories``, ``brands``, ``price_min``,
    ``price_max``, ``in_stock``, ``exclude_ids``). Both lookups use the ``*_key`` indexes."""
    if not key:
        return [], []
    products = _searchable_products(**narrowing)
    exact = list(
        products.filter(Q(sku_key=key) | Q(gtin_key=key) | Q(mpn_key=key))
        .order_by("id")
        .values_list("id", flat=True)[:50]
    )
    if exact or prefix_limit <= 0:
        return exact, []
    prefixed = (
        products.filter(
            Q(sku_key__startswith=key) | Q(gtin_key__startswith=key) | Q(mpn_key__startswith=key)
        )
        .exclude(pk__in=exact)
        .order_by(Length("sku_key"), "id")
        .values_list("id", flat=True)[:prefix_limit]
    )
    return exact, list(prefixed)


def catalogue_version(*, merchant_slug: str | None = None) -> tuple[int, int, str]:
    """Changes whenever a product is added, removed or edited: (count, highest id, latest
    update), for caches derived from the catalogue's words."""
    products = Product.objects.all()
    if merchant_slug:
        products = products.filter(merchant__slug=merchant_slug)
    row = products.aggregate(count=Count("id"), top=Max("id"), latest=Max("updated_at"))
    return row["count"], row["top"] or 0, str(row["latest"] or "")


def product_words_for_vocabulary(
    *, merchant_slug: str | None = None, chunk_size: int = 2000
) -> Iterator[tuple[str, str, str, str, dict]]:
    """(title, description, brand, category, attributes) of every active product, streamed."""
    products = Product.objects.filter(is_active=True)
    if merchant_slug:
        products = products.filter(merchant__slug=merchant_slug)
    yield from (
        products.order_by()
        .values_list("title", "description", "brand", "category", "attributes")
        .iterator(chunk_size=chunk_size)
    )


def product_image_fetch_ids_stale(*, pending_before: datetime, limit: int = 1000) -> list[int]:
    """Fetches still pending since before this moment: their task was lost (broker down at
    enqueue, a worker killed); the sweep queues them again."""
    return list(
        ProductImageFetch.objects.filter(
            status=ProductImageFetch.Status.PENDING, updated_at__lt=pending_before
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


# --- Enrichment (colours, near-duplicates) ---------------------------------------------------

# Where a merchant types a product's colour; what is typed there wins over derived colours.
COLOR_ATTRIBUTE_KEYS = ("color", "colour")


def _typed_colors(attributes: Any) -> list[str]:
    if not isinstance(attributes, dict):
        return []
    for key in COLOR_ATTRIBUTE_KEYS:
        value = attributes.get(key)
        values = value if isinstance(value, (list, tuple)) else [value]
        typed = [str(v).strip().lower() for v in values if isinstance(v, str) and v.strip()]
        if typed:
            return list(dict.fromkeys(typed))
    return []


def product_colors(*, product: Product) -> dict[str, Any]:
    """The colours a product is filtered by, and where they come from: what the merchant
    typed (``attributes.color`` or ``attributes.colour``), else what was derived from its
    images, else none."""
    typed = _typed_colors(product.attributes)
    derived = list(product.derived_colors or [])
    if typed:
        return {"values": typed, "source": "merchant", "derived": derived}
    if derived:
        return {"values": [c["name"] for c in derived], "source": "derived", "derived": derived}
    return {"values": [], "source": "none", "derived": derived}


def typed_attribute_values(*, attributes: Any, name: str) -> list[str]:
    """What the merchant typed for an attribute (under its name, or with underscores for
    spaces), lower case: the value that wins over a derived one, and the truth calibration
    judges derived values by."""
    typed_attributes = attributes if isinstance(attributes, dict) else {}
    typed = typed_attributes.get(name, typed_attributes.get(name.replace(" ", "_")))
    typed_values = typed if isinstance(typed, (list, tuple)) else [typed]
    return [str(v).strip().lower() for v in typed_values if isinstance(v, str) and v.strip()]


def product_ids_with_typed_attributes(*, category: str = "") -> list[int]:
    """Products whose merchant typed some attributes (in a category, when given), by id."""
    products = Product.objects.exclude(attributes={})
    if category:
        products = products.filter(category__iexact=category)
    return list(products.order_by("id").values_list("id", flat=True))


def product_attribute_values(*, product: Product) -> dict[str, dict[str, Any]]:
    """Per derived attribute: the values search filters by and where they come from. What the
    merchant typed under the same name (or with underscores) wins; a derived value below its
    threshold counts for nothing."""
    out: dict[str, dict[str, Any]] = {}
    for name, derived in sorted((product.derived_attributes or {}).items()):
        cleaned = typed_attribute_values(attributes=product.attributes, name=name)
        if cleaned:
            out[name] = {"values": cleaned, "source": "merchant", "derived": derived}
        elif isinstance(derived, dict) and derived.get("value"):
            out[name] = {"values": [derived["value"]], "source": "derived", "derived": derived}
        else:
            out[name] = {"values": [], "source": "none", "derived": derived}
    return out


def product_images_for_enrichment(*, image_ids: Sequence[int]) -> list[ProductImage]:
    return list(
        ProductImage.objects.filter(pk__in=list(image_ids), status=ProductImage.Status.INDEXED)
        .select_related("product__merchant")
        .order_by("id")
    )


def product_image_ids_needing_enrichment(
    *, after_id: int = 0, limit: int = 500, redo: bool = False
) -> list[int]:
    """Indexed images not enriched yet (all indexed images with ``redo``), in id order after
    ``after_id``: a backfill walks them page by page and resumes where it stopped."""
    images = ProductImage.objects.filter(status=ProductImage.Status.INDEXED, pk__gt=after_id)
    if not redo:
        images = images.filter(enriched_at__isnull=True)
    return list(images.order_by("id").values_list("id", flat=True)[:limit])


def product_image_enrichment_counts() -> dict[str, int]:
    indexed = ProductImage.objects.filter(status=ProductImage.Status.INDEXED)
    return {
        "indexed": indexed.count(),
        "enriched": indexed.filter(enriched_at__isnull=False).count(),
    }


def product_image_colors_of(*, product_id: int) -> list[list[dict]]:
    """The colours of each enriched image of a product."""
    return [
        list(colors)
        for colors in ProductImage.objects.filter(
            product_id=product_id, enriched_at__isnull=False
        ).values_list("colors", flat=True)
    ]


def product_images_by_id(*, image_ids: Iterable[int]) -> dict[int, ProductImage]:
    return {
        image.pk: image
        for image in ProductImage.objects.filter(pk__in=list(image_ids)).only(
            "id", "product_id", "file", "perceptual_hash", "duplicate_of_id", "enriched_at"
        )
    }


def near_duplicate_groups(
    *, merchants: QuerySet[Merchant] | None = None
) -> list[tuple[ProductImage, list[ProductImage]]]:
    """Images flagged as near-duplicates (not dismissed), grouped under the image they
    duplicate: ``[(original, [duplicates...]), ...]``, the newest flags first."""
    flagged = ProductImage.objects.filter(
        duplicate_of__isnull=False, duplicate_dismissed=False
    ).select_related("product__merchant", "duplicate_of__product__merchant")
    if merchants is not None:
        flagged = flagged.filter(product__merchant__in=merchants)
    groups: dict[int, tuple[ProductImage, list[ProductImage]]] = {}
    for image in flagged.order_by("-id"):
        original = image.duplicate_of
        assert original is not None  # filtered above
        groups.setdefault(original.pk, (original, []))[1].append(image)
    return list(groups.values())


def near_duplicate_groups_across_merchants() -> list[tuple[ProductImage, list[ProductImage]]]:
    """Images flagged as near-duplicates of another merchant's image (not dismissed), grouped
    under that image, the newest flags first: for shop staff."""
    flagged = ProductImage.objects.filter(
        duplicate_elsewhere__isnull=False, duplicate_elsewhere_dismissed=False
    ).select_related("product__merchant", "duplicate_elsewhere__product__merchant")
    groups: dict[int, tuple[ProductImage, list[ProductImage]]] = {}
    for image in flagged.order_by("-id"):
        original = image.duplicate_elsewhere
        assert original is not None  # filtered above
        groups.setdefault(original.pk, (original, []))[1].append(image)
    return list(groups.values())


def user_reviews_duplicates_across_merchants(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Shop staff: superusers and those given the permission (never merchant staff by their
    group)."""
    has_perm = getattr(user, "has_perm", None)  # AnonymousUser and User have it; the base not
    return bool(
        user.is_authenticated
        and has_perm is not None
        and has_perm("catalog.review_duplicates_across_merchants")
    )


def product_drafts_pending(*, product: Product) -> list[ProductDraft]:
    return list(product.drafts.filter(status=ProductDraft.Status.PENDING).order_by("-id"))


def product_draft_get(*, product: Product, draft_id: int) -> ProductDraft | None:
    return product.drafts.filter(pk=draft_id).first()
