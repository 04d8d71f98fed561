"""Reads of the merchandising app: rules for the engine and the admin, product facts."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet

from catalog.models import Product
from catalog.selectors import merchants_for_user
from merchandising.models import Rule
from search.vector_index.base import SearchFilter


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
    price: Decimal
    tags: frozenset[str]


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
    )
    return {
        row[0]: RankFacts(
            merchant_id=row[1],
            merchant_slug=row[2],
            brand=row[3].lower(),
            category=row[4].lower(),
            in_stock=row[5],
            price=row[6],
            tags=_tags(row[7]),
        )
        for row in rows
    }


def products_passing(*, product_ids: Sequence[int], search_filter: SearchFilter) -> set[int]:
    """The active products among the ids that a search's filters let through (pins the legs
    did not find are added only if the shopper's filters would have allowed them)."""
    products = Product.objects.filter(pk__in=list(product_ids), is_active=True)
    if search_filter.categories:
        products = products.filter(category__in=search_filter.categories)
    if search_filter.brands:
        products = products.filter(brand__in=search_filter.brands)
    if search_filter.merchant:
        products = products.filter(merchant__slug=search_filter.merchant)
    if search_filter.price_min is not None:
        products = products.filter(price__gte=search_filter.price_min)
    if search_filter.price_max is not None:
        products = products.filter(price__lte=search_filter.price_max)
    if search_filter.in_stock is not None:
        products = products.filter(in_stock=search_filter.in_stock)
    if search_filter.product_ids:
        products = products.filter(pk__in=search_filter.product_ids)
    excluded = set(search_filter.exclude_product_ids)
    return {pk for pk in products.values_list("id", flat=True) if pk not in excluded}
