"""Experiments and the shop's search settings (imported by merchandising/models.py).

A variant and the shop's settings carry the same fields: what search lets an upper layer
change per request (search/query/settings_step.py). An empty field means "as the layer
below says": a variant's empty field is the shop's setting, the shop's empty field is the
server's environment setting (SEARCH_WEIGHT_*, SEARCH_RRF_K, ...).
"""

from django.db import models

from catalog.models import TimestampedModel


class SettingsFields(models.Model):
    class Rerank(models.TextChoices):
        REQUEST = "request", "As the shopper's request asks"
        ON = "on", "Always (first page)"
        OFF = "off", "Never"

    weight_image = models.FloatField(
        null=True, blank=True, help_text="CLIP leg's fusion weight, 0-10 (0: off). Empty: default."
    )
    weight_text = models.FloatField(
        null=True, blank=True, help_text="Product-text leg's fusion weight, 0-10. Empty: default."
    )
    weight_keywords = models.FloatField(
        null=True, blank=True, help_text="Keyword leg's fusion weight, 0-10. Empty: default."
    )
    rrf_k = models.PositiveIntegerField(
        null=True,
        blank=True,
        verbose_name="RRF k",
        help_text="Reciprocal rank fusion constant, 1-1000. Empty: default.",
    )
    rerank = models.CharField(
        max_length=8,
        choices=Rerank.choices,
        default=Rerank.REQUEST,
        help_text="Re-ranking by the vision-language model.",
    )
    rules = models.BooleanField(
        default=True, help_text="Merchandising rules (synonyms, pins, boosts...) apply."
    )
    image_collection = models.CharField(
        max_length=200,
        blank=True,
        help_text="A built image collection (Search > Index generations). Empty: the live one.",
    )

    class Meta:
        abstract = True

    def leg_weights(self) -> dict[str, float]:
        pairs = (
            ("image", self.weight_image),
            ("text", self.weight_text),
            ("keywords", self.weight_keywords),
        )
        return {leg: weight for leg, weight in pairs if weight is not None}

    def settings_summary(self) -> str:
        """One line for tables: only what differs from the layer below."""
        parts = [f"{leg} {weight:g}" for leg, weight in self.leg_weights().items()]
        if self.rrf_k is not None:
            parts.append(f"RRF k {self.rrf_k}")
        if self.rerank != self.Rerank.REQUEST:
            parts.append(f"re-rank {self.rerank}")
        if not self.rules:
            parts.append("rules off")
        if self.image_collection:
            parts.append(f"collection {self.image_collection}")
        return ", ".join(parts) or "defaults"


class SearchSettings(SettingsFields, TimestampedModel):
    """The shop's default search settings: one row (pk 1), read by every search."""

    class Meta:
        verbose_name = "search settings"
        verbose_name_plural = "search settings"
        ordering = ["pk"]

    def __str__(self) -> str:
        return "Shop search settings"


class Experiment(TimestampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        ENDED = "ended", "Ended"

    class Metric(models.TextChoices):
        CTR = "ctr", "Click-through rate"
        ADD_TO_CART = "add_to_cart", "Add-to-cart rate"
        CONVERSION = "conversion", "Conversion rate"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    metric = models.CharField(
        max_length=12,
        choices=Metric.choices,
        default=Metric.CTR,
        help_text="What decides the winner (the others are shown too).",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    winner = models.ForeignKey(
        "merchandising.Variant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Set when the experiment ends; its settings became the shop's.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("manage_experiments", "Can manage search experiments")]
        constraints = [
            # One experiment splits the traffic at a time: two would share visitors.
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="running"),
                name="merchandising_one_running_experiment",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Variant(SettingsFields, TimestampedModel):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    name = models.SlugField(max_length=64, help_text="Short name, e.g. control, b, rrf-30.")
    position = models.PositiveSmallIntegerField(default=0, help_text="0: the control.")
    share = models.PositiveSmallIntegerField(help_text="Percent of visitors, 1-99; all add to 100.")

    class Meta:
        ordering = ["experiment", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "name"], name="merchandising_variant_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_control(self) -> bool:
        return self.position == 0
