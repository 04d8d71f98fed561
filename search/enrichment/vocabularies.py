"""The attribute vocabularies in force: the data file's defaults with the rows shop staff edit in
the admin put over them (``EnrichmentAttribute``: a row replaces the file's attribute of that
name for its category, a disabled row switches it off).

Every process keeps the merged vocabularies and asks the database for their version (counts
and newest ``updated_at`` of the rows: one small aggregate) each time they are wanted, once
per enrichment batch; they are rebuilt only when it moved. An edit in the admin therefore
reaches every worker at its next batch, without a broker or a shared cache.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max

from search.enrichment.attributes import Vocabularies, file_vocabularies
from search.models import EnrichmentAttribute, EnrichmentAttributeValue

_lock = threading.Lock()
_state: dict[str, Any] = {"key": None, "vocabularies": None}


def attributes_file() -> str:
    return str(getattr(settings, "ENRICHMENT_ATTRIBUTES_FILE", "") or "")


def _version() -> tuple:
    attributes = EnrichmentAttribute.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    values = EnrichmentAttributeValue.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return (attributes["n"], attributes["at"], values["n"], values["at"])


def overrides() -> dict[tuple[str, str], dict | None]:
    """``{(category, attribute): spec or None}`` from the database rows."""
    found: dict[tuple[str, str], dict | None] = {}
    for row in EnrichmentAttribute.objects.prefetch_related("values"):
        values = [v.value for v in row.values.all() if v.enabled]
        found[(row.category, row.name)] = (
            {"values": values, "threshold": row.threshold} if row.enabled else None
        )
    return found


def get_vocabularies() -> Vocabularies:
    """The vocabularies the scorer uses now (file defaults, then the admin's rows)."""
    path = attributes_file()
    key = (path, _version())
    with _lock:
        if _state["key"] == key:
            return _state["vocabularies"]
    merged = file_vocabularies(path).with_overrides(overrides())
    with _lock:
        _state.update(key=key, vocabularies=merged)
    return merged


def forget() -> None:
    """Drop this process's merged copy (the next call rebuilds it)."""
    with _lock:
        _state.update(key=None, vocabularies=None)


@transaction.atomic
def attribute_override_get_or_create(*, category: str, name: str) -> EnrichmentAttribute:
    """The database row for an attribute, made from the file's definition when there is none
    yet (its values and threshold), so that staff or calibration edit a copy of the default."""
    category, name = category.strip().lower(), name.strip().lower()
    row = EnrichmentAttribute.objects.filter(category=category, name=name).first()
    if row is not None:
        return row
    spec = _file_spec(category, name)
    row = EnrichmentAttribute(
        category=category,
        name=name,
        enabled=spec is not None,
        threshold=float((spec or {}).get("threshold", 0.5)),
    )
    row.full_clean()
    row.save()
    for value in dict.fromkeys(str(v).strip().lower() for v in (spec or {}).get("values", [])):
        EnrichmentAttributeValue.objects.create(attribute=row, value=value)
    return row


def _file_spec(category: str, name: str) -> dict | None:
    vocabularies = file_vocabularies(attributes_file())
    if category:
        own = vocabularies.categories.get(category, {})
        if name in own:
            return own[name]
    return vocabularies.default.get(name)


def defaults_import() -> int:
    """Copy every attribute of the data file that the database does not name yet into it, to
    edit in the admin (what is there already is left alone). Returns how many were added."""
    vocabularies = file_vocabularies(attributes_file())
    wanted = [("", name) for name in vocabularies.default]
    for category, own in vocabularies.categories.items():
        wanted += [(category, name) for name in own if name != "noun"]
    existing = set(EnrichmentAttribute.objects.values_list("category", "name"))
    added = 0
    for category, name in wanted:
        if (category, name.strip().lower()) not in existing:
            attribute_override_get_or_create(category=category, name=name)
            added += 1
    return added


def threshold_set(
    *, category: str, name: str, threshold: float, calibration: dict | None = None
) -> EnrichmentAttribute:
    """Set an attribute's threshold for a category (calibration writes through here)."""
    row = attribute_override_get_or_create(category=category, name=name)
    row.threshold = round(float(threshold), 4)
    row.calibration = calibration
    row.full_clean()
    row.save(update_fields=["threshold", "calibration", "updated_at"])
    return row
