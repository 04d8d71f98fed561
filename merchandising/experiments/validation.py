"""What a variant (or the shop's settings) may say: the ranges the search API accepts for the
same settings, and an image collection that exists. Errors name the field."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError

from search.models import IndexGeneration

MAX_WEIGHT = 10.0  # as the search API's per-request `weights` (search/api/serializers.py)
MAX_RRF_K = 1000
MIN_VARIANTS, MAX_VARIANTS = 2, 6


def image_collections() -> list[str]:
    """Built image collections a variant may query (the live one among them)."""
    return list(
        IndexGeneration.objects.filter(kind=IndexGeneration.Kind.IMAGES)
        .order_by("collection")
        .values_list("collection", flat=True)
    )


def settings_errors(values) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in ("weight_image", "weight_text", "weight_keywords"):
        weight = getattr(values, name)
        if weight is not None and not 0 <= weight <= MAX_WEIGHT:
            errors[name] = f"A fusion weight is between 0 and {MAX_WEIGHT:g}."
    weights = [values.weight_image, values.weight_text, values.weight_keywords]
    if all(weight == 0 for weight in weights):
        errors["weight_image"] = "At least one leg needs a weight above 0."
    if values.rrf_k is not None and not 1 <= values.rrf_k <= MAX_RRF_K:
        errors["rrf_k"] = f"RRF k is between 1 and {MAX_RRF_K}."
    if values.image_collection and values.image_collection not in image_collections():
        errors["image_collection"] = (
            "No built image collection has this name (see Search > Index generations)."
        )
    return errors


def variants_errors(variants: Sequence) -> dict[str, str]:
    """The variants of one experiment together: count, unique names, shares adding to 100."""
    if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        return {"variants": f"An experiment has {MIN_VARIANTS} to {MAX_VARIANTS} variants."}
    names = [variant.name for variant in variants]
    if len(set(names)) != len(names):
        return {"variants": "Variant names must differ."}
    if any(not 1 <= (variant.share or 0) <= 99 for variant in variants):
        return {"variants": "Each variant's share is 1 to 99 percent."}
    total = sum(variant.share for variant in variants)
    if total != 100:
        return {"variants": f"The shares add up to {total}, not 100."}
    return {}


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)
