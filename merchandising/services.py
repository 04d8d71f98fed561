"""Writes of merchandising rules: the admin and the staff API both come through here.

Scope: a merchant's staff write rules of their merchants only, naming their own products;
shop-wide rules (no merchant) need shop staff (superuser, or the ``manage_shop_wide_rules``
permission). Every write changes the rules' version, which every process notices
(cache.py).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from catalog.selectors import merchants_for_user
from merchandising.models import Rule

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
