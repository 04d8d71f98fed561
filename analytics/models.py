"""Raw search and interaction events (daily range partitions in PostgreSQL), and their rollup.

The raw tables are partitioned by ``created_at`` (migration 0001 writes the DDL Django cannot
express); a partition a day is created ahead and dropped after ANALYTICS_RETENTION_DAYS by
beat. The rollup keeps aggregate counts only and outlives the raw rows.
"""

import numpy as np
from django.db import models


class SearchEvent(models.Model):
    """One answered search, recorded by the server (never a shopper's photo: a photo search
    keeps its CLIP query vector and a 64-bit perceptual hash, until its partition is dropped)."""

    class Kind(models.TextChoices):
        TEXT = "text"
        PHOTO = "photo"
        HYBRID = "hybrid"
        SIMILAR = "similar"
        LOOK = "look"

    # The database's key is (search_id, created_at): a partitioned table's key must hold the
    # partition column. Django only ever reads and inserts these rows, by search_id.
    search_id = models.UUIDField(primary_key=True)
    created_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    words = models.CharField(max_length=500, blank=True)  # lower-cased, spaces collapsed
    filters = models.JSONField(default=dict, blank=True)
    product_ids = models.JSONField(default=list, blank=True)  # the page shown, in order
    scores = models.JSONField(default=list, blank=True)
    merchant_ids = models.JSONField(default=list, blank=True)  # whose products were shown
    result_count = models.PositiveIntegerField(default=0)  # total matching the filters
    best_score = models.FloatField(null=True, blank=True)  # the best raw similarity shown
    took_ms = models.FloatField(default=0.0)
    model = models.CharField(max_length=200, blank=True)
    visitor_id = models.CharField(max_length=64, blank=True)
    query_vector = models.BinaryField(null=True, blank=True)  # float32, photo searches only
    photo_hash = models.CharField(max_length=16, blank=True)  # dHash, hex; photo searches only
    # The ranking experiment (merchandising) and the variant the visitor was assigned; a search
    # outside any experiment, or by a visitor without an id, has none.
    experiment_id = models.BigIntegerField(null=True, blank=True)
    variant = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["experiment_id", "created_at"],
                name="search_event_experiment",
                condition=models.Q(experiment_id__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} search {self.search_id}"

    def vector(self) -> np.ndarray | None:
        if not self.query_vector:
            return None
        return np.frombuffer(bytes(self.query_vector), dtype=np.float32)


class InteractionEvent(models.Model):
    """A click, add-to-cart or purchase the storefront or an app reported."""

    class Kind(models.TextChoices):
        CLICK = "click"
        ADD_TO_CART = "add_to_cart"
        PURCHASE = "purchase"

    # As for SearchEvent, the database's key is (event_id, created_at).
    event_id = models.UUIDField(primary_key=True)
    created_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    search_id = models.UUIDField(null=True, blank=True, db_index=True)
    product_id = models.BigIntegerField()
    merchant_id = models.BigIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(null=True, blank=True)  # 1-based place in the page
    quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    visitor_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} on product {self.product_id}"


class EventReceipt(models.Model):
    """The client event ids already taken in: a retried batch adds nothing twice. Kept apart
    from the partitioned table, whose unique keys would have to include the day."""

    event_id = models.UUIDField(primary_key=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.event_id)


class DailyQueryStats(models.Model):
    """Searches of one day, kind and query words, for one merchant's products (merchant_id)
    or for the whole shop (merchant_id null), with what shoppers then did."""

    day = models.DateField()
    merchant_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=8)
    words = models.CharField(max_length=500, blank=True)
    searches = models.PositiveIntegerField(default=0)
    zero_results = models.PositiveIntegerField(default=0)
    low_score = models.PositiveIntegerField(default=0)
    best_score_sum = models.FloatField(default=0.0)
    scored = models.PositiveIntegerField(default=0)  # searches with a best score
    took_ms_sum = models.FloatField(default=0.0)
    took_ms_max = models.FloatField(default=0.0)
    clicks = models.PositiveIntegerField(default=0)
    clicked_searches = models.PositiveIntegerField(default=0)
    click_position_sum = models.PositiveIntegerField(default=0)
    add_to_carts = models.PositiveIntegerField(default=0)
    purchases = models.PositiveIntegerField(default=0)
    purchased_searches = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Its admin page is the search dashboard (analytics/admin.py).
        verbose_name = "search dashboard"
        verbose_name_plural = "search dashboard"
        ordering = ["-day", "merchant_id", "kind", "words"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "merchant_id", "kind", "words"],
                name="unique_daily_query_stats",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["merchant_id", "day"], name="daily_query_merchant_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.words!r}"


class RollupState(models.Model):
    """When the rollup last finished, and up to which instant it counted events (the lag
    /metrics reports)."""

    name = models.CharField(max_length=50, unique=True)
    counted_until = models.DateTimeField()
    finished_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} rollup up to {self.counted_until}"
