"""Embeddings kept in PostgreSQL beside their model revision.

The vector index is derived data: with these rows it can be rebuilt without running the
model again (reindex with an unchanged model just copies them).
"""

import numpy as np
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from catalog.models import Product, ProductImage


class StoredEmbedding(models.Model):
    model_key = models.CharField(max_length=120)
    vector = models.BinaryField()  # float32, little-endian, L2-normalised
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def as_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.vector), dtype="<f4")

    @staticmethod
    def to_bytes(vector: np.ndarray) -> bytes:
        return np.asarray(vector, dtype="<f4").tobytes()


class ImageEmbedding(StoredEmbedding):
    image = models.ForeignKey(ProductImage, on_delete=models.CASCADE, related_name="embeddings")
    sha256 = models.CharField(max_length=64)  # of the image the vector was computed from

    class Meta:
        ordering = ["image_id", "model_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["image", "model_key"], name="unique_image_embedding_per_model"
            )
        ]

    def __str__(self) -> str:
        return f"embedding of image {self.image_id} by {self.model_key}"


class ProductTextEmbedding(StoredEmbedding):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="text_embeddings")
    # sha256 of the product text the vector was computed from
    text_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["product_id", "model_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "model_key"], name="unique_text_embedding_per_model"
            )
        ]

    def __str__(self) -> str:
        return f"text embedding of product {self.product_id} by {self.model_key}"


class IndexGeneration(models.Model):
    """One build of a vector collection with one model.

    The alias in the vector store says which generation is live; this row says which model
    (name and pinned revision) built it, so queries are encoded by the same model even while
    a blue/green rebuild with another model is under way.
    """

    class Kind(models.TextChoices):
        IMAGES = "images", "Image vectors (CLIP)"
        PRODUCTS = "products", "Product text and keyword vectors"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    collection = models.CharField(max_length=200, unique=True)
    model_name = models.CharField(max_length=300)
    model_revision = models.CharField(max_length=200, blank=True)
    model_key = models.CharField(max_length=120)
    dim = models.PositiveIntegerField()
    completed_at = models.DateTimeField(null=True, blank=True)
    # The switch gate's comparison with the generation that was live (reindex --model).
    evaluation = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.collection


class IndexChange(models.Model):
    """The outbox of index work: one row per product or image whose points the vector index
    has not yet brought in line with PostgreSQL.

    Written in the transaction of the catalogue change itself (search/index/outbox.py), so a
    change can never be committed without its row. Rows are keyed by entity: later changes
    of the same product bump ``version`` instead of adding rows, and the work reads the
    entity's current row when it runs, so the latest state always wins and a deleted entity
    (no row any more) has its points deleted: the outbox row is the tombstone.
    """

    class Kind(models.TextChoices):
        PRODUCT = "product"
        IMAGE = "image"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    entity_id = models.BigIntegerField()
    version = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)  # the oldest unapplied change
    updated_at = models.DateTimeField(default=timezone.now)  # the newest
    available_at = models.DateTimeField(default=timezone.now)  # not before (retry back-off)
    claimed_until = models.DateTimeField(null=True, blank=True)  # a worker's lease
    claim_token = models.CharField(max_length=32, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "entity_id"], name="unique_index_change")
        ]
        indexes = [models.Index(fields=["available_at"], name="index_change_available")]

    def __str__(self) -> str:
        return f"{self.kind} {self.entity_id} (v{self.version})"


class EnrichmentAttribute(models.Model):
    """An attribute vocabulary shop staff edit in the admin (search/enrichment/attributes.py).

    A row overrides the data file's attribute of the same name for its category (blank: every
    category, as the file's "default"): its enabled values and threshold replace the file's;
    a disabled row switches the attribute off there. Attributes the database does not name
    keep the file's definition.
    """

    category = models.CharField(
        max_length=120,
        blank=True,
        help_text="The product category (as products spell it); blank for every category.",
    )
    name = models.CharField(max_length=60, help_text="The attribute, e.g. pattern or material.")
    enabled = models.BooleanField(
        default=True, help_text="Off: the attribute is not derived for this category at all."
    )
    threshold = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=(
            "Least confidence (share among the values, 0 to 1) a derived value is kept at; "
            "`manage.py calibrate_attributes` sets it from the merchants' confirmed values."
        ),
    )
    calibration = models.JSONField(
        null=True, blank=True, help_text="How the threshold was last calibrated, if it was."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="unique_enrichment_attribute")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.category or 'every category'})"

    def save(self, *args, **kwargs) -> None:
        # Spelled as the scorer and the filters compare them.
        self.category = self.category.strip().lower()
        self.name = self.name.strip().lower()
        super().save(*args, **kwargs)


class EnrichmentAttributeValue(models.Model):
    attribute = models.ForeignKey(
        EnrichmentAttribute, on_delete=models.CASCADE, related_name="values"
    )
    value = models.CharField(max_length=120, help_text="As shoppers filter by it, e.g. striped.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["attribute_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["attribute", "value"], name="unique_enrichment_attribute_value"
            )
        ]

    def __str__(self) -> str:
        return self.value

    def save(self, *args, **kwargs) -> None:
        self.value = self.value.strip().lower()
        super().save(*args, **kwargs)


class FinetuneRun(models.Model):
    """One `finetune_clip` run: what it was asked, where it runs, how far it got.

    Written by the run itself (search/relevance/runs.py) as it goes, so the admin and
    `finetune_clip --status` show a run on a GPU worker while it trains.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    model_name = models.CharField(max_length=300)  # the starting model
    model_revision = models.CharField(max_length=200, blank=True)
    output = models.CharField(max_length=1000)  # the model directory, on the worker's disk
    pairs_file = models.CharField(max_length=1000, blank=True)
    merchant_slug = models.CharField(max_length=100, blank=True)
    config = models.JSONField(default=dict)  # FinetuneConfig's fields
    restart = models.BooleanField(default=False)  # ignore a previous run's state in output
    queue = models.CharField(max_length=100, blank=True)  # blank: ran in the command's process
    device = models.CharField(max_length=20, blank=True)  # where it trained
    precision = models.CharField(max_length=120, blank=True)
    epoch = models.PositiveIntegerField(default=0)
    step = models.PositiveIntegerField(default=0)
    steps = models.PositiveIntegerField(default=0)
    loss = models.FloatField(null=True, blank=True)
    images_per_second = models.FloatField(null=True, blank=True)
    history = models.JSONField(default=list, blank=True)  # per epoch: loss, held-out scores
    best_epoch = models.PositiveIntegerField(null=True, blank=True)
    revision = models.CharField(max_length=64, blank=True)  # content hash of the output
    notes = models.TextField(blank=True)  # what it trained on
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"fine-tuning run {self.pk} ({self.status})"
