"""Writes: taking in a batch of storefront events."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import DatabaseError, transaction
from django.utils import timezone

from analytics import partitions
from analytics.metrics import EVENTS
from analytics.models import EventReceipt, InteractionEvent
from catalog.models import Product


@dataclass(frozen=True)
class EventIn:
    event_id: UUID
    kind: str
    product_id: int
    search_id: UUID | None = None
    position: int | None = None
    quantity: int = 1
    price: Decimal | None = None
    visitor_id: str = ""


@dataclass(frozen=True)
class EventsRecorded:
    accepted: int
    duplicates: int


def events_record(*, events: list[EventIn]) -> EventsRecorded:
    """Record a batch once: event ids already taken in (a retried batch) are skipped."""
    now = timezone.now()
    unique = list({event.event_id: event for event in events}.values())
    with transaction.atomic():
        receipts = EventReceipt.objects.bulk_create(
            [EventReceipt(event_id=event.event_id, created_at=now) for event in unique],
            ignore_conflicts=True,
        )
        del receipts  # ignore_conflicts returns every object: ask which ids are ours
        new_ids = set(
            EventReceipt.objects.filter(
                event_id__in=[event.event_id for event in unique], created_at=now
            ).values_list("event_id", flat=True)
        )
        fresh = [event for event in unique if event.event_id in new_ids]
        merchants = dict(
            Product.objects.filter(pk__in={event.product_id for event in fresh}).values_list(
                "pk", "merchant_id"
            )
        )
        rows = [
            InteractionEvent(
                event_id=event.event_id,
                created_at=now,
                kind=event.kind,
                search_id=event.search_id,
                product_id=event.product_id,
                merchant_id=merchants.get(event.product_id),
                position=event.position,
                quantity=event.quantity,
                price=event.price,
                visitor_id=event.visitor_id,
            )
            for event in fresh
        ]
        _insert_interactions(rows, now)
    taken = Counter(event.kind for event in fresh)
    for kind, count in Counter(event.kind for event in events).items():
        EVENTS.labels(kind=kind, outcome="accepted").inc(taken[kind])
        if count > taken[kind]:
            EVENTS.labels(kind=kind, outcome="duplicate").inc(count - taken[kind])
    duplicates = len(events) - len(fresh)
    return EventsRecorded(accepted=len(fresh), duplicates=duplicates)


def _insert_interactions(rows: list[InteractionEvent], now) -> None:
    try:
        with transaction.atomic():
            InteractionEvent.objects.bulk_create(rows)
    except DatabaseError as exc:
        if "no partition" not in str(exc):
            raise
        partitions.partitions_ensure(start=now.date(), days=1)
        InteractionEvent.objects.bulk_create(rows)
