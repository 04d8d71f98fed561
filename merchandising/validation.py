"""What a rule must say for its kind: errors name the field (admin form and API alike)."""

from django.core.exceptions import ValidationError

from merchandising.text import split_terms


def rule_errors(rule) -> None:
    errors: dict[str, str] = {}
    kind = rule.kind
    if rule.starts_at and rule.ends_at and rule.starts_at >= rule.ends_at:
        errors["ends_at"] = "ends_at must be after starts_at."
    if kind == "synonym":
        terms = split_terms(rule.terms)
        if rule.synonym_type == "two_way" and len(terms) < 2:
            errors["terms"] = "A two-way synonym group needs at least two comma-separated terms."
        if rule.synonym_type == "one_way":
            if not terms:
                errors["terms"] = "Name the query terms (comma-separated)."
            if not split_terms(rule.synonyms):
                errors["synonyms"] = "A one-way synonym needs what the terms also find."
    else:
        if rule.match != "any" and not rule.query.strip() and not rule.filter_category:
            errors["query"] = "Name the query (or a category filter, or match any query)."
    if kind in ("pin", "hide") and rule.product_id is None:
        errors["product"] = f"A {kind} rule names the product."
    if kind == "pin" and not rule.position:
        errors["position"] = "A pin needs a position from 1."
    if kind in ("boost", "bury"):
        if not rule.attribute:
            errors["attribute"] = "Choose what to boost or bury by."
        elif rule.attribute == "price":
            if rule.price_min is None and rule.price_max is None:
                errors["price_min"] = "A price rule needs price_min, price_max or both."
            elif (
                rule.price_min is not None
                and rule.price_max is not None
                and rule.price_min > rule.price_max
            ):
                errors["price_min"] = "price_min is above price_max."
        elif rule.attribute != "in_stock" and not rule.value.strip():
            errors["value"] = f"Name the {rule.attribute} to match."
        if not 0 < rule.weight <= 100:
            errors["weight"] = "weight is between 0 (excluded) and 100."
    if kind == "click_model" and not 0 < rule.weight <= 100:
        errors["weight"] = "weight is between 0 (excluded) and 100."
    owned = rule.merchant_id is not None and rule.product_id is not None
    if owned and rule.product.merchant_id != rule.merchant_id:
        errors["product"] = "The product belongs to another merchant."
    if errors:
        raise ValidationError(errors)
