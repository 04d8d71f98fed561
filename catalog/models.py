"""The catalogue: the source of truth. It knows nothing of vectors."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Lower, Replace

# Shoppers type identifiers in any case and with or without these separators ("boo1408",
# "BOO 1408" for "BOO-1408"); identifier_key() and the *_key columns drop them alike.
IDENTIFIER_SEPARATORS = (" ", "-", "_", ".", "/")


def identifier_key(value: str) -> str:
    """The form identifiers are compared in: lower case, without separators or spaces."""
    key = "".join(value.split()).lower()
    for separator in IDENTIFIER_SEPARATORS:
        key = key.replace(separator, "")
    return key


def _identifier_key_expression(field: str) -> Lower:
    expression: F | Replace = F(field)
    for separator in IDENTIFIER_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    return Lower(expression)


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Merchant(TimestampedModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="MerchantMembership", related_name="merchants"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MerchantMembership(TimestampedModel):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)

    class Meta:
        ordering = ["merchant_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "user"], name="unique_merchant_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant}"


class Product(TimestampedModel):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=64)
    gtin = models.CharField(
        max_length=20, blank=True, help_text="GTIN, EAN or UPC barcode number, where known."
    )
    mpn = models.CharField(max_length=64, blank=True, help_text="Manufacturer part number.")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    brand = models.CharField(max_length=120, blank=True, db_index=True)
    category = models.CharField(max_length=120, blank=True, db_index=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="USD")
    in_stock = models.BooleanField(default=True)
    attributes = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    # Colours derived from the product's images (search/enrichment): [{"name", "share", "hex"}],
    # largest first. A colour the merchant typed in `attributes` wins over these.
    derived_colors = models.JSONField(default=list, blank=True)
    # Zero-shot attributes scored from the stored image vectors (search/enrichment):
    # {name: {"value": str or null (below its threshold), "confidence": float}}.
    derived_attributes = models.JSONField(default=dict, blank=True)
    # Identifiers as search compares them, kept by the database itself so that every writer
    # (services, admin, bulk updates) leaves them right; indexed for exact and prefix lookups.
    sku_key = models.GeneratedField(
        expression=_identifier_key_expression("sku"),
        output_field=models.CharField(max_length=64),
        db_persist=True,
    )
    gtin_key = models.GeneratedField(
        expression=_identifier_key_expression("gtin"),
        output_field=models.CharField(max_length=20),
        db_persist=True,
    )
    mpn_key = models.GeneratedField(
        expression=_identifier_key_expression("mpn"),
        output_field=models.CharField(max_length=64),
        db_persist=True,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sku"], name="unique_sku_per_merchant")
        ]
        indexes = [
            models.Index(Lower("title"), name="product_title_lower"),
            # Pattern opclasses (PostgreSQL; other databases ignore them) serve both the exact
            # lookup and the prefix one (LIKE 'key%') whatever the database collation.
            models.Index(
                fields=["sku_key"], name="product_sku_key", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["gtin_key"], name="product_gtin_key", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["mpn_key"], name="product_mpn_key", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.sku})"


def product_image_path(instance: "ProductImage", filename: str) -> str:
    # Content-addressed names: no clash between merchants, no client-chosen path.
    return f"products/{instance.product.merchant_id}/{instance.sha256[:2]}/{filename}"


class ProductImage(TimestampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        INDEXED = "indexed", "Indexed"
        FAILED = "failed", "Failed"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to=product_image_path, max_length=300)
    # A small copy made at intake, so result grids never load full-size images.
    thumbnail = models.FileField(upload_to=product_image_path, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    content_type = models.CharField(max_length=50)
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    failure_reason = models.TextField(blank=True)
    model_revision = models.CharField(max_length=200, blank=True)
    indexed_at = models.DateTimeField(null=True, blank=True)
    # What search/enrichment derived from the pixels: colours with their shares, a perceptual
    # hash, and the older image of the same merchant this one nearly duplicates (to review).
    colors = models.JSONField(default=list, blank=True)
    perceptual_hash = models.CharField(max_length=64, blank=True)
    enriched_at = models.DateTimeField(null=True, blank=True, db_index=True)
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="near_duplicates",
    )
    duplicate_similarity = models.FloatField(null=True, blank=True)
    duplicate_dismissed = models.BooleanField(
        default=False, help_text="The merchant reviewed the flag: not a duplicate."
    )
    # The same photo in another merchant's catalogue: for shop staff (a copied listing, a
    # reseller), never shown to either merchant.
    duplicate_elsewhere = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="near_duplicates_elsewhere",
    )
    duplicate_elsewhere_similarity = models.FloatField(null=True, blank=True)
    duplicate_elsewhere_dismissed = models.BooleanField(
        default=False, help_text="Shop staff reviewed the flag across merchants: not a copy."
    )

    class Meta:
        ordering = ["product_id", "position", "id"]
        permissions = [
            (
                "review_duplicates_across_merchants",
                "Can review near-duplicate images across merchants",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["product", "sha256"], name="unique_image_per_product")
        ]

    def __str__(self) -> str:
        return f"image {self.pk} of product {self.product_id}"


class ProductImageFetch(TimestampedModel):
    """An image the merchant asked us to fetch from a URL; a worker downloads it (with size,
    type, time and network limits, catalog/remote.py) and hands the bytes to the same intake
    as an upload."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="image_fetches")
    url = models.URLField(max_length=2000)
    position = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    image = models.ForeignKey(
        ProductImage, null=True, blank=True, on_delete=models.SET_NULL, related_name="fetches"
    )
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"fetch {self.pk} of {self.url}"


class ProductDraft(TimestampedModel):
    """Product copy drafted by a vision-language model from the product's images (search/
    enrichment/drafts.py), kept for the merchant to accept or discard: never applied without
    them."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DISCARDED = "discarded", "Discarded"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="drafts")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    model = models.CharField(max_length=200, help_text="The model that wrote the draft.")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"draft {self.pk} of product {self.product_id}"
