"""Reads of the merchandising app: rules for the engine and the admin, product facts."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from catalog.models import Product
from catalog.selectors import merchants_for_user
from merchandising.models import Rule


def rules_version() -> tuple:
    """Changes whenever a rule is added, edited or deleted (by any process)."""
    row = Rule.objects.aggregate(count=Count("id"), last=Max("updated_at"), top=Max("id"))
    return (row["count"], row["last"], row["top"])


def rules_for_engine() -> QuerySet[Rule]:
    from django.utils import timezone

    return (
        Rule.objects.filter(enabled=True)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=timezone.now()))
        .select_related("merchant")
    )


def rule_list_for_user(*, user) -> QuerySet[Rule]:
    """Shop staff see every rule; merchant staff the rules of their merchants."""
    rules = Rule.objects.select_related("merchant", "product")
    if user.is_superuser or user.has_perm("merchandising.manage_shop_wide_rules"):
        return rules
    return rules.filter(merchant__in=merchants_for_user(user=user))


def rule_get_for_user(*, user, rule_id: int) -> Rule | None:
    return rule_list_for_user(user=user).filter(pk=rule_id).first()


@dataclass(frozen=True)
class RankFacts:
    merchant_id: int
    merchant_slug: str
    brand: str
    category: str
    in_stock: bool
    price: float
    tags: frozenset[str]
    is_active: bool


def _tags(raw) -> frozenset[str]:
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list):
        return frozenset()
    return frozenset(str(tag).strip().lower() for tag in raw)


def rank_facts(*, product_ids: Sequence[int]) -> dict[int, RankFacts]:
    """What boosts and buries read of the ranked products, in one query."""
    rows = Product.objects.filter(pk__in=list(product_ids)).values_list(
        "id",
        "merchant_id",
        "merchant__slug",
        "brand",
        "category",
        "in_stock",
        "price",
        "attributes__tags",
        "is_active",
    )
    return {
        row[0]: RankFacts(
            merchant_id=row[1],
            merchant_slug=row[2],
            brand=row[3].lower(),
            category=row[4].lower(),
            in_stock=row[5],
            price=float(row[6]),
            tags=_tags(row[7]),
            is_active=row[8],
        )
        for row in rows
    }
