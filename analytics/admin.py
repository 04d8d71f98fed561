"""The search dashboard, a page in the admin: charts and tables from the daily rollup, each
table also as CSV. Superusers see the whole shop or pick a merchant; merchant staff see their
own merchant's figures."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, time

from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from analytics import charts, selectors
from analytics.gaps import demand_gaps
from analytics.models import DailyQueryStats, RollupState

PERIODS = (7, 30, 90)
QUERY_TABLES = {
    "top_queries": ("Top queries", selectors.top_queries),
    "zero_results": ("Queries with no results", selectors.zero_result_queries),
    "low_score": ("Queries whose best match was poor", selectors.low_score_queries),
    "slowest": ("Slowest queries", selectors.slowest_queries),
}
QUERY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("query", "Query"),
    ("kind", "Kind"),
    ("searches", "Searches"),
    ("zero_results", "No results"),
    ("low_score", "Poor best match"),
    ("mean_best_score", "Mean best score"),
    ("ctr", "CTR"),
    ("mean_click_position", "Mean click position"),
    ("add_to_carts", "Added to cart"),
    ("conversion", "Conversion"),
    ("mean_took_ms", "Mean ms"),
    ("max_took_ms", "Max ms"),
)
GAP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("size", "Photo searches"),
    ("cohesion", "Cohesion"),
    ("words", "Looks like"),
    ("nearest", "Closest products (similarity)"),
)
# Clustering a month of photo searches takes seconds: a dashboard view reuses it a while.
GAPS_CACHE_SECONDS = 600
DAILY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("day", "Day"),
    ("kind", "Kind"),
    ("searches", "Searches"),
    ("zero_results", "No results"),
    ("clicks", "Clicks"),
    ("ctr", "CTR"),
    ("mean_click_position", "Mean click position"),
    ("add_to_carts", "Added to cart"),
    ("purchases", "Purchased"),
    ("conversion", "Conversion"),
)


def _int_param(request: HttpRequest, name: str, default: int | None) -> int | None:
    try:
        return int(request.GET.get(name, ""))
    except ValueError:
        return default


@admin.register(DailyQueryStats)
class SearchDashboardAdmin(admin.ModelAdmin):
    """The model's admin page is the dashboard: its changelist is replaced, nothing is edited."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return selectors.dashboard_allowed(user=request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return selectors.dashboard_allowed(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not selectors.dashboard_allowed(user=request.user):
            raise PermissionDenied
        days = _int_param(request, "days", 30)
        scope = selectors.scope_for(
            user=request.user,
            merchant_id=_int_param(request, "merchant", None),
            days=days if days in PERIODS else 30,
            today=timezone.now().date(),
        )
        export = request.GET.get("export")
        if export:
            return self._csv(scope, export)
        day_list, per_kind = selectors.searches_per_day(scope)
        tables = []
        for key, (title, select) in QUERY_TABLES.items():
            rows = select(scope)
            metric = {
                "top_queries": ("searches", ""),
                "zero_results": ("zero_results", ""),
                "low_score": ("low_score", ""),
                "slowest": ("mean_took_ms", " ms"),
            }[key]
            tables.append(
                {
                    "key": key,
                    "title": title,
                    "rows": [[row[c] for c, _ in QUERY_COLUMNS] for row in rows],
                    "chart": charts.horizontal_bars(
                        [row["query"] for row in rows[:10]],
                        [row[metric[0]] or 0 for row in rows[:10]],
                        title=title,
                        unit=metric[1],
                    ),
                }
            )
        gaps = _gaps(scope)
        state = RollupState.objects.filter(name="daily").first()
        context = {
            **self.admin_site.each_context(request),
            "title": "Search analytics",
            "opts": self.model._meta,
            "scope": scope,
            "periods": PERIODS,
            "merchants": selectors.dashboard_merchants(user=request.user),
            "is_superuser": request.user.is_superuser,
            "totals": selectors.totals(scope),
            "per_day_chart": charts.stacked_columns(
                day_list, per_kind, title="Searches per day by kind"
            ),
            "columns": [label for _, label in QUERY_COLUMNS],
            "tables": tables,
            "gaps": gaps,
            "rolled_up_at": state.counted_until if state else None,
            "analytics_enabled": settings.ANALYTICS_ENABLED,
            "retention_days": settings.ANALYTICS_RETENTION_DAYS,
        }
        return TemplateResponse(request, "admin/analytics/dashboard.html", context)

    @staticmethod
    def _csv(scope: selectors.Scope, name: str) -> HttpResponse:
        if name == "daily":
            rows, columns = selectors.daily_table(scope), DAILY_COLUMNS
        elif name == "gaps":
            rows = [
                {
                    **gap,
                    "words": "; ".join(word for word, _ in gap["words"]),
                    "nearest": "; ".join(
                        f"{item['product_id']} {item['title']} ({item['score']})"
                        for item in gap["nearest"]
                    ),
                }
                for gap in _gaps(scope)
            ]
            columns = GAP_COLUMNS
        elif name in QUERY_TABLES:
            rows, columns = QUERY_TABLES[name][1](scope, limit=10_000), QUERY_COLUMNS
        else:
            raise Http404("No such table.")
        who = scope.merchant.slug if scope.merchant else "shop"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="search-{name}-{who}-{scope.first_day}-{scope.last_day}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow([key for key, _ in columns])
        for row in rows:
            # A cell a spreadsheet would run as a formula is quoted as text (CSV injection).
            writer.writerow([_cell(row[key]) for key, _ in columns])
        return response


def _gaps(scope: selectors.Scope) -> list[dict]:
    """The scope's demand gaps as plain rows (cached a while: see GAPS_CACHE_SECONDS)."""
    who = scope.merchant.pk if scope.merchant else "shop"
    key = f"analytics:gaps:{who}:{scope.first_day}:{scope.last_day}"
    found = cache.get(key)
    if found is not None:
        return found
    gaps = demand_gaps(
        merchant=scope.merchant,
        since=datetime.combine(scope.first_day, time.min, tzinfo=UTC),
    )
    rows = [
        {
            "size": gap.size,
            "cohesion": gap.cohesion,
            "thumbnail_url": gap.thumbnail_url,
            "words": gap.words,
            "nearest": [
                {
                    "product_id": item.product_id,
                    "title": item.product.title if item.product else "",
                    "score": round(item.score, 3),
                    "thumbnail_url": item.thumbnail_url,
                    "url": reverse("admin:catalog_product_change", args=[item.product_id]),
                }
                for item in gap.nearest
            ],
        }
        for gap in gaps
    ]
    cache.set(key, rows, GAPS_CACHE_SECONDS)
    return rows


def _cell(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
