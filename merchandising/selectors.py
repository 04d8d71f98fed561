"""Reads of the merchandising app: rules for the engine and the admin, product facts."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Count, Max, Q, QuerySet

from analytics.models import InteractionEvent, SearchEvent
from catalog.models import Product
from catalog.selectors import merchants_for_user
from merchandising.clickmodel import Impressions
from merchandising.models import ClickBoost, ClickModelRun, Rule
from merchandising.text import words_key


def rules_version() -> tuple:
    """Changes whenever a rule is added, edited or deleted, or the click model is fitted (by
    any process)."""
    row = Rule.objects.aggregate(count=Count("id"), last=Max("updated_at"), top=Max("id"))
    fit = ClickModelRun.objects.aggregate(top=Max("id"))["top"]
    return (row["count"], row["last"], row["top"], fit)


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


@dataclass(frozen=True)
class ClickLog:
    """Text searches' pages and clicks, as the click model reads them (clickmodel.py)."""

    pairs: list[tuple[str, int]]  # (query words key, product id), indexed by `impressions.pair`
    impressions: Impressions
    searches: int


def click_log(*, since: datetime, until: datetime, positions: int) -> ClickLog:
    """Every text search of the period with the first ``positions`` products of its page, and
    which of them were clicked (clicks reported up to a day after the search count).

    Queries are grouped as rules match words (order and plurals aside), so "summer dresses"
    and "dress summer" learn together. Photo searches have no query to learn for.
    """
    clicked: set[tuple[str, int]] = {
        (str(search_id), product_id)
        for search_id, product_id in InteractionEvent.objects.filter(
            kind=InteractionEvent.Kind.CLICK,
            created_at__gte=since,
            created_at__lt=until + timedelta(days=1),
            search_id__isnull=False,
        ).values_list("search_id", "product_id")
    }
    pair_index: dict[tuple[str, int], int] = {}
    pair, position, hit = [], [], []
    searches = 0
    rows = (
        SearchEvent.objects.filter(
            kind=SearchEvent.Kind.TEXT, created_at__gte=since, created_at__lt=until
        )
        .exclude(words="")
        .values_list("search_id", "words", "product_ids")
    )
    for search_id, text, product_ids in rows.iterator(chunk_size=2_000):
        key = words_key(text)
        if not key or not product_ids:
            continue
        searches += 1
        sid = str(search_id)
        for place, product_id in enumerate(product_ids[:positions]):
            index = pair_index.setdefault((key, product_id), len(pair_index))
            pair.append(index)
            position.append(place)
            hit.append((sid, product_id) in clicked)
    return ClickLog(
        pairs=list(pair_index),
        impressions=Impressions(
            pair=np.asarray(pair, dtype=np.int64),
            position=np.asarray(position, dtype=np.int64),
            clicked=np.asarray(hit, dtype=bool),
        ),
        searches=searches,
    )


def click_boosts_latest() -> dict[str, dict[int, float]]:
    """The latest fit's boosts by query words key, then product (for the compiled rules)."""
    run = ClickModelRun.objects.order_by("-created_at", "-id").first()
    if run is None:
        return {}
    boosts: dict[str, dict[int, float]] = {}
    for words, product_id, boost in ClickBoost.objects.filter(run=run).values_list(
        "words", "product_id", "boost"
    ):
        boosts.setdefault(words, {})[product_id] = boost
    return boosts
