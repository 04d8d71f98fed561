"""Writes of merchandising rules: the admin and the staff API both come through here.

Scope: a merchant's staff write rules of their merchants only, naming their own products;
shop-wide rules (no merchant) need shop staff (superuser, or the ``manage_shop_wide_rules``
permission). Every write changes the rules' version, which every process notices
(cache.py). The click model's fit writes its learned boosts here too.
"""

from datetime import datetime, timedelta

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Product
from catalog.selectors import merchants_for_user
from merchandising import clickmodel, selectors
from merchandising.models import ClickBoost, ClickModelRun, Rule

RULE_FIELDS = (
    "name",
    "kind",
    "merchant",
    "enabled",
    "starts_at",
    "ends_at",
    "match",
    "query",
    "filter_category",
    "synonym_type",
    "terms",
    "synonyms",
    "product",
    "position",
    "attribute",
    "value",
    "price_min",
    "price_max",
    "weight",
)


def can_manage_shop_wide(user) -> bool:
    return bool(user.is_superuser or user.has_perm("merchandising.manage_shop_wide_rules"))


def rule_check_scope(*, user, rule: Rule) -> None:
    """Raise when the user may not own this rule as it stands (merchant, product)."""
    if rule.merchant_id is None:
        if not can_manage_shop_wide(user):
            raise ValidationError(
                {"merchant": "Choose your merchant: shop-wide rules are for shop staff."}
            )
        return
    if can_manage_shop_wide(user):
        return
    if not merchants_for_user(user=user).filter(pk=rule.merchant_id).exists():
        raise ValidationError({"merchant": "Not a merchant of yours."})


@transaction.atomic
def rule_create(*, user, **data) -> Rule:
    rule = Rule(**data)
    rule_check_scope(user=user, rule=rule)
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def rule_update(*, user, rule: Rule, data: dict) -> Rule:
    for name, value in data.items():
        if name not in RULE_FIELDS:
            raise ValidationError({name: "Not a rule field."})
        setattr(rule, name, value)
    rule_check_scope(user=user, rule=rule)
    rule.full_clean()
    rule.save(update_fields=[*data, "updated_at"])
    return rule


@transaction.atomic
def rule_delete(*, user, rule: Rule) -> None:
    if rule.merchant_id is None and not can_manage_shop_wide(user):
        raise PermissionDenied
    rule.delete()


@transaction.atomic
def click_model_fit(
    *,
    days: int,
    positions: int,
    min_impressions: int,
    now: datetime | None = None,
) -> ClickModelRun:
    """Fit the click model on the last ``days`` of text searches and clicks, and replace the
    learned boosts with this fit's (every process picks them up with the rules, cache.py).

    A pair (query words, product) seen fewer than ``min_impressions`` times earns no boost:
    a handful of lucky clicks is not evidence. Products since deleted are left out.
    """
    until = now or timezone.now()
    since = until - timedelta(days=days)
    log = selectors.click_log(since=since, until=until, positions=positions)
    impressions = log.impressions
    fitted = None
    if len(impressions.pair):
        fitted = clickmodel.fit(impressions, pairs=len(log.pairs), positions=positions)
    run = ClickModelRun.objects.create(
        since=since,
        until=until,
        searches=log.searches,
        impressions=len(impressions.pair),
        clicks=int(impressions.clicked.sum()),
        queries=len({words for words, _ in log.pairs}),
        iterations=fitted.iterations if fitted else 0,
        examination=[round(float(p), 4) for p in fitted.examination] if fitted else [],
    )
    if fitted is None:
        return run
    query_ids: dict[str, int] = {}
    query_of_pair = np.asarray(
        [query_ids.setdefault(words, len(query_ids)) for words, _ in log.pairs], dtype=np.int64
    )
    lift = clickmodel.lifts(fitted, query_of_pair)
    boost = clickmodel.boost_from_lift(lift)
    existing = set(
        Product.objects.filter(pk__in={pid for _, pid in log.pairs}).values_list("pk", flat=True)
    )
    rows = [
        ClickBoost(
            run=run,
            words=words,
            product_id=product_id,
            impressions=int(fitted.impressions[i]),
            clicks=int(fitted.clicks[i]),
            attractiveness=round(float(fitted.attractiveness[i]), 5),
            lift=round(float(lift[i]), 4),
            boost=round(float(boost[i]), 4),
        )
        for i, (words, product_id) in enumerate(log.pairs)
        if boost[i] > 0 and fitted.impressions[i] >= min_impressions and product_id in existing
    ]
    ClickBoost.objects.bulk_create(rows, batch_size=2_000)
    run.boosts = len(rows)
    run.save(update_fields=["boosts", "updated_at"])
    # Only the latest fit is read; older boosts go (the runs stay, as a history of fits).
    ClickBoost.objects.exclude(run=run).delete()
    return run
