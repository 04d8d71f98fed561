"""Turns each finished search the search API announces into a queued SearchEvent row."""

from __future__ import annotations

import numpy as np
from django.conf import settings
from django.utils import timezone

from analytics.models import SearchEvent
from analytics.recorder import recorder
from search.query.recording import FinishedSearch, search_finished
from search.query.types import ResultItem

# Kinds whose CLIP query vector is kept: the photo is what the vector stands for.
PHOTO_KINDS = frozenset({"photo", "hybrid", "look"})


def normalise_words(text: str | None) -> str:
    return " ".join((text or "").lower().split())[:500]


def primary_score(item: ResultItem, kind: str) -> float:
    """A result's raw similarity in the leg that speaks for the query kind (fused scores are
    rank-based and say nothing of how good a match is)."""
    legs = ("image", "text") if kind in PHOTO_KINDS or kind == "similar" else ("text", "image")
    for leg in legs:
        if leg in item.leg_scores:
            return item.leg_scores[leg]
    return item.score


def search_event_from(finished: FinishedSearch) -> SearchEvent:
    query = finished.query
    items = [item for outcome in finished.outcomes for item in outcome.items]
    kind = finished.kind
    f = query.filter
    filters = {
        key: value
        for key, value in {
            "category": list(f.categories),
            "brand": list(f.brands),
            "merchant": f.merchant,
            "price_min": f.price_min,
            "price_max": f.price_max,
            "in_stock": f.in_stock,
        }.items()
        if value not in (None, [], "")
    }
    merchant_ids = sorted({item.product.merchant_id for item in items if item.product is not None})
    scores = [round(primary_score(item, kind), 4) for item in items]
    vector: bytes | None = None
    photo = None
    model = next((o.model for o in finished.outcomes if o.model), "") or ""
    if kind in PHOTO_KINDS and query.image is not None:
        query_vector = next(
            (o.query_vector for o in finished.outcomes if o.query_vector is not None), None
        )
        if query_vector is not None:
            vector = np.asarray(query_vector, dtype=np.float32).tobytes()
        photo = query.image
    row = SearchEvent(
        search_id=finished.search_id,
        created_at=timezone.now(),
        kind=kind,
        words=normalise_words(query.text),
        filters=filters,
        product_ids=[item.product_id for item in items],
        scores=scores,
        merchant_ids=merchant_ids,
        result_count=sum(outcome.total for outcome in finished.outcomes),
        best_score=max(scores) if scores else None,
        took_ms=finished.took_ms,
        model=model[:200],
        visitor_id=finished.visitor_id,
        query_vector=vector,
        experiment_id=finished.experiment_id,
        variant=finished.variant[:64],
    )
    if photo is not None:
        # Hashing costs 1-2 ms on a phone photo: the recorder's thread does it, and drops
        # the photo then (it is never written anywhere).
        recorder.attach_photo(row, photo)
    return row


def on_search_finished(sender, search: FinishedSearch, **kwargs) -> None:
    if not settings.ANALYTICS_ENABLED:
        return
    recorder.submit(lambda: search_event_from(search))


def connect() -> None:
    search_finished.connect(on_search_finished, dispatch_uid="analytics.search_finished")
