"""Merchandising rules: how a shop steers its search results.

One table, one kind per row: the condition (which searches) is shared, the action depends on
the kind. A rule belongs to a merchant (its staff manage it; it may only name that merchant's
products) or to the whole shop (merchant empty: shop staff). ``engine.py`` says how each kind
changes a search.
"""

from django.db import models
from django.db.models import Q

from catalog.models import Merchant, Product, TimestampedModel


class Rule(TimestampedModel):
    class Kind(models.TextChoices):
        SYNONYM = "synonym", "Synonyms"
        PIN = "pin", "Pin a product"
        BOOST = "boost", "Boost"
        BURY = "bury", "Bury"
        HIDE = "hide", "Hide a product"
        CLICK_MODEL = "click_model", "Click model (boost learned from clicks)"

    class Match(models.TextChoices):
        EXACT = "exact", "The query is exactly this (case and spaces aside)"
        WORDS = "words", "The query has these words (any order, singular or plural)"
        ANY = "any", "Any query"

    class SynonymType(models.TextChoices):
        TWO_WAY = "two_way", "Two-way: every term finds the others"
        ONE_WAY = "one_way", "One-way: the query terms also find the synonyms"

    class Attribute(models.TextChoices):
        BRAND = "brand", "Brand"
        CATEGORY = "category", "Category"
        MERCHANT = "merchant", "Merchant (slug)"
        IN_STOCK = "in_stock", "In stock"
        PRICE = "price", "Price range"
        TAG = "tag", "Tag (product attribute `tags`)"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="merchandising_rules",
        help_text="Empty: a shop-wide rule (shop staff only).",
    )
    enabled = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Empty: already started.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never ends.")

    # When (pin, boost, bury, hide): the query, and/or a category filter of the search.
    match = models.CharField(max_length=10, choices=Match.choices, default=Match.EXACT)
    query = models.CharField(max_length=200, blank=True)
    filter_category = models.CharField(
        max_length=120,
        blank=True,
        help_text="Only for searches filtered to this category (for a pin: the query may be empty).",
    )

    # Synonyms: the terms (two-way group, or the one-way query terms) and one-way synonyms.
    synonym_type = models.CharField(
        max_length=10, choices=SynonymType.choices, default=SynonymType.TWO_WAY
    )
    terms = models.CharField(max_length=500, blank=True, help_text="Comma-separated.")
    synonyms = models.CharField(
        max_length=500, blank=True, help_text="One-way only: what the terms also find."
    )

    # Pin and hide: the product; pin: its 1-based position.
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    position = models.PositiveIntegerField(null=True, blank=True)

    # Boost and bury: which products, by how much (in first-ranks of one leg, see engine.py);
    # click model: at most how much its learned boost moves a product (weight alone).
    attribute = models.CharField(max_length=10, choices=Attribute.choices, blank=True)
    value = models.CharField(
        max_length=120, blank=True, help_text="Brand, category, merchant slug or tag."
    )
    price_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    weight = models.FloatField(default=1.0)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["updated_at"])]
        permissions = [("manage_shop_wide_rules", "Can manage shop-wide merchandising rules")]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(starts_at__lt=models.F("ends_at")),
                name="merchandising_rule_window_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def clean(self) -> None:
        from merchandising.validation import rule_errors

        rule_errors(self)


class ClickModelRun(TimestampedModel):
    """One fit of the click model (clickmodel.py) over the analytics events of a period: what
    it read and the examination probability it found per position."""

    since = models.DateTimeField()
    until = models.DateTimeField()
    searches = models.PositiveIntegerField(default=0)
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    queries = models.PositiveIntegerField(default=0)
    boosts = models.PositiveIntegerField(default=0)
    iterations = models.PositiveIntegerField(default=0)
    examination = models.JSONField(
        default=list, help_text="P(a shopper looks at position k), k = 1.., relative to the first."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "click model fit"

    def __str__(self) -> str:
        return f"click model fit {self.created_at:%Y-%m-%d %H:%M} ({self.boosts} boosts)"


class ClickBoost(TimestampedModel):
    """What the latest fit learned for one query (``words``: text.words_key) and product: a
    product clicked more than its positions explain earns ``boost`` (0..1), which a click-model
    rule scales by its weight. Replaced as a whole by each fit."""

    run = models.ForeignKey(ClickModelRun, on_delete=models.CASCADE, related_name="boosts_learned")
    words = models.CharField(max_length=500)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    impressions = models.PositiveIntegerField()
    clicks = models.PositiveIntegerField()
    attractiveness = models.FloatField(help_text="P(click | looked at), position bias removed.")
    lift = models.FloatField(help_text="Attractiveness over the query's typical result.")
    boost = models.FloatField()

    class Meta:
        ordering = ["words", "-boost", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "words", "product"], name="click_boost_unique")
        ]

    def __str__(self) -> str:
        return f"{self.words!r}: product {self.product_id} +{self.boost:.2f}"


# Experiments and the shop's search settings live in their own module (one job per module);
# importing them here registers them with the app.
from merchandising.experiments.models import Experiment, SearchSettings, Variant  # noqa: E402

__all__ = ["ClickBoost", "ClickModelRun", "Experiment", "Rule", "SearchSettings", "Variant"]
