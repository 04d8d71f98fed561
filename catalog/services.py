"""Every write to the catalogue goes through here.

Services take keyword-only arguments, validate, save inside a transaction and
announce the change (catalog.signals) so the workers can follow it after commit.
"""

import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog import signals
from catalog.drafting import DraftedCopy
from catalog.intake import ImageRejected, normalise_merchant_image
from catalog.models import (
    Merchant,
    MerchantMembership,
    Product,
    ProductDraft,
    ProductImage,
    ProductImageFetch,
)
from catalog.remote import FetchRefused, FetchUnavailable, check_url, fetch_image
from catalog.thumbnails import make_thumbnail

logger = logging.getLogger(__name__)

MERCHANT_STAFF_GROUP = "Merchant staff"
# Fields whose change the vector index must follow (they are in the points' payload).
INDEXED_PRODUCT_FIELDS = frozenset(
    {
        "price",
        "currency",
        "in_stock",
        "category",
        "brand",
        "is_active",
        "merchant",
        "derived_colors",
    }
)
# Fields that feed the product-text embedding and the keyword vector.
TEXT_PRODUCT_FIELDS = frozenset({"title", "description", "brand", "category", "attributes", "sku"})
PRODUCT_EDITABLE_FIELDS = (
    "sku",
    "gtin",
    "mpn",
    "title",
    "description",
    "brand",
    "category",
    "price",
    "currency",
    "in_stock",
    "attributes",
    "is_active",
)


# --- Merchants -----------------------------------------------------------------------------


CROSS_MERCHANT_DUPLICATES_PERMISSION = "review_duplicates_across_merchants"


def merchant_staff_group() -> Group:
    """The group that lets merchant staff use the admin for their own catalogue."""
    group, created = Group.objects.get_or_create(name=MERCHANT_STAFF_GROUP)
    if created or not group.permissions.exists():
        # Merchant staff handle their own catalogue: looking across merchants is shop staff's.
        perms = Permission.objects.filter(
            content_type__app_label="catalog",
            content_type__model__in=["product", "productimage"],
        ).exclude(codename=CROSS_MERCHANT_DUPLICATES_PERMISSION)
        group.permissions.set(perms)
    return group


@transaction.atomic
def merchant_create(*, name: str, owner: User, slug: str = "") -> Merchant:
    merchant = Merchant(name=name, slug=slug or slugify(name)[:100])
    merchant.full_clean()
    merchant.save()
    merchant_member_add(merchant=merchant, user=owner, role=MerchantMembership.Role.OWNER)
    return merchant


@transaction.atomic
def merchant_member_add(
    *, merchant: Merchant, user: User, role: str = MerchantMembership.Role.STAFF
) -> MerchantMembership:
    membership, _ = MerchantMembership.objects.update_or_create(
        merchant=merchant, user=user, defaults={"role": role}
    )
    # Merchant staff work in the admin, limited to their merchants' rows.
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(merchant_staff_group())
    return membership


