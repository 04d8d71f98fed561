"""Reads for the dashboard: figures from the daily rollup, scoped to what a user may see.

A superuser sees the whole shop (or one merchant, chosen); merchant staff see their own
merchant's figures only: searches that showed, or were narrowed to, their products, and what
shoppers did with their products.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, FloatField, Max, QuerySet, Sum
from django.db.models.functions import Cast, NullIf

from analytics.models import DailyQueryStats
from catalog.models import Merchant
from catalog.selectors import merchants_for_user


@dataclass(frozen=True)
class Scope:
    """Whose figures: ``merchant`` None is the whole shop (superusers only)."""

    merchant: Merchant | None
    first_day: date
    last_day: date

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]


def dashboard_merchants(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Merchant]:
    return merchants_for_user(user=user).order_by("name")


def dashboard_allowed(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated
        and getattr(user, "is_staff", False)
        and (getattr(user, "is_superuser", False) or dashboard_merchants(user=user).exists())
    )


def scope_for(
    *, user: AbstractBaseUser | AnonymousUser, merchant_id: int | None, days: int, today: date
) -> Scope:
    """The scope asked for, narrowed to what the user may see."""
    allowed = dashboard_merchants(user=user)
    merchant = allowed.filter(pk=merchant_id).first() if merchant_id else None
    if merchant is None and not getattr(user, "is_superuser", False):
        merchant = allowed.first()
    return Scope(merchant=merchant, first_day=today - timedelta(days=days - 1), last_day=today)


def _rows(scope: Scope) -> QuerySet[DailyQueryStats]:
    return DailyQueryStats.objects.filter(
        merchant_id=scope.merchant.pk if scope.merchant else None,
        day__gte=scope.first_day,
        day__lte=scope.last_day,
    )


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(float(numerator or 0) / float(denominator), 4) if denominator else None


def searches_per_day(scope: Scope) -> tuple[list[date], dict[str, list[int]]]:
    """Searches per day by kind, every day of the scope (0 when none)."""
    counts: dict[str, dict[date, int]] = {}
    for row in _rows(scope).values("day", "kind").annotate(n=Sum("searches")):
        counts.setdefault(row["kind"], {})[row["day"]] = row["n"]
    days = scope.days
    return days, {
        kind: [per_day.get(day, 0) for day in days] for kind, per_day in sorted(counts.items())
    }


def totals(scope: Scope) -> dict[str, float | int | None]:
    sums = _rows(scope).aggregate(
        searches=Sum("searches"),
        zero_results=Sum("zero_results"),
        clicks=Sum("clicks"),
        clicked=Sum("clicked_searches"),
        positions=Sum("click_position_sum"),
        carts=Sum("add_to_carts"),
        purchases=Sum("purchases"),
        purchased=Sum("purchased_searches"),
        revenue=Sum("revenue"),
    )
    searches = sums["searches"] or 0
    return {
        "searches": searches,
        "zero_results": sums["zero_results"] or 0,
        "clicks": sums["clicks"] or 0,
        "ctr": _ratio(sums["clicked"], searches),
        "mean_click_position": _ratio(sums["positions"], sums["clicks"]),
        "add_to_carts": sums["carts"] or 0,
        "purchases": sums["purchases"] or 0,
        "conversion": _ratio(sums["purchased"], searches),
        "revenue": float(sums["revenue"] or 0),
    }


def _per_query(scope: Scope):
    return (
        _rows(scope)
        .values("kind", "words")
        .annotate(
            searches=Sum("searches"),
            zero=Sum("zero_results"),
            low=Sum("low_score"),
            score_sum=Sum("best_score_sum"),
            scored=Sum("scored"),
            took_sum=Sum("took_ms_sum"),
            took_max=Max("took_ms_max"),
            clicks=Sum("clicks"),
            clicked=Sum("clicked_searches"),
            positions=Sum("click_position_sum"),
            carts=Sum("add_to_carts"),
            purchased=Sum("purchased_searches"),
        )
    )


def _query_row(row: dict) -> dict:
    return {
        # A photo (or similar-product) search has no words: it is listed by its kind.
        "query": row["words"] or f"({row['kind']})",
        "kind": row["kind"],
        "searches": row["searches"],
        "zero_results": row["zero"],
        "low_score": row["low"],
        "mean_best_score": _ratio(row["score_sum"], row["scored"]),
        "ctr": _ratio(row["clicked"], row["searches"]),
        "mean_click_position": _ratio(row["positions"], row["clicks"]),
        "add_to_carts": row["carts"],
        "conversion": _ratio(row["purchased"], row["searches"]),
        "mean_took_ms": _ratio(row["took_sum"], row["searches"]),
        "max_took_ms": row["took_max"],
    }


def top_queries(scope: Scope, *, limit: int = 20) -> list[dict]:
    rows = _per_query(scope).exclude(words="").order_by("-searches", "words", "kind")
    return [_query_row(row) for row in rows[:limit]]


def zero_result_queries(scope: Scope, *, limit: int = 20) -> list[dict]:
    rows = _per_query(scope).filter(zero__gt=0).order_by("-zero", "words", "kind")
    return [_query_row(row) for row in rows[:limit]]


def low_score_queries(scope: Scope, *, limit: int = 20) -> list[dict]:
    rows = _per_query(scope).filter(low__gt=0).order_by("-low", "words", "kind")
    return [_query_row(row) for row in rows[:limit]]


def slowest_queries(scope: Scope, *, limit: int = 20) -> list[dict]:
    mean = Cast(F("took_sum"), FloatField()) / NullIf(F("searches"), 0)
    rows = _per_query(scope).annotate(mean=mean).order_by("-mean", "words", "kind")
    return [_query_row(row) for row in rows[:limit]]


def daily_table(scope: Scope) -> list[dict]:
    """One row a day and kind: the figures behind the charts (for the CSV)."""
    rows = (
        _rows(scope)
        .values("day", "kind")
        .annotate(
            searches=Sum("searches"),
            zero=Sum("zero_results"),
            clicks=Sum("clicks"),
            clicked=Sum("clicked_searches"),
            positions=Sum("click_position_sum"),
            carts=Sum("add_to_carts"),
            purchases=Sum("purchases"),
            purchased=Sum("purchased_searches"),
        )
        .order_by("day", "kind")
    )
    return [
        {
            "day": row["day"].isoformat(),
            "kind": row["kind"],
            "searches": row["searches"],
            "zero_results": row["zero"],
            "clicks": row["clicks"],
            "ctr": _ratio(row["clicked"], row["searches"]),
            "mean_click_position": _ratio(row["positions"], row["clicks"]),
            "add_to_carts": row["carts"],
            "purchases": row["purchases"],
            "conversion": _ratio(row["purchased"], row["searches"]),
        }
        for row in rows
    ]