def user_create(*, username: str, password: str | None, email: str = "") -> User:
    user = User(username=username, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


# --- Products ------------------------------------------------------------------------------


@transaction.atomic
def product_create(
    *,
    merchant: Merchant,
    sku: str,
    title: str,
    price: Decimal | str | float,
    gtin: str = "",
    mpn: str = "",
    description: str = "",
    brand: str = "",
    category: str = "",
    currency: str = "USD",
    in_stock: bool = True,
    attributes: dict[str, Any] | None = None,
    is_active: bool = True,
) -> Product:
    product = Product(
        merchant=merchant,
        sku=sku,
        gtin=gtin,
        mpn=mpn,
        title=title,
        description=description,
        brand=brand,
        category=category,
        price=Decimal(str(price)),
        currency=currency.upper(),
        in_stock=in_stock,
        attributes=attributes or {},
        is_active=is_active,
    )
    _check_sku_free(product)
    product.full_clean()
    product.save()
    _announce_product_change(product, set(PRODUCT_EDITABLE_FIELDS))
    return product


@transaction.atomic
def product_update(*, product: Product, data: dict[str, Any]) -> Product:
    product_update_fields(product=product, data=data)
    return product


def product_update_fields(*, product: Product, data: dict[str, Any]) -> set[str]:
    """Apply ``data`` to the product and save what changed; returns the changed fields (none:
    nothing is written and nothing is announced)."""
    unknown = set(data) - set(PRODUCT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    changed: set[str] = set()
    for name, value in data.items():
        if name == "price":
            value = Decimal(str(value))
        if name == "currency":
            value = str(value).upper()
        if getattr(product, name) != value:
            setattr(product, name, value)
            changed.add(name)
    if not changed:
        return changed
    with transaction.atomic():
        if "sku" in changed:
            _check_sku_free(product)
        product.full_clean()
        product.save(update_fields=[*sorted(changed), "updated_at"])
        _announce_product_change(product, changed)
    return changed


class UpsertOutcome:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@transaction.atomic
def product_upsert(*, merchant: Merchant, sku: str, data: dict[str, Any]) -> tuple[Product, str]:
    """Create the merchant's product with this SKU, or bring the existing one in line with
    ``data`` (fields not in ``data`` are left as they are). Returns the product and what
    happened (UpsertOutcome): the same data twice is ``unchanged`` and writes nothing."""
    fields = {name: value for name, value in data.items() if name != "sku"}
    product = Product.objects.select_for_update().filter(merchant=merchant, sku=sku).first()
    if product is None:
        return product_create(merchant=merchant, sku=sku, **fields), UpsertOutcome.CREATED
    changed = product_update_fields(product=product, data=fields)
    return product, UpsertOutcome.UPDATED if changed else UpsertOutcome.UNCHANGED


@transaction.atomic
def product_delete(*, product: Product) -> None:
    product_id = product.pk
    files = [
        name
        for image in product.images.all()
        for name in (image.file.name, image.thumbnail.name)
        if name
    ]
    product.delete()
    transaction.on_commit(lambda: _delete_files(files))
    signals.product_deleted.send(sender=Product, product_id=product_id)


def _check_sku_free(product: Product) -> None:
    """A merchant's SKUs are unique: say so in the merchant's words, not the constraint's."""
    taken = Product.objects.filter(merchant_id=product.merchant_id, sku=product.sku)
    if taken.exclude(pk=product.pk).exists():
        raise ValidationError({"sku": "This merchant already has a product with this SKU."})


def _announce_product_change(product: Product, changed: set[str]) -> None:
    signals.product_changed.send(
        sender=Product, product_id=product.pk, changed_fields=frozenset(changed)
    )


# --- Images --------------------------------------------------------------------------------


def product_image_create(
    *, product: Product, data: bytes, position: int | None = None
) -> ProductImage:
    """Validate, normalise and store one merchant image; it starts `pending`.

    Refusals raise ValidationError({"image": ...}) and leave no row and no stored file; the
    same image twice for one product is a refusal too (``code="duplicate"``).
    """
    image, created = product_image_create_or_get(product=product, data=data, position=position)
    if not created:
        raise ValidationError({"image": "This product already has this image."}, code="duplicate")
    return image


def product_image_create_or_get(
    *, product: Product, data: bytes, position: int | None = None
) -> tuple[ProductImage, bool]:
    """Like product_image_create, but the same image again for the same product returns the
    existing one and ``created=False``: a retried upload (a timeout on the merchant's side, a
    feed sent twice) is not a failure. "The same" is the same bytes after normalisation."""
    try:
        normalised = normalise_merchant_image(data)
    except ImageRejected as exc:
        raise ValidationError({"image": exc.detail}, code=exc.rule) from None
    existing = ProductImage.objects.filter(product=product, sha256=normalised.sha256).first()
    if existing is not None:
        return existing, False

    stem = normalised.sha256[:32]
    image = ProductImage(
        product=product,
        sha256=normalised.sha256,
        width=normalised.width,
        height=normalised.height,
        content_type=normalised.content_type,
        position=position if position is not None else _next_position(product),
    )
    stored: list[str] = []
    try:
        with transaction.atomic():
            image.file.save(
                f"{stem}.{normalised.extension}", ContentFile(normalised.content), save=False
            )
            stored.append(str(image.file.name))
            image.thumbnail.save(
                f"{stem}-thumb.webp", ContentFile(make_thumbnail(normalised.content)), save=False
            )
            stored.append(str(image.thumbnail.name))
            image.full_clean()
            image.save()
            signals.image_added.send(sender=ProductImage, image_id=image.pk, product_id=product.pk)
    except IntegrityError:
        # The same upload raced this one and won: answer with its row.
        _delete_files(stored)
        existing = ProductImage.objects.filter(product=product, sha256=normalised.sha256).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        _delete_files(stored)
        raise
    for note in normalised.notes:
        logger.info("image %s of product %s: %s", image.pk, product.pk, note)
    return image, True


@transaction.atomic
def product_image_fetch_request(
    *, product: Product, url: str, position: int | None = None
) -> ProductImageFetch:
    """Ask the workers to fetch an image from a URL; the fetch starts `pending`. The URL's
    syntax is checked here (ValidationError({"url": ...})), its host when it is fetched."""
    try:
        check_url(url)
    except FetchRefused as exc:
        raise ValidationError({"url": exc.detail}) from None
    fetch = ProductImageFetch(product=product, url=url, position=position)
    fetch.full_clean()
    fetch.save()
    signals.image_fetch_requested.send(sender=ProductImageFetch, fetch_id=fetch.pk)
    return fetch


def product_image_fetch_run(*, fetch_id: int) -> ProductImageFetch | None:
    """Download a pending fetch's image and take it in as an upload. FetchUnavailable (the
    server is down or busy) propagates for the caller to retry; anything else ends the fetch,
    `done` with its image or `failed` with a reason the merchant can read."""
    fetch = ProductImageFetch.objects.select_related("product").filter(pk=fetch_id).first()
    if fetch is None or fetch.status != ProductImageFetch.Status.PENDING:
        return fetch
    ProductImageFetch.objects.filter(pk=fetch.pk).update(
        attempts=fetch.attempts + 1, updated_at=timezone.now()
    )
    try:
        data = fetch_image(fetch.url)
    except FetchRefused as exc:
        return product_image_fetch_fail(fetch_id=fetch.pk, reason=exc.detail)
    except FetchUnavailable:
        raise
    try:
        with transaction.atomic():
            image, _ = product_image_create_or_get(
                product=fetch.product, data=data, position=fetch.position
            )
    except ValidationError as exc:
        reason = "; ".join(
            message for messages in exc.message_dict.values() for message in messages
        )
        return product_image_fetch_fail(fetch_id=fetch.pk, reason=reason)
    ProductImageFetch.objects.filter(pk=fetch.pk).update(
        status=ProductImageFetch.Status.DONE, image=image, updated_at=timezone.now()
    )
    fetch.refresh_from_db()
    return fetch


def product_image_fetch_fail(*, fetch_id: int, reason: str) -> ProductImageFetch | None:
    ProductImageFetch.objects.filter(pk=fetch_id, status=ProductImageFetch.Status.PENDING).update(
        status=ProductImageFetch.Status.FAILED,
        failure_reason=reason[:1000],
        updated_at=timezone.now(),
    )
    return ProductImageFetch.objects.filter(pk=fetch_id).first()


def _next_position(product: Product) -> int:
    last = product.images.order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


@transaction.atomic
def product_image_delete(*, image: ProductImage) -> None:
    image_id, product_id = image.pk, image.product_id
    files = [name for name in (image.file.name, image.thumbnail.name) if name]
    image.delete()
    transaction.on_commit(lambda: _delete_files(files))
    signals.image_deleted.send(sender=ProductImage, image_id=image_id, product_id=product_id)


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # a missing file must not undo a committed delete
            logger.warning("could not delete stored file %s", name, exc_info=True)


# --- Indexing status (the only catalogue rows the search side writes, through here) ---------


def product_image_mark_failed(*, image_id: int, reason: str) -> None:
    updated = ProductImage.objects.filter(pk=image_id).update(
        status=ProductImage.Status.FAILED,
        failure_reason=reason[:1000],
        updated_at=timezone.now(),
    )
    if updated:
        signals.image_failed.send(sender=ProductImage, image_id=image_id, reason=reason[:1000])


def product_image_mark_pending(*, image_ids: Iterable[int]) -> int:
    return ProductImage.objects.filter(pk__in=list(image_ids)).update(
        status=ProductImage.Status.PENDING, failure_reason="", updated_at=timezone.now()
    )


@transaction.atomic
def products_reindex_request(*, product_ids: Iterable[int]) -> int:
    """Mark the products' images pending and ask the workers to embed them again."""
    image_ids = list(
        ProductImage.objects.filter(product_id__in=list(product_ids)).values_list("id", flat=True)
    )
    product_image_mark_pending(image_ids=image_ids)
    if image_ids:
        signals.images_reindex_requested.send(sender=ProductImage, image_ids=image_ids)
    return len(image_ids)


def product_images_mark_indexed(*, image_ids: Iterable[int], model_revision: str) -> int:
    now = timezone.now()
    images = ProductImage.objects.filter(pk__in=list(image_ids))
    # Announced: the images that were not already indexed with this model (a repeat of the
    # same work, the relay's or a sweep's, is no news to a merchant's webhook).
    news = list(
        images.exclude(status=ProductImage.Status.INDEXED, model_revision=model_revision)
        .order_by("id")
        .values_list("id", flat=True)
    )
    updated = images.update(
        status=ProductImage.Status.INDEXED,
        model_revision=model_revision,
        failure_reason="",
        indexed_at=now,
        updated_at=now,
    )
    if news:
        signals.images_indexed.send(
            sender=ProductImage, image_ids=news, model_revision=model_revision
        )
    return updated


def products_mark_indexed(*, product_ids: Iterable[int]) -> None:
    """The search side wrote these products' documents to the live index: say so (webhooks).
    Nothing in the catalogue changes."""
    ids = sorted(set(product_ids))
    if ids:
        signals.products_indexed.send(sender=Product, product_ids=ids)


# --- Enrichment (what search/enrichment derived from the pixels, written through here) -------


def product_image_record_enrichment(
    *,
    image_id: int,
    colors: list[dict],
    perceptual_hash: str,
    duplicate_of_id: int | None,
    duplicate_similarity: float | None,
    duplicate_elsewhere_id: int | None = None,
    duplicate_elsewhere_similarity: float | None = None,
) -> None:
    """Store an image's colours, hash and near-duplicate links (the merchant's own, and
    another merchant's); a flag that was dismissed stays dismissed."""
    now = timezone.now()
    ProductImage.objects.filter(pk=image_id).update(
        colors=colors,
        perceptual_hash=perceptual_hash,
        duplicate_of_id=duplicate_of_id,
        duplicate_similarity=duplicate_similarity,
        duplicate_elsewhere_id=duplicate_elsewhere_id,
        duplicate_elsewhere_similarity=duplicate_elsewhere_similarity,
        enriched_at=now,
        updated_at=now,
    )


@transaction.atomic
def product_set_derived(
    *, product_id: int, colors: list[dict], attributes: dict[str, dict] | None = None
) -> bool:
    """Store a product's derived colours (and attributes, when given) in one write; the index
    hears of it when they changed."""
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        return False
    changed = set()
    if product.derived_colors != colors:
        product.derived_colors = colors
        changed.add("derived_colors")
    if attributes is not None and product.derived_attributes != attributes:
        product.derived_attributes = attributes
        changed.add("derived_attributes")
    if not changed:
        return False
    product.save(update_fields=[*sorted(changed), "updated_at"])
    _announce_product_change(product, changed)
    return True


def product_colors_confirm(*, product: Product, colors: list[str] | None = None) -> Product:
    """The merchant confirms the derived colours (``colors`` None) or corrects them: either
    way they become the product's typed colour, which wins over derived ones from then on."""
    if colors is None:
        colors = [c["name"] for c in product.derived_colors or []]
    cleaned = list(dict.fromkeys(str(c).strip().lower() for c in colors if str(c).strip()))
    if not cleaned:
        raise ValidationError({"colors": "Give at least one colour (or derive them first)."})
    attributes = {k: v for k, v in (product.attributes or {}).items() if k != "colour"}
    attributes["color"] = cleaned
    return product_update(product=product, data={"attributes": attributes})


def product_image_duplicate_dismiss(
    *, image: ProductImage, across_merchants: bool = False
) -> ProductImage:
    """The merchant (or, across merchants, shop staff) looked at a near-duplicate flag and
    keeps both images."""
    field = "duplicate_elsewhere_dismissed" if across_merchants else "duplicate_dismissed"
    setattr(image, field, True)
    image.save(update_fields=[field, "updated_at"])
    return image


# --- AI drafts of product copy: kept for the merchant, applied only when they accept ---------

DRAFT_PARTS = ("title", "description", "attributes")


def product_draft_record(
    *, product: Product, copy: DraftedCopy, requested_by: User | AnonymousUser | None = None
) -> ProductDraft:
    draft = ProductDraft(
        product=product,
        title=copy.title,
        description=copy.description,
        attributes=dict(copy.attributes),
        model=copy.model,
        requested_by=requested_by if isinstance(requested_by, User) else None,
    )
    draft.full_clean()
    draft.save()
    return draft


@transaction.atomic
def product_draft_accept(
    *, draft: ProductDraft, parts: Iterable[str] = DRAFT_PARTS, user: User | None = None
) -> Product:
    """The merchant takes the draft's title, description and/or attributes (their choice):
    they become the product's own, written like any edit (the index hears of it). The
    draft's attributes are added to the typed ones, a draft value replacing a typed one of
    the same name."""
    chosen = [part for part in DRAFT_PARTS if part in set(parts)]
    if not chosen:
        raise ValidationError({"parts": "Choose what to take from the draft."})
    draft = ProductDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.status != ProductDraft.Status.PENDING:
        raise ValidationError({"status": f"This draft was {draft.status} already."})
    product = Product.objects.get(pk=draft.product_id)
    data: dict[str, Any] = {}
    if "title" in chosen:
        data["title"] = draft.title
    if "description" in chosen:
        data["description"] = draft.description
    if "attributes" in chosen and draft.attributes:
        data["attributes"] = {**(product.attributes or {}), **draft.attributes}
    if data:
        product = product_update(product=product, data=data)
    _draft_reviewed(draft, ProductDraft.Status.ACCEPTED, user)
    return product


def product_draft_discard(*, draft: ProductDraft, user: User | None = None) -> ProductDraft:
    if draft.status != ProductDraft.Status.PENDING:
        raise ValidationError({"status": f"This draft was {draft.status} already."})
    return _draft_reviewed(draft, ProductDraft.Status.DISCARDED, user)


def _draft_reviewed(draft: ProductDraft, status: str, user: User | None) -> ProductDraft:
    draft.status = status
    draft.reviewed_by = user if user and user.is_authenticated else None
    draft.reviewed_at = timezone.now()
    draft.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    return draft
